from django.urls import path

from raters import views

app_name = "raters"
urlpatterns = [
    path("people/", views.people, name="people"),
    path("account/token/", views.api_token, name="api-token"),
    path("account/token/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("projects/<id:project_id>/me/", views.standing, name="standing"),
    path(
        "projects/<id:project_id>/practice/<str:kind>/start/",
        views.practice_start,
        name="practice-start",
    ),
    path("projects/<id:project_id>/practice/<str:kind>/", views.practice, name="practice"),
    path("projects/<id:project_id>/skills/", views.skills, name="skills"),
    path("projects/<id:project_id>/skills/grant/", views.skill_grant_view, name="skill-grant"),
]
