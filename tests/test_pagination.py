"""limit/next_cursor over LearnWorlds pages, on an items_per_page endpoint and on a fixed-size one."""

from __future__ import annotations

import httpx
import pytest

from learnworlds_mcp import pagination
from learnworlds_mcp.auth import Credentials
from learnworlds_mcp.client import LearnWorldsClient
from learnworlds_mcp.errors import ArgumentError
from learnworlds_mcp.executor import Runtime, execute
from learnworlds_mcp.registry import Paging

API = "https://school.example/admin/api"


class FakeList:
    """A LearnWorlds list endpoint over `total` items: meta, page sizes, last page repeated past the end."""

    def __init__(self, total: int, page_size: int, items_per_page: bool):
        self.items = [{"id": f"i{n:04d}"} for n in range(total)]
        self.page_size, self.items_per_page = page_size, items_per_page
        self.calls: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.calls.append(params)
        size = int(params["items_per_page"]) if self.items_per_page and "items_per_page" in params else self.page_size
        pages = max(1, -(-len(self.items) // size))
        page = min(int(params.get("page", 1)), pages)
        data = self.items[(page - 1) * size: page * size]
        meta = {"page": page, "totalItems": len(self.items), "totalPages": pages, "itemsPerPage": size}
        return httpx.Response(200, json={"data": data, "meta": meta})


def client_for(fake) -> LearnWorldsClient:
    creds = Credentials(api_url=API, client_id="cid", access_token="tok")
    return LearnWorldsClient(creds, transport=httpx.MockTransport(fake))


async def collect(operation, client, limits, **args):
    seen, cursor, calls = [], None, 0
    for limit in limits:
        arguments = dict(args, limit=limit)
        if cursor:
            arguments["next_cursor"] = cursor
        result = await execute(operation, arguments, Runtime(client))
        seen += [item["id"] for item in result["result"]]
        cursor, calls = result["next_cursor"], calls + 1
        if cursor is None:
            return seen, calls, result
    raise AssertionError("cursor never ended")


@pytest.mark.anyio
async def test_round_trip_with_items_per_page(operations):
    users = next(op for op in operations if op.name == "list_all_learn_worlds_users")
    fake = FakeList(total=45, page_size=20, items_per_page=True)
    seen, calls, last = await collect(users, client_for(fake), [10] * 10)
    assert seen == [item["id"] for item in fake.items]
    assert calls == 5 and last["total"] == 45
    assert all(call["items_per_page"] == "10" for call in fake.calls)
    assert [call["page"] for call in fake.calls] == ["1", "2", "3", "4", "5"]


@pytest.mark.anyio
async def test_round_trip_on_a_fixed_page_size_with_a_smaller_limit(operations):
    groups = next(op for op in operations if op.name == "list_all_learn_worlds_groups")
    assert groups.paging == Paging(page_size=20, items_per_page=False)
    fake = FakeList(total=47, page_size=20, items_per_page=False)
    seen, calls, _ = await collect(groups, client_for(fake), [7] * 20)
    assert seen == [item["id"] for item in fake.items]  # nothing skipped, nothing repeated
    assert all("items_per_page" not in call for call in fake.calls)
    assert calls == 7  # 7+7+6 on each full page (3 calls each), then the last page holds 7 items
    assert max(int(call["page"]) for call in fake.calls) == 3


@pytest.mark.anyio
async def test_changing_limit_midway_keeps_the_sequence(operations):
    users = next(op for op in operations if op.name == "list_all_learn_worlds_users")
    fake = FakeList(total=100, page_size=20, items_per_page=True)
    seen, _, _ = await collect(users, client_for(fake), [10, 10, 20, 7, 50, 50, 50, 50, 50, 50, 50])
    assert seen == [item["id"] for item in fake.items]


@pytest.mark.anyio
async def test_the_last_page_gives_a_null_cursor_and_is_not_asked_past(operations):
    groups = next(op for op in operations if op.name == "list_all_learn_worlds_groups")
    fake = FakeList(total=40, page_size=20, items_per_page=False)
    _, calls, last = await collect(groups, client_for(fake), [20] * 5)
    assert calls == 2 and last["next_cursor"] is None
    assert [c["page"] for c in fake.calls] == ["1", "2"]


def test_a_repeated_last_page_is_not_returned_twice():
    plan = pagination.PagePlan(page=4, per_page=20, offset=0, limit=20, fingerprint="x")
    sliced = pagination.slice_page(plan, [{"id": 1}], {"page": 3, "totalPages": 3, "totalItems": 41})
    assert sliced.items == [] and sliced.next_cursor is None


def test_a_cursor_cannot_be_replayed_with_other_filters():
    paging = Paging(page_size=20, items_per_page=True)
    cursor = pagination.encode_cursor(2, 0, 20, pagination.fingerprint("t", {"query": {"a": 1}}))
    with pytest.raises(ArgumentError, match="different tool or different filters"):
        pagination.plan_page(paging, pagination.fingerprint("t", {"query": {"a": 2}}), 20, cursor)
    with pytest.raises(ArgumentError, match="not a cursor this server handed out"):
        pagination.plan_page(paging, "x", 20, "garbage!")


def forged(*fields) -> str:
    import base64, json
    raw = json.dumps(list(fields), separators=(",", ":"), allow_nan=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("fields", [
    (1, 2.5, 0, 20), (1, "Infinity", 0, 20), (1, 2, 0, 10_000_000), (1, 2, 0, 0), (1, 0, 0, 20),
    (1, 2, 1.5, 20), (1, 2, -1, 20), (1, 2, 10**7, 20), (1, 10**12, 0, 20), (1, True, 0, 20), (1, "2", 0, 20),
])
def test_a_forged_cursor_never_reaches_the_plan(fields):
    paging = Paging(page_size=20, items_per_page=True)
    print_ = pagination.fingerprint("t", {})
    version, page, offset, per_page = fields
    token = forged(version, float("inf") if page == "Infinity" else page, offset, per_page, print_)
    with pytest.raises(ArgumentError, match="next_cursor.*unchanged.*omit it"):
        pagination.plan_page(paging, print_, 20, token)


def test_a_fixed_page_size_cursor_must_keep_that_size():
    paging = Paging(page_size=20, items_per_page=False)
    print_ = pagination.fingerprint("t", {})
    with pytest.raises(ArgumentError, match="next_cursor"):
        pagination.plan_page(paging, print_, 10, forged(1, 2, 0, 200, print_))
    assert pagination.plan_page(paging, print_, 10, forged(1, 2, 10, 20, print_)).page == 2


@pytest.mark.parametrize("token", [
    forged(*([[[[[[[[[[1]]]]]]]]]] * 5)),
    __import__("base64").urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode(),
    "A" * 1_000_000,
])
def test_deep_or_huge_cursors_get_a_clear_error(token):
    paging = Paging(page_size=20, items_per_page=True)
    with pytest.raises(ArgumentError, match="next_cursor.*unchanged"):
        pagination.plan_page(paging, "x", 20, token)


def test_an_answer_without_page_data_is_paged_through_not_cut_short():
    paging = Paging(page_size=20, items_per_page=False)
    print_ = pagination.fingerprint("t", {})
    whole = list(range(30))
    seen, cursor = [], None
    while True:
        plan = pagination.plan_page(paging, print_, 20, cursor)
        assert plan.page == 1  # the one answer is the whole list: never ask for a page past it
        page = pagination.slice_page(plan, whole, None)
        seen += page.items
        assert page.total == 30
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == whole
