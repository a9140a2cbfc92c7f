from django.apps import AppConfig


class ModelRunsConfig(AppConfig):
    name = "modelruns"
    verbose_name = "model runs"
