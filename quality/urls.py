from django.urls import path

from quality import views

app_name = "quality"
urlpatterns = [
    path("projects/<id:project_id>/quality/", views.quality_page, name="page"),
    path("projects/<id:project_id>/quality/gold/", views.gold_new, name="gold-new"),
    path("projects/<id:project_id>/quality/gold/import/", views.gold_import, name="gold-import"),
    path(
        "projects/<id:project_id>/quality/raters/<id:membership_id>/",
        views.rater_act,
        name="rater-act",
    ),
]
