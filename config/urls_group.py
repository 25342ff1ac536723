"""URLs of a group host (<slug>.<base host>). No sign-in pages here: those live on the base host."""

from django.urls import include, path

urlpatterns = [
    path("", include("groups.urls")),
]
