from django.apps import AppConfig


class SocietyConfig(AppConfig):
    name = "society"
    verbose_name = "Society"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the start-up checks)
