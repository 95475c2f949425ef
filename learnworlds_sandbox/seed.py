"""Builds a deterministic school for a seed: the people side here, the rest in catalog and activity."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from .activity import seed_activity
from .catalog import CATALOG_START, DAY, seed_catalog, slug
from .planted import plant_member_text
from .school import School

DORMANT_BEFORE = 1704067200.0  # 2024-01-01: staff who have not logged in since are "dormant"
MIN_USERS = 20

FIRST_NAMES = [
    "Aisha", "Alejandro", "Amara", "Anders", "Ananya", "Beatriz", "Bjorn", "Camille", "Chen",
    "Chiara", "Daniel", "Dimitra", "Elena", "Emeka", "Fatima", "Felix", "Giorgos", "Hana",
    "Hiroshi", "Ines", "Isabel", "Ivan", "Jamal", "Jana", "Javier", "Kalani", "Katarzyna",
    "Kenji", "Lars", "Layla", "Lucas", "Maeve", "Maria", "Mateo", "Mei", "Mohammed", "Nadia",
    "Nikos", "Noah", "Olga", "Omar", "Paula", "Pedro", "Priya", "Rafael", "Rania", "Ravi",
    "Rosa", "Sakura", "Samuel", "Sofia", "Stefan", "Tariq", "Thandiwe", "Tomas", "Valentina",
    "Wei", "Yara", "Yusuf", "Zoe",
]
LAST_NAMES = [
    "Adeyemi", "Andersson", "Bauer", "Bianchi", "Costa", "Dubois", "Eriksen", "Fernandes",
    "Fischer", "Garcia", "Haddad", "Ivanova", "Jansen", "Kaur", "Kim", "Kowalski", "Laine",
    "Lopez", "Mensah", "Moreau", "Muller", "Nakamura", "Novak", "Okafor", "Oliveira",
    "Papadopoulos", "Petrov", "Quinn", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Suzuki",
    "Tanaka", "Torres", "Usman", "Van Dijk", "Wang", "Wojcik", "Yilmaz", "Zhang",
]
COMPANIES = ["Northwind", "Contoso", "Fabrikam", "Lakeshore Health", "Brightpath Logistics",
             "Cedar Retail", "Harbor Foods", "Summit Energy", "Pinecrest Bank",
             "Riverside Schools", "Orbit Labs"]
TEAMS = ["Sales", "Engineering", "Customer Support", "New Hires 2025"]
DEPARTMENTS = ["Sales", "Engineering", "Support", "Finance", "Operations", "People"]
LEARNER_DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "inbox.example"]
COUNTRIES = ["GR", "US", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "PL", "BR", "IN", "JP", "NG", "CA"]
TAGS = ["newsletter", "vip", "b2b", "trial", "alumni", "beta-tester", "webinar-2025",
        "churn-risk", "partner", "scholarship"]
NPS_COMMENTS = ["Clear lessons and good pacing.", "Quizzes felt too easy.",
                "Would love more hands-on projects.", "Support answered quickly.",
                "Videos sometimes buffer on mobile.", "Best course platform we have used."]
SOURCES = [None, None, "google", "facebook", "linkedin", "newsletter", "partner"]

DEFAULT_ROLES = [
    ("Admin", "admin", "Runs the whole school: settings, people, sales and content."),
    ("Instructor", "instructor", "Teaches and edits the courses assigned to them."),
    ("Course creator", "instructor", "An instructor who may also create and publish courses."),
    ("Reporter", "reporter", "Reads reports and learner progress without changing anything."),
    ("Seat manager", "seat_manager", "Looks after the seats and groups assigned to them."),
    ("License reporter", "license_reporter", "Sees reports for the licenses assigned to them."),
    ("User", "user", "A learner."),
]
CUSTOM_ROLES = [
    ("Support admin", "admin", "Admin rights for the support desk, without billing."),
    ("Teaching assistant", "instructor", "Grades submissions and answers learner questions."),
    ("Finance viewer", "reporter", "Sees payments and revenue reports."),
    ("Regional reporter", "reporter", "Reports limited to one segment of learners."),
    ("Team lead", "seat_manager", "Manages one customer's groups and seats."),
    ("Compliance auditor", "license_reporter", "Checks license use for compliance reviews."),
]
# Staff head-count per role for a 2000-user school; scaled down for smaller schools.
STAFF = [("Admin", 7), ("Support admin", 2), ("Instructor", 18), ("Course creator", 5),
         ("Teaching assistant", 6), ("Reporter", 5), ("Finance viewer", 2),
         ("Regional reporter", 2), ("License reporter", 3), ("Compliance auditor", 1),
         ("Seat manager", 8), ("Team lead", 6)]
# Instructors manage groups too, so a report's "is instructor" column has both answers to get right.
MANAGER_ROLES = ("Seat manager", "Team lead", "Reporter", "Regional reporter", "Instructor",
                 "Teaching assistant")


def _empty_fields() -> dict:
    names = ["bio", "location", "url", "fb", "twitter", "instagram", "linkedin", "skype",
             "behance", "dribbble", "github", "phone", "address", "country", "birthday",
             "company", "company_size", "university", "graduation_year"]
    return dict.fromkeys(names)


def _utms(rng: random.Random) -> dict:
    source = rng.choice(SOURCES)
    last = rng.choice([source, source, rng.choice(SOURCES)])
    landing = rng.choice(["/", "/", "/courses", "/pricing", "/blog"])
    utms = {}
    for prefix, src in (("fc", source), ("lc", last)):
        utms.update({
            f"{prefix}_utm_source": src,
            f"{prefix}_utm_medium": {"google": "cpc", "facebook": "social", "linkedin": "social",
                                     "newsletter": "email", "partner": "referral"}.get(src),
            f"{prefix}_utm_campaign": f"{src}-spring" if src else None,
            f"{prefix}_utm_term": None, f"{prefix}_utm_content": None,
            f"{prefix}_landing": landing, f"{prefix}_referrer": None, f"{prefix}_country": None,
        })
    return utms


def _seed_roles(school: School, rng: random.Random) -> dict[str, str]:
    """Create the roles; returns title -> role id."""
    by_title = {}
    for number, (title, level, text) in enumerate(DEFAULT_ROLES, 1):
        role_id = f"5f1e0a0000000000000000{number:02x}"
        school.roles[role_id] = {"id": role_id, "title": title, "description": text,
                                 "access_level": level, "custom_role": False}
        by_title[title] = role_id
    for title, level, text in CUSTOM_ROLES:
        role_id = school.new_id(CATALOG_START + rng.uniform(500, 2300) * DAY)
        school.roles[role_id] = {"id": role_id, "title": title, "description": text,
                                 "access_level": level, "custom_role": True}
        by_title[title] = role_id
    return by_title


def _staff_plan(users: int) -> list[str]:
    """Role title for each staff member, the owner first."""
    scale = min(1.0, users / 2000)
    plan = ["Admin"]
    for title, count in STAFF:
        plan += [title] * max(1, round(count * scale))
    return plan


def _seed_users(school: School, rng: random.Random, count: int, roles: dict[str, str]) -> None:
    span = school.now - 2 * DAY - CATALOG_START
    # Sign-ups grow over time: more recent dates are likelier.
    created = sorted(CATALOG_START + span * rng.random() ** 0.7 for _ in range(count))
    plan = _staff_plan(count)
    staff_slots = [0] + sorted(rng.sample(range(1, max(len(plan), count * 6 // 10)), len(plan) - 1))
    staff_at = dict(zip(staff_slots, plan))
    tally: dict[str, int] = {}  # dormant staff per role so far, and whether a staffer is suspended
    taken: set[str] = set()
    for index, when in enumerate(created):
        title = staff_at.get(index, "User")
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES) if title == "User" and rng.random() < 0.35 else None
        if index == 0:
            local, domain = "owner", "sandbox-school.example"
        elif title != "User":
            local, domain = f"{first}.{last}".lower().replace(" ", ""), "sandbox-school.example"
        else:
            local = f"{first}.{last}".lower().replace(" ", "")
            domain = slug(company) + ".example" if company else rng.choice(LEARNER_DOMAINS)
        email, serial = f"{local}@{domain}", 1
        while email in taken:
            serial += 1
            email = f"{local}{serial}@{domain}"
        taken.add(email)
        uid = school.new_id(when)
        school.add_user(_user(rng, uid, email, first, last, company, when), roles[title])
        user = school.users[uid]
        user["last_login"] = _last_login(rng, title, index, when, school.now, tally)
        if title == "User":
            user["is_suspended"] = rng.random() < 0.025
        elif title == "Teaching assistant" and "suspended staff" not in tally:
            # One former staff member keeps the role but is locked out.
            tally["suspended staff"] = 1
            user["is_suspended"] = True


def _user(rng: random.Random, uid: str, email: str, first: str, last: str,
          company: str | None, when: float) -> dict:
    fields = _empty_fields()
    if rng.random() < 0.6:
        fields["country"] = rng.choice(COUNTRIES)
    if rng.random() < 0.25:
        fields["phone"] = f"+30 69{rng.randint(10000000, 99999999)}"
    if company:
        fields["company"] = company
        fields["company_size"] = rng.choice(["11-50", "51-200", "201-1000", "1000+"])
        fields["cf_department"] = rng.choice(DEPARTMENTS)
        fields["cf_employee_id"] = f"E{rng.randint(10000, 99999)}"
    if rng.random() < 0.4:
        fields["cf_skill_level"] = rng.choice(["beginner", "intermediate", "advanced"])
    nps = rng.randint(0, 10) if rng.random() < 0.35 else None
    tags = sorted(rng.sample(TAGS, rng.choices([0, 1, 2, 3], [45, 30, 17, 8])[0]))
    if company and "b2b" not in tags:
        tags.append("b2b")
    return {
        "id": uid, "email": email, "username": email.split("@")[0],
        "first_name": first, "last_name": last,
        "subscribed_for_marketing_emails": rng.random() < 0.55,
        "eu_customer": rng.choice([True, False, None]),
        "is_admin": False, "is_instructor": False, "is_suspended": False, "is_reporter": False,
        "role": {"level": "user", "name": "User"}, "is_affiliate": False, "referrer_id": None,
        "created": round(when, 6), "last_login": None,
        "signup_approval_status": rng.choices(["passed", "pending", "failed"], [94, 4, 2])[0],
        "fields": fields, "tags": tags, "utms": _utms(rng), "billing_info": None,
        "nps_score": nps,
        "nps_comment": rng.choice(NPS_COMMENTS) if nps is not None and rng.random() < 0.4 else None,
    }


def _last_login(rng: random.Random, title: str, index: int, created: float, now: float,
                tally: dict[str, int]) -> float | None:
    """A last-login time; some staff are deliberately dormant since before 2024."""
    if index == 0:
        return round(now - rng.uniform(0.1, 2) * DAY, 6)
    if title in ("Admin", "Instructor", "Reporter"):
        quota = {"Admin": 2, "Instructor": 3, "Reporter": 1}[title]
        done = tally.get(title, 0)
        if done < quota and created < DORMANT_BEFORE - 30 * DAY:
            tally[title] = done + 1
            if done == 0 and title != "Admin":
                return None
            return round(rng.uniform(created, DORMANT_BEFORE - DAY), 6)
        return round(rng.uniform(max(created, now - 60 * DAY), now - 3600), 6)
    roll = rng.random()
    if title == "User" and roll < 0.11:
        return None
    if created < DORMANT_BEFORE and roll < 0.45:
        return round(rng.uniform(created, DORMANT_BEFORE), 6)
    return round(rng.uniform(max(created, DORMANT_BEFORE), now - 600), 6)


def _staff(school: School, *titles: str) -> list[str]:
    wanted = {rid for rid, role in school.roles.items() if role["title"] in titles}
    return [uid for uid, rid in school.user_roles.items() if rid in wanted]


def _learners_by_company(school: School) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in COMPANIES}
    for uid, user in school.users.items():
        company = user["fields"].get("company")
        if company and user["role"]["level"] == "user":
            found[company].append(uid)
    return found


def _seed_groups(school: School, rng: random.Random) -> None:
    managers = _staff(school, *MANAGER_ROLES)
    companies = _learners_by_company(school)
    learners = [uid for uid, u in school.users.items() if u["role"]["level"] == "user"]
    open_courses = [cid for cid, c in school.courses.items() if c["access"] != "draft"]
    for number, (company, team) in enumerate((c, t) for c in COMPANIES for t in TEAMS):
        created = CATALOG_START + rng.uniform(700, 2650) * DAY
        gid = school.new_id(created)
        pool = companies[company] or learners
        empty = number in (7, 30)
        size = 0 if empty else min(len(pool), rng.randint(3, 45))
        members = rng.sample(pool, size)
        limit = rng.choice([None, None, 50, 100]) if size <= 50 else None
        chosen = rng.sample(managers, min(len(managers), rng.choice([0, 1, 1, 2, 3])))
        school.groups[gid] = {
            "id": gid, "title": f"{company} - {team}",
            "description": f"{team} team at {company}.",
            "products": {"courses": rng.sample(open_courses, rng.randint(1, 4))},
            "max_number_of_users": limit,
            "enroll_users_on_courses": rng.random() < 0.6,
            "group_managers": chosen,
            "tags": ["b2b", slug(company)],
            "created": round(created, 6), "modified": round(created + rng.uniform(0, 90) * DAY, 6),
        }
        school.group_members[gid] = members
    _guarantee_managers(school, managers)


def _guarantee_managers(school: School, managers: list[str]) -> None:
    """Whatever the seed and size, enrolling groups have an active instructor and a suspended manager
    (the one a manager lookup without include_suspended would lose)."""
    enrolling = [g for g in school.groups.values() if g["enroll_users_on_courses"]]
    if not enrolling:
        return
    users = school.users
    teachers = [uid for uid in managers if users[uid]["is_instructor"] and not users[uid]["is_suspended"]]
    locked = [uid for uid in managers if users[uid]["is_suspended"]]
    for wanted, group in ((teachers, enrolling[-1]), (locked, enrolling[0])):
        if wanted and not any(uid in g["group_managers"] for g in enrolling for uid in wanted):
            group["group_managers"].append(wanted[0])


def _seed_seats(school: School, rng: random.Random) -> None:
    managers = _staff(school, "Seat manager", "Team lead")
    companies = _learners_by_company(school)
    open_courses = [cid for cid, c in school.courses.items() if c["access"] in ("paid", "free")]
    for company in COMPANIES[:6]:
        created = school.now - rng.uniform(60, 700) * DAY
        sid = school.new_id(created)
        courses = rng.sample(open_courses, rng.randint(1, 3))
        seats = rng.choice([10, 20, 25, 50])
        school.seats[sid] = {
            "id": sid,
            "title": f"{company} seats - {school.courses[courses[0]]['title']}",
            "description": f"Seats bought by {company} for its staff.",
            "products": {"courses": courses}, "number_of_seats": seats,
            "max_number_of_users": seats + rng.choice([0, 5, 10]),
            "seat_managers": rng.sample(managers, min(len(managers), 1)),
            "tags": [slug(company)],
            "access": "active" if rng.random() < 0.85 else "inactive",
            "created": round(created, 6), "modified": round(created + 10 * DAY, 6),
        }
        members = rng.sample(companies[company], min(len(companies[company]), seats + 3))
        school.seat_members[sid] = {
            uid: {"active": n < seats, "got_seat_on": round(created + rng.uniform(1, 50) * DAY, 6)}
            for n, uid in enumerate(members)}


def _seed_segments(school: School) -> None:
    rules: list[tuple[str, str, Callable[[School, dict], bool]]] = [
        ("Never logged in", "Signed up but never came back.", lambda s, u: u["last_login"] is None),
        ("Dormant since 2024", "Last login before 1 January 2024.",
         lambda s, u: u["last_login"] is not None and u["last_login"] < DORMANT_BEFORE),
        ("Paying customers", "At least one paid order.", lambda s, u: s.is_paying(u["id"])),
        ("Staff", "Everyone whose role is not a plain learner.",
         lambda s, u: u["role"]["level"] != "user"),
        ("VIP learners", "Tagged vip.", lambda s, u: "vip" in u["tags"]),
        ("Newsletter subscribers", "Opted in to marketing email.",
         lambda s, u: bool(u["subscribed_for_marketing_emails"])),
        ("Company learners", "Learners who gave a company.",
         lambda s, u: bool(u["fields"].get("company"))),
        ("Suspended accounts", None, lambda s, u: u["is_suspended"]),
    ]
    for number, (name, text, rule) in enumerate(rules, 1):
        sid = f"60a0c0ffee00000000000{number:03x}"
        school.segments[sid] = {"segmentId": sid, "name": name, "description": text}
        school.segment_rules[sid] = rule


def _seed_assignments(school: School, rng: random.Random) -> None:
    segments = list(school.segments)
    for uid in school.users:
        role = school.role_of(uid)
        school.assigned_courses[uid] = []
        if role["title"] == "Regional reporter":
            school.assigned_segment[uid] = rng.choice(segments)
        if role["access_level"] == "license_reporter":
            school.assigned_licenses[uid] = [school.new_id(school.now - 200 * DAY)]
    by_name = {f"{u['first_name']} {u['last_name']}": uid for uid, u in school.users.items()
               if u["role"]["level"] == "instructor"}
    for cid, course in school.courses.items():
        uid = by_name.get(course["author"]["name"])
        if uid:
            school.assigned_courses[uid].append(
                {"course_id": cid, "revenue_share_percentage": rng.choice([0, 10, 20, 30])})


def _seed_leads(school: School, rng: random.Random, count: int) -> None:
    users = list(school.users.values())
    for _ in range(count):
        created = school.now - rng.uniform(1, 900) * DAY
        user = rng.choice(users) if rng.random() < 0.3 else None
        if user:
            first, last, email = user["first_name"], user["last_name"], user["email"]
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first[0]}{last}{rng.randint(1, 999)}@{rng.choice(LEARNER_DOMAINS)}".lower()
        page = rng.choice(["/", "/newsletter", "/free-guide", "/webinar"])
        submission = {"first_name": first, "last_name": last,
                      "tags": [rng.choice(["newsletter", "webinar", "free-guide"])],
                      "subscribed_for_marketing_emails": rng.random() < 0.7,
                      "eu_customer": rng.choice([True, False]), "created": round(created, 6),
                      "utms": _utms(rng), "page_submitted": page}
        school.leads.append({
            "email": email, **{k: submission[k] for k in ("first_name", "last_name", "tags")},
            "subscribed_for_marketing_emails": submission["subscribed_for_marketing_emails"],
            "eu_customer": submission["eu_customer"], "created": submission["created"],
            "utms": submission["utms"], "page_submitted": page,
            "user_registered_at": user["created"] if user else None,
            "user_id": user["id"] if user else None, "submissions": [submission],
        })
    school.leads.sort(key=lambda lead: lead["created"])


def build_school(seed: int = 7, users: int = 2000,
                 clock: Callable[[], float] = time.monotonic) -> School:
    """A complete school, identical for the same seed and user count."""
    if users < MIN_USERS:
        raise ValueError(f"the sandbox needs at least {MIN_USERS} users")
    school = School(seed, clock)
    rng = random.Random(seed)
    roles = _seed_roles(school, rng)
    _seed_users(school, rng, users, roles)
    authors = [school.users[uid] for uid in _staff(school, "Instructor", "Course creator")]
    seed_catalog(school, rng, authors)
    _seed_groups(school, rng)
    _seed_seats(school, rng)
    _seed_segments(school)
    _seed_assignments(school, rng)
    _seed_leads(school, rng, max(40, min(250, users // 8)))
    seed_activity(school, rng)
    plant_member_text(school)
    return school

