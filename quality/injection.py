"""The gold injection hook: the work queue asks here before every new lease.

The queue asks `gold_slot_drawn` before every claim; when it says so, the claim's statement
takes an unseen gold item instead of a live one, and it is leased and served through the
same statements, templates and id space as any live item, so a rater cannot tell the two
apart. The policy is a setting (VOX_GOLD_POLICY, a dotted path), so the rate can change
without touching the queue.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.utils.module_loading import import_string

from annotation.models import Assignment


def no_gold(*, membership, policy) -> bool:
    """The policy when none is configured: never inject."""
    return False


def gold_slot_drawn(*, membership, policy) -> bool:
    """Whether the rater's next slot holds gold. The queue asks before every claim, for
    gold and live alike, and the claim's one statement then takes an unseen gold item
    (`unseen_gold_sql`) when this says so and the project still has live work for the rater.

    The policy is a setting (VOX_GOLD_POLICY, a dotted path) taking the membership and the
    project's quality rules; it must not touch the database, so that a gold slot costs
    the same as a live one.
    """
    return import_string(settings.VOX_GOLD_POLICY)(membership=membership, policy=policy)


_random = random.SystemRandom()  # unpredictable: a rater must not be able to time the draws


def gold_rate_for(membership, policy) -> float:
    """The share of a rater's slots that hold silent gold.

    Adaptive mode asks more of new or low-trust raters and less of proven ones, never
    below the floor, so every rater keeps meeting some gold.
    """
    from quality.selectors import trust_of

    if not policy.adaptive_gold:
        return max(policy.gold_rate, policy.gold_rate_floor)
    trust = trust_of(membership)
    if trust.n < policy.new_rater_gold or trust.mean < policy.warn_below:
        rate = policy.gold_rate_new
    elif trust.lower >= policy.warn_below:
        rate = policy.gold_rate_trusted
    else:
        rate = policy.gold_rate
    return max(rate, policy.gold_rate_floor)


def silent_gold(*, membership, policy) -> bool:
    """The default policy: gold at the rater's adaptive rate."""
    return _random.random() < gold_rate_for(membership, policy)


def gold_pick_at() -> int:
    """Which of the rater's unseen gold items a gold slot takes (mod their number)."""
    return _random.randrange(2**31)


def unseen_gold_sql(
    *, project: str, rater: str, pool: str = "'injection'", blocked: str | None = None
) -> str:
    """The ids of the project's gold items of `pool` this rater was never served, with
    `project`, `rater` and `pool` as SQL placeholders (or literals). Each gold item reaches a rater at most
    once (one assignment per item and rater), so none becomes recognisable by repetition,
    and a gold copy of a live item never reaches a rater who was served the original or
    any item of the same content (tasks.content.content_hash). With `blocked` (the
    placeholder of raters.skills.blocked_param), only gold of tags the rater works on:
    silent gold checks them on the work they are routed to."""
    from quality.models import GoldItem
    from raters.skills import allowed_sql
    from tasks.models import Item

    lease, item = Assignment._meta.db_table, Item._meta.db_table
    routed = f"AND {allowed_sql('gi', blocked)}" if blocked is not None else ""
    # Scalar subqueries on the (item, rater) unique index: as NOT EXISTS, a generic plan
    # made on a small lease table scanned every lease for each gold item. The content
    # check walks the (project, content_hash) index, where a gold item's own row is
    # usually the only one.
    return f"""
        SELECT g.item_id AS id FROM {GoldItem._meta.db_table} g
        JOIN {item} gi ON gi.id = g.item_id
        WHERE g.project_id = {project} AND g.pool = {pool}
          AND COALESCE((SELECT a.id FROM {lease} a
                        WHERE a.item_id = g.item_id AND a.rater_id + 0 = {rater}), 0) = 0
          AND (g.source_item_id IS NULL
               OR COALESCE((SELECT a.id FROM {lease} a
                            WHERE a.item_id = g.source_item_id AND a.rater_id + 0 = {rater}),
                           0) = 0)
          AND COALESCE((SELECT MAX(a.id) FROM {item} s
                        JOIN {lease} a ON a.item_id = s.id AND a.rater_id + 0 = {rater}
                        WHERE s.project_id = {project} AND s.content_hash = gi.content_hash
                          AND s.id <> g.item_id), 0) = 0
          {routed}
    """  # noqa: S608 - names come from the models, values are parameters


def unseen_gold_ids(*, project_id: int, rater_id: int, pool: str, blocked=None) -> list[int]:
    """unseen_gold_sql run on its own, for the training, qualification and calibration
    sessions: the same rule as the claim's, whose pools are small. With `blocked` (a list
    of tags), only gold whose tags the rater works on, as the claim's."""
    from django.db import connection

    from raters.skills import blocked_param

    sql = unseen_gold_sql(
        project="%(project)s",
        rater="%(rater)s",
        pool="%(pool)s",
        blocked=None if blocked is None else "%(blocked)s",
    )
    params = {"project": project_id, "rater": rater_id, "pool": pool}
    if blocked is not None:
        params["blocked"] = blocked_param(blocked)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
