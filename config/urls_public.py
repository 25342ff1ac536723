"""URLs of the society site (the base host): sign-in, the society's pages, management, admin."""

from django.contrib import admin
from django.urls import include, path

from society import views

handler403 = "society.views.permission_denied"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("account/", views.account, name="account"),
    path("account/email/", views.account_email, name="account-email"),
    path(
        "account/unsubscribe/<str:choice>/<str:token>/",
        views.email_unsubscribe,
        name="email-unsubscribe",
    ),
    path("accounts/login/", views.sign_in, name="account_login"),
    path("accounts/discover/", views.sign_in_discover, name="sign-in-discover"),
    # allauth pages we do not offer: e-mail addresses come from institutions and invitations,
    # and accounts from institutional sign-in, never from a form.
    path("accounts/email/", views.not_offered),
    # Members never attach identities themselves (see society.adapters): no connections page.
    path("accounts/3rdparty/", views.not_offered),
    path(
        "accounts/confirm-institution/<str:token>/",
        views.identity_confirm_view,
        name="identity-confirm",
    ),
    path("accounts/3rdparty/signup/", views.not_offered),
    path("accounts/signup/", views.not_offered),
    # allauth's path, our view: the ID token is checked as OpenID Connect says (society.sso).
    path("accounts/oidc/<str:provider_id>/login/callback/", views.oidc_callback),
    path("accounts/", include("allauth.urls")),
    path("directory/", include("directory.urls")),
    path("apply/", views.application_new, name="application-new"),
    path("applications/", views.application_list, name="application-list"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/submit/", views.application_submit_view, name="application-submit"),
    path("applications/<int:pk>/retry/", views.application_retry_view, name="application-retry"),
    path("manage/", views.manage_home, name="manage-home"),
    path("manage/applications/", views.manage_applications, name="manage-applications"),
    path(
        "manage/applications/<int:pk>/",
        views.manage_application_review,
        name="manage-application-review",
    ),
    path("manage/groups/", views.manage_groups, name="manage-groups"),
    path("manage/institutions/", views.institution_list, name="institution-list"),
    path("manage/institutions/new/", views.institution_edit, name="institution-new"),
    path("manage/institutions/<int:pk>/", views.institution_edit, name="institution-edit"),
    path("manage/audit/", views.audit_log, name="audit-log"),
    path("admin/", admin.site.urls),
]
