from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.authtoken.views import obtain_auth_token

from aggregation import api as aggregation_api
from annotation import api as annotation_api
from quality import api as quality_api
from tasks import api as tasks_api
from tasks import views as tasks_views

api = [
    path("projects/", tasks_api.ProjectListApi.as_view(), name="project-list"),
    path("projects/<int:project_id>/", tasks_api.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "projects/<int:project_id>/progress/",
        tasks_api.ProjectProgressApi.as_view(),
        name="project-progress",
    ),
    path("projects/<int:project_id>/members/", tasks_api.MemberAddApi.as_view(), name="member-add"),
    path("projects/<int:project_id>/items/", tasks_api.ItemListApi.as_view(), name="item-list"),
    path(
        "projects/<int:project_id>/imports/",
        tasks_api.ImportCreateApi.as_view(),
        name="import-create",
    ),
    path("projects/<int:project_id>/export/", tasks_api.ExportApi.as_view(), name="project-export"),
    path("projects/<int:project_id>/next/", annotation_api.NextItemApi.as_view(), name="next-item"),
    path(
        "projects/<int:project_id>/annotations/",
        annotation_api.SubmitApi.as_view(),
        name="annotation-submit",
    ),
    path(
        "projects/<int:project_id>/annotations/undo/",
        annotation_api.UndoApi.as_view(),
        name="annotation-undo",
    ),
    path("projects/<int:project_id>/skip/", annotation_api.SkipApi.as_view(), name="item-skip"),
    path("next/", annotation_api.NextAnyItemApi.as_view(), name="next-any-item"),
    path("imports/<int:import_id>/", tasks_api.ImportDetailApi.as_view(), name="import-detail"),
    path(
        "projects/<int:project_id>/exports/",
        tasks_api.ExportCreateApi.as_view(),
        name="export-create",
    ),
    path(
        "projects/<int:project_id>/guidelines/",
        tasks_api.GuidelineApi.as_view(),
        name="guidelines",
    ),
    path(
        "projects/<int:project_id>/guidelines/ack/",
        tasks_api.GuidelineAckApi.as_view(),
        name="guideline-ack",
    ),
    path(
        "imports/<int:import_id>/preview/",
        tasks_api.ImportPreviewApi.as_view(),
        name="import-preview",
    ),
    path(
        "imports/<int:import_id>/commit/", tasks_api.ImportCommitApi.as_view(), name="import-commit"
    ),
    path("exports/<int:export_id>/", tasks_api.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<int:export_id>/file/", tasks_api.ExportFileApi.as_view(), name="export-file"),
    path(
        "projects/<int:project_id>/aggregation-settings/",
        aggregation_api.AggregationSettingsApi.as_view(),
        name="aggregation-settings",
    ),
    path(
        "projects/<int:project_id>/aggregation-runs/",
        aggregation_api.AggregationRunListApi.as_view(),
        name="aggregation-run-list",
    ),
    path(
        "projects/<int:project_id>/aggregation-runs/<int:run_id>/",
        aggregation_api.AggregationRunDetailApi.as_view(),
        name="aggregation-run-detail",
    ),
    path(
        "projects/<int:project_id>/rater-scores/",
        aggregation_api.RaterScoreListApi.as_view(),
        name="rater-score-list",
    ),
    path(
        "projects/<int:project_id>/quality/policy/",
        quality_api.PolicyApi.as_view(),
        name="quality-policy",
    ),
    path("projects/<int:project_id>/gold/", quality_api.GoldListApi.as_view(), name="gold-list"),
    path(
        "projects/<int:project_id>/gold/promote/",
        quality_api.GoldPromoteApi.as_view(),
        name="gold-promote",
    ),
    path(
        "projects/<int:project_id>/gold/import/",
        quality_api.GoldImportApi.as_view(),
        name="gold-import",
    ),
    path(
        "projects/<int:project_id>/raters/", quality_api.RaterListApi.as_view(), name="rater-list"
    ),
    path(
        "projects/<int:project_id>/raters/<int:membership_id>/",
        quality_api.RaterDetailApi.as_view(),
        name="rater-detail",
    ),
    path(
        "projects/<int:project_id>/raters/<int:membership_id>/actions/",
        quality_api.RaterActionApi.as_view(),
        name="rater-action",
    ),
    path("projects/<int:project_id>/me/", quality_api.MyStandingApi.as_view(), name="my-standing"),
    path("projects/<int:project_id>/sessions/", quality_api.SessionApi.as_view(), name="sessions"),
    path(
        "projects/<int:project_id>/sessions/<str:kind>/answers/",
        quality_api.SessionAnswerApi.as_view(),
        name="session-answer",
    ),
    path("token/", obtain_auth_token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("", tasks_views.home, name="home"),
    path("healthz", lambda request: HttpResponse("ok", content_type="text/plain"), name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api, "api"))),
    path("", include("tasks.urls")),
    path("", include("annotation.urls")),
    path("", include("raters.urls")),
    path("", include("quality.urls")),
    path("", include("quality.dashboard_urls")),
]
