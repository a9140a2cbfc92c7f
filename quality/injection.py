"""The gold injection hook: the work queue asks here before every new lease.

The queue calls `gold_item_for_slot`; if it returns an item, that item is leased and
served through the same code path, templates and id space as any live item, so a rater
cannot tell the two apart. The policy is a setting (VOX_GOLD_POLICY, a dotted path), so
the rate and the choice of gold can change without touching the queue.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from annotation import rows
from annotation.models import Assignment
from tasks.models import Item


def no_gold(*, rater, project, membership=None):
    """The policy when none is configured: never inject."""
    return None


def gold_item_for_slot(*, rater, project, membership=None):
    """A gold Item to serve in the rater's next slot, or None for a live item.

    The queue passes the rater's membership when it has it, so the policy need not fetch
    it again on the hot path.
    """
    policy = import_string(settings.VOX_GOLD_POLICY)
    return policy(rater=rater, project=project, membership=membership)


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


def silent_gold(*, rater, project, membership=None):
    """The default policy: at the rater's gold rate, an injection-pool item they never saw."""
    from quality.selectors import membership_for, policy_for
    from raters.models import LIVE_STAGES

    if membership is None:
        membership = membership_for(rater, project)
    if membership is None or membership.stage not in LIVE_STAGES:
        return None
    if _random.random() >= gold_rate_for(membership, policy_for(project)):
        return None
    # Each gold item reaches a rater at most once (one assignment per item and rater),
    # so no single gold item becomes recognisable by repetition.
    with connection.cursor() as cursor:
        rows.execute(cursor, UNSEEN_GOLD_COUNT, [project.pk, rater.pk])
        n = cursor.fetchone()[0]
        if n == 0:
            return None
        rows.execute(cursor, UNSEEN_GOLD_AT, [project.pk, rater.pk, _random.randrange(n)])
        found = cursor.fetchone()
    if found is None:  # the pool shrank between the two reads
        return None
    item = rows.build(Item, found)
    item.project = project
    return item


def _unseen_gold(select: str, tail: str = "") -> str:
    from quality.models import GoldItem

    return f"""
        SELECT {select} FROM {GoldItem._meta.db_table} g
        JOIN {Item._meta.db_table} i ON i.id = g.item_id
        WHERE g.project_id = %s AND g.pool = 'injection' AND NOT EXISTS (
            SELECT 1 FROM {Assignment._meta.db_table} a
            WHERE a.item_id = g.item_id AND a.rater_id = %s){tail}
    """  # noqa: S608 - names come from the models, values are parameters


@rows.statement("unseen_gold_count")
def UNSEEN_GOLD_COUNT() -> str:
    return _unseen_gold("COUNT(*)")


@rows.statement("unseen_gold_at")
def UNSEEN_GOLD_AT() -> str:
    return _unseen_gold(rows.columns(Item, "i"), " ORDER BY g.id LIMIT 1 OFFSET %s")
