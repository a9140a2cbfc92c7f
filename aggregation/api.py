from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from aggregation.models import AggregationRun, AggregationSettings, ItemResult, RaterScore
from aggregation.selectors import (
    aggregation_result_list,
    aggregation_run_for_manager,
    aggregation_run_list,
    leaderboard_for_project,
    project_for_leaderboard,
    rater_scores_latest,
)
from aggregation.services import (
    AggregationRejected,
    aggregation_run_request,
    aggregation_settings_for,
    aggregation_settings_update,
)
from config.pagination import Pagination
from tasks.selectors import project_for_manager


class AggregationRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AggregationRun
        fields = [
            "id",
            "project",
            "method",
            "parameters",
            "trigger",
            "status",
            "phase",
            "percent",
            "attempts",
            "is_current",
            "created_at",
            "started_at",
            "finished_at",
            "timings",
            "stats",
            "error",
        ]


class ItemResultSerializer(serializers.ModelSerializer):
    external_id = serializers.CharField(source="item.external_id", allow_null=True)

    class Meta:
        model = ItemResult
        fields = [
            "item_id",
            "external_id",
            "label",
            "confidence",
            "agreement",
            "distribution",
            "n_votes",
            "extra",
        ]


class RunRequestSerializer(serializers.Serializer):
    method = serializers.CharField(required=False, help_text="Default: the project's method.")
    parameters = serializers.JSONField(required=False)


class RaterScoreSerializer(serializers.ModelSerializer):
    rater = serializers.CharField(source="rater.username")

    class Meta:
        model = RaterScore
        exclude = ["project", "run"]


class AggregationRunListApi(APIView):
    pagination_class = Pagination  # read by the OpenAPI schema: the list comes in pages

    @extend_schema(responses=AggregationRunSerializer(many=True))
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(aggregation_run_list(project), request, view=self)
        return paginator.get_paginated_response(AggregationRunSerializer(page, many=True).data)

    @extend_schema(request=RunRequestSerializer, responses={202: AggregationRunSerializer})
    def post(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            run = aggregation_run_request(
                project=project,
                method=data.get("method"),
                parameters=data.get("parameters"),
                user=request.user,
            )
        except AggregationRejected as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        return Response(AggregationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AggregationRunDetailApi(APIView):
    @extend_schema(responses=AggregationRunSerializer)
    def get(self, request, project_id, run_id):
        run = aggregation_run_for_manager(request.user, project_id, run_id)
        return Response(AggregationRunSerializer(run).data)


class AggregationResultListApi(APIView):
    pagination_class = Pagination  # read by the OpenAPI schema: the list comes in pages

    @extend_schema(responses=ItemResultSerializer(many=True))
    def get(self, request, project_id, run_id):
        """The run's label per item (empty until it is done), in item order, paginated.
        Label and distribution shapes depend on the project's kind (docs/aggregation.md)."""
        run = aggregation_run_for_manager(request.user, project_id, run_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(aggregation_result_list(run), request, view=self)
        return paginator.get_paginated_response(ItemResultSerializer(page, many=True).data)


class RaterScoreListApi(APIView):
    @extend_schema(responses=RaterScoreSerializer(many=True))
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(RaterScoreSerializer(rater_scores_latest(project), many=True).data)


class AggregationSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = AggregationSettings
        fields = ["subjective", "method", "parameters", "run_every_annotations", "run_on_schedule"]


class AggregationSettingsApi(APIView):
    """A project's aggregation settings: the subjective (descriptive) flag, the default method
    and when runs are triggered. Managers only."""

    @extend_schema(responses=AggregationSettingsSerializer)
    def get(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        return Response(AggregationSettingsSerializer(aggregation_settings_for(project)).data)

    @extend_schema(request=AggregationSettingsSerializer, responses=AggregationSettingsSerializer)
    def patch(self, request, project_id):
        project = project_for_manager(request.user, project_id)
        serializer = AggregationSettingsSerializer(
            aggregation_settings_for(project), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        try:
            obj = aggregation_settings_update(project=project, **serializer.validated_data)
        except AggregationRejected as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        return Response(AggregationSettingsSerializer(obj).data)


class LeaderboardRowSerializer(serializers.Serializer):
    model = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="Elo scale, centred on 0.")
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    n_comparisons = serializers.IntegerField(help_text="Wins + losses + ties.")
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    ties = serializers.IntegerField()


class WinMatrixSerializer(serializers.Serializer):
    models = serializers.ListField(child=serializers.CharField(), help_text="The rows' order.")
    wins = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="wins[a][b]: comparisons models[a] won against models[b].",
    )
    ties = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class LeaderboardRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)


class LeaderboardSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["no_run", "no_models", "ready"])
    message = serializers.CharField(allow_blank=True)
    run = LeaderboardRunSerializer(allow_null=True)
    fit = serializers.ChoiceField(choices=["bradley_terry", "plackett_luce"], allow_null=True)
    interval = serializers.CharField(
        allow_null=True, help_text="sandwich, hessian, or bootstrap over raters or rankings."
    )
    weights = serializers.CharField(help_text="gold: by each rater's trust; else uniform.")
    rows = LeaderboardRowSerializer(many=True)
    win_matrix = WinMatrixSerializer(allow_null=True)


class LeaderboardApi(APIView):
    @extend_schema(responses=LeaderboardSerializer)
    def get(self, request, project_id):
        """The models' leaderboard of a pairwise or ranking project, from its current run:
        Bradley–Terry (pairwise, each comparison weighted by its rater's trust) or
        Plackett–Luce (ranking) scores with 95 % intervals, and the win matrix. Managers
        only; 404 for other kinds."""
        project = project_for_leaderboard(request.user, project_id)
        return Response(leaderboard_for_project(project))
