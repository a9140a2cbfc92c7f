import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

if settings.VOX_QUEUE_FAST_LANE:
    from annotation.fastlane import QueueFastLane

    application = QueueFastLane(application)

if settings.VOX_WEB_NEXT_FIRST:
    from annotation.fastlane import is_next
    from config.gate import NextFirst

    application = NextFirst(application, urgent=is_next)
