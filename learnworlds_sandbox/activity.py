"""Seeds what learners did: enrollments, purchases, progress, answers, certificates, the event log."""

from __future__ import annotations

import random
import string

from .catalog import DAY
from .render import product_summary, unit_roll
from .school import School
from .social import seed_community, seed_school_events

QUESTIONS = [
    ("mc", "Which option best sums up the main idea of the section?", ["A", "B", "C", "D"]),
    ("mc", "Which step comes first in the method shown?", ["Plan", "Build", "Review", "Ship"]),
    ("tf", "The worked example would still run unchanged on new data.", ["True", "False"]),
    ("input", "In a sentence or two, how would you use this at work?", None),
]
FORM_QUESTIONS = [("input", "What is your role?"), ("mc", "How did you hear about the course?"),
                  ("input", "What do you hope to learn?")]
ALPHABET = string.ascii_letters + string.digits
BROWSERS = [("Chrome", "Windows"), ("Firefox", "Ubuntu"), ("Safari", "macOS"),
            ("Chrome", "Android"), ("Safari", "iOS"), ("Edge", "Windows")]


def _token(rng: random.Random, size: int) -> str:
    value, out = rng.getrandbits(6 * size), []
    for _ in range(size):
        out.append(ALPHABET[value % 62])
        value //= 64
    return "".join(out)


def _between(rng: random.Random, start: float, end: float) -> float:
    return round(rng.uniform(start, max(start, end)), 6)


class _Seeder:
    """Holds the random source and the running counters while activity is generated."""

    def __init__(self, school: School, rng: random.Random) -> None:
        self.school = school
        self.rng = rng
        self.invoices = 0
        self.revenue: dict[str, list[dict]] = {}  # course id -> instructor shares
        for staff_id, items in school.assigned_courses.items():
            for item in items:
                if item["revenue_share_percentage"]:
                    self.revenue.setdefault(item["course_id"], []).append(
                        {"id": staff_id, "percentage": item["revenue_share_percentage"] / 100})
        self.events: list[tuple[float, str, str, str, str | None, dict | None]] = []

    # -- enrollments and purchases ----------------------------------------------------------

    def enrollments(self) -> None:
        school, rng = self.school, self.rng
        sellable = [cid for cid, c in school.courses.items()
                    if c["access"] in ("paid", "free", "private", "enrollment_closed")]
        weights = [3.0 if school.courses[cid]["access"] == "free" else 1.0 + rng.random()
                   for cid in sellable]
        coupons = [(pid, coupon["code"]) for pid, promo in school.promotions.items()
                   for coupon in promo["coupons"]]
        for uid, user in school.users.items():
            start = user["created"]
            self.events.append((start, uid, "register", "Signed up", "user", None))
            count = rng.choices([0, 1, 2, 3, 4, 5, 7], [14, 30, 22, 14, 9, 7, 4])[0]
            for cid in dict.fromkeys(rng.choices(sellable, weights, k=count)):
                at = _between(rng, start, school.now - DAY)
                school.enroll(uid, cid, at)
                course = school.courses[cid]
                if course["final_price"] > 0 and rng.random() < 0.65:
                    coupon = rng.choice(coupons) if rng.random() < 0.12 else None
                    self.payment(uid, "course", cid, at, coupon=coupon)
                else:
                    self.events.append((at, uid, "manual_enrollment",
                                        f"Enrolled in {course['title']}", "user", None))
            roll = rng.random()
            if roll < 0.06:
                self.bundle(uid, start)
            elif roll < 0.10:
                self.subscription(uid, start)

    def bundle(self, uid: str, start: float) -> None:
        school, rng = self.school, self.rng
        bid = rng.choice(list(school.bundles))
        bundle = school.bundles[bid]
        at = _between(rng, start, school.now - 5 * DAY)
        school.grant(uid, "bundle", bid, at)
        plan = bundle["paymentPlans"][0] if bundle["paymentPlans"] and rng.random() < 0.4 else None
        if plan is None:
            self.payment(uid, "bundle", bid, at)
            return
        paid = min(plan["paymentsCount"], 1 + int((school.now - at) // (30 * DAY)))
        for number in range(1, paid + 1):
            self.payment(uid, "bundle", bid, at + (number - 1) * 30 * DAY,
                         installment=(plan, number))
        if paid < plan["paymentsCount"]:
            user = school.users[uid]
            period = at + (paid - 1) * 30 * DAY
            school.installments.append({
                "user_id": uid, "email": user["email"], "id": f"sub_{_token(rng, 14)}",
                "plan_id": plan["id"], "productId": bid, "productType": "bundle", "ends_at": None,
                "current_period_start": int(period), "current_period_end": int(period + 30 * DAY),
                "name": plan["name"], "type": plan["type"], "status": "active",
                "firstAmount": plan["firstAmount"], "amount": plan["amount"],
                "paymentsCount": plan["paymentsCount"], "paymentsPayed": paid,
                "isCancelable": plan["isCancelable"],
                "installmentIntervalType": plan["subscriptionIntervalType"],
                "firstInstallmentType": "default", "firstInstallmentlDays": 0,
                "firstInstallmentDate": None,
            })

    def subscription(self, uid: str, start: float) -> None:
        school, rng = self.school, self.rng
        pid = rng.choice(list(school.subscription_plans))
        plan = school.subscription_plans[pid]
        at = _between(rng, max(start, school.now - 400 * DAY), school.now - 3 * DAY)
        status = rng.choices(["active", "trial", "inactive"], [70, 12, 18])[0]
        user = school.users[uid]
        period = plan["interval"] * 30 * DAY
        expires = None
        if status == "inactive":
            expires = int(_between(rng, at + period, school.now - DAY))
        else:
            school.grant(uid, "subscription", pid, at)
        stripe = rng.random() < 0.8
        school.subscriptions.append({
            "user_id": uid, "email": user["email"], "plan_id": pid, "created": int(at),
            "expires_at": expires, "status": status,
            "provider": "stripe" if stripe else "learnworlds",
            "provider_meta": {
                "id": f"sub_{_token(rng, 14)}", "customer_id": f"cus_{_token(rng, 14)}",
                "plan": pid,
                "trial_start": int(at) if status == "trial" else None,
                "trial_end": int(at + plan["trial_period_days"] * DAY) if status == "trial" else None,
                "current_period_start": int(school.now - period / 2),
                "current_period_end": int(school.now + period / 2),
            } if stripe else None,
        })
        activity = "subscription_trial" if status == "trial" else "subscription_signup"
        self.events.append((at, uid, activity, f"Subscribed to {plan['title']}", "purchase", None))
        if status == "trial":
            return
        end = expires or school.now
        when = at
        while when < end:
            self.payment(uid, "subscription", pid, when, period_name=f"{plan['interval']} month")
            when += period

    def payment(self, uid: str, kind: str, pid: str, at: float, coupon=None,
                installment=None, period_name: str | None = None) -> dict:
        """Create one paid order; returns the Payment record."""
        school, rng = self.school, self.rng
        user = school.users[uid]
        product = school.product(kind, pid)
        list_price = product.get("final_price", product.get("price", 0))
        price = installment[0]["amount"] if installment else list_price
        discount: float | dict = 0
        code = None
        if coupon:
            promo = school.promotions[coupon[0]]
            code = coupon[1]
            off = price * promo["value"] / 100 if promo["type"] == "percentage" else promo["value"]
            off = round(min(price, off), 2)
            price = round(price - off, 2)
            discount = {"amount": off, "currency": "USD"} if rng.random() < 0.3 else off
            for item in promo["coupons"]:
                if item["code"] == code:
                    item["times_used"] += 1
        gateway = rng.choice(["stripe", "stripe", "paypal"])
        if user["billing_info"] is None:
            user["billing_info"] = {
                "bf_name": f"{user['first_name']} {user['last_name']}",
                "bf_address": f"{rng.randint(1, 250)} {rng.choice(['High', 'Station', 'Mill'])} Street",
                "bf_city": rng.choice(["Athens", "Lisbon", "Austin", "Leeds", "Lyon", "Osaka"]),
                "bf_postalcode": str(rng.randint(10000, 99999)),
                "bf_country": user["fields"].get("country") or "US", "bf_taxid": None}
        tax_rate = 24 if user["fields"].get("country") == "GR" else (20 if user["eu_customer"] else 0)
        self.invoices += 1
        summary = product_summary(school, kind, pid)
        affiliate = None
        referrer = school.affiliates.get(user["referrer_id"] or "")
        if referrer:
            share = referrer["commission_percentage"]
            affiliate = {"id": referrer["id"], "username": referrer["username"],
                         "code": referrer["code"], "commission_percentage": share,
                         "commission_amount": round(price * share / 100, 2),
                         "payment_status": rng.choice(["new", "approved", "mature", "paid", "paid"])}
        instructors = [dict(share) for share in self.revenue.get(pid, [])] if kind == "course" else []
        payment = {
            "id": school.new_id(at),
            "transaction_id": (f"ch_{_token(rng, 24)}" if gateway == "stripe"
                               else f"PAYID-{_token(rng, 20).upper()}"),
            "type": "installment" if installment else ("subscription" if kind == "subscription"
                                                       else "one-off"),
            "product": summary, "products": [summary],
            "price": price, "discount": discount,
            "refund_at": round(at + rng.uniform(1, 14) * DAY, 6) if rng.random() < 0.03 else None,
            "user_id": uid, "paid_at": round(at, 6),
            "invoice": f"{self.invoices:05d}" if rng.random() < 0.85 else None,
            "billing_info": dict(user["billing_info"]), "coupon": code,
            "instructors": instructors,
            "instructors_total_percentage": round(sum(i["percentage"] for i in instructors), 2) or None,
            "tax_amount": round(price * tax_rate / (100 + tax_rate), 2),
            "tax_percentage": tax_rate, "affiliate": affiliate, "period": period_name,
            "payment_plan_current_payment": installment[1] if installment else None,
            "payment_plan_total_payments": installment[0]["paymentsCount"] if installment else None,
            "gateway": gateway, "created": round(at, 6),
        }
        school.add_payment(payment)
        self.events.append((at, uid, "purchase", f"Bought {product['title']}", "purchase",
                            {"payment_id": payment["id"], "price": price}))
        return payment

    # -- groups, seats and affiliates ------------------------------------------------------

    def group_enrollments(self) -> None:
        school = self.school
        for gid, group in school.groups.items():
            if not group["enroll_users_on_courses"]:
                continue
            for uid in school.group_members[gid]:
                for cid in group["products"]["courses"]:
                    school.enroll(uid, cid, max(group["created"], school.users[uid]["created"]))
        for sid, seat in school.seats.items():
            for uid, entry in school.seat_members[sid].items():
                if entry["active"]:
                    for cid in seat["products"]["courses"]:
                        school.enroll(uid, cid, entry["got_seat_on"])

    def affiliates(self) -> None:
        school, rng = self.school, self.rng
        learners = [uid for uid, u in school.users.items() if u["role"]["level"] == "user"]
        chosen = rng.sample(learners[: len(learners) // 2], min(15, max(2, len(learners) // 60)))
        for uid in chosen:
            user = school.users[uid]
            user["is_affiliate"] = True
            since = _between(rng, user["created"], school.now - 200 * DAY)
            method = rng.choice(["paypal", "bank_transfer", None])
            school.affiliates[uid] = {
                "id": uid, "email": user["email"], "username": user["username"],
                "first_name": user["first_name"], "last_name": user["last_name"],
                "code": _token(rng, 6), "paymentMethod": method,
                "paymentNotes": user["email"] if method == "paypal" else None,
                "date": since, "clicks": 0, "sales": 0, "commissions": 0, "leads": 0,
                "customers": 0, "payouts": 0, "pending": 0, "due": 0,
                "commission_percentage": rng.choice([10, 15, 20]),
            }
            school.payouts[uid] = {"upcoming": [], "due": [], "completed": []}
            self.events.append((since, uid, "new_affiliate", "Became an affiliate", "user", None))
        for uid in learners:
            user = school.users[uid]
            if uid in school.affiliates or rng.random() >= 0.08:
                continue
            sponsors = [a for a in school.affiliates.values() if a["date"] < user["created"]]
            if sponsors:
                user["referrer_id"] = rng.choice(sponsors)["id"]

    def affiliate_totals(self) -> None:
        school, rng = self.school, self.rng
        for aid, affiliate in school.affiliates.items():
            referred = [uid for uid, u in school.users.items() if u["referrer_id"] == aid]
            paid = [school.payments[p] for uid in referred for p in school.payments_by_user.get(uid, ())]
            customers = sum(1 for uid in referred if school.payments_by_user.get(uid))
            by_status: dict[str, list[dict]] = {}
            for payment in paid:
                by_status.setdefault(payment["affiliate"]["payment_status"], []).append(payment)
            total = lambda items: round(sum(p["affiliate"]["commission_amount"] for p in items), 2)
            affiliate.update({
                "clicks": len(referred) * rng.randint(3, 9), "sales": round(sum(p["price"] for p in paid), 2),
                "commissions": total(paid), "leads": len(referred) - customers,
                "customers": customers, "payouts": total(by_status.get("paid", [])),
                "pending": total(by_status.get("new", []) + by_status.get("approved", [])),
                "due": total(by_status.get("mature", [])),
            })
            book = school.payouts[aid]
            notes = affiliate["paymentNotes"]
            if by_status.get("approved"):
                book["upcoming"].append({"affiliateId": aid, "amount": total(by_status["approved"]),
                                         "paymentMethod": affiliate["paymentMethod"], "paymentNotes": notes})
            if by_status.get("mature"):
                book["due"].append({"affiliateId": aid, "amount": total(by_status["mature"]),
                                    "paymentMethod": affiliate["paymentMethod"], "paymentNotes": notes})
            settled = by_status.get("paid", [])
            for start in range(0, len(settled), 3):
                batch = settled[start:start + 3]
                when = max(p["created"] for p in batch) + 20 * DAY
                admin = next(iter(school.users.values()))
                book["completed"].append({
                    "id": school.new_id(when), "amount": total(batch),
                    "paymentMethod": affiliate["paymentMethod"], "paymentNotes": notes,
                    "created": round(when, 6), "payments": batch,
                    "completedBy": {"id": admin["id"], "username": admin["username"]},
                })

    # -- learning --------------------------------------------------------------------------

    def progress(self) -> None:
        school, rng = self.school, self.rng
        for (uid, cid), state in school.progress.items():
            units = school.course_units(cid)
            started = school.enrollments[uid][cid]["created"]
            age = (school.now - started) / DAY
            roll = rng.random()
            if roll < min(0.45, 0.1 + age / 1500):
                done = len(units)
            elif roll < 0.75:
                done = rng.randint(0, max(0, len(units) - 1))
            else:
                continue
            state["touched"] = True
            state["done"] = {unit["id"] for unit in units[:done]}
            finished = _between(rng, started + DAY, min(school.now - 3600, started + 120 * DAY))
            if done == len(units):
                state["completed_at"] = finished
            for unit in units[:done]:
                if unit["type"] in ("assessmentV2", "form"):
                    self.response(uid, cid, unit, _between(rng, started, finished))
            if done == len(units):
                self.events.append((finished, uid, "complete_course",
                                    f"Completed {school.courses[cid]['title']}", "award", None))
                if any(unit["type"] == "certificate" for unit in units):
                    self.certificate(uid, cid, finished)

    def response(self, uid: str, cid: str, unit: dict, at: float) -> None:
        school = self.school
        user = school.users[uid]
        roll = unit_roll(school.seed, uid, unit["id"])
        answers = []
        if unit["type"] == "form":
            for number, (kind, text) in enumerate(FORM_QUESTIONS):
                answers.append({"blockId": f"{kind}{number}_{unit['id'][-6:]}", "blockType": kind,
                                "description": text, "answer": ["Team lead", "A colleague",
                                                                "Practical skills"][number],
                                "points": None, "blockMaxScore": None, "answerData": None,
                                "feedback": None})
            grade, passed = None, None
        else:
            for number, (kind, text, options) in enumerate(QUESTIONS):
                right = (roll >> number) % 5 != 0
                answers.append({
                    "blockId": f"{kind}{number}_{unit['id'][-6:]}", "blockType": kind,
                    "description": text,
                    "answer": options[0 if right else 1] if options else "I would use it to plan my week.",
                    "points": (1 if right else 0) if options else (2 if right else 1),
                    "blockMaxScore": 1 if options else 2, "answerData": None, "feedback": None})
            got = sum(a["points"] for a in answers)
            grade = round(100 * got / sum(a["blockMaxScore"] for a in answers))
            passed = grade >= 60
        rid = school.new_id(at)
        school.responses[rid] = {
            "id": rid, "user_id": uid, "email": user["email"], "grade": grade, "passed": passed,
            "created": round(at, 6), "modified": round(at + 60, 6),
            "submittedTimestamp": round(at + 30, 6), "answers": answers, "generalFeedback": None,
            "_unit": unit, "_course": cid, "_kind": "form" if unit["type"] == "form" else "assessment",
        }
        school.scores[(uid, unit["id"])] = rid

    def certificate(self, uid: str, cid: str, at: float) -> None:
        school, rng = self.school, self.rng
        user = school.users[uid]
        cert_id = school.new_id(at)
        school.certificates[cert_id] = {
            "id": cert_id, "title": f"Certificate of completion: {school.courses[cid]['title']}",
            "issued": round(at, 6), "attempts": rng.choice([1, 1, 1, 2]),
            "type": rng.choice(["completion", "certificate"]), "status": "active",
            "score": rng.choice(["OK", "Pass"]),
            "short_url": f"https://cert.sandbox.invalid/{_token(rng, 8)}",
            "provider": "LearnWorlds", "external_url": None,
            "form": {"firstname": user["first_name"], "lastname": user["last_name"], "ptin": ""},
            "user": {"id": uid, "email": user["email"]}, "course_id": cid,
        }
        self.events.append((at, uid, "award_certificate", "Received a certificate", "award",
                            {"certificate_id": cert_id}))

    # -- event log -------------------------------------------------------------------------

    def logins(self) -> None:
        school, rng = self.school, self.rng
        for uid, user in school.users.items():
            last = user["last_login"]
            if last is None:
                continue
            for _ in range(rng.randint(0, 2)):
                self.events.append((_between(rng, user["created"], last), uid, "login", "Logged in",
                                    "user", None))
            browser, platform = rng.choice(BROWSERS)
            info = {"agent": {"browser": browser, "device": "WebKit", "platform": platform,
                              "ip": f"203.0.113.{rng.randint(1, 254)}",
                              "country": user["fields"].get("country") or "-"}}
            self.events.append((last, uid, "login", "Logged in", "user", info))

    def flush_events(self) -> None:
        school = self.school
        self.events.sort(key=lambda event: (event[0], event[1], event[2]))
        for at, uid, activity, text, kind, info in self.events:
            school.log(school.users[uid], activity, text, kind, round(at, 6), info)


def seed_activity(school: School, rng: random.Random) -> None:
    """Fill in everything learners did, consistently with the people and catalog already seeded."""
    seeder = _Seeder(school, rng)
    seeder.affiliates()
    seeder.enrollments()
    seeder.group_enrollments()
    seeder.progress()
    seeder.affiliate_totals()
    seed_school_events(school, rng)
    seeder.events += seed_community(school, rng)
    seeder.logins()
    seeder.flush_events()
    school.payments = dict(sorted(school.payments.items(), key=lambda item: item[1]["created"]))
