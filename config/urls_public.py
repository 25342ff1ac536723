"""URLs of the society site (the base host): sign-in, the society's pages, the Django admin."""

from django.contrib import admin
from django.urls import include, path

from society import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
