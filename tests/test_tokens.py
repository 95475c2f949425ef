"""The token flow: the client-secret exchange, its failures, and the obtained token masked everywhere."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from mcp import Client

from learnworlds_mcp.auth import Credentials, SecretFilter
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ApiError
from learnworlds_mcp.executor import Runtime
from learnworlds_mcp.policy import Policy
from learnworlds_mcp.server import build_server
from tests.conftest import SECRET

API = "https://school.example/admin/api"
OBTAINED = "obtained-TOKEN-9c1e5b7f3a-never-shown"
TOKEN_URL = f"{API}/oauth2/access_token"


def grant(httpx_mock, expires_in=7200):
    httpx_mock.add_response(url=TOKEN_URL, json={"success": True, "tokenData": {
        "access_token": OBTAINED, "token_type": "Bearer", "expires_in": expires_in}})


def secret_client(**options) -> LearnWorldsClient:
    return LearnWorldsClient(Credentials(api_url=API, client_id="c", client_secret=SECRET), **options)


@pytest.mark.anyio
async def test_a_network_error_during_the_exchange_is_a_clear_error_not_internal(httpx_mock, operations):
    httpx_mock.add_exception(httpx.ConnectError("no route"), url=TOKEN_URL)
    client = secret_client(max_retries=0)
    async with Client(build_server(operations, Runtime(client, Policy()))) as session:
        result = await session.call_tool("list_all_learn_worlds_roles", {})
    text = result.content[0].text
    assert result.is_error and "Could not reach LearnWorlds" in text and "Internal error" not in text


@pytest.mark.anyio
async def test_a_lost_exchange_never_marks_a_create_unknown(httpx_mock):
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=TOKEN_URL)
    with pytest.raises(ApiError) as info:
        await secret_client(max_retries=0).send("POST", "/v2/users", body={"email": "a@b.example"})
    assert not info.value.outcome_unknown
    assert [r.url.path for r in httpx_mock.get_requests()] == ["/admin/api/oauth2/access_token"]


@pytest.mark.anyio
async def test_the_obtained_token_is_masked_in_successful_and_error_results(httpx_mock, operations):
    grant(httpx_mock)
    httpx_mock.add_response(url=f"{API}/v2/user-roles", json={"data": [{"id": "r1", "title": f"x {OBTAINED} y"}]})
    httpx_mock.add_response(url=f"{API}/v2/users/u1", status_code=401, json={"error": f"token {OBTAINED} bad"})
    client = secret_client(max_retries=0)
    async with Client(build_server(operations, Runtime(client, Policy()))) as session:
        ok = await session.call_tool("list_all_learn_worlds_roles", {})
        failed = await session.call_tool("get_single_learn_worlds_user_by_id", {"id": "u1"})
    assert not ok.is_error and failed.is_error
    for result in (ok, failed):
        assert OBTAINED not in result.content[0].text and "***" in result.content[0].text
    assert OBTAINED not in json.dumps(ok.structured_content)


@pytest.mark.anyio
async def test_the_obtained_token_is_masked_in_logs(httpx_mock):
    grant(httpx_mock)
    httpx_mock.add_response(url=f"{API}/v2/users", json={"data": []})
    client = secret_client()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretFilter(client.credentials))
    logger = logging.getLogger("learnworlds_mcp.test")
    logger.addHandler(handler)
    try:
        await client.send("GET", "/v2/users")
        logger.warning("echoed %s and %s", OBTAINED, SECRET)
        try:
            raise RuntimeError(f"body quoted {OBTAINED}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert OBTAINED not in text and SECRET not in text and text.count("***") >= 3


@pytest.mark.anyio
async def test_a_refused_token_is_obtained_again_on_the_next_request(httpx_mock):
    grant(httpx_mock)
    grant(httpx_mock)
    httpx_mock.add_response(url=f"{API}/v2/users", status_code=401, json={"error": "expired"})
    httpx_mock.add_response(url=f"{API}/v2/users", json={"data": []})
    client = secret_client(max_retries=0)
    with pytest.raises(ApiError):
        await client.send("GET", "/v2/users")
    assert await client.send("GET", "/v2/users") == {"data": []}
    paths = [r.url.path.rsplit("/", 1)[-1] for r in httpx_mock.get_requests()]
    assert paths == ["access_token", "users", "access_token", "users"]


@pytest.mark.parametrize("answer", [{"success": True, "tokenData": {"access_token": ""}},
                                    {"success": True, "tokenData": "x"}, [1, 2], {"success": False}])
@pytest.mark.anyio
async def test_a_malformed_exchange_answer_is_a_refusal(httpx_mock, answer):
    from learnworlds_mcp.errors import CredentialsError

    httpx_mock.add_response(url=TOKEN_URL, json=answer)
    with pytest.raises(CredentialsError, match="refused the client secret"):
        await secret_client(max_retries=0).send("GET", "/v2/users")
