"""What the two workflow prompts must answer, read from a served sandbox over plain HTTP.

Tests and benchmarks compare the server's answers with these, so nothing here goes through
learnworlds_mcp: raw httpx pages, stopping on meta.totalPages, waiting out a 429 like any client.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import httpx

from .tokens import SANDBOX_ACCESS_TOKEN, SANDBOX_CLIENT_ID

HEADERS = {"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}", "Lw-Client": SANDBOX_CLIENT_ID}


def every_item(api_url: str, path: str, **params: Any) -> list[dict]:
    """Every item of a paged list, page by page; waits out the rate limit when it bites."""
    items, page = [], 1
    with httpx.Client(headers=HEADERS, timeout=30) as client:
        while True:
            answer = client.get(f"{api_url}{path}", params={**params, "page": page})
            if answer.status_code == 429:
                time.sleep(1)
                continue
            answer.raise_for_status()
            body = answer.json()
            items += body["data"]
            if page >= (body.get("meta") or {}).get("totalPages", 1):
                return items
            page += 1


def all_users(api_url: str) -> list[dict]:
    """Every user, suspended ones included."""
    return every_item(api_url, "/v2/users", items_per_page=200, include_suspended="true")


def _day(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()


def inactive_staff(users: list[dict], cutoff: float, levels: tuple[str, ...] = ("admin", "instructor")) -> list[dict]:
    """Staff at `levels` whose last login is before `cutoff` (Unix seconds) or missing."""
    return [{"email": u["email"], "role": u["role"]["name"], "last_login": _day(u.get("last_login")),
             "suspended": bool(u.get("is_suspended"))}
            for u in users if u["role"]["level"] in levels
            and (u.get("last_login") is None or u["last_login"] < cutoff)]


def cohort_rows(groups: list[dict], users: list[dict]) -> list[dict]:
    """One row per enrolling group and manager (a group without managers gives one empty row)."""
    by_id = {u["id"]: u for u in users}
    rows = []
    for group in groups:
        if not group.get("enroll_users_on_courses"):
            continue
        managers = [by_id[m["id"]] for m in group.get("group_managers") or []]
        for manager in managers or [None]:
            rows.append({"group": group["title"],
                         "email": manager["email"] if manager else None,
                         "nps_score": manager.get("nps_score") if manager else None,
                         "instructor": bool(manager["is_instructor"]) if manager else None,
                         "suspended": bool(manager["is_suspended"]) if manager else None})
    return rows


def cohort_report(api_url: str) -> list[dict]:
    """The cohort report's rows for the sandbox at `api_url`."""
    return cohort_rows(every_item(api_url, "/v2/user_groups"), all_users(api_url))
