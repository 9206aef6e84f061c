from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Invoices and payments"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers of careplans' events)
