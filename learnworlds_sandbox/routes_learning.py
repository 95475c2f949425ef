"""Routes for the catalog side of learning: courses, their contents, analytics, school events."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .lookup import course_named, school_of
from .render import progress_view
from .replies import bad_request, body_of, invalid, not_found, page, require, split, unpaged

COURSE_ACCESS = ("paid", "free", "coming_soon", "enrollment_closed", "private", "draft")
SECTION_ACCESS = ("draft", "soon", "free", "paid")  # what a new section may be given (the export's request enum)
VIDEO_TYPES = ("video", "youtube")


def _access_filter(request: Request) -> list[str]:
    values = []
    for raw in request.query_params.getlist("access") + request.query_params.getlist("access[]"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = split(raw)
        values += parsed if isinstance(parsed, list) else [str(parsed)]
    return values


async def list_courses(request: Request) -> JSONResponse:
    """GET /v2/courses, 50 a page, filtered by categories and access."""
    school = school_of(request)
    wanted = set(split(request.query_params.get("categories")))
    access = set(_access_filter(request))
    rows = [c for c in school.courses.values()
            if (not wanted or wanted.intersection(c["categories"]))
            and (not access or c["access"] in access)]
    return page(request, rows)


def _course_fields(course: dict, body: dict) -> None:
    if "access" in body and body["access"] not in COURSE_ACCESS:
        raise invalid({"access": f"The access must be one of {', '.join(COURSE_ACCESS)}."})
    if "dripFeed" in body and body["dripFeed"] not in ("date", "days", "none"):
        raise invalid({"dripFeed": "The dripFeed must be date, days or none."})
    for key in ("title", "description", "dripFeed", "access", "categories", "label"):
        if key in body:
            course[key] = body[key]
    if "price" in body:
        price = body["price"]
        if not isinstance(price, (int, float)) or price < 0:
            raise invalid({"price": "The price must be a non-negative number."})
        course.update(original_price=price, discount_price=price, final_price=price)


async def create_course(request: Request) -> JSONResponse:
    """POST /v2/courses; the titleId becomes the course id."""
    school = school_of(request)
    body = await body_of(request)
    require(body, "titleId", "title", "access")
    cid = str(body["titleId"])
    if cid in school.courses:
        raise bad_request("titleId", "A course with this titleId already exists.")
    at = school.stamp()
    course = {"id": cid, "title": "", "expires": None, "expiresType": "months",
              "afterPurchase": {"type": "course", "settings": {"page": None, "url": None}},
              "categories": [], "description": None, "label": None,
              "author": {"name": "School team", "image": None}, "courseImage": None,
              "original_price": 0, "discount_price": 0, "final_price": 0, "dripFeed": "none",
              "identifiers": {"slug": cid}, "access": "draft", "created": at, "modified": at}
    _course_fields(course, body)
    school.courses[cid] = course
    school.contents[cid] = []
    return JSONResponse(course, status_code=201)


async def get_course(request: Request) -> JSONResponse:
    """GET /v2/courses/{id}."""
    return JSONResponse(course_named(request))


async def update_course(request: Request) -> JSONResponse:
    """PUT /v2/courses/{id}."""
    course = course_named(request)
    _course_fields(course, await body_of(request))
    course["modified"] = school_of(request).stamp()
    return JSONResponse(course)


async def course_analytics(request: Request) -> JSONResponse:
    """GET /v2/courses/{id}/analytics, worked out from the learners' progress."""
    school = school_of(request)
    course = course_named(request)
    cid = course["id"]
    units = [school.units[u["id"]] for u in school.course_units(cid)]
    views = [progress_view(school, uid, cid) for uid in school.learners(cid)]
    grades = [r["grade"] for r in school.responses.values()
              if r["_course"] == cid and r["grade"] is not None]
    finished = [v for v in views if v["status"] == "completed"]
    video = [u for u in units if u["unit"]["type"] in VIDEO_TYPES]
    video_ids = {u["unit"]["id"] for u in video}
    return JSONResponse({
        "students": len(views), "videos": len(video), "learning_units": len(units),
        "video_time": sum(u["duration"] or 0 for u in video),
        "video_viewing_time": sum(row["time_on_unit"] for v in views
                                  for s in v["progress_per_section_unit"] for row in s["units"]
                                  if row["unit_id"] in video_ids),
        "avg_score_rate": round(sum(grades) / len(grades)) if grades else 0,
        "success_rate": round(100 * len(finished) / len(views)) if views else 0,
        "total_study_time": sum(v["time_on_course"] for v in views),
        "avg_time_to_finish": round(sum(v["time_on_course"] for v in finished) / len(finished))
        if finished else 0,
        "social_interactions": sum(1 for p in school.posts.values() if p["posted_in"]["id"] == cid),
        "certificates_issued": sum(1 for c in school.certificates.values()
                                   if c["course_id"] == cid and c["status"] == "active"),
    })


async def unit_analytics(request: Request) -> JSONResponse:
    """GET /v2/courses/{id}/units/{uid}/analytics."""
    school = school_of(request)
    cid = course_named(request)["id"]
    entry = school.units.get(request.path_params["uid"])
    if entry is None or entry["course_id"] != cid:
        raise not_found("Learning unit not found")
    uid_unit = entry["unit"]["id"]
    rows = [row for learner in school.learners(cid)
            for s in progress_view(school, learner, cid)["progress_per_section_unit"]
            for row in s["units"] if row["unit_id"] == uid_unit]
    viewers = [row for row in rows if row["time_on_unit"] > 0]
    scores = [row["score_on_unit"] for row in rows if row["score_on_unit"] is not None]
    total = sum(row["time_on_unit"] for row in viewers)
    return JSONResponse({
        "type": entry["unit"]["type"], "name": entry["unit"]["title"],
        "users_completed": sum(1 for row in rows if row["unit_status"] == "completed"),
        "viewers": len(viewers), "avg_study_time": round(total / len(viewers)) if viewers else 0,
        "total_study_time": total,
        "avg_score_rate": round(sum(scores) / len(scores)) if scores else 0,
    })


async def course_contents(request: Request) -> JSONResponse:
    """GET /v2/courses/{id}/contents."""
    course = course_named(request)
    return JSONResponse({"id": course["id"], "title": course["title"],
                         "sections": school_of(request).contents[course["id"]]})


async def create_section(request: Request) -> JSONResponse:
    """POST /v2/courses/{id}/sections; answers with the whole contents."""
    school = school_of(request)
    course = course_named(request)
    body = await body_of(request)
    require(body, "title", "access")
    access = body["access"]
    if access not in SECTION_ACCESS:
        raise invalid({"access": f"The access must be one of {', '.join(SECTION_ACCESS)}."})
    drip = body.get("drip")
    if isinstance(drip, dict):
        drip = {"type": "days" if drip.get("days") else None, "date": drip.get("date"),
                "days": drip.get("days") or 0, "notify": bool(drip.get("notify")),
                "subject": drip.get("subject"), "body": drip.get("body")}
    sections = school.contents[course["id"]]
    base = f"{course['id'][:6]}_" + "_".join(str(body["title"]).lower().split())
    section_id, serial = base, 1
    while any(s["id"] == section_id for s in sections):
        serial += 1
        section_id = f"{base}_{serial}"
    sections.append({"id": section_id, "title": body["title"], "description": body.get("description"),
                     "access": access, "drip": drip or None, "learningUnits": []})
    return JSONResponse({"id": course["id"], "title": course["title"], "sections": sections},
                        status_code=201)


async def school_events(request: Request) -> JSONResponse:
    """GET /v2/school/events, unpaged."""
    kind = request.query_params.get("event_type")
    if kind and kind not in ("dripFeed", "fileAssignment", "liveSession"):
        raise invalid({"event_type": "The event_type must be dripFeed, fileAssignment or liveSession."})
    return unpaged([e for e in school_of(request).school_events if not kind or e["type"] == kind])


ROUTES = [
    Route("/courses", list_courses, methods=["GET"]),
    Route("/courses", create_course, methods=["POST"]),
    Route("/courses/{id}", get_course, methods=["GET"]),
    Route("/courses/{id}", update_course, methods=["PUT"]),
    Route("/courses/{id}/analytics", course_analytics, methods=["GET"]),
    Route("/courses/{id}/units/{uid}/analytics", unit_analytics, methods=["GET"]),
    Route("/courses/{id}/contents", course_contents, methods=["GET"]),
    Route("/courses/{id}/sections", create_section, methods=["POST"]),
    Route("/school/events", school_events, methods=["GET"]),
]
