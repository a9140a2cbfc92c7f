from django.urls import path

from annotation import views

app_name = "annotation"
urlpatterns = [
    path("label/", views.label_any, name="label-any"),
    path("projects/<id:project_id>/label/", views.label, name="label"),
    path("projects/<id:project_id>/label/submit/", views.label_submit, name="label-submit"),
    path("projects/<id:project_id>/label/skip/", views.label_skip, name="label-skip"),
    path("projects/<id:project_id>/label/undo/", views.label_undo, name="label-undo"),
]
