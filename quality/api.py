"""The quality API: rules, gold, raters and sessions for managers; standing for raters."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from modelruns.suggestions import anchoring_figures, suggestion_status
from quality.models import GoldItem, GoldSession, QualityPolicy
from quality.selectors import (
    calibration_due,
    calibration_status,
    gold_history,
    membership_for,
    open_session,
    policy_for,
    session_gold_posted,
    session_next_gold,
    standing_for_rater,
    trust_of,
)
from quality.services import (
    NOT_THE_CURRENT_ITEM,
    POLICY_FIELDS,
    SessionRefused,
    gold_create,
    gold_import_jsonl,
    gold_promote,
    policy_update,
    session_answer,
    session_start,
)
from raters.models import Membership
from raters.services import RATER_ACTIONS, rater_action, skill_grant, skill_rules_set
from raters.skills import skills_of, skills_table
from tasks import schema as schemas
from tasks.selectors import project_for_annotator, project_for_manager


def _field_error(exc: schemas.SchemaError) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


def _trust(membership) -> dict:
    t = trust_of(membership)
    return {
        "n": t.n,
        "mean": round(t.mean, 4),
        "lower": round(t.lower, 4),
        "upper": round(t.upper, 4),
    }


class PolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = QualityPolicy
        fields = sorted(POLICY_FIELDS)


class GoldSerializer(serializers.ModelSerializer):
    data = serializers.JSONField(source="item.data")

    class Meta:
        model = GoldItem
        fields = [
            "id",
            "item",
            "pool",
            "data",
            "answer",
            "explanation",
            "source",
            "position",
            "sections",
            "created_at",
        ]


class GoldCreateSerializer(serializers.Serializer):
    pool = serializers.ChoiceField(choices=GoldItem.Pool.choices)
    data = serializers.JSONField()
    answer = serializers.JSONField()
    explanation = serializers.CharField(required=False, allow_blank=True, default="")
    sections = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        help_text="Slugs of the guideline sections this item tests.",
    )


class GoldPromoteSerializer(serializers.Serializer):
    item_id = serializers.IntegerField(help_text="The live item's database id (managers' id).")
    answer = serializers.JSONField()
    explanation = serializers.CharField(allow_blank=True, default="")
    pool = serializers.ChoiceField(choices=GoldItem.Pool.choices, default=GoldItem.Pool.INJECTION)


class GoldImportSerializer(serializers.Serializer):
    pool = serializers.ChoiceField(choices=GoldItem.Pool.choices)
    file = serializers.FileField()


class RaterActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=RATER_ACTIONS)
    reason = serializers.CharField(max_length=500)


class SessionStartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=GoldSession.Kind.choices)


class SessionAnswerSerializer(serializers.Serializer):
    gold_id = serializers.IntegerField()
    value = serializers.JSONField()


class PolicyApi(APIView):
    @extend_schema(responses=PolicySerializer)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(PolicySerializer(policy_for(project)).data)

    @extend_schema(request=PolicySerializer, responses=PolicySerializer)
    def patch(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = PolicySerializer(policy_for(project), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            policy = policy_update(project=project, **serializer.validated_data)
        except schemas.SchemaError as exc:
            raise _field_error(exc) from None
        return Response(PolicySerializer(policy).data)


class SuggestionsSerializer(serializers.Serializer):
    share = serializers.IntegerField(help_text="Percent of raters shown suggestions.")
    active = serializers.BooleanField(help_text="Whether raters are being shown suggestions.")
    why = serializers.CharField(help_text="Why not, when they are off.")
    model_run = serializers.IntegerField(allow_null=True, help_text="The run they come from.")
    anchoring = serializers.JSONField(
        allow_null=True,
        help_text='{"shown", "hidden": {"n", "share", "lower", "upper"} agreement with the '
        'model, "effect": points, "gold": {"shown", "hidden"} accuracy on silent gold}; '
        "null before any answer recorded a suggestion.",
    )


class SuggestionsApi(APIView):
    """Model suggestions on the workbench: whether they are on, and the anchoring measure."""

    @extend_schema(responses=SuggestionsSerializer)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        status_ = suggestion_status(project)
        figures = anchoring_figures(project)
        if figures is not None:
            figures = {k: v for k, v in figures.items() if k != "rows"}
        return Response(
            {
                "share": status_["share"],
                "active": status_["active"],
                "why": status_["why"],
                "model_run": status_["run"].pk if status_["run"] is not None else None,
                "anchoring": figures,
            }
        )


class GoldListApi(APIView):
    @extend_schema(responses=GoldSerializer(many=True))
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        gold = (
            GoldItem.objects.filter(project=project)
            .select_related("item")
            .order_by("pool", "position")
        )
        return Response(GoldSerializer(gold, many=True).data)

    @extend_schema(request=GoldCreateSerializer, responses={201: GoldSerializer})
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = GoldCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            gold = gold_create(project=project, user=request.user, **serializer.validated_data)
        except schemas.SchemaError as exc:
            raise _field_error(exc) from None
        return Response(GoldSerializer(gold).data, status=status.HTTP_201_CREATED)


class GoldPromoteApi(APIView):
    @extend_schema(request=GoldPromoteSerializer, responses={201: GoldSerializer})
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = GoldPromoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = get_object_or_404(project.items, pk=data.pop("item_id"))
        try:
            gold = gold_promote(item=item, user=request.user, **data)
        except schemas.SchemaError as exc:
            raise _field_error(exc) from None
        return Response(GoldSerializer(gold).data, status=status.HTTP_201_CREATED)


class GoldImportApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": GoldImportSerializer}, responses=OpenApiTypes.OBJECT
    )
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = GoldImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created, errors = gold_import_jsonl(
            project=project,
            user=request.user,
            lines=serializer.validated_data["file"],
            pool=serializer.validated_data["pool"],
        )
        if errors:
            return Response({"created": 0, "errors": [e.__dict__ for e in errors]}, status=400)
        return Response({"created": created, "errors": []}, status=status.HTTP_201_CREATED)


class RaterListApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(
            [
                {
                    "membership_id": row["membership"].pk,
                    "username": row["username"],
                    "stage": row["stage"],
                    "gold_accuracy": _trust(row["membership"]),
                    "calibration_due": row["due"],
                    "calibration_overdue": row["overdue"],
                    "calibration_reason": row["reason"],
                    "calibrated_at": row["calibrated_at"],
                }
                for row in calibration_status(project)
            ]
        )


class RaterDetailApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="rater_detail")
    def get(self, request, project_id, membership_id):
        project = project_for_manager(request.user, project_id)
        m = get_object_or_404(Membership, pk=membership_id, project=project)
        return Response(
            {
                "membership_id": m.pk,
                "username": m.user.username,
                "stage": m.stage,
                "gold_accuracy": _trust(m),
                "transitions": [
                    {
                        "from": t.from_stage,
                        "to": t.to_stage,
                        "reason": t.reason,
                        "actor": t.actor.username if t.actor else None,
                        "at": t.created_at,
                    }
                    for t in m.transitions.select_related("actor")
                ],
                "sessions": [
                    {
                        "kind": s.kind,
                        "score": s.score,
                        "passed": s.passed,
                        "started_at": s.started_at,
                        "finished_at": s.finished_at,
                    }
                    for s in m.sessions.all()
                ],
            }
        )


class RaterActionApi(APIView):
    @extend_schema(request=RaterActionSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, membership_id):
        project = project_for_manager(request.user, project_id)
        m = get_object_or_404(Membership, pk=membership_id, project=project)
        serializer = RaterActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            rater_action(membership=m, actor=request.user, **serializer.validated_data)
        except ValueError as exc:
            raise ValidationError({"reason": [str(exc)]}) from None
        m.refresh_from_db()
        return Response({"membership_id": m.pk, "stage": m.stage})


class SkillRuleSerializer(serializers.Serializer):
    tag = serializers.CharField(max_length=64, help_text="An item tag (meta.tags).")
    min_level = serializers.IntegerField(
        min_value=0, max_value=100, default=70, help_text="The skill level needed, 0-100."
    )
    min_gold = serializers.IntegerField(
        min_value=0,
        max_value=1000,
        default=5,
        help_text="Check answers on items with the tag before an earned level counts.",
    )


class SkillRulesSerializer(serializers.Serializer):
    rules = SkillRuleSerializer(many=True)


class SkillGrantSerializer(serializers.Serializer):
    tag = serializers.CharField(max_length=64)
    level = serializers.IntegerField(
        min_value=0, max_value=100, allow_null=True, help_text="null takes the grant back."
    )
    reason = serializers.CharField(max_length=500)


def _skills_json(project) -> dict:
    table = skills_table(project)
    return {
        "rules": [
            {"tag": r.tag, "min_level": r.min_level, "min_gold": r.min_gold} for r in table["rules"]
        ],
        "fallback": policy_for(project).skill_fallback,
        "raters": [
            {
                "membership_id": row["membership"].pk,
                "username": row["membership"].user.username,
                "skills": row["skills"],
            }
            for row in table["raters"]
        ],
    }


class SkillsApi(APIView):
    """Routing by skill: the rules, and every annotator's skills with their gold accuracy.
    The fallback for raters without a skill is a quality rule (skill_fallback)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        return Response(_skills_json(project_for_manager(request.user, project_id)))

    @extend_schema(request=SkillRulesSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = SkillRulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            skill_rules_set(project=project, rules=serializer.validated_data["rules"])
        except schemas.SchemaError as exc:
            raise _field_error(exc) from None
        return Response(_skills_json(project))


class SkillGrantApi(APIView):
    @extend_schema(request=SkillGrantSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, membership_id):
        project = project_for_manager(request.user, project_id)
        m = get_object_or_404(Membership, pk=membership_id, project=project)
        serializer = SkillGrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            skill_grant(membership=m, actor=request.user, **serializer.validated_data)
        except schemas.SchemaError as exc:
            raise _field_error(exc) from None
        return Response({"membership_id": m.pk, "skills": skills_of(m)})


def _my_membership(request, project_id) -> Membership:
    project = project_for_annotator(request.user, project_id)
    membership = membership_for(request.user, project)
    if membership is None:
        from django.http import Http404

        raise Http404
    return membership


class MyStandingApi(APIView):
    """The rater's own stage, accuracy, notices and training feedback: never anyone else's."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        m = _my_membership(request, project_id)
        policy = policy_for(m.project)
        return Response(
            {
                "stage": m.stage,
                # Coarse bands, no count: see quality.selectors.standing_for_rater.
                "accuracy": vars(standing_for_rater(m, policy)),
                "calibration_due": calibration_due(m, policy),
                "notices": [
                    {"level": n.level, "message": n.message, "at": n.created_at}
                    for n in m.notices.all()[:50]
                ],
                "sessions": [
                    {
                        "kind": s.kind,
                        "score": s.score,
                        "passed": s.passed,
                        "finished_at": s.finished_at,
                    }
                    for s in m.sessions.filter(finished_at__isnull=False)[:50]
                ],
                # Training and calibration only: qualification scores per item would teach the
                # test, and live checks must stay unrecognisable.
                "feedback": [
                    {
                        "mode": r.mode,
                        "score": r.score,
                        "at": r.created_at,
                        "item": r.gold.item.summary[:200],
                    }
                    for r in gold_history(m).filter(mode__in=["training", "calibration"])[:100]
                ],
            }
        )


class SessionApi(APIView):
    """Start or resume a training, qualification or calibration session; see its next item."""

    @extend_schema(request=SessionStartSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id):
        m = _my_membership(request, project_id)
        serializer = SessionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            session = session_start(membership=m, kind=serializer.validated_data["kind"])
        except SessionRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(_session(session), status=status.HTTP_201_CREATED)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        m = _my_membership(request, project_id)
        session = open_session(m, request.query_params.get("kind", ""))
        if session is None:
            return Response({"detail": "No open session of that kind."}, status=404)
        return Response(_session(session))


def _session(session) -> dict:
    gold = session_next_gold(session)
    return {
        "id": session.pk,
        "kind": session.kind,
        "n_items": session.n_items,
        "answered": session.responses.count(),
        "next": {"gold_id": gold.pk, "data": gold.item.data} if gold else None,
    }


class SessionAnswerApi(APIView):
    @extend_schema(request=SessionAnswerSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, kind):
        m = _my_membership(request, project_id)
        session = open_session(m, kind)
        if session is None:
            return Response({"detail": "No open session of that kind."}, status=404)
        serializer = SessionAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gold = session_gold_posted(session, serializer.validated_data["gold_id"])
        try:
            if gold is None:
                raise SessionRefused(NOT_THE_CURRENT_ITEM)
            feedback = session_answer(
                session=session, gold=gold, value=serializer.validated_data["value"]
            )
        except schemas.SchemaError as exc:
            raise _field_error(exc) from None
        except SessionRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = {"session": _session(session)}
        if kind != GoldSession.Kind.QUALIFICATION:
            body["feedback"] = {
                "correct": feedback.correct,
                "score": feedback.score,
                "lines": feedback.lines,
                "explanation": feedback.explanation,
            }
        if feedback.finished:
            body["finished"] = {
                "score": feedback.finished.score,
                "passed": feedback.finished.passed,
            }
        return Response(body)
