from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Budgets, RAS and ledger"

    def ready(self) -> None:
        from . import stats  # noqa: F401  (connects the receiver that keeps the statistics cache fresh)
