"""The annotation API's URLs, included under /api/ in the "api" namespace (config/urls.py)."""

from django.urls import path

from annotation import api

urlpatterns = [
    path("projects/<id:project_id>/next/", api.NextItemApi.as_view(), name="next-item"),
    path(
        "projects/<id:project_id>/annotations/",
        api.SubmitApi.as_view(),
        name="annotation-submit",
    ),
    path(
        "projects/<id:project_id>/annotations/undo/",
        api.UndoApi.as_view(),
        name="annotation-undo",
    ),
    path("projects/<id:project_id>/skip/", api.SkipApi.as_view(), name="item-skip"),
    path("next/", api.NextAnyItemApi.as_view(), name="next-any-item"),
]
