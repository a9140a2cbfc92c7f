from django.urls import path

from modelruns import api, views

app_name = "modelruns"
P = "projects/<id:project_id>/"
urlpatterns = [
    path(P + "model-runs/", views.model_runs, name="list"),
    path(P + "model-runs/noisy-cv/", views.noisy_cv, name="noisy-cv"),
    path(P + "model-runs/<id:run_id>/pin/", views.model_run_pin_form, name="pin"),
    path(P + "suspects/", views.suspects, name="suspects"),
    path(P + "suspects/relabel/", views.suspects_relabel, name="suspects-relabel"),
    # JSON, for managers only; relabelling goes through api:item-bulk (action "relabel").
    path("api/" + P + "model-runs/", api.ModelRunListApi.as_view(), name="api-list"),
    path(
        "api/" + P + "model-runs/<id:run_id>/",
        api.ModelRunDetailApi.as_view(),
        name="api-detail",
    ),
    path("api/" + P + "model-runs/<id:run_id>/pin/", api.ModelRunPinApi.as_view(), name="api-pin"),
    path("api/" + P + "model-runs/noisy-cv/", api.NoisyCvApi.as_view(), name="api-noisy-cv"),
    path("api/" + P + "suspects/", api.SuspectsApi.as_view(), name="api-suspects"),
]
