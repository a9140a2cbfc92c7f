import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vox")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery modules are named jobs.py: in Vox, "tasks" means labeling tasks.
app.autodiscover_tasks(related_name="jobs")
