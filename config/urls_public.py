"""URLs of the society site (the base host): sign-in, the society's pages, management, admin."""

from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path
from django.utils.http import urlencode

from society import views


def admin_login(request, extra_context=None):
    # The Django admin signs in through allauth too: one sign-in page, one set of rate limits.
    return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")


admin.site.login = admin_login
handler403 = "society.views.permission_denied"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.sign_in, name="account_login"),
    path("accounts/discover/", views.sign_in_discover, name="sign-in-discover"),
    path("accounts/", include("allauth.urls")),
    path("manage/", views.manage_home, name="manage-home"),
    path("manage/institutions/", views.institution_list, name="institution-list"),
    path("manage/institutions/new/", views.institution_edit, name="institution-new"),
    path("manage/institutions/<int:pk>/", views.institution_edit, name="institution-edit"),
    path("manage/audit/", views.audit_log, name="audit-log"),
    path("admin/", admin.site.urls),
]
