"""The quality API's URLs, included under /api/ in the "api" namespace (config/urls.py)."""

from django.urls import path

from quality import api

urlpatterns = [
    path(
        "projects/<id:project_id>/quality/policy/",
        api.PolicyApi.as_view(),
        name="quality-policy",
    ),
    path(
        "projects/<id:project_id>/suggestions/",
        api.SuggestionsApi.as_view(),
        name="suggestions",
    ),
    path("projects/<id:project_id>/gold/", api.GoldListApi.as_view(), name="gold-list"),
    path(
        "projects/<id:project_id>/gold/promote/",
        api.GoldPromoteApi.as_view(),
        name="gold-promote",
    ),
    path(
        "projects/<id:project_id>/gold/import/",
        api.GoldImportApi.as_view(),
        name="gold-import",
    ),
    path("projects/<id:project_id>/raters/", api.RaterListApi.as_view(), name="rater-list"),
    path(
        "projects/<id:project_id>/raters/<id:membership_id>/",
        api.RaterDetailApi.as_view(),
        name="rater-detail",
    ),
    path(
        "projects/<id:project_id>/raters/<id:membership_id>/actions/",
        api.RaterActionApi.as_view(),
        name="rater-action",
    ),
    path(
        "projects/<id:project_id>/raters/<id:membership_id>/skills/",
        api.SkillGrantApi.as_view(),
        name="skill-grant",
    ),
    path("projects/<id:project_id>/skills/", api.SkillsApi.as_view(), name="skills"),
    path("projects/<id:project_id>/me/", api.MyStandingApi.as_view(), name="my-standing"),
    path("projects/<id:project_id>/sessions/", api.SessionApi.as_view(), name="sessions"),
    path(
        "projects/<id:project_id>/sessions/<str:kind>/answers/",
        api.SessionAnswerApi.as_view(),
        name="session-answer",
    ),
]
