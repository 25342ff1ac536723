from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("", views.search, name="search"),
    path("profile/", views.profile_edit, name="profile-edit"),
    path("people/<int:pk>/", views.profile_detail, name="profile-detail"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("posts/", views.post_list, name="post-list"),
    path("posts/<int:pk>/", views.post_detail, name="post-detail"),
    path(
        "posts/<int:pk>/<str:action>/",
        views.post_moderate,
        name="post-moderate",
    ),
    path("members/<int:pk>/ban/", views.member_ban, name="member-ban"),
    path("moderation/", views.moderation, name="moderation"),
    path("settings/", views.delivery_settings, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("groups/", views.open_groups, name="open-groups"),
    path("groups/<slug:slug>/join/", views.join_request, name="join-request"),
]
