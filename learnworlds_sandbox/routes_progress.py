"""Routes for taking courses: enrollments, progress, grades and responses, certificates."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .lookup import course_named, record, school_of, user_named
from .render import enrollment_view, grade_view, product_summary, progress_view, public
from .replies import bad_request, body_of, invalid, not_found, page, require, split, unpaged
from .school import School

PRODUCT_TYPES = ("course", "bundle", "subscription")
DURATION_DAYS = {"days": 1, "weeks": 7, "months": 30}


async def user_courses(request: Request) -> JSONResponse:
    """GET /v2/users/{id}/courses, 50 a page."""
    school = school_of(request)
    uid = user_named(request)["id"]
    owned = sorted(school.enrollments.get(uid, {}).items(), key=lambda item: item[1]["created"])
    return page(request, [enrollment_view(school, uid, cid) for cid, _ in owned])


async def course_users(request: Request) -> JSONResponse:
    """GET /v2/courses/{id}/users."""
    school = school_of(request)
    cid = course_named(request)["id"]
    return page(request, [school.users[uid] for uid in school.learners(cid)])


async def user_products(request: Request) -> JSONResponse:
    """GET /v2/users/{id}/products, unpaged."""
    school = school_of(request)
    uid = user_named(request)["id"]
    rows = [{"id": cid, "title": school.courses[cid]["title"], "type": "course"}
            for cid in school.enrollments.get(uid, {})]
    rows += [{"id": pid, "title": school.product(kind, pid)["title"], "type": kind}
             for kind, pid in school.products.get(uid, {})]
    return unpaged(rows)


def _product_body(school: School, body: dict) -> tuple[str, str]:
    kind, pid = body["productType"], str(body["productId"])
    if kind not in PRODUCT_TYPES:
        raise invalid({"productType": "The productType must be course, bundle or subscription."})
    if school.product(kind, pid) is None:
        raise not_found("Product not found")
    return kind, pid


async def enroll(request: Request) -> JSONResponse:
    """POST /v2/users/{id}/enrollment."""
    school = school_of(request)
    user = user_named(request)
    body = await body_of(request)
    # The API insists on a price even for a free, manual enrollment.
    require(body, "productId", "productType", "price")
    if not isinstance(body["price"], (int, float)) or isinstance(body["price"], bool):
        raise invalid({"price": "The price must be a number."})
    kind, pid = _product_body(school, body)
    at = school.stamp()
    expires = None
    if body.get("duration") and body.get("duration_type") in DURATION_DAYS:
        expires = at + int(body["duration"]) * DURATION_DAYS[body["duration_type"]] * 86400
    school.grant(user["id"], kind, pid, at, expires)
    if body["price"] > 0:
        summary = product_summary(school, kind, pid)
        school.add_payment({
            "id": school.new_id(at), "transaction_id": "Added by admin", "type": "one-off",
            "product": summary, "products": [summary], "price": body["price"], "discount": 0,
            "refund_at": None, "user_id": user["id"], "paid_at": at, "invoice": None,
            "billing_info": user["billing_info"], "coupon": None, "instructors": [],
            "instructors_total_percentage": None, "tax_amount": 0, "tax_percentage": 0,
            "affiliate": None, "period": None, "payment_plan_current_payment": None,
            "payment_plan_total_payments": None, "gateway": None, "created": at})
    title = school.product(kind, pid)["title"]
    school.log(user, "manual_enrollment", f"Enrolled in {title}", "user", at,
               {"justification": body.get("justification")})
    return JSONResponse({"success": True})


async def unenroll(request: Request) -> Response:
    """DELETE /v2/users/{id}/enrollment, with the product in a JSON body."""
    school = school_of(request)
    user = user_named(request)
    body = await body_of(request)
    require(body, "productId", "productType")
    kind, pid = _product_body(school, body)
    if not school.revoke(user["id"], kind, pid):
        raise not_found("The user is not enrolled in this product")
    return Response(status_code=204)


def _enrolled(request: Request) -> tuple[str, str]:
    school = school_of(request)
    uid = user_named(request)["id"]
    cid = course_named(request, "cid")["id"]
    if (uid, cid) not in school.progress:
        raise not_found("The user is not enrolled in this course")
    return uid, cid


async def course_progress(request: Request) -> JSONResponse:
    """GET /v2/users/{id}/courses/{cid}/progress."""
    uid, cid = _enrolled(request)
    return JSONResponse(progress_view(school_of(request), uid, cid))


async def user_progress(request: Request) -> JSONResponse:
    """GET /v2/users/{id}/progress."""
    school = school_of(request)
    uid = user_named(request)["id"]
    rows = [progress_view(school, uid, cid, with_course=True) for cid in school.enrollments.get(uid, {})]
    return page(request, rows)


def _chosen_units(school: School, cid: str, body: dict) -> tuple[list[str], list[str]]:
    units = body["units"]
    if not isinstance(units, list):
        raise invalid({"units": "The units must be a list of learning unit ids."})
    every = [u["id"] for u in school.course_units(cid)]
    if not units:
        return every, []
    return [u for u in every if u in units], [u for u in units if u not in every]


async def complete(request: Request) -> JSONResponse:
    """POST /v2/users/{id}/courses/{cid}/complete: applied at once, reported as a job."""
    school = school_of(request)
    uid, cid = _enrolled(request)
    body = await body_of(request)
    require(body, "send_course_complete_email", "units")
    chosen, skipped = _chosen_units(school, cid, body)
    state = school.progress[(uid, cid)]
    state["done"].update(chosen)
    state["touched"] = True
    units = school.course_units(cid)
    user = school.users[uid]
    if len(state["done"]) >= len(units) and state["completed_at"] is None:
        at = school.stamp()
        state["completed_at"] = at
        school.log(user, "complete_course", f"Completed {school.courses[cid]['title']}", "award", at)
    results = {"userEmail": user["email"], "courseTitle": school.courses[cid]["title"],
               "courseId": cid, "totalUnits": len(units), "numOfUnitsCompleted": len(chosen),
               "numOfUnitsSkipped": len(skipped), "unitsCompleted": body["units"] or ["all"]}
    return JSONResponse({"async": True,
                         "job_id": school.start_job("manually-completed-progress", results)})


async def reset(request: Request) -> JSONResponse:
    """POST /v2/users/{id}/courses/{cid}/reset: applied at once, reported as a job."""
    school = school_of(request)
    uid, cid = _enrolled(request)
    body = await body_of(request)
    require(body, "units")
    chosen, skipped = _chosen_units(school, cid, body)
    state = school.progress[(uid, cid)]
    state["done"].difference_update(chosen)
    state["completed_at"] = None
    if not body["units"]:
        state["touched"] = False
    results = {"userEmail": school.users[uid]["email"], "courseTitle": school.courses[cid]["title"],
               "courseId": cid, "totalUnits": len(school.course_units(cid)),
               "numOfUnitsReset": len(chosen), "numOfUnitsSkipped": len(skipped),
               "unitsReset": body["units"] or ["all"]}
    return JSONResponse({"async": True, "job_id": school.start_job("reset-progress", results)})


def _user_ids(request: Request) -> set[str] | None:
    names = split(request.query_params.get("users"))
    if not names:
        return None
    school = school_of(request)
    return {user["id"] for user in map(school.find_user, names) if user}


async def course_grades(request: Request) -> JSONResponse:
    """GET /v2/courses/{id}/grades."""
    school = school_of(request)
    cid = course_named(request)["id"]
    users = _user_ids(request)
    units = set(split(request.query_params.get("learningUnits")))
    key = request.query_params.get("sort", "created")
    order = request.query_params.get("order", "asc")
    if key not in ("created", "submittedTimestamp") or order not in ("asc", "desc"):
        raise invalid({"sort": "Sort by created or submittedTimestamp, order asc or desc."})
    rows = [r for r in school.responses.values()
            if r["_course"] == cid and r["_kind"] == "assessment"
            and (users is None or r["user_id"] in users)
            and (not units or r["_unit"]["id"] in units)]
    rows.sort(key=lambda r: r[key], reverse=order == "desc")
    return page(request, [grade_view(r) for r in rows])


def _responses(request: Request, kind: str) -> JSONResponse:
    school = school_of(request)
    entry = school.units.get(request.path_params["id"])
    wanted = "assessmentV2" if kind == "assessment" else "form"
    if entry is None or entry["unit"]["type"] != wanted:
        raise not_found(f"{kind.capitalize()} not found")
    users = _user_ids(request)
    rows = [public(r) for r in school.responses.values()
            if r["_unit"]["id"] == entry["unit"]["id"] and (users is None or r["user_id"] in users)]
    return page(request, rows)


async def assessment_responses(request: Request) -> JSONResponse:
    """GET /v2/assessments/{id}/responses, where id is the assessment unit."""
    return _responses(request, "assessment")


async def form_responses(request: Request) -> JSONResponse:
    """GET /v2/forms/{id}/responses, where id is the form unit."""
    return _responses(request, "form")


async def review(request: Request) -> JSONResponse:
    """POST /v2/assessments/scores/{id}/review: feedback and grades per block."""
    school = school_of(request)
    response = record(school.responses, request.path_params["id"], "Assessment submission")
    body = await body_of(request)
    blocks = {a["blockId"]: a for a in response["answers"]}
    notes = body.get("answers") or []
    if not isinstance(notes, list) or any(not isinstance(n, dict) or n.get("blockId") not in blocks
                                          for n in notes):
        raise invalid({"answers": "Every answer needs the blockId of a block in this submission."})
    for note in notes:
        block = blocks[note["blockId"]]
        if "feedback" in note:
            block["feedback"] = note["feedback"]
        if isinstance(note.get("grade"), (int, float)) and block["blockMaxScore"]:
            block["points"] = round(block["blockMaxScore"] * note["grade"] / 100, 2)
    if "generalFeedback" in body:
        response["generalFeedback"] = body["generalFeedback"]
    if response["_kind"] == "assessment":
        top = sum(a["blockMaxScore"] or 0 for a in response["answers"])
        got = sum(a["points"] or 0 for a in response["answers"])
        response["grade"] = round(100 * got / top) if top else 0
        response["passed"] = response["grade"] >= 60
    response["modified"] = school.stamp()
    return JSONResponse(public(response))


async def list_certificates(request: Request) -> JSONResponse:
    """GET /v2/certificates; without course_id or user_id it is a 400."""
    school = school_of(request)
    course_id, user_key = request.query_params.get("course_id"), request.query_params.get("user_id")
    if not course_id and not user_key:
        raise bad_request("course_id", "Filter by course_id or user_id (at least one is needed).")
    uid = user_named(request, user_key)["id"] if user_key else None
    rows = [c for c in school.certificates.values()
            if (not course_id or c["course_id"] == course_id) and (not uid or c["user"]["id"] == uid)]
    return page(request, rows)


async def reissue_certificate(request: Request) -> JSONResponse:
    """PUT /v2/certificates/{id}: new issue date and/or form."""
    school = school_of(request)
    cert = record(school.certificates, request.path_params["id"], "Certificate")
    body = await body_of(request)
    if "issued" not in body and "form" not in body:
        raise invalid({"issued": "Send issued, form or both."})
    if "issued" in body:
        if not isinstance(body["issued"], (int, float)):
            raise invalid({"issued": "The issued date must be Unix seconds."})
        cert["issued"] = body["issued"]
    if isinstance(body.get("form"), dict):
        cert["form"] = {**(cert["form"] or {}), **body["form"]}
    cert["status"] = "active"
    return JSONResponse(cert)


async def revoke_certificate(request: Request) -> Response:
    """DELETE /v2/certificates/{id}: the certificate stays, marked deleted."""
    cert = record(school_of(request).certificates, request.path_params["id"], "Certificate")
    if cert["status"] == "deleted":
        raise not_found("Certificate not found")
    cert["status"] = "deleted"
    return Response(status_code=204)


ROUTES = [
    Route("/courses/{id}/users", course_users, methods=["GET"]),
    Route("/courses/{id}/grades", course_grades, methods=["GET"]),
    Route("/users/{id}/courses", user_courses, methods=["GET"]),
    Route("/users/{id}/products", user_products, methods=["GET"]),
    Route("/users/{id}/enrollment", enroll, methods=["POST"]),
    Route("/users/{id}/enrollment", unenroll, methods=["DELETE"]),
    Route("/users/{id}/progress", user_progress, methods=["GET"]),
    Route("/users/{id}/courses/{cid}/progress", course_progress, methods=["GET"]),
    Route("/users/{id}/courses/{cid}/complete", complete, methods=["POST"]),
    Route("/users/{id}/courses/{cid}/reset", reset, methods=["POST"]),
    Route("/assessments/{id}/responses", assessment_responses, methods=["GET"]),
    Route("/assessments/scores/{id}/review", review, methods=["POST"]),
    Route("/forms/{id}/responses", form_responses, methods=["GET"]),
    Route("/certificates", list_certificates, methods=["GET"]),
    Route("/certificates/{id}", reissue_certificate, methods=["PUT"]),
    Route("/certificates/{id}", revoke_certificate, methods=["DELETE"]),
]
