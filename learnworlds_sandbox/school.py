"""The sandbox school: every seeded record, the writes made since, and the test controls."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timezone

from .faults import Fault, FaultQueue
from .tokens import TokenBook

# Seeded dates are spread before this instant and writes are stamped just after it, so a
# given seed gives the same school whatever day the sandbox runs.
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc).timestamp()
JOB_SECONDS = 2.0


class School:
    """All state of one sandbox; the dicts hold API-shaped records tests read as seeded truth."""

    def __init__(self, seed: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.seed = seed
        self.clock = clock
        self.now = NOW
        self._ticks = 0
        self._ids = random.Random(f"ids-{seed}")
        # Directory
        self.roles: dict[str, dict] = {}          # role id -> user-role record
        self.users: dict[str, dict] = {}          # user id -> User record (oldest first)
        self.emails: dict[str, str] = {}          # lower-cased email -> user id
        self.user_roles: dict[str, str] = {}      # user id -> role id
        self.assigned_courses: dict[str, list[dict]] = {}
        self.assigned_segment: dict[str, str] = {}
        self.assigned_licenses: dict[str, list[str]] = {}
        self.groups: dict[str, dict] = {}         # group id -> group; group_managers are user ids
        self.group_members: dict[str, list[str]] = {}
        self.seats: dict[str, dict] = {}          # seat id -> offering; seat_managers are user ids
        self.seat_members: dict[str, dict[str, dict]] = {}  # seat id -> user id -> seat
        self.segments: dict[str, dict] = {}
        self.segment_rules: dict[str, Callable[[School, dict], bool]] = {}
        self.leads: list[dict] = []
        self.event_logs: list[dict] = []          # oldest first
        # Learning
        self.courses: dict[str, dict] = {}        # course slug -> Course record
        self.contents: dict[str, list[dict]] = {} # course slug -> sections
        self.units: dict[str, dict] = {}          # unit id -> {course_id, section, unit, duration}
        self.bundles: dict[str, dict] = {}
        self.subscription_plans: dict[str, dict] = {}
        self.enrollments: dict[str, dict[str, dict]] = {}  # user id -> course id -> {created, expires}
        self.products: dict[str, dict[tuple[str, str], float]] = {}  # user id -> (type, id) -> since
        self.progress: dict[tuple[str, str], dict] = {}    # (user id, course id) -> progress state
        self.responses: dict[str, dict] = {}      # response id -> response; "_" keys are private
        self.scores: dict[tuple[str, str], str] = {}       # (user id, unit id) -> response id
        self.certificates: dict[str, dict] = {}
        self.school_events: list[dict] = []
        # Commerce
        self.payments: dict[str, dict] = {}       # payment id -> Payment (oldest first)
        self.payments_by_user: dict[str, list[str]] = {}
        self.promotions: dict[str, dict] = {}
        self.affiliates: dict[str, dict] = {}     # affiliate user id -> Affiliate record
        self.payouts: dict[str, dict[str, list[dict]]] = {}
        self.subscriptions: list[dict] = []
        self.installments: list[dict] = []
        # Community
        self.collections: dict[str, dict] = {}
        self.spaces: dict[str, dict] = {}
        self.space_members: dict[str, dict[str, str]] = {}  # space id -> user id -> status
        self.posts: dict[str, dict] = {}
        # Controls
        self.jobs: dict[str, dict] = {}
        self._job_effects: dict[str, Callable[[], None]] = {}
        self.faults = FaultQueue()
        self.tokens = TokenBook(clock)
        self.stats: dict = {}
        self.reset_stats()

    # -- time and ids ---------------------------------------------------------------------

    def stamp(self) -> float:
        """A fresh write time just after the fixed epoch; each call is one second later."""
        self._ticks += 1
        return round(self.now + self._ticks + 0.25, 6)

    def new_id(self, at: float | None = None) -> str:
        """A 24-hex id whose first 8 digits encode `at` (or a fresh stamp), like Mongo ids."""
        seconds = int(self.stamp() if at is None else at)
        return f"{seconds:08x}{self._ids.getrandbits(64):016x}"

    # -- lookups --------------------------------------------------------------------------

    def find_user(self, key: str) -> dict | None:
        """The user whose id or email (any case) is `key`."""
        user = self.users.get(key)
        if user is None:
            uid = self.emails.get(key.strip().lower())
            user = self.users.get(uid) if uid else None
        return user

    def role_of(self, user_id: str) -> dict:
        """The role record a user holds."""
        return self.roles[self.user_roles[user_id]]

    def is_paying(self, user_id: str) -> bool:
        """True when the user has at least one payment with a positive price."""
        return any(self.payments[pid]["price"] > 0 for pid in self.payments_by_user.get(user_id, ()))

    def product(self, kind: str, pid: str) -> dict | None:
        """The course, bundle or subscription plan `pid`."""
        table = {"course": self.courses, "bundle": self.bundles,
                 "subscription": self.subscription_plans}.get(kind, {})
        return table.get(pid)

    def learners(self, course_id: str) -> list[str]:
        """Ids of the users enrolled in a course."""
        return [uid for uid, courses in self.enrollments.items() if course_id in courses]

    def course_units(self, course_id: str) -> list[dict]:
        """The learning units of a course in reading order."""
        return [unit for section in self.contents.get(course_id, ())
                for unit in section["learningUnits"]]

    # -- writes that keep several tables in step -------------------------------------------

    def add_user(self, user: dict, role_id: str) -> None:
        """Register a user record and its role."""
        self.users[user["id"]] = user
        self.emails[user["email"].lower()] = user["id"]
        self.set_role(user["id"], role_id)

    def set_role(self, user_id: str, role_id: str) -> None:
        """Give a user a role and keep the role flags on the user record in step."""
        role = self.roles[role_id]
        level = role["access_level"]
        self.user_roles[user_id] = role_id
        user = self.users[user_id]
        user["role"] = {"level": level, "name": role["title"]}
        user["is_admin"] = level == "admin"
        user["is_instructor"] = level == "instructor"
        user["is_reporter"] = level == "reporter"

    def managed_groups(self, user_id: str) -> list[str]:
        """Ids of the groups the user manages."""
        return [gid for gid, group in self.groups.items() if user_id in group["group_managers"]]

    def managed_seats(self, user_id: str) -> list[str]:
        """Ids of the seat offerings the user manages."""
        return [sid for sid, seat in self.seats.items() if user_id in seat["seat_managers"]]

    def enroll(self, user_id: str, course_id: str, at: float, expires: float | None = None) -> bool:
        """Enroll a user in a course; False when already enrolled."""
        courses = self.enrollments.setdefault(user_id, {})
        if course_id in courses:
            return False
        courses[course_id] = {"created": at, "expires": expires}
        self.progress.setdefault((user_id, course_id),
                                 {"done": set(), "touched": False, "completed_at": None})
        return True

    def unenroll(self, user_id: str, course_id: str) -> bool:
        """Remove a course enrollment and its progress; False when there was none."""
        if self.enrollments.get(user_id, {}).pop(course_id, None) is None:
            return False
        self.progress.pop((user_id, course_id), None)
        return True

    def grant(self, user_id: str, kind: str, pid: str, at: float,
              expires: float | None = None) -> list[str]:
        """Give a user a product and the courses in it; returns the courses newly enrolled."""
        if kind != "course":
            self.products.setdefault(user_id, {})[(kind, pid)] = at
        record = self.product(kind, pid)
        courses = [pid] if kind == "course" else list(record["products"]["courses"])
        return [cid for cid in courses if cid in self.courses and self.enroll(user_id, cid, at, expires)]

    def revoke(self, user_id: str, kind: str, pid: str) -> bool:
        """Take a product and its courses away; False when the user did not have it."""
        if kind == "course":
            return self.unenroll(user_id, pid)
        if self.products.get(user_id, {}).pop((kind, pid), None) is None:
            return False
        for cid in self.product(kind, pid)["products"]["courses"]:
            self.unenroll(user_id, cid)
        return True

    def add_payment(self, payment: dict) -> None:
        """Record a payment and index it by payer."""
        self.payments[payment["id"]] = payment
        self.payments_by_user.setdefault(payment["user_id"], []).append(payment["id"])

    def log(self, user: dict, activity: str, description: str, kind: str | None,
            at: float, info: dict | None = None) -> None:
        """Append an event log entry (callers append in time order)."""
        self.event_logs.append({
            "user": {"id": user["id"], "username": user["username"]},
            "created": at, "activity": activity, "description": description,
            "type": kind, "additional_info": info,
        })

    # -- asynchronous actions -------------------------------------------------------------

    def start_job(self, action: str, results: dict, effect: Callable[[], None] | None = None) -> str:
        """Open an asynchronous action; `effect` runs when it completes."""
        job_id = self.new_id()
        self.jobs[job_id] = {"action": action, "state": "in-progress", "errors": [],
                             "results": results, "polls": 0, "started": self.clock()}
        if effect is not None:
            self._job_effects[job_id] = effect
        return job_id

    def _finish(self, job_id: str) -> None:
        effect = self._job_effects.pop(job_id, None)
        if effect is not None:
            effect()
        self.jobs[job_id]["state"] = "completed"

    def settle_jobs(self) -> None:
        """Complete jobs that have been running for JOB_SECONDS of the clock."""
        now = self.clock()
        for job_id, job in self.jobs.items():
            if job["state"] == "in-progress" and now - job["started"] >= JOB_SECONDS:
                self._finish(job_id)

    def poll_job(self, job_id: str) -> dict | None:
        """The job as the API shows it; the first poll sees it running, later ones finished."""
        job = self.jobs.get(job_id)
        if job is None:
            return None
        job["polls"] += 1
        if job["state"] == "in-progress" and job["polls"] > 1:
            self._finish(job_id)
        return {key: job[key] for key in ("action", "state", "errors", "results")}

    # -- test controls --------------------------------------------------------------------

    def inject_fault(self, kind: str, count: int = 1, path_prefix: str | None = None,
                     seconds: float | None = None) -> Fault:
        """Make the next `count` matching /v2 requests fail the way `kind` names."""
        return self.faults.inject(kind, count, path_prefix, seconds)

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self.stats = {"total": 0, "paths": {}, "rate_limited": 0, "faulted": 0,
                      "unauthorized": 0}

    def count(self, path: str) -> None:
        """Count one API request for `path`."""
        self.stats["total"] += 1
        self.stats["paths"][path] = self.stats["paths"].get(path, 0) + 1
