"""Every statement of the work queue, in one place.

They are registered with `config.rows.statement`, so PostgreSQL prepares each once per
connection with a generic plan (config/settings.py forces them): write plans that suit any
parameters, with constants where a partial index needs them. Gold and live items go
through the same statements; nothing here branches on `is_gold` outside SQL.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token

from annotation.models import Annotation, Assignment, CounterShard
from config import rows
from quality.injection import unseen_gold_sql
from quality.models import QualityPolicy, RelabelRequest, Requalification
from raters import skills
from raters.models import Membership
from tasks.models import Guideline, GuidelineAck, Item, Project

LEASES, ITEMS = Assignment._meta.db_table, Item._meta.db_table
HELD_SQL = "('active', 'queued')"

# How many of the queue's first candidates a claim looks at before it falls back to a
# fresh item: a rater's own unfinished items (waiting for other raters) stay at the head of
# the queue, and without a bound every claim of that rater would walk past all of them.
CLAIM_HEAD = 64
# How many of those the claim reads back to lock one: enough to step over the rows that
# concurrent claims hold locked; when all of them are locked, a fresh item is served.
CLAIM_HEAD_PICK = 8


def skip_locked() -> str:
    # SKIP LOCKED lets concurrent claims and reclaimers pass each other by.
    return (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )


# --- The seat --------------------------------------------------------------------------------


def _seat_sql(*, by: str, lease: str) -> str:
    """Membership, project, quality rules, the gate's inputs, the queue's facts and a lease,
    in one row, with the user's. `by`: "user" (%(user)s) or "token" (%(token)s). `lease`: "held" (the open lease, else the prefetched one) or "item"
    (the rater's lease on %(item)s, whatever its status)."""
    guidelines, acks = Guideline._meta.db_table, GuidelineAck._meta.db_table
    user_model = get_user_model()
    select = [
        rows.columns(Membership, "m"),
        rows.columns(Project, "p"),
        rows.columns(QualityPolicy, "q"),
        f"(SELECT MAX(i.priority) FROM {ITEMS} i WHERE i.project_id = p.id)",
        f"""EXISTS (SELECT 1 FROM {RelabelRequest._meta.db_table} r
                    WHERE r.project_id = p.id AND r.resolved_at IS NULL)""",
        "g.version",
        f"EXISTS (SELECT 1 FROM {acks} k WHERE k.guideline_id = g.id AND k.user_id = m.user_id)",
        # Overdue leases, probed on the expiry index: the claim reclaims only when any are.
        f"""EXISTS (SELECT 1 FROM {LEASES} o WHERE o.project_id = p.id
                    AND o.status IN {HELD_SQL} AND o.expires_at <= %(now)s)""",
        # Routing by skill: the tags this rater may not work on, and how many rules there are.
        skills.blocked_tags_sql("m.id", "p.id"),
        skills.rules_count_sql("p.id"),
        # A re-qualification on changed guideline sections that is still open.
        f"""EXISTS (SELECT 1 FROM {Requalification._meta.db_table} rq
                    WHERE rq.membership_id = m.id AND rq.passed_at IS NULL)""",
        rows.columns(Assignment, "a"),
        rows.columns(Item, "i"),
    ]
    joins = [
        f"JOIN {Project._meta.db_table} p ON p.id = m.project_id",
        f"LEFT JOIN {QualityPolicy._meta.db_table} q ON q.project_id = p.id",
        f"""LEFT JOIN LATERAL (SELECT g.id, g.version FROM {guidelines} g
                WHERE g.project_id = p.id ORDER BY g.version DESC LIMIT 1) g ON true"""
        if connection.vendor == "postgresql"
        else f"""LEFT JOIN {guidelines} g ON g.id = (SELECT g2.id FROM {guidelines} g2
                WHERE g2.project_id = p.id ORDER BY g2.version DESC LIMIT 1)""",
    ]
    if lease == "held":
        # Each a probe of its own partial unique index (one_active_lease, one_queued_lease).
        held = [
            f"""(SELECT b.id FROM {LEASES} b WHERE b.rater_id = m.user_id
                 AND b.project_id = m.project_id AND b.status = '{status}'
                 AND b.expires_at > %(now)s)"""
            for status in ("active", "queued")
        ]
        joins.append(f"LEFT JOIN {LEASES} a ON a.id = COALESCE({', '.join(held)})")
    else:
        joins.append(f"LEFT JOIN {LEASES} a ON a.item_id = %(item)s AND a.rater_id = m.user_id")
    joins.append(f"LEFT JOIN {ITEMS} i ON i.id = a.item_id AND i.project_id = m.project_id")
    # The user's row comes along either way: the workbench checks its session on it
    # (config/auth.py) rather than reading it again.
    select.insert(0, rows.columns(user_model, "u"))
    if by == "token":
        source = f"""{Token._meta.db_table} t
            JOIN {user_model._meta.db_table} u ON u.id = t.user_id
            JOIN {Membership._meta.db_table} m ON m.user_id = u.id"""
        where = "t.key = %(token)s"
    else:
        source = f"""{Membership._meta.db_table} m
            JOIN {user_model._meta.db_table} u ON u.id = m.user_id"""
        where = "m.user_id = %(user)s"
    return f"""
        SELECT {", ".join(select)} FROM {source} {" ".join(joins)}
        WHERE m.project_id = %(project)s AND {where} AND m.role = 'annotator'
    """  # noqa: S608 - names come from the models, values are parameters


SEATS = {
    (by, lease): rows.statement(f"seat_{by}_{lease}")(
        lambda by=by, lease=lease: _seat_sql(by=by, lease=lease)
    )
    for by in ("user", "token")
    for lease in ("held", "item")
}


# --- The claim -------------------------------------------------------------------------------


def _not_own(item: str) -> str:
    # The rater has no live lease on the item. A scalar subquery on the (item, rater) unique
    # index; `rater_id + 0` keeps the rater's own index out of the generic plan, which
    # otherwise read every lease of the rater for each candidate.
    return f"""COALESCE((SELECT a.status FROM {LEASES} a
                         WHERE a.item_id = {item} AND a.rater_id + 0 = %(rater)s), 'expired')
               = 'expired'"""


def _in_flight_below_cap(item: str) -> str:
    # With dynamic overlap an item is out with at most its missing minimum at once, then one
    # rater at a time (annotation.queue.settle.first_wave); `first` is the overlap otherwise,
    # and then this adds nothing to `n_done + n_open < k`.
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"{item}.n_open < {greatest}(%(first)s - {item}.n_done, 1)"


_FREE = f"""i.n_done < %(k)s AND i.n_done + i.n_open < %(k)s AND NOT i.is_gold
            AND NOT i.settled AND {_in_flight_below_cap("i")}
            AND {skills.allowed_sql("i", "%(blocked)s")}"""
_WHERES = {
    # Closest to completion first among the first CLAIM_HEAD candidates; then the first
    # fresh item; then a full walk of the level, needed only when no fresh item is left.
    "head": f"""i.id IN (SELECT h.id FROM (
                    SELECT c.id FROM {ITEMS} c
                    WHERE c.project_id = %(project)s AND c.priority = %(priority)s
                      AND c.n_done < %(k)s AND c.n_done + c.n_open < %(k)s AND NOT c.is_gold
                      AND NOT c.settled AND {_in_flight_below_cap("c")}
                      AND {skills.allowed_sql("c", "%(blocked)s")}
                    ORDER BY c.n_done DESC, c.id LIMIT {CLAIM_HEAD}) h
                WHERE {_not_own("h.id")} LIMIT {CLAIM_HEAD_PICK})""",
    "fresh": f"""i.project_id = %(project)s AND i.priority = %(priority)s AND i.n_done = 0
                AND {_not_own("i.id")}""",
    "any": f"i.project_id = %(project)s AND i.priority = %(priority)s AND {_not_own('i.id')}",
}
_ORDERS = {"head": "i.n_done DESC, i.id", "fresh": "i.id", "any": "i.n_done DESC, i.id"}


def _pick_sql(step: str) -> str:
    """The id this claim takes: a live item's free slot, or, when %(gold)s (the gold policy
    drew this slot), an unseen gold item, the (%(gold_at)s mod n)-th of them (written
    out: a literal percent sign would read as a placeholder). Both picks
    run either way, so gold and live cost the same statement; without a live slot there is
    no row, so no gold is served once live work is gone."""
    live = f"""SELECT i.id FROM {ITEMS} i WHERE {_WHERES[step]} AND {_FREE}
               ORDER BY {_ORDERS[step]} LIMIT 1{skip_locked()}"""
    unseen = unseen_gold_sql(project="%(project)s", rater="%(rater)s", blocked="%(blocked)s")
    gold = f"""SELECT u.id FROM (SELECT s.id, ROW_NUMBER() OVER (ORDER BY s.id) AS rn,
                                       COUNT(*) OVER () AS n FROM ({unseen}) s) u
               WHERE u.rn = 1 + %(gold_at)s - (%(gold_at)s / u.n) * u.n"""
    return f"""SELECT CASE WHEN %(gold)s AND g.id IS NOT NULL THEN g.id ELSE l.id END
               FROM ({live}) l LEFT JOIN ({gold}) g ON 1 = 1"""


def _claim_sql(step: str) -> str:
    # The slot is taken by one UPDATE; for a live item the row was locked by the pick, and
    # its conditions hold on the latest version, so a last slot is never taken twice.
    return f"""UPDATE {ITEMS} SET n_open = n_open + 1 WHERE id = ({_pick_sql(step)})
               RETURNING {rows.columns(Item)}"""


def _presentation_sql(item: str) -> str:
    # Ranking responses in a random order (by their stored index); pairwise sides swapped
    # by the caller's coin (%(presentation)s); nothing for the other kinds.
    responses = f"{item}.data -> 'responses'"
    n = f"CASE WHEN jsonb_typeof({responses}) = 'array' THEN jsonb_array_length({responses}) ELSE 0 END"
    return f"""CASE WHEN %(shuffle)s THEN jsonb_build_object('order', (
                SELECT COALESCE(jsonb_agg(s.n ORDER BY random()), '[]'::jsonb)
                FROM generate_series(0, {n} - 1) AS s(n)))
            ELSE CAST(%(presentation)s AS jsonb) END"""


_LEASE_COLUMNS = (
    "project_id, item_id, rater_id, status, leased_at, expires_at, presentation, skip_reason"
)
# An expired lease of this rater on the same item is reused, not duplicated; a second open
# (or prefetched) lease in the project trips its partial unique index instead.
_LEASE_CONFLICT = """ON CONFLICT (item_id, rater_id) DO UPDATE SET
    project_id = excluded.project_id, status = excluded.status, leased_at = excluded.leased_at,
    expires_at = excluded.expires_at, presentation = excluded.presentation"""


def _claim_lease_sql(step: str) -> str:
    # PostgreSQL: the claim and its lease in one statement, with no transaction around it.
    return f"""
        WITH claimed AS ({_claim_sql(step)}),
        leased AS (
            INSERT INTO {LEASES} ({_LEASE_COLUMNS})
            SELECT %(project)s, c.id, %(rater)s, %(status)s, %(now)s, %(expires)s,
                   {_presentation_sql("c")}, '' FROM claimed c
            {_LEASE_CONFLICT} RETURNING id, item_id, presentation)
        SELECT l.id, l.presentation, c.* FROM leased l JOIN claimed c ON c.id = l.item_id
    """  # noqa: S608 - names come from the models, values are parameters


STEPS = ("head", "fresh", "any")
CLAIM_LEASE = [rows.statement(f"claim_{s}_lease")(lambda s=s: _claim_lease_sql(s)) for s in STEPS]
# SQLite: the claim, then LEASE (one writer at a time; run in a transaction).
CLAIM = [rows.statement(f"claim_{s}")(lambda s=s: _claim_sql(s)) for s in STEPS]


@rows.statement("lease")
def LEASE() -> str:
    return f"""INSERT INTO {LEASES} ({_LEASE_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, '')
               {_LEASE_CONFLICT} RETURNING id"""  # noqa: S608


@rows.statement("priority_levels")
def PRIORITY_LEVELS() -> str:
    # A loose index scan: one probe of item_queue_order per distinct priority.
    return f"""WITH RECURSIVE levels(p) AS (
            SELECT MAX(priority) FROM {ITEMS} WHERE project_id = %(project)s
            UNION ALL
            SELECT (SELECT MAX(priority) FROM {ITEMS}
                    WHERE project_id = %(project)s AND priority < levels.p)
            FROM levels WHERE levels.p IS NOT NULL)
        SELECT p FROM levels WHERE p IS NOT NULL"""  # noqa: S608


@rows.statement("promote")
def PROMOTE() -> str:
    # The prefetched item is on the rater's screen from now on: its time on task starts.
    return f"""UPDATE {LEASES} SET status = 'active', leased_at = %s, expires_at = %s
        WHERE rater_id = %s AND project_id = %s AND status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM {LEASES} b WHERE b.rater_id = %s
                          AND b.project_id = %s AND b.status = 'active')"""  # noqa: S608


# --- The submit ------------------------------------------------------------------------------

ANNOTATION_COLUMNS = (
    "project_id, item_id, rater_id, value, idempotency_key, created_at, duration_ms, "
    "active_ms, guideline_version, presentation"
)


@rows.statement("answer_insert")
def ANSWER_INSERT() -> str:
    # The item id comes from the lease, locked, and only while it is still held and the one
    # the caller read (leased_at): else it is NULL, the insert fails on NOT NULL, and the
    # statements after it in the batch never run.
    return f"""INSERT INTO {Annotation._meta.db_table} ({ANNOTATION_COLUMNS})
        VALUES (%s, (SELECT a.item_id FROM {LEASES} a WHERE a.id = %s
                     AND a.status IN {HELD_SQL} AND a.leased_at = %s{" FOR UPDATE" if connection.features.has_select_for_update else ""}),
                %s, %s, %s, %s, %s, %s, %s, %s)"""  # noqa: S608


@rows.statement("lease_submitted")
def LEASE_SUBMITTED() -> str:
    return f"UPDATE {LEASES} SET status = 'submitted' WHERE id = %s"  # noqa: S608


@rows.statement("item_counts")
def ITEM_COUNTS() -> str:
    return f"""UPDATE {ITEMS} SET n_done = n_done + %s,
        n_open = CASE WHEN n_open + %s < 0 THEN 0 ELSE n_open + %s END WHERE id = %s"""  # noqa: S608


@rows.statement("shard_add")
def SHARD_ADD() -> str:
    shards = CounterShard._meta.db_table
    # Gold answers are checks on raters, not labels of the project: their row does not pass
    # the WHERE, so nothing is added, in the same statement as for a live answer. The
    # item counts as complete when its n_done (as it is now) equals %s.
    return f"""INSERT INTO {shards} (project_id, shard, n_annotations, n_complete)
        SELECT %s, %s, %s, CASE WHEN n_done = %s THEN %s ELSE 0 END FROM {ITEMS}
        WHERE id = %s AND NOT is_gold
        ON CONFLICT (project_id, shard) DO UPDATE SET
            n_annotations = {shards}.n_annotations + excluded.n_annotations,
            n_complete = {shards}.n_complete + excluded.n_complete"""  # noqa: S608


@rows.statement("answer_counted")
def ANSWER_COUNTED() -> str:
    # Every answer, gold or live, counts towards the next calibration and a pending trust
    # check (quality.services runs the check when it reaches 0, off the request path).
    return f"""UPDATE {Membership._meta.db_table}
        SET live_since_calibration = live_since_calibration + 1,
            trust_check_in = CASE WHEN trust_check_in > 0 THEN trust_check_in - 1
                                  ELSE trust_check_in END
        WHERE user_id = %s AND project_id = %s"""  # noqa: S608


@rows.statement("answer_read")
def ANSWER_READ() -> str:
    return f"""SELECT id, item_id FROM {Annotation._meta.db_table}
               WHERE rater_id = %s AND idempotency_key = %s"""  # noqa: S608


@rows.statement("submitted")
def SUBMITTED() -> str:
    # The batch's last statement: the stored answer's id and the seat as the submit left
    # it (the rater's counts, and their open lease: the prefetched one it promoted), so
    # that what comes next needs no seat of its own.
    return f"""SELECT (SELECT n.id FROM {Annotation._meta.db_table} n
                       WHERE n.rater_id = %s AND n.idempotency_key = %s),
            m.live_since_calibration, m.trust_check_in,
            {rows.columns(Assignment, "a")}, {rows.columns(Item, "i")}
        FROM {Membership._meta.db_table} m
        LEFT JOIN {LEASES} a ON a.id = (SELECT b.id FROM {LEASES} b WHERE b.rater_id = m.user_id
            AND b.project_id = m.project_id AND b.status = 'active')
        LEFT JOIN {ITEMS} i ON i.id = a.item_id
        WHERE m.user_id = %s AND m.project_id = %s"""  # noqa: S608


@rows.statement("answer_of_item")
def ANSWER_OF_ITEM() -> str:
    return f"""SELECT id FROM {Annotation._meta.db_table}
               WHERE rater_id = %s AND item_id = %s"""  # noqa: S608


# --- Dynamic overlap (annotation.queue.settle) ------------------------------------------------


@rows.statement("item_votes")
def ITEM_VOTES() -> str:
    # The item's answers with what each rater's accuracy is read from: their gold counts,
    # and the latest accuracy and stop-rule confusion matrix a rater score measured. Gold
    # and live alike.
    from aggregation.models import RaterScore

    scores = RaterScore._meta.db_table
    # The rater's latest score is found once, by id, and joined for its three columns.
    latest = f"""(SELECT s2.id FROM {scores} s2
                  WHERE s2.project_id = a.project_id AND s2.rater_id = a.rater_id
                    AND s2.ds_accuracy IS NOT NULL ORDER BY s2.computed_at DESC LIMIT 1)"""
    return f"""SELECT a.value, m.gold_score_sum, m.gold_n,
            s.ds_accuracy, s.n_annotations, s.stop_confusion
        FROM {Annotation._meta.db_table} a
        JOIN {Membership._meta.db_table} m ON m.user_id = a.rater_id AND m.project_id = a.project_id
        LEFT JOIN {scores} s ON s.id = {latest}
        WHERE a.item_id = %s"""  # noqa: S608


@rows.statement("settle")
def SETTLE() -> str:
    # Done early: no more slots, and it counts as complete once (a complete item was
    # counted by its last submit, so only items still short of the overlap are settled).
    # Gold rows run the same statement and match nothing.
    shards = CounterShard._meta.db_table
    if connection.vendor != "postgresql":
        return f"""UPDATE {ITEMS} SET settled = 1 WHERE id = %s AND NOT settled AND NOT is_gold
                   AND n_done < %s"""  # noqa: S608
    return f"""WITH done AS (
            UPDATE {ITEMS} SET settled = true WHERE id = %s AND NOT settled AND NOT is_gold
              AND n_done < %s RETURNING project_id)
        INSERT INTO {shards} (project_id, shard, n_annotations, n_complete)
        SELECT project_id, %s, 0, 1 FROM done
        ON CONFLICT (project_id, shard) DO UPDATE SET
            n_complete = {shards}.n_complete + excluded.n_complete"""  # noqa: S608
