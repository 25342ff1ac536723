from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    path("", views.group_home, name="group-home"),
    path("status/workers/", views.worker_check, name="worker-check"),
]
