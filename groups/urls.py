from django.urls import path

from . import space_views as space
from . import views

app_name = "groups"

urlpatterns = [
    path("", views.group_home, name="group-home"),
    path("members/", views.members_manage, name="members-manage"),
    path("members/invite/", views.member_invite, name="member-invite"),
    path("members/<int:pk>/role/", views.member_role, name="member-role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("join-requests/", views.join_requests, name="join-requests"),
    path(
        "join-requests/<int:pk>/decide/",
        views.join_request_decide_view,
        name="join-request-decide",
    ),
    path("invitations/<str:token>/", views.invitation_detail, name="invitation-detail"),
    path("lifecycle/", views.lifecycle, name="lifecycle"),
    path("lifecycle/stage/", views.lifecycle_stage, name="lifecycle-stage"),
    path("lifecycle/pause/", views.lifecycle_pause, name="lifecycle-pause"),
    path("lifecycle/redefine/", views.lifecycle_redefine, name="lifecycle-redefine"),
    path("lifecycle/conclude/", views.lifecycle_conclude, name="lifecycle-conclude"),
    path("export/", views.export, name="export"),
    path("status/workers/", views.worker_check, name="worker-check"),
    path("welcome/", space.welcome, name="welcome"),
    path("mission/", space.mission, name="mission"),
    path("mission/review/", space.mission_review, name="mission-review"),
    path("charter/", space.charter, name="charter"),
    path("charter/pledge/", space.pledge_accept, name="pledge-accept"),
    path("goals/", space.goals, name="goals"),
    path("goals/<int:pk>/status/", space.goal_status, name="goal-status"),
    path("polls/", space.polls, name="polls"),
    path("polls/<int:pk>/", space.poll_detail, name="poll-detail"),
    path("polls/<int:pk>/vote/", space.poll_vote, name="poll-vote"),
    path("polls/<int:pk>/choose/", space.poll_choose, name="poll-choose"),
    path("meetings/", space.meetings, name="meetings"),
    path("meetings/<int:pk>/", space.meeting_detail_view, name="meeting-detail"),
    path("meetings/<int:pk>/attendance/", space.meeting_attendance, name="meeting-attendance"),
    path("meetings/<int:pk>/items/<int:item>/notes/", space.meeting_notes, name="meeting-notes"),
    path("meetings/<int:pk>/commitments/", space.meeting_commitment, name="meeting-commitment"),
    path("meetings/<int:pk>/minutes/", space.meeting_minutes, name="meeting-minutes"),
    path("meetings/<int:pk>/ics/", space.meeting_ics, name="meeting-ics"),
    path("commitments/<int:pk>/review/", space.commitment_review, name="commitment-review"),
    path("attendance/", space.attendance, name="attendance"),
    path("confidential/", space.confidential, name="confidential"),
    path("confidential/<int:pk>/", space.confidential_thread, name="confidential-thread"),
    path("achievements/", space.achievements, name="achievements"),
    path(
        "achievements/<int:pk>/celebrate/",
        space.achievement_celebrate,
        name="achievement-celebrate",
    ),
    path("seats/", space.seats, name="seats"),
    path("calendar/", space.calendar_settings, name="calendar"),
    path("calendar/feed/<str:token>", space.calendar_feed, name="calendar-feed"),
]
