"""The work queue: one seat read, one gate, one claim, one submit, one skip, one undo.

Every door calls these: the workbench (annotation/views.py), the API (annotation/api.py),
the API's fast lane (annotation/fastlane.py) and services for scripts
(annotation/services.py). Their SQL is in `annotation.queue.sql`, which nothing outside
annotation/ imports.
"""

from annotation.queue.claim import (
    Refused,
    leases_reclaim,
    leases_withdraw,
    next_lease,
    prefetch,
)
from annotation.queue.counters import after_submit, after_submits, counters_fold
from annotation.queue.gate import (
    CALIBRATION,
    GUIDELINE,
    ONBOARDING,
    REQUALIFY,
    SKILL,
    SUSPENDED,
    Reason,
    gate,
)
from annotation.queue.seat import Seat, db_id, item_pk, seat_read

# The claim's statements and bounds, for tests that check their plans.
from annotation.queue.sql import CLAIM_HEAD, CLAIM_LEASE
from annotation.queue.submit import ACTIVE_MS_MAX, skip, submit, undo

__all__ = [
    "CLAIM_HEAD",
    "CLAIM_LEASE",
    "CALIBRATION",
    "GUIDELINE",
    "ONBOARDING",
    "REQUALIFY",
    "SKILL",
    "SUSPENDED",
    "ACTIVE_MS_MAX",
    "Reason",
    "Refused",
    "Seat",
    "after_submit",
    "after_submits",
    "counters_fold",
    "db_id",
    "gate",
    "item_pk",
    "leases_reclaim",
    "leases_withdraw",
    "next_lease",
    "prefetch",
    "seat_read",
    "skip",
    "submit",
    "undo",
]
