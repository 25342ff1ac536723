from django.apps import AppConfig


class CrossSchemaConfig(AppConfig):
    """No models: it holds tasks and commands that enter group schemas from the public one."""

    name = "crossschema"
    verbose_name = "Cross-schema work"
