"""The aggregation API's URLs, included under /api/ in the "api" namespace (config/urls.py)."""

from django.urls import path

from aggregation import api

urlpatterns = [
    path(
        "projects/<id:project_id>/aggregation-settings/",
        api.AggregationSettingsApi.as_view(),
        name="aggregation-settings",
    ),
    path(
        "projects/<id:project_id>/aggregation-runs/",
        api.AggregationRunListApi.as_view(),
        name="aggregation-run-list",
    ),
    path(
        "projects/<id:project_id>/aggregation-runs/<id:run_id>/",
        api.AggregationRunDetailApi.as_view(),
        name="aggregation-run-detail",
    ),
    path(
        "projects/<id:project_id>/aggregation-runs/<id:run_id>/results/",
        api.AggregationResultListApi.as_view(),
        name="aggregation-result-list",
    ),
    path(
        "projects/<id:project_id>/leaderboard/",
        api.LeaderboardApi.as_view(),
        name="leaderboard",
    ),
    path(
        "projects/<id:project_id>/rater-scores/",
        api.RaterScoreListApi.as_view(),
        name="rater-score-list",
    ),
]
