"""Writes for gold items, gold sessions, silent gold scoring and the trust rules."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from quality import scoring
from quality.models import GoldItem, GoldResponse, GoldSession, QualityPolicy, Requalification
from quality.selectors import open_session, policy_for, session_next_gold, trust_of
from raters.models import LIVE_STAGES, Membership, RaterNotice, Stage
from raters.services import skill_count_gold, stage_change
from tasks import schema as schemas
from tasks.models import Item, Project

POLICY_FIELDS = {f.name for f in QualityPolicy._meta.fields} - {"id", "project"}
RATE_FIELDS = ("gold_rate", "gold_rate_new", "gold_rate_trusted", "gold_rate_floor")
SHARE_FIELDS = (
    "qualification_pass",
    "calibration_pass",
    "warn_below",
    "suspend_below",
    "retrain_below",
)


# --- Rules ------------------------------------------------------------------------------------


def policy_update(*, project: Project, **changes) -> QualityPolicy:
    """Change a project's quality rules; shares and rates must lie in [0, 1]."""
    unknown = set(changes) - POLICY_FIELDS
    if unknown:
        raise schemas.SchemaError(sorted(unknown)[0], "is not a quality rule")
    for field in RATE_FIELDS + SHARE_FIELDS:
        if field in changes and not 0.0 <= float(changes[field]) <= 1.0:
            raise schemas.SchemaError(field, "must be between 0 and 1")
    policy, _ = QualityPolicy.objects.get_or_create(project=project)
    leaving_uncertainty = (
        policy.queue_order == "uncertainty"
        and changes.get("queue_order", "uncertainty") != "uncertainty"
    )
    for field, value in changes.items():
        setattr(policy, field, value)
    if policy.suspend_below > policy.warn_below:
        raise schemas.SchemaError("suspend_below", "must not exceed warn_below")
    if policy.confidence_target is not None and not 0.5 < policy.confidence_target < 1.0:
        raise schemas.SchemaError("confidence_target", "must be between 0.5 and 1 (or empty)")
    if not 0 <= int(policy.suggest_share) <= 100:
        raise schemas.SchemaError("suggest_share", "must be between 0 and 100 (percent)")
    if policy.likert_width <= 0:
        raise schemas.SchemaError("likert_width", "must be above 0")
    if policy.confidence_target is not None and not 1 <= policy.overlap_min <= project.overlap:
        raise schemas.SchemaError(
            "overlap_min", f"must be between 1 and the project's overlap ({project.overlap})"
        )
    with transaction.atomic():
        policy.save()
        if leaving_uncertainty:
            # The runs wrote their levels over the queue's priorities: the manager's come back.
            Item.objects.filter(project=project).exclude(priority=F("manager_priority")).update(
                priority=F("manager_priority")
            )
    return policy


# --- Gold items -------------------------------------------------------------------------------


def gold_create(
    *,
    project: Project,
    data: dict,
    pool: str,
    answer,
    explanation: str = "",
    user=None,
    source: str = GoldItem.Source.MANUAL,
    meta: dict | None = None,
    source_item: Item | None = None,
    sections=None,
) -> GoldItem:
    """A new gold item: an item like any other (same id space, same shape) plus its answer.

    Gold items never count as the project's items or labels.
    """
    if pool not in GoldItem.Pool.values:
        raise schemas.SchemaError("pool", f"must be one of {', '.join(GoldItem.Pool.values)}")
    if not isinstance(data, dict):
        raise schemas.SchemaError("data", "must be an object of the item's fields")
    record = {**data, **({"meta": meta} if meta else {})}
    clean, _, _, item_meta = schemas.item_validate(project.kind, record, project.schema)
    canonical = scoring.gold_answer_validate(project.kind, project.schema, answer, item_data=clean)
    sections = schemas.tags_validate(sections or [], field="sections")
    with transaction.atomic():
        item = Item.objects.create(project=project, data=clean, meta=item_meta, is_gold=True)
        last = GoldItem.objects.filter(project=project, pool=pool).order_by("-position").first()
        return GoldItem.objects.create(
            item=item,
            project=project,
            pool=pool,
            answer=canonical,
            explanation=explanation,
            source=source,
            source_item=source_item,
            created_by=user,
            position=(last.position + 1) if last else 0,
            sections=sections,
        )


def gold_promote(
    *, item: Item, answer, explanation: str, user, pool: str = GoldItem.Pool.INJECTION
) -> GoldItem:
    """Make a gold item from a live item whose aggregate a manager confirmed.

    The live item keeps its labels; the gold copy is a new item, so raters who labelled
    the original are not scored on what they already answered in the open.
    """
    if item.is_gold:
        raise schemas.SchemaError("item", "is already gold")
    return gold_create(
        project=item.project,
        data=item.data,
        pool=pool,
        answer=answer,
        explanation=explanation,
        user=user,
        source=GoldItem.Source.PROMOTED,
        meta={**item.meta, "promoted_from": item.pk},
        source_item=item,
    )


@dataclass(frozen=True)
class GoldImportError:
    line: int
    field: str
    message: str


def gold_import_jsonl(*, project: Project, lines, pool: str, user=None) -> tuple[int, list]:
    """Import gold items from JSONL: each line an item plus `answer` and `explanation`.

    All or nothing: with any error, nothing is saved and every bad line is reported.
    """
    parsed, errors = [], []
    for line_no, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                errors.append(GoldImportError(line_no, "(line)", "is not valid UTF-8"))
                continue
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(GoldImportError(line_no, "(line)", f"is not valid JSON: {exc.msg}"))
            continue
        if not isinstance(record, dict) or "answer" not in record:
            errors.append(GoldImportError(line_no, "answer", "is required"))
            continue
        answer = record.pop("answer")
        explanation = record.pop("explanation", "")
        sections = record.pop("sections", [])
        try:
            data, _, _, meta = schemas.item_validate(project.kind, record, project.schema)
            scoring.gold_answer_validate(project.kind, project.schema, answer, item_data=data)
            if not isinstance(explanation, str):
                raise schemas.SchemaError("explanation", "must be text")
            sections = schemas.tags_validate(sections, field="sections")
        except schemas.SchemaError as exc:
            errors.append(GoldImportError(line_no, exc.field, exc.message))
            continue
        parsed.append((data, meta, answer, explanation, sections))
    if errors:
        return 0, errors
    with transaction.atomic():
        for data, meta, answer, explanation, sections in parsed:
            gold_create(
                project=project,
                data=data,
                meta=meta,
                pool=pool,
                answer=answer,
                explanation=explanation,
                user=user,
                source=GoldItem.Source.IMPORT,
                sections=sections,
            )
    return len(parsed), []


# --- Silent gold in the live queue ------------------------------------------------------------


_random = random.SystemRandom()  # unpredictable, like the gold draws themselves


def trust_checks_run(*, project_id: int | None = None) -> int:
    """Run the trust rules of every rater whose countdown reached 0 (each submit counts it
    down, gold or live alike); returns how many ran. Called after submits, off the
    request path."""
    due = Membership.objects.filter(trust_check_in=0)
    if project_id is not None:
        due = due.filter(project_id=project_id)
    ran = 0
    for membership_id in due.values_list("id", flat=True):
        with transaction.atomic():
            membership = (
                Membership.objects.select_for_update()
                .select_related("project")
                .filter(pk=membership_id, trust_check_in=0)
                .first()
            )
            if membership is None:
                continue  # a concurrent run took it
            Membership.objects.filter(pk=membership.pk).update(trust_check_in=None)
            membership.trust_check_in = None
            trust_apply(membership=membership, policy=policy_for(membership.project))
            ran += 1
    return ran


def _trust_check_after_gold(membership: Membership, policy: QualityPolicy) -> None:
    """After a scored gold answer: start the countdown to the trust rules, unless one is
    running. A rater who is warned or suspended should not be able to tell which answer
    was the check, so the rules run 1 to VOX_TRUST_CHECK_DELAY answers later (of any kind:
    each submit counts the countdown down, and `trust_checks_run` acts at 0)."""
    delay = settings.VOX_TRUST_CHECK_DELAY
    if not delay:
        if membership.trust_check_in is not None:
            Membership.objects.filter(pk=membership.pk).update(trust_check_in=None)
            membership.trust_check_in = None
        trust_apply(membership=membership, policy=policy)
    elif membership.trust_check_in is None:
        pending = 1 + _random.randrange(delay)
        Membership.objects.filter(pk=membership.pk).update(trust_check_in=pending)
        membership.trust_check_in = pending


def gold_answers_score(*, project_id: int | None = None) -> int:
    """Score the live queue's gold answers that are not scored yet; returns how many.

    Runs after submits, off the request path (annotation.queue.counters), so a gold
    answer costs the rater's request what a live one does. Each answer feeds the rater's
    trust, whose rules run a few answers later (`_trust_check_after_gold`). A gold item is
    scored once per rater: an answer given again after an undo does not change the score.
    """
    from annotation.models import Annotation

    scored = GoldResponse.objects.filter(
        gold_id=OuterRef("item__gold"),
        membership__user_id=OuterRef("rater_id"),
        mode=GoldResponse.Mode.INJECTION,
    )
    # From the gold pool (small) to its answers, on the (item, rater) index: never a walk
    # over the project's live answers.
    pool = GoldItem.objects.filter(pool=GoldItem.Pool.INJECTION)
    if project_id is not None:
        pool = pool.filter(project_id=project_id)
    answers = Annotation.objects.filter(item_id__in=pool.values("item_id")).exclude(Exists(scored))
    n = 0
    for annotation in answers.select_related("project", "item__gold").order_by("id")[:1000]:
        with transaction.atomic():
            membership = (
                Membership.objects.select_for_update()
                .filter(user_id=annotation.rater_id, project_id=annotation.project_id)
                .first()
            )
            gold = annotation.item.gold
            if membership is None or (
                GoldResponse.objects.filter(
                    gold=gold, membership=membership, mode=GoldResponse.Mode.INJECTION
                ).exists()
            ):
                continue
            project = annotation.project
            score = scoring.gold_score(project.kind, project.schema, gold.answer, annotation.value)
            GoldResponse.objects.create(
                gold=gold,
                membership=membership,
                annotation=annotation,
                mode=GoldResponse.Mode.INJECTION,
                value=annotation.value,
                score=score,
            )
            Membership.objects.filter(pk=membership.pk).update(
                gold_n=F("gold_n") + 1, gold_score_sum=F("gold_score_sum") + score
            )
            membership.refresh_from_db()
            skill_count_gold(membership=membership, item=annotation.item, score=score)
            _trust_check_after_gold(membership, policy_for(project))
            n += 1
    return n


def trust_apply(*, membership: Membership, policy: QualityPolicy) -> str | None:
    """Apply the project's trust rules after a gold answer; returns the stage it moved to.

    Suspend when the lower credible bound is below T2 after at least M gold answers;
    send back to training below the retrain threshold; warn below T1; lift a warning once
    the mean is back at T1.
    """
    if membership.stage not in LIVE_STAGES:
        return None
    trust = trust_of(membership)
    summary = f"gold accuracy {trust.mean:.0%} (lower bound {trust.lower:.0%}) over {trust.n} check questions"
    if trust.n >= policy.suspend_min_gold and trust.lower < policy.suspend_below:
        stage_change(
            membership=membership,
            to=Stage.SUSPENDED,
            reason=f"{summary}; the lower bound is below {policy.suspend_below:.0%}",
        )
        return Stage.SUSPENDED
    if (
        policy.retrain_below
        and trust.n >= policy.suspend_min_gold
        and trust.mean < policy.retrain_below
    ):
        stage_change(
            membership=membership,
            to=Stage.TRAINING,
            reason=f"{summary}; below {policy.retrain_below:.0%}, so back to training",
        )
        return Stage.TRAINING
    if membership.stage == Stage.QUALIFIED and trust.mean < policy.warn_below and trust.n >= 3:
        stage_change(
            membership=membership,
            to=Stage.WARNED,
            reason=f"{summary}; below {policy.warn_below:.0%}",
        )
        return Stage.WARNED
    if membership.stage == Stage.WARNED and trust.mean >= policy.warn_below:
        stage_change(
            membership=membership,
            to=Stage.QUALIFIED,
            reason=f"{summary}; back above {policy.warn_below:.0%}",
        )
        return Stage.QUALIFIED
    return None


def calibration_request(*, membership: Membership, actor, reason: str = "") -> None:
    Membership.objects.filter(pk=membership.pk).update(calibration_requested=True)
    membership.calibration_requested = True
    why = f" Reason: {reason}" if reason.strip() else ""
    RaterNotice.objects.create(
        membership=membership,
        level=RaterNotice.Level.ACTION,
        message=f"{actor.username} asked you to do a calibration session before your next "
        f"items.{why}",
    )


# --- Qualification, training and calibration sessions -------------------------------------------


class SessionRefused(Exception):
    """A session that cannot start now; the message says why, for the rater."""


NOT_THE_CURRENT_ITEM = "That item is not the current item of this session."


def session_start(*, membership: Membership, kind: str, now=None) -> GoldSession:
    """Open (or resume) a qualification test, training run or calibration session."""
    now = now or timezone.now()
    membership.refresh_from_db()
    existing = open_session(membership, kind)
    if existing is not None:
        return existing
    policy = policy_for(membership.project)
    if kind == GoldSession.Kind.QUALIFICATION:
        if membership.stage != Stage.QUALIFYING:
            raise SessionRefused("The qualification test is for raters who finished training.")
        if membership.qualification_attempts >= policy.qualification_max_attempts:
            raise SessionRefused("You have used all your attempts at the qualification test.")
        if membership.last_attempt_at:
            wait = membership.last_attempt_at + timezone.timedelta(
                hours=policy.qualification_cooldown_hours
            )
            if now < wait:
                raise SessionRefused(f"You can retake the test after {wait:%Y-%m-%d %H:%M} UTC.")
        n = policy.qualification_items
    elif kind == GoldSession.Kind.TRAINING:
        if membership.stage in (Stage.SUSPENDED, Stage.REMOVED):
            raise SessionRefused("Training is closed while you are suspended.")
        n = max(policy.training_items_required, 1)
    elif kind == GoldSession.Kind.CALIBRATION:
        if membership.stage not in LIVE_STAGES:
            raise SessionRefused("Calibration is for raters who label live items.")
        n = policy.calibration_items
    elif kind == GoldSession.Kind.REQUALIFICATION:
        if requalification_open(membership) is None:
            raise SessionRefused("No guideline section asks you for a re-qualification.")
        n = max(policy.calibration_items, 1)
    else:
        raise SessionRefused(f"Unknown session kind {kind!r}.")
    if kind == GoldSession.Kind.REQUALIFICATION:
        available = len(requalification_gold(membership))
    elif kind == GoldSession.Kind.QUALIFICATION:
        from quality.injection import unseen_gold_ids
        from quality.selectors import session_blocked_tags

        available = len(
            unseen_gold_ids(
                project_id=membership.project_id,
                rater_id=membership.user_id,
                pool=kind,
                blocked=session_blocked_tags(membership, kind),
            )
        )
    else:
        available = GoldItem.objects.filter(project_id=membership.project_id, pool=kind).count()
    n = min(n, available)
    if n == 0:
        raise SessionRefused(f"The project has no {kind} items yet; ask a manager to add some.")
    return GoldSession.objects.create(membership=membership, kind=kind, n_items=n)


@dataclass(frozen=True)
class Feedback:
    gold: GoldItem
    score: float
    correct: bool
    lines: list[str]
    explanation: str
    finished: GoldSession | None  # the session, when this answer completed it


def session_answer(*, session: GoldSession, gold: GoldItem, value) -> Feedback:
    """Score one answer in a session; finish the session after its last item."""
    project = session.membership.project
    expected = session_next_gold(session)
    if expected is None or expected.pk != gold.pk:
        raise SessionRefused(NOT_THE_CURRENT_ITEM)
    value = schemas.value_validate(project.kind, project.schema, value, item_data=gold.item.data)
    score = scoring.gold_score(project.kind, project.schema, gold.answer, value)
    with transaction.atomic():
        GoldResponse.objects.create(
            gold=gold,
            membership=session.membership,
            session=session,
            mode=session.kind,
            value=value,
            score=score,
        )
        skill_count_gold(membership=session.membership, item=gold.item, score=score)
        finished = session_finish(session=session) if session_next_gold(session) is None else None
    lines = scoring.feedback_lines(
        project.kind, project.schema, gold.answer, value, item_data=gold.item.data
    )
    return Feedback(
        gold=gold,
        score=score,
        correct=score >= 0.999,
        lines=lines,
        explanation=gold.explanation,
        finished=finished,
    )


def session_finish(*, session: GoldSession, now=None) -> GoldSession:
    """Score the session and move the rater on: qualified, retrained, or calibrated."""
    now = now or timezone.now()
    membership = Membership.objects.get(pk=session.membership_id)
    policy = policy_for(membership.project)
    scores = list(session.responses.values_list("score", flat=True))
    session.score = sum(scores) / len(scores) if scores else 0.0
    session.finished_at = now
    if session.kind == GoldSession.Kind.QUALIFICATION:
        session.passed = session.score >= policy.qualification_pass
        Membership.objects.filter(pk=membership.pk).update(
            qualification_attempts=F("qualification_attempts") + 1, last_attempt_at=now
        )
        membership.refresh_from_db()
        if session.passed:
            stage_change(
                membership=membership,
                to=Stage.QUALIFIED,
                reason=f"passed the qualification test with {session.score:.0%}",
            )
            Membership.objects.filter(pk=membership.pk).update(calibrated_at=now)
        elif membership.qualification_attempts >= policy.qualification_max_attempts:
            stage_change(
                membership=membership,
                to=Stage.SUSPENDED,
                reason=f"failed the qualification test {membership.qualification_attempts} "
                f"times (last score {session.score:.0%})",
            )
        else:
            RaterNotice.objects.create(
                membership=membership,
                level=RaterNotice.Level.WARNING,
                message=f"You scored {session.score:.0%}; {policy.qualification_pass:.0%} is needed. "
                f"Review the training feedback, then retry after the cool-down "
                f"({policy.qualification_cooldown_hours} h).",
            )
    elif session.kind == GoldSession.Kind.REQUALIFICATION:
        session.passed = session.score >= policy.qualification_pass
        if session.passed:
            Requalification.objects.filter(membership=membership, passed_at__isnull=True).update(
                passed_at=now
            )
        else:
            RaterNotice.objects.create(
                membership=membership,
                level=RaterNotice.Level.WARNING,
                message=f"You scored {session.score:.0%} on the changed guideline sections; "
                f"{policy.qualification_pass:.0%} is needed. Read them again and retry.",
            )
    elif session.kind == GoldSession.Kind.TRAINING:
        session.passed = True
        done = membership.gold_responses.filter(mode=GoldResponse.Mode.TRAINING).count()
        if membership.stage == Stage.TRAINING and done >= policy.training_items_required:
            nxt = Stage.QUALIFYING if policy.requires_qualification else Stage.QUALIFIED
            stage_change(membership=membership, to=nxt, reason=f"completed {done} training items")
    else:
        session.passed = session.score >= policy.calibration_pass
        Membership.objects.filter(pk=membership.pk).update(
            calibrated_at=now, live_since_calibration=0, calibration_requested=False
        )
        if not session.passed:
            stage_change(
                membership=membership,
                to=Stage.TRAINING,
                reason=f"calibration score {session.score:.0%} is below "
                f"{policy.calibration_pass:.0%}",
            )
    session.save(update_fields=["score", "finished_at", "passed"])
    return session


# --- Guideline sections and re-qualification ---------------------------------------------------

# Gold that a re-qualification may ask: the session pools, never the live queue's.
REQUALIFICATION_POOLS = (
    GoldItem.Pool.QUALIFICATION,
    GoldItem.Pool.TRAINING,
    GoldItem.Pool.CALIBRATION,
)


def requalification_open(membership: Membership):
    return Requalification.objects.filter(membership=membership, passed_at__isnull=True).first()


def _section_gold(project, sections, blocked) -> list[GoldItem]:
    """Session gold testing any of `sections` whose tags the rater works on."""
    wanted, blocked = set(sections), set(blocked)
    found = []
    pools = GoldItem.objects.filter(project=project, pool__in=REQUALIFICATION_POOLS)
    for gold in pools.select_related("item").order_by("pool", "position", "id"):
        tags = gold.item.meta.get("tags") if isinstance(gold.item.meta, dict) else None
        if wanted & set(gold.sections or ()) and not blocked & set(tags or ()):
            found.append(gold)
    return found


def requalification_gold(membership: Membership) -> list[GoldItem]:
    """The gold a rater's open re-qualification asks from, in a fixed order."""
    from raters.skills import blocked_tags

    open_one = requalification_open(membership)
    if open_one is None:
        return []
    return _section_gold(membership.project, open_one.sections, blocked_tags(membership))


def requalifications_open(*, guideline, previous) -> int:
    """After a new guideline version: the live raters concerned by a changed section must
    pass a re-qualification on its gold before more live items. A rater is concerned when
    the section has gold they can be given (its tags are ones they work on); sections with
    no gold ask nobody. Returns how many raters were asked."""
    from raters.skills import blocked_tags
    from tasks.markdown import sections_changed

    if previous is None:
        return 0
    changed = sections_changed(previous.sections or [], guideline.sections or [])
    if not changed:
        return 0
    project = guideline.project
    titles = {x["slug"]: x["title"] for x in guideline.sections}
    asked = 0
    live = Membership.objects.filter(
        project=project, role=Membership.Role.ANNOTATOR, stage__in=LIVE_STAGES
    )
    for membership in live.select_related("project"):
        concerned = sorted(
            {
                slug
                for gold in _section_gold(project, changed, blocked_tags(membership))
                for slug in gold.sections
                if slug in changed
            }
        )
        if not concerned:
            continue
        with transaction.atomic():
            open_one = requalification_open(membership)
            if open_one is not None:  # one open re-qualification covers every change
                open_one.sections = sorted({*open_one.sections, *concerned})
                open_one.guideline = guideline
                open_one.save(update_fields=["sections", "guideline"])
            else:
                Requalification.objects.create(
                    membership=membership, guideline=guideline, sections=concerned
                )
            RaterNotice.objects.create(
                membership=membership,
                level=RaterNotice.Level.ACTION,
                message=f"Version {guideline.version} of the guidelines changed "
                f"{', '.join(titles.get(s, s) for s in concerned)}: pass a short "
                "re-qualification on it before more live items.",
            )
        asked += 1
    return asked
