"""Routing by skill: which of a project's tagged items a rater may be served.

A project's rules (SkillRule) name tags; an item with such a tag in `meta.tags` goes only
to raters whose skill for the tag is at the rule's level. The level is the manager's grant
when there is one, else what gold earned once the rule's minimum of answers is reached.
Which tags block a rater is one SQL expression (blocked_tags_sql), read by the seat's one
statement and, through blocked_tags, by pages and services; level_for gives the level the
manager's pages show, and `tests/raters/test_skills.py` checks that the two agree.
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


def _cells(held: dict, rules: dict, tags) -> list[dict]:
    from quality.selectors import trust_from_counts

    cells = []
    for tag in tags:
        skill, rule = held.get(tag), rules.get(tag)
        level = level_for(skill, rule)
        accuracy = None
        if skill is not None and skill.gold_n:
            accuracy = round(trust_from_counts(skill.gold_score_sum, skill.gold_n).mean, 4)
        cells.append(
            {
                "tag": tag,
                "level": level,
                "granted_level": skill.granted_level if skill else None,
                "earned_level": skill.earned_level if skill else None,
                "gold_n": skill.gold_n if skill else 0,
                "accuracy": accuracy,
                "routed": rule is not None,
                "min_level": rule.min_level if rule else None,
                "passes": rule is None or (level is not None and level >= rule.min_level),
            }
        )
    return cells


def skills_of(membership) -> list[dict]:
    """One rater's skills and gold accuracy per tag: every routed tag, and any other tag
    they answered gold on (the manager's rater page and its JSON)."""
    rules = {r.tag: r for r in membership.project.skill_rules.all()}
    held = {s.tag: s for s in membership.skills.all()}
    return _cells(held, rules, sorted({*rules, *held}))


def skills_table(project) -> dict:
    """The project's rules and every annotator's skills, for the manager's page and the API:
    per tag the level routing reads, where it comes from, and the accuracy on gold behind
    it (the trust posterior's mean, and the number of answers)."""
    from raters.models import Membership

    rules = {r.tag: r for r in project.skill_rules.all()}
    memberships = list(
        Membership.objects.filter(project=project, role=Membership.Role.ANNOTATOR)
        .select_related("user")
        .prefetch_related("skills")
        .order_by("user__username")
    )
    tags = sorted({*rules, *(s.tag for m in memberships for s in m.skills.all())})
    raters = [
        {"membership": m, "skills": _cells({s.tag: s for s in m.skills.all()}, rules, tags)}
        for m in memberships
    ]
    return {"rules": list(rules.values()), "tags": tags, "raters": raters}


def blocked_tags(membership) -> list[str]:
    """blocked_tags_sql for one rater, for services outside the queue: the same statement,
    so the seat and every other door read one rule."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {blocked_tags_sql('%s', '%s')}",  # noqa: S608
            [membership.pk, membership.project_id],
        )
        return sorted(blocked_from_row(cursor.fetchone()[0]))
