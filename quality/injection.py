"""The gold injection hook: the work queue asks here before every new lease.

The queue calls `gold_item_for_slot`; if it returns an item, that item is leased and
served through the same code path, templates and id space as any live item, so a rater
cannot tell the two apart. The policy is a setting (VOX_GOLD_POLICY, a dotted path), so
the rate and the choice of gold can change without touching the queue.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


def no_gold(*, rater, project):
    """The policy when none is configured: never inject."""
    return None


def gold_item_for_slot(*, rater, project):
    """A gold Item to serve in the rater's next slot, or None for a live item."""
    policy = import_string(getattr(settings, "VOX_GOLD_POLICY", "quality.injection.no_gold"))
    return policy(rater=rater, project=project)
