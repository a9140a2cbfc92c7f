"""Routing by skill: which of a project's tagged items a rater may be served.

A project's rules (SkillRule) name tags; an item with such a tag in `meta.tags` goes only
to raters whose skill for the tag is at the rule's level. The level is the manager's grant
when there is one, else what gold earned once the rule's minimum of answers is reached.
That rule is written twice, in SQL for the seat's one statement and in Python for pages
and services; `tests/raters/test_skills.py` checks that the two agree.
"""

from __future__ import annotations

from django.db import connection

from raters.models import Skill, SkillRule


def level_for(skill: Skill | None, rule: SkillRule | None) -> int | None:
    """The level routing reads for this skill under this rule; None when it has none."""
    if skill is None:
        return None
    if skill.granted_level is not None:
        return skill.granted_level
    needed = rule.min_gold if rule is not None else 1
    if skill.earned_level is not None and skill.gold_n >= needed:
        return skill.earned_level
    return None


def blocked_tags_sql(membership: str, project: str) -> str:
    """A JSON array of the project's routed tags that the rater (`membership`, an SQL
    expression for their membership id) may not work on: their level is below the bar."""
    rules, skills = SkillRule._meta.db_table, Skill._meta.db_table
    level = "COALESCE(s.granted_level, CASE WHEN s.gold_n >= r.min_gold THEN s.earned_level END)"
    if connection.vendor == "postgresql":
        agg = "COALESCE(jsonb_agg(r.tag ORDER BY r.tag), '[]'::jsonb)"
    else:
        agg = "json_group_array(r.tag)"
    return f"""(SELECT {agg} FROM {rules} r
                LEFT JOIN {skills} s ON s.membership_id = {membership} AND s.tag = r.tag
                WHERE r.project_id = {project} AND COALESCE({level}, -1) < r.min_level)"""  # noqa: S608


def rules_count_sql(project: str) -> str:
    return f"(SELECT COUNT(*) FROM {SkillRule._meta.db_table} r WHERE r.project_id = {project})"  # noqa: S608


def allowed_sql(item: str, blocked: str) -> str:
    """True when the item (an alias of the items table) has none of the `blocked` tags (the
    placeholder of blocked_param's value). Cheap when nothing is blocked, which is every
    rater of a project without rules."""
    if connection.vendor == "postgresql":
        return f"""(cardinality({blocked}::text[]) = 0
                    OR NOT (COALESCE({item}.meta -> 'tags', '[]'::jsonb) ?| {blocked}::text[]))"""
    return f"""({blocked} = '[]' OR NOT EXISTS (
                SELECT 1 FROM json_each({item}.meta, '$.tags') t
                WHERE t.value IN (SELECT value FROM json_each({blocked}))))"""


def blocked_param(tags: list[str]):
    """The value of `allowed_sql`'s placeholder: an array on PostgreSQL, JSON text on SQLite."""
    import json

    return list(tags) if connection.vendor == "postgresql" else json.dumps(list(tags))


def blocked_from_row(value) -> list[str]:
    """The seat statement's blocked-tags column as a list (PostgreSQL decodes jsonb itself)."""
    import json

    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str) else value)
