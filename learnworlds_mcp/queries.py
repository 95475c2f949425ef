"""The single SQL statement each prompt hands to the query tool, so one call answers the whole question.

Tables and columns follow the store's rule: a table per list operation's noun, a column per response
field, nested values as JSON text. Every value a prompt argument brings in is written as an SQL
string literal with its quotes doubled, so no argument can change the statement's shape.
"""

from __future__ import annotations

from typing import Iterable


def literal(text: str) -> str:
    """An SQL string literal: quotes doubled, so the text stays data."""
    return "'" + text.replace("'", "''") + "'"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def inactive_staff(cutoff: int, levels: Iterable[str], role_names: Iterable[str]) -> str:
    """Staff at `levels` (or holding a role named in `role_names`) with no login since `cutoff`, or never."""
    levels, role_names = list(levels), [name.lower() for name in role_names]
    kept = []
    if levels:
        kept.append(f"json_extract(role, '$.level') IN {_in(levels)}")
    if role_names:
        kept.append(f"lower(json_extract(role, '$.name')) IN {_in(role_names)}")
    return "\n".join([
        "WITH staff AS (",
        "  SELECT * FROM users",
        f"  WHERE {' OR '.join(kept) or '0'}",
        ")",
        "SELECT coalesce(nullif(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), ''), username)"
        " AS name,",
        "  email, json_extract(role, '$.name') AS role,",
        "  CASE WHEN last_login IS NULL THEN 'never' ELSE date(last_login, 'unixepoch') END AS last_login,",
        "  CASE WHEN is_suspended THEN 'yes' ELSE 'no' END AS suspended,",
        "  (SELECT count(*) FROM staff) AS staff_checked",
        "FROM staff",
        f"WHERE last_login IS NULL OR last_login < {int(cutoff)}",
        "ORDER BY last_login IS NOT NULL, last_login, email",
    ])


def cohort_managers(title_contains: str | None) -> str:
    """One row per enrolling group and manager (one row for a group without managers), managers joined
    to users (suspended ones included) for their NPS score and whether they teach."""
    where = "WHERE g.enroll_users_on_courses"
    if title_contains:
        where += f" AND instr(lower(g.title), lower({literal(title_contains)})) > 0"
    return "\n".join([
        "SELECT g.title AS group_title,",
        "  coalesce(u.email, json_extract(m.value, '$.email')) AS manager_email,",
        "  u.nps_score,",
        "  CASE WHEN m.value IS NULL THEN NULL WHEN u.is_instructor THEN 'yes' ELSE 'no' END AS instructor,",
        "  CASE WHEN u.is_suspended THEN 'yes' END AS suspended",
        "FROM groups AS g",
        "LEFT JOIN json_each(g.group_managers) AS m",
        "LEFT JOIN users AS u ON u.id = json_extract(m.value, '$.id')",
        where,
        "ORDER BY g.title, manager_email",
    ])
