"""Turns stored records into the API's answer shapes (joins, derived numbers, private keys dropped)."""

from __future__ import annotations

import zlib

from .school import School

SCORED = ("assessmentV2",)


def unit_roll(seed: int, user_id: str, unit_id: str) -> int:
    """A stable pseudo-random number for one learner on one unit (0..999999)."""
    return zlib.crc32(f"{seed}:{user_id}:{unit_id}".encode()) % 1_000_000


def public(record: dict) -> dict:
    """The record without its private (underscore) keys."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


def person(school: School, user_id: str) -> dict:
    """A manager entry: id, username, email and role id."""
    user = school.users[user_id]
    return {"id": user_id, "username": user["username"], "email": user["email"],
            "role_id": school.user_roles[user_id]}


def group_view(school: School, group: dict) -> dict:
    """A user group with its managers spelled out."""
    view = dict(group)
    view["group_managers"] = [person(school, uid) for uid in group["group_managers"]
                              if uid in school.users]
    return view


def seat_view(school: School, seat: dict) -> dict:
    """A seat offering with managers spelled out and seat counts worked out."""
    active = sum(1 for entry in school.seat_members.get(seat["id"], {}).values() if entry["active"])
    view = dict(seat)
    view["seat_managers"] = [person(school, uid) for uid in seat["seat_managers"]
                             if uid in school.users]
    view["available_seats"] = max(0, seat["number_of_seats"] - active)
    view["total_enrollments"] = active
    order = ["id", "title", "description", "products", "number_of_seats", "available_seats",
             "max_number_of_users", "seat_managers", "tags", "total_enrollments", "access",
             "created", "modified"]
    return {key: view[key] for key in order}


def role_assignment(school: School, user_id: str) -> dict:
    """A user's role and everything assigned to them under it."""
    user = school.users[user_id]
    role = school.role_of(user_id)
    return {
        "id": user_id, "email": user["email"], "username": user["username"],
        "role_id": role["id"],
        "user_role": {"id": role["id"], "access_level": role["access_level"], "name": role["title"]},
        "assigned_courses": [dict(item) for item in school.assigned_courses.get(user_id, [])],
        "assigned_seat_offering_ids": school.managed_seats(user_id),
        "assigned_user_group_ids": school.managed_groups(user_id),
        "assigned_segment_id": school.assigned_segment.get(user_id),
        "assigned_licenses_ids": list(school.assigned_licenses.get(user_id, [])),
    }


def score(school: School, user_id: str, unit_id: str) -> int | None:
    """The learner's grade on a scored unit, from their response."""
    rid = school.scores.get((user_id, unit_id))
    grade = school.responses[rid]["grade"] if rid else None
    return None if grade is None else int(round(grade))


def _unit_progress(school: School, user_id: str, entry: dict, state: dict, nudge: bool) -> dict:
    unit = entry["unit"]
    roll = unit_roll(school.seed, user_id, unit["id"])
    duration = entry["duration"]
    full_time = duration if duration else 60 + roll % 840
    if unit["id"] in state["done"]:
        status, rate, spent = "completed", 100, full_time + roll % 120
        points = score(school, user_id, unit["id"]) if unit["type"] in SCORED else None
    elif nudge:
        status, rate = "not_completed", 10 + roll % 80
        spent, points = full_time * rate // 100, None
    else:
        status, rate, spent, points = "not_completed", 0, 0, None
    return {"unit_section_name": entry["section"]["title"], "unit_id": unit["id"],
            "unit_name": unit["title"], "unit_type": unit["type"], "unit_status": status,
            "unit_duration": duration, "time_on_unit": spent, "score_on_unit": points,
            "unit_progress_rate": rate}


def progress_view(school: School, user_id: str, course_id: str, with_course: bool = False) -> dict:
    """A learner's progress in one course, per section and unit."""
    state = school.progress[(user_id, course_id)]
    sections, units, nudged = [], [], False
    for section in school.contents.get(course_id, ()):
        rows = []
        for unit in section["learningUnits"]:
            # The first unfinished unit of a started course shows as partly done.
            nudge = state["touched"] and not nudged and unit["id"] not in state["done"]
            nudged = nudged or nudge
            rows.append(_unit_progress(school, user_id, school.units[unit["id"]], state, nudge))
        sections.append({"section_id": section["id"], "units": rows})
        units += rows
    done = sum(1 for row in units if row["unit_status"] == "completed")
    scores = [row["score_on_unit"] for row in units if row["score_on_unit"] is not None]
    if units and done == len(units):
        status = "completed"
    elif done or state["touched"]:
        status = "not_completed"
    else:
        status = "not_started"
    view = {
        "status": status,
        "progress_rate": round(100 * done / len(units)) if units else 0,
        "average_score_rate": round(sum(scores) / len(scores)) if scores else 0,
        "time_on_course": sum(row["time_on_unit"] for row in units),
        "total_units": len(units), "completed_units": done,
        "completed_at": state["completed_at"] if status == "completed" else None,
        "progress_per_section_unit": sections,
    }
    return {"course_id": course_id, **view} if with_course else view


def enrollment_view(school: School, user_id: str, course_id: str) -> dict:
    """One course enrollment of a user, with the course inside."""
    entry = school.enrollments[user_id][course_id]
    return {"created": entry["created"], "expires": entry["expires"],
            "course": school.courses[course_id]}


def grade_view(response: dict) -> dict:
    """An assessment response as a row of the course gradebook."""
    unit = response["_unit"]
    return {"id": response["id"], "user_id": response["user_id"], "email": response["email"],
            "grade": response["grade"], "created": response["created"],
            "modified": response["modified"], "submittedTimestamp": response["submittedTimestamp"],
            "learningUnit": {"type": unit["type"], "id": unit["id"], "icon": unit["icon"],
                             "subtitle": unit["subtitle"]}}


def space_member(school: School, user_id: str, status: str) -> dict:
    """A community space member entry."""
    return {"id": user_id, "username": school.users[user_id]["username"], "status": status}


def product_summary(school: School, kind: str, pid: str) -> dict:
    """The product block of a payment."""
    product = school.product(kind, pid)
    price = product.get("final_price", product.get("price", 0))
    return {"id": pid, "type": kind, "name": product["title"],
            "description": product.get("description"),
            "image": product.get("image", product.get("courseImage")),
            "trial_days": product.get("trial_period_days", 0),
            "original_price": product.get("original_price", price),
            "discount_price": product.get("discount_price", price), "final_price": price}
