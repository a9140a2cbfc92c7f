"""The site's front page, outside the "tasks" namespace so that it reverses as "home"."""

from django.urls import path

from tasks import views

urlpatterns = [path("", views.home, name="home")]
