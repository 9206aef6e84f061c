from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers"

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers the any_of lookup used by the catalogue)
