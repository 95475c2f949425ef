"""Seeds what the school sells: courses and their contents, bundles, plans, promotions."""

from __future__ import annotations

import random
import re

from .school import School

DAY = 86400.0
CATALOG_START = 1546300800.0  # 2019-01-01

# (title, categories, list price); price 0 means a free course.
COURSES = [
    ("Intro to Python", ["programming", "python"], 0),
    ("Python for Data Analysis", ["programming", "python", "data"], 149),
    ("Advanced Python Patterns", ["programming", "python"], 199),
    ("JavaScript Essentials", ["programming", "web"], 99),
    ("Modern React", ["programming", "web"], 179),
    ("Node.js APIs", ["programming", "web"], 159),
    ("SQL from Zero", ["programming", "data"], 79),
    ("Git and GitHub Workflows", ["programming", "tools"], 0),
    ("Docker for Developers", ["programming", "devops"], 129),
    ("Kubernetes Fundamentals", ["devops"], 219),
    ("Cloud Foundations on AWS", ["devops", "cloud"], 249),
    ("Secure Coding Basics", ["programming", "security"], 119),
    ("Testing with Pytest", ["programming", "python"], 89),
    ("Rust for Beginners", ["programming"], 139),
    ("Go in Practice", ["programming"], 139),
    ("Statistics Refresher", ["data"], 59),
    ("Machine Learning Foundations", ["data", "ai"], 299),
    ("Deep Learning Primer", ["data", "ai"], 329),
    ("Data Visualization with Python", ["data", "python"], 119),
    ("Excel for Analysts", ["data", "office"], 49),
    ("Power BI Dashboards", ["data", "office"], 99),
    ("Data Ethics and Privacy", ["data", "compliance"], 0),
    ("Project Management Essentials", ["business"], 129),
    ("Agile and Scrum", ["business"], 99),
    ("Product Discovery", ["business", "product"], 149),
    ("Negotiation Skills", ["business", "soft skills"], 89),
    ("Financial Literacy for Managers", ["business", "finance"], 119),
    ("Startup Finance", ["business", "finance"], 139),
    ("Leading Remote Teams", ["leadership"], 159),
    ("Coaching Conversations", ["leadership", "soft skills"], 129),
    ("Time Management", ["soft skills"], 39),
    ("Public Speaking", ["soft skills"], 69),
    ("Digital Marketing 101", ["marketing"], 0),
    ("SEO Fundamentals", ["marketing"], 79),
    ("Content Strategy", ["marketing"], 99),
    ("Email Marketing Playbook", ["marketing"], 69),
    ("Social Media Advertising", ["marketing"], 109),
    ("Copywriting that Converts", ["marketing", "writing"], 89),
    ("Brand Storytelling", ["marketing", "writing"], 99),
    ("UX Research Methods", ["design"], 149),
    ("UI Design Principles", ["design"], 129),
    ("Figma from Scratch", ["design", "tools"], 79),
    ("Accessibility for Designers", ["design"], 0),
    ("Photography Basics", ["creative"], 59),
    ("Video Editing Essentials", ["creative"], 89),
    ("Workplace Safety", ["compliance"], 0),
    ("GDPR Essentials", ["compliance"], 49),
    ("Anti-Harassment Training", ["compliance", "hr"], 0),
    ("Information Security Awareness", ["compliance", "security"], 0),
    ("Diversity and Inclusion", ["hr"], 0),
    ("First Aid at Work", ["compliance"], 39),
    ("Welcome to Northwind Onboarding", ["onboarding", "hr"], 0),
    ("Business English", ["languages"], 119),
    ("Spanish for Travelers", ["languages"], 69),
    ("Mindfulness at Work", ["wellbeing"], 29),
    ("Nutrition Basics", ["wellbeing"], 29),
]

SECTION_TITLES = ["Welcome", "Getting started", "Core ideas", "Hands-on practice",
                  "Going further", "Case studies", "Wrap-up"]
UNIT_KINDS = [  # (type, icon, subtitle, has duration)
    ("video", "video", "Video", True), ("youtube", "youtube", "Video", True),
    ("pdf", "pdf", "PDF", False), ("ebook", "ebook", "Ebook", False),
    ("audio", "audio", "Audio", True), ("url", "url", "External page", False),
    ("scorm", "scorm", "SCORM package", False),
]
ASSESSMENT = ("assessmentV2", "exam", "Assessment")
FORM = ("form", "form", "Form")
CERTIFICATE = ("certificate", "certification", "Certificate")

BUNDLES = [
    ("Python Career Track", ["intro-to-python", "python-for-data-analysis",
                             "advanced-python-patterns", "testing-with-pytest"], 399),
    ("Full-Stack Web Starter", ["javascript-essentials", "modern-react", "node-js-apis"], 349),
    ("Data Analyst Path", ["sql-from-zero", "excel-for-analysts", "power-bi-dashboards",
                           "statistics-refresher"], 229),
    ("Cloud and DevOps Pack", ["docker-for-developers", "kubernetes-fundamentals",
                               "cloud-foundations-on-aws"], 499),
    ("New Manager Kit", ["project-management-essentials", "leading-remote-teams",
                         "coaching-conversations", "time-management"], 299),
    ("Marketing Growth Bundle", ["seo-fundamentals", "content-strategy",
                                 "email-marketing-playbook", "social-media-advertising"], 279),
    ("Designer Toolkit", ["ux-research-methods", "ui-design-principles", "figma-from-scratch"], 289),
    ("Compliance Essentials", ["workplace-safety", "gdpr-essentials",
                               "information-security-awareness", "first-aid-at-work"], 59),
]
PLANS = [
    ("All Access Monthly", 1, "month", 7, 39),
    ("All Access Yearly", 12, "month", 14, 349),
    ("Team Learning Plan", 1, "month", 0, 199),
    ("Data Track Monthly", 1, "month", 7, 25),
]
PROMOTIONS = [("Spring Sale", "percentage", 20), ("Black Friday", "percentage", 40),
              ("Partner Discount", "fixed", 30), ("Alumni Offer", "percentage", 15),
              ("Webinar Attendees", "flat", 49), ("Team Onboarding", "fixed", 50)]


def slug(title: str) -> str:
    """The titleId-style slug of a title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _after_purchase(kind: str) -> dict:
    return {"type": kind, "settings": {"page": None, "url": None}}


def _sections(school: School, rng: random.Random, course_id: str, created: float,
              drip: str) -> None:
    sections = []
    count = rng.randint(3, 6)
    titles = SECTION_TITLES[:count - 1] + [SECTION_TITLES[-1]]
    for index, title in enumerate(titles):
        units = []
        for _ in range(rng.randint(2, 4)):
            kind, icon, subtitle, timed = rng.choice(UNIT_KINDS)
            units.append(((kind, icon, subtitle), rng.randint(180, 1800) if timed else None))
        if index == len(titles) - 1:
            units.append((ASSESSMENT, None))
            if rng.random() < 0.3:
                units.append((FORM, None))
            if rng.random() < 0.6:
                units.append((CERTIFICATE, None))
        elif rng.random() < 0.35:
            units.append((ASSESSMENT, None))
        section_id = f"{course_id[:6]}_{slug(title).replace('-', '_')}"
        section = {"id": section_id, "title": title,
                   "description": f"{title} of {school.courses[course_id]['title']}.",
                   "access": "public" if index == 0 else rng.choice(["premium", "premium", "private"]),
                   "drip": None, "learningUnits": []}
        if drip == "days" and index > 0:
            section["drip"] = {"type": "days", "date": None, "days": 7 * index, "notify": True,
                               "subject": f"{title} is now open", "body": "A new section is ready."}
        for number, ((kind, icon, subtitle), duration) in enumerate(units, 1):
            unit_title = f"{title}: {subtitle.lower()} {number}"
            unit = {"type": kind, "id": school.new_id(created), "icon": icon,
                    "title": unit_title, "subtitle": subtitle}
            section["learningUnits"].append(unit)
            school.units[unit["id"]] = {"course_id": course_id, "section": section,
                                        "unit": unit, "duration": duration}
        sections.append(section)
    school.contents[course_id] = sections


def seed_catalog(school: School, rng: random.Random, authors: list[dict]) -> None:
    """Create the courses (with contents), bundles, subscription plans and promotions."""
    for index, (title, categories, price) in enumerate(COURSES):
        course_id = slug(title)
        created = CATALOG_START + rng.uniform(0, 6.3 * 365) * DAY
        modified = min(created + rng.uniform(1, 400) * DAY, school.now - DAY)
        if price == 0:
            access = "free"
        else:
            access = rng.choices(["paid", "private", "draft", "coming_soon", "enrollment_closed"],
                                 [80, 7, 6, 4, 3])[0]
        discount = round(price * rng.choice([1, 1, 1, 0.8, 0.75]), 2)
        author = authors[index % len(authors)] if authors else None
        drip = rng.choices(["none", "days", "date"], [75, 20, 5])[0]
        school.courses[course_id] = {
            "id": course_id, "title": title,
            "expires": rng.choice([None, None, None, 6, 12]), "expiresType": "months",
            "afterPurchase": _after_purchase("course"),
            "categories": list(categories),
            "description": f"{title}: a practical {categories[0]} course with short lessons, "
                           "exercises and a final check.",
            "label": rng.choice([None, None, "new", "bestseller"]),
            "author": {"name": f"{author['first_name']} {author['last_name']}" if author else "School team",
                       "image": None},
            "courseImage": f"https://cdn.sandbox.invalid/courses/{course_id}.jpg",
            "original_price": price, "discount_price": discount, "final_price": discount,
            "dripFeed": drip,
            "identifiers": {"google_store_id": course_id.replace("-", "_"),
                            "apple_store_id": course_id.replace("-", "_"), "slug": course_id},
            "access": access,
            "created": round(created, 6), "modified": round(modified, 6),
        }
        _sections(school, rng, course_id, created, drip)
    for title, courses, price in BUNDLES:
        created = CATALOG_START + rng.uniform(400, 2000) * DAY
        bundle_id = slug(title)
        plans = []
        if price >= 250:
            count = rng.choice([2, 3])
            plans.append({
                "name": f"{count} payments of ${round(price / count, 2)}/month", "description": None,
                "type": "without_upfront", "order": 1, "firstAmount": round(price / count, 2),
                "amount": round(price / count, 2), "paymentsCount": count,
                "subscriptionTrialType": "default", "subscriptionIntervalType": "1-month",
                "status": "public", "isCancelable": False, "validFrom": None, "validTo": None,
                "subscriptionTrialDays": None, "subscriptionTrialDate": None,
                "nameOverride": False, "paymentPlanNameOverride": None,
                "id": f"{bundle_id}-{rng.getrandbits(52):013x}",
            })
        school.bundles[bundle_id] = {
            "id": bundle_id, "title": title, "products": {"courses": courses}, "image": None,
            "description": f"{len(courses)} courses sold together at a lower price.",
            "access": "public", "created": round(created, 6),
            "modified": round(created + rng.uniform(1, 200) * DAY, 6),
            "afterPurchase": _after_purchase("afterlogin"), "price": price,
            "paymentPlans": plans,
        }
    course_ids = list(school.courses)
    for title, interval, interval_type, trial, price in PLANS:
        plan_id = slug(title)
        created = CATALOG_START + rng.uniform(300, 1800) * DAY
        courses = course_ids if "All Access" in title else (
            [c for c in course_ids if "data" in school.courses[c]["categories"]]
            if "Data" in title else rng.sample(course_ids, 12))
        school.subscription_plans[plan_id] = {
            "id": plan_id, "title": title, "stripePlanId": plan_id,
            "description": f"{title}: every course in the plan while the subscription runs.",
            "products": {"courses": courses},
            "image": f"https://cdn.sandbox.invalid/plans/{plan_id}.jpg",
            "interval": interval, "interval_type": interval_type, "trial_period_days": trial,
            "afterPurchase": _after_purchase("afterlogin"), "access": "public",
            "created": round(created, 6), "modified": round(created + 30 * DAY, 6), "price": price,
        }
    for name, kind, value in PROMOTIONS:
        created = school.now - rng.uniform(30, 900) * DAY
        promo_id = school.new_id(created)
        prefix = slug(name).split("-")[0][:6]
        coupons = [{"code": f"{prefix.upper()}{value}", "quantity": rng.choice([None, 100, 500]),
                    "expires": None, "bulk": False, "prefix": None, "times_used": 0}]
        for _ in range(rng.randint(0, 4)):
            code = f"{prefix}-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(6))
            coupons.append({"code": code, "quantity": 1, "expires": "2026-12-31", "bulk": True,
                            "prefix": prefix, "times_used": 0})
        targets = rng.sample(course_ids, rng.randint(1, 4))
        school.promotions[promo_id] = {
            "id": promo_id, "name": name, "coupons": coupons,
            "applies_to_all": [rng.choice(["none", "bundles", "courses", "courses_bundles"])],
            "products": [{"type": "course", "id": cid} for cid in targets],
            "type": kind, "value": value, "created": round(created, 6),
            "modified": round(created + DAY, 6),
        }
