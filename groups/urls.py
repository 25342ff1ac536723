from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    path("", views.group_home, name="group-home"),
    path("members/", views.members_manage, name="members-manage"),
    path("members/invite/", views.member_invite, name="member-invite"),
    path("members/<int:pk>/role/", views.member_role, name="member-role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("invitations/<str:token>/", views.invitation_detail, name="invitation-detail"),
    path("lifecycle/", views.lifecycle, name="lifecycle"),
    path("lifecycle/stage/", views.lifecycle_stage, name="lifecycle-stage"),
    path("lifecycle/pause/", views.lifecycle_pause, name="lifecycle-pause"),
    path("lifecycle/redefine/", views.lifecycle_redefine, name="lifecycle-redefine"),
    path("lifecycle/conclude/", views.lifecycle_conclude, name="lifecycle-conclude"),
    path("export/", views.export, name="export"),
    path("status/workers/", views.worker_check, name="worker-check"),
]
