"""Seeds what happens around the courses: community spaces and posts, and the school calendar."""

from __future__ import annotations

import random

from .catalog import DAY
from .school import School

POST_TEXTS = [
    "Has anyone finished the final quiz yet? Question three confused me.",
    "Sharing my notes from this week's lessons, hope they help.",
    "Is there a recording of the live session?", "Just earned my certificate!",
    "What tools do you all use for practice projects?",
    "The second section clicked for me after rewatching the demo.",
    "Looking for a study buddy in the evening time zone.",
    "Tip: the downloadable checklist is under the resources tab.",
]


def seed_school_events(school: School, rng: random.Random) -> None:
    """Drip dates, live sessions and hand-in deadlines around the fixed epoch."""
    hosts = [uid for uid, u in school.users.items() if u["role"]["level"] == "instructor"]
    learners = [uid for uid, u in school.users.items() if u["role"]["level"] == "user"]
    for cid, sections in school.contents.items():
        if school.courses[cid]["dripFeed"] == "days" and len(school.school_events) < 12:
            for section in sections[1:3]:
                school.school_events.append({
                    "title": f"{section['title']} opens", "startDate": int(
                        school.now + section["drip"]["days"] * DAY),
                    "productId": cid, "type": "dripFeed", "bookingDetails": None})
    courses = list(school.courses)
    for number in range(8):
        kind = "oneOnOne" if number % 2 else "group"
        school.school_events.append({
            "title": "Coaching session" if kind == "oneOnOne" else "Live Q&A",
            "startDate": int(school.now + rng.uniform(-20, 60) * DAY),
            "productId": rng.choice(courses), "type": "liveSession",
            "bookingDetails": {
                "learnerUserId": rng.choice(learners), "hostUserId": rng.choice(hosts),
                "status": "scheduled", "type": kind, "providerName": "calendly",
                "providerData": {"joinUrl": f"https://meet.sandbox.invalid/{rng.getrandbits(40):010x}",
                                 "durationInMinutes": rng.choice([30, 45, 60]),
                                 "locationType": "online", "location": None},
            }})
    for number in range(4):
        school.school_events.append({
            "title": f"Project hand-in {number + 1}",
            "startDate": int(school.now + rng.uniform(1, 45) * DAY),
            "productId": rng.choice(courses), "type": "fileAssignment", "bookingDetails": None})
    school.school_events.sort(key=lambda event: event["startDate"])


def seed_community(school: School, rng: random.Random) -> list[tuple]:
    """Collections, spaces with members, and posts; returns the log entries the posts make."""
    events = []
    owners = [uid for uid, u in school.users.items() if u["role"]["level"] in ("admin", "instructor")]
    people = list(school.users)
    layout = [("Getting started", ["Introductions", "Announcements", "Help desk"]),
              ("Learning circles", ["Python study group", "Data club", "Design critiques"]),
              ("Staff room", ["Instructor lounge", "Course feedback", "Partners"])]
    for order, (name, titles) in enumerate(layout, 1):
        created = school.now - rng.uniform(300, 900) * DAY
        col_id = school.new_id(created)
        school.collections[col_id] = {"id": col_id, "name": name,
                                      "description": f"{name} spaces.", "display_order": order,
                                      "space_ids": [], "created": round(created, 6),
                                      "modified": round(created + DAY, 6)}
        for title in titles:
            sid = school.new_id(created + DAY)
            owner = school.users[rng.choice(owners)]
            private = name == "Staff room"
            school.spaces[sid] = {
                "id": sid, "title": title, "description": f"A place for {title.lower()}.",
                "access": "private" if private else rng.choice(["public", "public", "standalone"]),
                "owner": {"id": owner["id"], "username": owner["username"]}, "usages": [],
                "hidden_from_community": False, "is_invitation_required": private,
                "is_members_allowed_to_view_members": True, "is_members_allowed_to_post": True,
                "is_members_allowed_to_poll": not private, "is_members_allowed_to_comment": True,
                "is_members_allowed_to_upvote": True, "is_members_allowed_to_like": True,
                "is_members_allowed_to_share": not private,
                "is_members_allowed_to_sort_posts": True,
                "is_members_allowed_to_upload_files": True,
                "is_members_allowed_to_upload_images": True,
                "is_members_allowed_to_upload_videos": False,
                "is_members_allowed_to_mention_members": True,
                "collectionId": col_id, "default_post_sorting": "newest_activity",
            }
            school.collections[col_id]["space_ids"].append(sid)
            pool = owners if private else people
            members = rng.sample(pool, min(len(pool), rng.randint(5, 60)))
            school.space_members[sid] = {
                uid: "invited" if rng.random() < 0.1 else "joined" for uid in members}
    spaces = list(school.spaces)
    courses = list(school.courses)
    for _ in range(min(220, len(people) // 4 + 20)):
        at = round(rng.uniform(school.now - 400 * DAY, school.now - 3600), 6)
        in_space = rng.random() < 0.8
        where = rng.choice(spaces) if in_space else rng.choice(courses)
        pool = list(school.space_members[where]) if in_space else people
        author = school.users[rng.choice(pool)]
        fans = [school.users[u] for u in rng.sample(pool, min(len(pool), rng.randint(0, 6)))]
        mention = rng.choice(fans) if fans and rng.random() < 0.2 else None
        post_id = school.new_id(at)
        text = rng.choice(POST_TEXTS)
        school.posts[post_id] = {
            "id": post_id, "posted_in": {"type": "space" if in_space else "course", "id": where},
            "user": {"id": author["id"], "username": author["username"]},
            "text": f"@{mention['username']} {text}" if mention else text,
            "mentions": [{"id": mention["id"], "username": mention["username"]}] if mention else [],
            "likes": [{"id": f["id"], "username": f["username"]} for f in fans],
            "upvotes": [{"id": f["id"], "username": f["username"]} for f in fans[:2]],
            "items": [], "created": at,
        }
        events.append((at, author["id"], "post", "Wrote a community post", "social", None))
    school.posts = dict(sorted(school.posts.items(), key=lambda item: item[1]["created"]))
    return events
