from django.urls import path

from quality import dashboard_api as api
from quality import dashboard_views as views

app_name = "dashboards"
P = "projects/<id:project_id>/"
urlpatterns = [
    path("dashboards/raters/", views.calibration_all, name="raters"),
    path("dashboards/raters/bulk/", views.raters_bulk, name="raters-bulk"),
    path(P + "dashboards/", views.project_dashboard, name="project"),
    path(P + "dashboards/refresh/", views.figures_refresh, name="refresh"),
    path(P + "dashboards/run/", views.run_now, name="run-now"),
    path(P + "dashboards/runs/<id:run_id>/", views.run_progress, name="run-progress"),
    path(P + "dashboards/raters/", views.calibration_project, name="project-raters"),
    path(P + "dashboards/leaderboard/", views.leaderboard, name="leaderboard"),
    path(P + "dashboards/raters/<id:membership_id>/", views.rater_page, name="rater"),
    path(P + "review/", views.review_queue, name="review"),
    path(P + "review/<id:item_id>/", views.review_item, name="review-item"),
    path(P + "review/<id:item_id>/act/", views.review_act, name="review-act"),
    # JSON: every number on the pages above, for managers only.
    path("api/dashboards/raters/", api.RatersAllApi.as_view(), name="api-raters"),
    path("api/" + P + "dashboards/", api.ProjectOverviewApi.as_view(), name="api-project"),
    path("api/" + P + "dashboards/raters/", api.RatersApi.as_view(), name="api-project-raters"),
    path(
        "api/" + P + "dashboards/raters/<id:membership_id>/",
        api.RaterApi.as_view(),
        name="api-rater",
    ),
    path("api/" + P + "dashboards/agreement/", api.AgreementApi.as_view(), name="api-agreement"),
    path("api/" + P + "review/", api.ReviewQueueApi.as_view(), name="api-review"),
    path("api/" + P + "review/<id:item_id>/", api.ReviewItemApi.as_view(), name="api-review-item"),
    path("api/dashboards/raters/actions/", api.RatersActionApi.as_view(), name="api-raters-act"),
    path(
        "api/" + P + "dashboards/refresh/",
        api.FiguresRefreshApi.as_view(),
        name="api-figures-refresh",
    ),
]
