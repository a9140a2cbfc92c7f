from django.urls import path

from tasks import views

app_name = "tasks"
urlpatterns = [
    path("projects/new/", views.project_new, name="project-new"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/members/", views.member_add, name="member-add"),
    path("projects/<int:project_id>/imports/", views.import_new, name="import-new"),
    path("projects/<int:project_id>/export.jsonl", views.project_export, name="project-export"),
    path("projects/<int:project_id>/guidelines/", views.guideline_read, name="guideline-read"),
    path("imports/<int:import_id>/", views.import_status, name="import-status"),
]
