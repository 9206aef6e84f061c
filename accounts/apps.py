from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and audit"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the login audit receivers)
