"""The dashboards' figures as JSON. Managers only: everyone else gets 404."""

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from quality import dashboards as sel
from quality.dashboard_services import REVIEW_ACTIONS, review_action
from raters.services import RATER_ACTIONS, rater_actions_bulk
from tasks import schema as schemas
from tasks.selectors import project_for_manager


def _table(request, projects):
    args = {
        "sort": request.query_params.get("sort", "risk"),
        "descending": request.query_params.get("dir") == "desc",
        "filters": [f for f in request.query_params.getlist("flag") if f in sel.FILTERS],
        "stage": request.query_params.get("stage", ""),
        "q": request.query_params.get("q", "")[:100],
    }
    rows = sel.calibration_table(projects, **args)
    return Response({"count": len(rows), "results": [r.as_json() for r in rows]})


class RatersAllApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return _table(request, sel.projects_managed(request.user))


class RatersApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        return _table(request, [project_for_manager(request.user, project_id)])


class RaterApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="dashboard_rater_detail")
    def get(self, request, project_id, membership_id):
        m = sel.membership_for_manager(request.user, project_id, membership_id)
        return Response(sel.rater_detail_json(sel.rater_detail(m)))


class AgreementApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        return Response(sel.agreement_matrix(project_for_manager(request.user, project_id)))


class ProjectOverviewApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(sel.project_overview_json(sel.project_overview(project)))


class ReviewQueueApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response({"results": sel.review_queue(project, limit=200)})


class ReviewActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=REVIEW_ACTIONS)
    label = serializers.JSONField(
        required=False, help_text="adjudicate, promote: a value of the project's kind."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    extra_labels = serializers.IntegerField(required=False, default=2, help_text="relabel: 1-20.")
    explanation = serializers.CharField(
        required=False, allow_blank=True, help_text="promote: shown to raters who miss it."
    )


class ReviewItemApi(APIView):
    """An item of the review queue, for its managers and reviewers: every answer by
    pseudonym (managers add ?names=1), the aggregate, any adjudication or open request for
    more labels; POST acts on it as the review page does. Items outside the queue are 404
    for reviewers, gold and live alike."""

    def _item(self, request, project_id, item_id):
        project, is_manager = sel.project_for_reviewer(request.user, project_id)
        item = sel.review_item(project, item_id, user=request.user, is_manager=is_manager)
        return project, item, is_manager

    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="review_item_detail")
    def get(self, request, project_id, item_id):
        project, item, is_manager = self._item(request, project_id, item_id)
        reveal = is_manager and request.query_params.get("names") == "1"
        return Response(sel.review_detail_json(sel.review_detail(project, item, reveal=reveal)))

    @extend_schema(request=ReviewActionSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, project_id, item_id):
        project, item, is_manager = self._item(request, project_id, item_id)
        serializer = ReviewActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            done = review_action(
                item=item, user=request.user, is_manager=is_manager, **serializer.validated_data
            )
        except schemas.SchemaError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        return Response({"item_id": item.pk, "message": done})


class RatersActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=RATER_ACTIONS)
    reason = serializers.CharField(help_text="Shown to the raters.")
    memberships = serializers.ListField(
        # Ids past a 64-bit integer are nobody's; bigger ones would not fit the query.
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=10_000,
    )


class RatersActionApi(APIView):
    @extend_schema(request=RatersActionSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """One action with one reason on many raters of projects you manage, as the
        calibration page's bulk form does; memberships of other projects are ignored."""
        serializer = RatersActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        targets = sel.memberships_for_manager(request.user, data["memberships"])
        try:
            done, failed = rater_actions_bulk(
                memberships=targets,
                action=data["action"],
                reason=data["reason"],
                actor=request.user,
            )
        except ValueError as exc:
            raise ValidationError({"memberships": [str(exc)]}) from None
        return Response({"done": done, "refused": failed})


class FiguresRefreshApi(APIView):
    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, project_id):
        """Recompute the project dashboard's figures in the background."""
        from quality import jobs

        jobs.dashboard_snapshot_request(project_for_manager(request.user, project_id))
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
