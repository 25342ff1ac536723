from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SocietyConfig(AppConfig):
    default = True
    name = "society"
    verbose_name = "Society"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the start-up checks)


class SocietyAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin on the society's own site (society.admin_site), which keeps only
    society's own models: the rest are unregistered once every app's admin.py has run."""

    default = False
    default_site = "society.admin_site.SocietyAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.contrib import admin

        for model in list(admin.site._registry):
            if model._meta.app_label != "society":
                admin.site.unregister(model)
