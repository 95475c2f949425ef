"""HTTP requests and LearnWorlds' error bodies, mapped to ApiError (with pytest-httpx faking LearnWorlds)."""

from __future__ import annotations

import json

import httpx
import pytest

from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient, build_path, encode_segment
from learnworlds_mcp.errors import ApiError, ArgumentError, CredentialsError
from tests.conftest import SECRET

API = "https://school.example/admin/api"


@pytest.fixture
def client():
    """No retries: each test here sees exactly one answer."""
    return LearnWorldsClient(Credentials(api_url=API, client_id="client-1", access_token=SECRET), max_retries=0)


@pytest.mark.anyio
async def test_every_request_carries_both_headers(httpx_mock, client):
    httpx_mock.add_response(url=f"{API}/v2/user-roles", json={"data": []})
    assert await client.send("GET", "/v2/user-roles") == {"data": []}
    request = httpx_mock.get_request()
    assert request.headers["Lw-Client"] == "client-1"
    assert request.headers["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("value, segment", [
    ("../../v2/users", "..%2F..%2Fv2%2Fusers"),
    ("%2F", "%252F"),
    ("ada@example.com", "ada%40example.com"),
    ("..", "%2E%2E"),
    ("a b?c#d", "a%20b%3Fc%23d"),
])
def test_path_arguments_stay_one_encoded_segment(value, segment):
    assert encode_segment(value) == segment
    assert build_path("/v2/users/{id}/courses", {"id": value}).count("/") == 4


def test_an_empty_path_argument_is_refused():
    with pytest.raises(ArgumentError, match="empty"):
        encode_segment("")


@pytest.mark.anyio
async def test_a_dotted_id_does_not_escape_the_path(httpx_mock, client):
    httpx_mock.add_response(json={"id": "x"})
    await client.send("GET", build_path("/v2/users/{id}", {"id": ".."}))
    assert httpx_mock.get_request().url.raw_path == b"/admin/api/v2/users/%2E%2E"


@pytest.mark.parametrize("status, body, fragments", [
    (400, {"errors": [{"code": 400, "context": "email", "message": "Email is invalid"}], "success": False},
     ["HTTP 400", "email: Email is invalid"]),
    (404, {"error": "User not found"}, ["HTTP 404", "User not found", "list the resource first"]),
    (404, {"statusCode": 404, "error": "Course not found"}, ["Course not found"]),
    (422, {"statusCode": 422, "error": "Unprocessable Entity", "message": "Validation failed",
           "errors": {"price": ["The price field is required."]}},
     ["HTTP 422", "Validation failed", "price: The price field is required."]),
    (200, {"success": False, "errors": [{"code": 1, "context": "productId", "message": "No such product"}]},
     ["HTTP 200", "productId: No such product"]),
    (500, None, ["HTTP 500", "not JSON", "try again"]),
    (401, {"error": "Unauthorized"}, ["HTTP 401", "auth login"]),
])
@pytest.mark.anyio
async def test_error_shapes_become_clear_messages(httpx_mock, client, status, body, fragments):
    if body is None:
        httpx_mock.add_response(status_code=status, text="<html>oops</html>", headers={"content-type": "text/html"})
    else:
        httpx_mock.add_response(status_code=status, json=body)
    with pytest.raises(ApiError) as info:
        await client.send("GET", "/v2/users/x")
    for fragment in fragments:
        assert fragment in str(info.value)
    assert info.value.status == status
    assert SECRET not in str(info.value)


@pytest.mark.anyio
async def test_429_carries_the_rate_limit_facts(httpx_mock, client):
    httpx_mock.add_response(status_code=429, json={"error": "Too many requests"})
    with pytest.raises(ApiError) as info:
        await client.send("GET", "/v2/users")
    facts = info.value.details["rate_limit"]
    assert facts["ratelimit-limit"] == 30
    assert facts["retry_after_seconds"] >= 1
    assert "Too many requests" in str(info.value)


@pytest.mark.anyio
async def test_network_failures_become_api_errors(httpx_mock, client):
    httpx_mock.add_exception(httpx.ConnectError("boom"))
    with pytest.raises(ApiError, match="Could not reach LearnWorlds"):
        await client.send("GET", "/v2/users")
    httpx_mock.add_exception(httpx.ReadTimeout("slow"))
    with pytest.raises(ApiError, match="did not answer in time"):
        await client.send("GET", "/v2/users")


@pytest.mark.anyio
async def test_client_secret_is_exchanged_as_a_form_field_holding_json(httpx_mock):
    creds = Credentials(api_url=API, client_id="client-1", client_secret=SECRET)
    client = LearnWorldsClient(creds)
    httpx_mock.add_response(url=f"{API}/oauth2/access_token",
                            json={"success": True, "tokenData": {"access_token": "fresh", "token_type": "Bearer",
                                                                 "expires_in": 7200}})
    httpx_mock.add_response(url=f"{API}/v2/users", json={"data": []}, is_reusable=True)
    await client.send("GET", "/v2/users")
    await client.send("GET", "/v2/users")
    token_request, *calls = httpx_mock.get_requests()
    form = dict(httpx.QueryParams(token_request.content.decode()))
    assert json.loads(form["data"]) == {"client_id": "client-1", "client_secret": SECRET,
                                        "grant_type": "client_credentials"}
    assert token_request.headers["Lw-Client"] == "client-1"
    assert [c.headers["Authorization"] for c in calls] == ["Bearer fresh", "Bearer fresh"]  # fetched once


@pytest.mark.anyio
async def test_a_refused_client_secret_says_how_to_fix_it(httpx_mock):
    client = LearnWorldsClient(Credentials(api_url=API, client_id="c", client_secret=SECRET))
    httpx_mock.add_response(url=f"{API}/oauth2/access_token", status_code=400,
                            json={"success": False, "errors": [{"message": "Invalid object ID"}]})
    with pytest.raises(CredentialsError, match="auth login") as info:
        await client.send("GET", "/v2/users")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.anyio
async def test_a_redirect_is_an_error_naming_where_it_points(httpx_mock, client, status, method):
    httpx_mock.add_response(status_code=status, headers={"Location": "https://www.school.example/admin/api/v2/x"},
                            text="")
    with pytest.raises(ApiError) as info:
        await client.send(method, "/v2/users/x", body={} if method != "GET" else None)
    message = str(info.value)
    assert f"HTTP {status}" in message and "https://www.school.example/admin/api/v2/x" in message
    assert "--api-url" in message and "school URL" in message
    assert info.value.status == status and info.value.details["location"].startswith("https://www.school")
    assert len(httpx_mock.get_requests()) == 1  # never followed


@pytest.mark.anyio
async def test_a_redirect_with_a_json_body_is_still_an_error(httpx_mock, client):
    httpx_mock.add_response(status_code=302, json={}, headers={"Location": "/elsewhere"})
    with pytest.raises(ApiError, match="redirect"):
        await client.send("DELETE", "/v2/users/x")


@pytest.mark.anyio
async def test_after_a_429_remaining_is_zero_and_the_reset_is_the_real_wait(httpx_mock, client):
    httpx_mock.add_response(status_code=429, json={"error": "Too many requests"})
    with pytest.raises(ApiError) as info:
        await client.send("GET", "/v2/users")
    facts = info.value.details["rate_limit"]
    assert facts["ratelimit-remaining"] == 0
    assert facts["retry_after_seconds"] >= 10 and facts["ratelimit-reset"] >= 10
    assert client.limiter.seconds_until_free() >= 9.5  # the next call waits too, instead of meeting another 429


@pytest.mark.anyio
async def test_an_echoed_secret_is_masked_before_the_answer_is_read(httpx_mock, client):
    """Masked in the raw answer, so no later cut (a byte cap inside the token) can leave a piece of it."""
    httpx_mock.add_response(json={"id": "u1", "bio": "x" * 50 + SECRET + "y" * 50})
    httpx_mock.add_response(status_code=422, json={"error": f"bad token {SECRET}"})
    answer = await client.send("GET", "/v2/users/u1")
    assert SECRET not in json.dumps(answer) and answer["bio"] == "x" * 50 + "***" + "y" * 50
    with pytest.raises(ApiError) as caught:
        await client.send("GET", "/v2/users/u1")
    assert SECRET not in str(caught.value) and SECRET[:12] not in str(caught.value)
