"""Routes for selling: bundles, plans, subscriptions, installments, payments, promotions, affiliates."""

from __future__ import annotations

import random
import string

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from learnworlds_mcp.registry import Paging

from .lookup import record, school_of, user_named
from .replies import (bad_request, body_of, invalid, not_found, number, page, paginate,
                      require, unpaged)
from .school import School

# The coupon usage answer nests its payments, 50 a page, beside "usage" and "meta"; the operation
# files give it a plain `page` argument rather than list paging.
USAGE_PAGING = Paging(page_size=50, items_per_page=False)

PROMOTION_TYPES = ("percentage", "fixed", "flat")
APPLIES_TO = ("bundles", "courses", "courses_bundles", "none")
PAYMENT_METHODS = ("paypal", "other", "bank_transfer", "none")


async def list_bundles(request: Request) -> JSONResponse:
    """GET /v2/bundles, 20 a page."""
    return page(request, list(school_of(request).bundles.values()))


async def get_bundle(request: Request) -> JSONResponse:
    """GET /v2/bundles/{id}."""
    return JSONResponse(record(school_of(request).bundles, request.path_params["id"], "Bundle"))


async def list_plans(request: Request) -> JSONResponse:
    """GET /v2/subscription-plans, 50 a page."""
    return page(request, list(school_of(request).subscription_plans.values()))


async def get_plan(request: Request) -> JSONResponse:
    """GET /v2/subscription-plans/{id}."""
    plans = school_of(request).subscription_plans
    return JSONResponse(record(plans, request.path_params["id"], "Subscription plan"))


def _user_id(request: Request) -> str | None:
    key = request.query_params.get("user_id")
    return user_named(request, key)["id"] if key else None


async def list_subscriptions(request: Request) -> JSONResponse:
    """GET /v2/user-subscriptions, filtered by user and status."""
    uid, status = _user_id(request), request.query_params.get("status")
    if status and status not in ("active", "inactive", "trial"):
        raise invalid({"status": "The status must be active, inactive or trial."})
    rows = [s for s in school_of(request).subscriptions
            if (not uid or s["user_id"] == uid) and (not status or s["status"] == status)]
    return page(request, rows)


async def list_installments(request: Request) -> JSONResponse:
    """GET /v2/installments/active, filtered by user and product."""
    query = request.query_params
    uid, pid, kind = _user_id(request), query.get("product_id"), query.get("product_type")
    rows = [i for i in school_of(request).installments
            if (not uid or i["user_id"] == uid) and (not pid or i["productId"] == pid)
            and (not kind or i["productType"] == kind)]
    return page(request, rows)


async def list_payments(request: Request) -> JSONResponse:
    """GET /v2/payments, newest first, 50 a page unless items_per_page says otherwise."""
    school = school_of(request)
    query = request.query_params
    uid = _user_id(request)
    kind, pid, affiliate = query.get("product_type"), query.get("product_id"), query.get("affiliate_id")
    after, before = number(request, "created_after"), number(request, "created_before")
    source = ([school.payments[p] for p in school.payments_by_user.get(uid, ())] if uid
              else school.payments.values())
    rows = [p for p in source
            if (not kind or any(item["type"] == kind for item in p["products"]))
            and (not pid or any(item["id"] == pid for item in p["products"]))
            and (not affiliate or (p["affiliate"] or {}).get("id") == affiliate)
            and (after is None or p["created"] >= after)
            and (before is None or p["created"] <= before)]
    rows.sort(key=lambda p: p["created"], reverse=True)
    return page(request, rows)


async def get_payment(request: Request) -> JSONResponse:
    """GET /v2/payments/{id}."""
    return JSONResponse(record(school_of(request).payments, request.path_params["id"], "Payment"))


async def invoice_link(request: Request) -> JSONResponse:
    """GET /v2/payments/{id}/invoice-link; payments without an invoice are a 404."""
    school = school_of(request)
    payment = record(school.payments, request.path_params["id"], "Payment")
    if not payment["invoice"]:
        raise not_found("This payment has no invoice")
    name = f"invoice-{payment['invoice']}-{payment['product']['id']}-{payment['user_id']}.pdf"
    return JSONResponse({"invoice": payment["invoice"],
                         "url": f"https://files.sandbox.invalid/invoices/{name}?sig=sandbox",
                         "expires_at": int(school.now + 60)})


# -- promotions and coupons -------------------------------------------------------------------


async def list_promotions(request: Request) -> JSONResponse:
    """GET /v2/promotions, 20 a page."""
    return page(request, list(school_of(request).promotions.values()))


async def get_promotion(request: Request) -> JSONResponse:
    """GET /v2/promotions/{id}."""
    return JSONResponse(record(school_of(request).promotions, request.path_params["id"], "Promotion"))


async def create_promotion(request: Request) -> JSONResponse:
    """POST /v2/promotions."""
    school = school_of(request)
    body = await body_of(request)
    require(body, "name")
    kind = body.get("type", "percentage")
    if kind not in PROMOTION_TYPES:
        raise invalid({"type": f"The type must be one of {', '.join(PROMOTION_TYPES)}."})
    value = body.get("value", 0)
    if not isinstance(value, (int, float)) or value < 0 or (kind == "percentage" and value > 100):
        raise invalid({"value": "The value must be a non-negative number (at most 100 for percentages)."})
    scope = body.get("applies_to_all", ["none"])
    if not isinstance(scope, list) or any(item not in APPLIES_TO for item in scope):
        raise invalid({"applies_to_all": f"Each entry must be one of {', '.join(APPLIES_TO)}."})
    products = body.get("products", [])
    if not isinstance(products, list) or any(
            not isinstance(p, dict) or school.product(p.get("type"), str(p.get("id"))) is None
            for p in products):
        raise invalid({"products": "Each product needs the type and id of an existing product."})
    at = school.stamp()
    promo = {"id": school.new_id(at), "name": body["name"], "coupons": [],
             "applies_to_all": scope, "products": [{"type": p["type"], "id": p["id"]} for p in products],
             "type": kind, "value": value, "created": at, "modified": at}
    school.promotions[promo["id"]] = promo
    return JSONResponse(promo, status_code=201)


def _code_taken(school: School, code: str) -> bool:
    return any(c["code"].lower() == code.lower() for p in school.promotions.values() for c in p["coupons"])


async def list_coupons(request: Request) -> JSONResponse:
    """GET /v2/promotions/{pid}/coupons, unpaged."""
    promo = record(school_of(request).promotions, request.path_params["pid"], "Promotion")
    return unpaged(promo["coupons"])


async def create_coupon(request: Request) -> JSONResponse:
    """POST /v2/promotions/{pid}/coupons; codes are unique across the school."""
    school = school_of(request)
    promo = record(school.promotions, request.path_params["pid"], "Promotion")
    body = await body_of(request)
    require(body, "code")
    if _code_taken(school, str(body["code"])):
        raise bad_request("code", "This coupon code is already in use.")
    coupon = {"code": str(body["code"]), "quantity": body.get("quantity"),
              "expires": body.get("expires"), "bulk": False, "prefix": None, "times_used": 0}
    promo["coupons"].append(coupon)
    promo["modified"] = school.stamp()
    return JSONResponse(coupon)


async def create_coupons_bulk(request: Request) -> JSONResponse:
    """POST /v2/promotions/{id}/coupons-bulk: `quantity` single-use codes with a prefix."""
    school = school_of(request)
    promo = record(school.promotions, request.path_params["id"], "Promotion")
    body = await body_of(request)
    require(body, "prefix", "quantity")
    count = body["quantity"]  # a number in the export; a whole one is what makes sense
    if isinstance(count, bool) or not isinstance(count, (int, float)) or count != int(count) \
            or not 1 <= count <= 500:
        raise invalid({"quantity": "The quantity must be a whole number from 1 to 500."})
    count = int(count)
    rng = random.Random(f"{school.seed}-{promo['id']}-{len(promo['coupons'])}")
    made = []
    while len(made) < count:
        code = f"{body['prefix']}-" + "".join(rng.choice(string.ascii_uppercase) for _ in range(6))
        if not _code_taken(school, code):
            coupon = {"code": code, "quantity": 1, "expires": body.get("expires"), "bulk": True,
                      "prefix": body["prefix"], "times_used": 0}
            promo["coupons"].append(coupon)
            made.append(coupon)
    promo["modified"] = school.stamp()
    return JSONResponse(made)


async def coupon_usage(request: Request) -> JSONResponse:
    """GET /v2/promotions/{pid}/coupons/{cid}/usage, where cid is the coupon code."""
    school = school_of(request)
    promo = record(school.promotions, request.path_params["pid"], "Promotion")
    code = request.path_params["cid"]
    coupon = next((c for c in promo["coupons"] if c["code"] == code), None)
    if coupon is None:
        raise not_found("Coupon not found")
    rows, meta = paginate(request, [p for p in school.payments.values() if p["coupon"] == code], USAGE_PAGING)
    return JSONResponse({"usage": coupon, "payments": rows, "meta": meta})


# -- affiliates -------------------------------------------------------------------------------


def _affiliate(request: Request) -> dict:
    school = school_of(request)
    user = school.find_user(request.path_params["id"])
    if user is None or user["id"] not in school.affiliates:
        raise not_found("Affiliate not found")
    return school.affiliates[user["id"]]


async def list_affiliates(request: Request) -> JSONResponse:
    """GET /v2/affiliates, 20 a page."""
    return page(request, list(school_of(request).affiliates.values()))


async def make_affiliate(request: Request) -> JSONResponse:
    """POST /v2/affiliates/{id}: make a user an affiliate, or update their terms."""
    school = school_of(request)
    user = user_named(request)
    body = await body_of(request)
    share = body.get("commission_percentage", 10)
    if not isinstance(share, (int, float)) or not 0 <= share <= 100:
        raise invalid({"commission_percentage": "The commission_percentage must be from 0 to 100."})
    method = body.get("paymentMethod")
    if method is not None and method not in PAYMENT_METHODS:
        raise invalid({"paymentMethod": f"The paymentMethod must be one of {', '.join(PAYMENT_METHODS)}."})
    at = school.stamp()
    affiliate = school.affiliates.get(user["id"]) or {
        "id": user["id"], "email": user["email"], "username": user["username"],
        "first_name": user["first_name"], "last_name": user["last_name"],
        "code": user["id"][-6:], "paymentMethod": None, "paymentNotes": None, "date": at,
        "clicks": 0, "sales": 0, "commissions": 0, "leads": 0, "customers": 0, "payouts": 0,
        "pending": 0, "due": 0, "commission_percentage": 10}
    affiliate["commission_percentage"] = share
    for key in ("paymentMethod", "paymentNotes"):
        if key in body:
            affiliate[key] = body[key]
    if user["id"] not in school.affiliates:
        school.affiliates[user["id"]] = affiliate
        school.payouts[user["id"]] = {"upcoming": [], "due": [], "completed": []}
        school.log(user, "new_affiliate_manual", "Made an affiliate by an admin", "user", at)
    user["is_affiliate"] = True
    return JSONResponse({"data": affiliate}, status_code=201)


def _referred(school: School, aid: str) -> list[dict]:
    return [u for u in school.users.values() if u["referrer_id"] == aid]


async def affiliate_leads(request: Request) -> JSONResponse:
    """GET /v2/affiliates/{id}/leads: referred users who have not paid."""
    school = school_of(request)
    aid = _affiliate(request)["id"]
    return page(request, [u for u in _referred(school, aid) if not school.payments_by_user.get(u["id"])])


async def affiliate_customers(request: Request) -> JSONResponse:
    """GET /v2/affiliates/{id}/customers: referred users who have paid."""
    school = school_of(request)
    aid = _affiliate(request)["id"]
    return page(request, [u for u in _referred(school, aid) if school.payments_by_user.get(u["id"])])


async def affiliate_payments(request: Request) -> JSONResponse:
    """GET /v2/affiliates/{id}/payments."""
    school = school_of(request)
    aid = _affiliate(request)["id"]
    rows = [p for p in school.payments.values() if (p["affiliate"] or {}).get("id") == aid]
    return page(request, rows)


async def payouts_upcoming(request: Request) -> JSONResponse:
    """GET /v2/affiliates/{id}/payouts/upcoming, unpaged."""
    return unpaged(school_of(request).payouts[_affiliate(request)["id"]]["upcoming"])


async def payouts_due(request: Request) -> JSONResponse:
    """GET /v2/affiliates/{id}/payouts/due, unpaged."""
    return unpaged(school_of(request).payouts[_affiliate(request)["id"]]["due"])


async def payouts_completed(request: Request) -> JSONResponse:
    """GET /v2/affiliates/{id}/payouts/completed, 20 a page."""
    return page(request, school_of(request).payouts[_affiliate(request)["id"]]["completed"])


ROUTES = [
    Route("/bundles", list_bundles, methods=["GET"]),
    Route("/bundles/{id}", get_bundle, methods=["GET"]),
    Route("/subscription-plans", list_plans, methods=["GET"]),
    Route("/subscription-plans/{id}", get_plan, methods=["GET"]),
    Route("/user-subscriptions", list_subscriptions, methods=["GET"]),
    Route("/installments/active", list_installments, methods=["GET"]),
    Route("/payments", list_payments, methods=["GET"]),
    Route("/payments/{id}", get_payment, methods=["GET"]),
    Route("/payments/{id}/invoice-link", invoice_link, methods=["GET"]),
    Route("/promotions", list_promotions, methods=["GET"]),
    Route("/promotions", create_promotion, methods=["POST"]),
    Route("/promotions/{id}", get_promotion, methods=["GET"]),
    Route("/promotions/{id}/coupons-bulk", create_coupons_bulk, methods=["POST"]),
    Route("/promotions/{pid}/coupons", list_coupons, methods=["GET"]),
    Route("/promotions/{pid}/coupons", create_coupon, methods=["POST"]),
    Route("/promotions/{pid}/coupons/{cid}/usage", coupon_usage, methods=["GET"]),
    Route("/affiliates", list_affiliates, methods=["GET"]),
    Route("/affiliates/{id}", make_affiliate, methods=["POST"]),
    Route("/affiliates/{id}/leads", affiliate_leads, methods=["GET"]),
    Route("/affiliates/{id}/customers", affiliate_customers, methods=["GET"]),
    Route("/affiliates/{id}/payments", affiliate_payments, methods=["GET"]),
    Route("/affiliates/{id}/payouts/upcoming", payouts_upcoming, methods=["GET"]),
    Route("/affiliates/{id}/payouts/due", payouts_due, methods=["GET"]),
    Route("/affiliates/{id}/payouts/completed", payouts_completed, methods=["GET"]),
]
