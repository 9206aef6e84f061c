"""Writing a checked scheme's rows, and installing the example scheme shipped with Cairn.

Both take the model classes as arguments so the data migration that ships the example scheme can
call them with its historical models (and tests whose database a flush emptied, with the real ones).
"""

from __future__ import annotations

from pathlib import Path

from .reading import canonical, parse_scheme_text


def write_scheme(data: dict, *, models, status: str = "draft", is_example: bool = False, created_by=None):
    """Create a scheme and its rows from validated data. `models` gives the model classes
    (`RasScheme`, `RasQuestion`, `RasAnswer`, `RasModifier`, `RasBand`) — the real ones or a
    migration's historical ones. The caller runs this inside a transaction."""
    from djmoney.money import Money

    currency = data["currency"]
    scheme = models.RasScheme.objects.create(
        name=data["name"],
        version=data["version"],
        description=data["description"],
        effective_from=data["effective_from"],
        price_per_point=Money(data["price_per_point"], currency),
        min_budget=Money(data["min_budget"], currency),
        max_budget=Money(data["max_budget"], currency),
        is_example=is_example,
        status=status,
        created_by=created_by,
    )
    models.RasBand.objects.bulk_create(
        [
            models.RasBand(
                scheme=scheme, up_to_points=b["up_to_points"], price_per_point=Money(b["price_per_point"], currency)
            )
            for b in data["bands"]
        ]
    )
    models.RasModifier.objects.bulk_create(
        [
            models.RasModifier(scheme=scheme, code=m["code"], text=m["text"], percent=m["percent"], position=i)
            for i, m in enumerate(data["modifiers"])
        ]
    )
    for i, q in enumerate(data["questions"]):
        question = models.RasQuestion.objects.create(
            scheme=scheme, code=q["code"], domain=q["domain"], text=q["text"], help_text=q["help_text"], position=i
        )
        models.RasAnswer.objects.bulk_create(
            [
                models.RasAnswer(
                    question=question,
                    code=a["code"],
                    text=a["text"],
                    points=a["points"],
                    unable=a["unable"],
                    unable_reason=a["unable_reason"],
                    position=j,
                )
                for j, a in enumerate(q["answers"])
            ]
        )
    return scheme


EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "data" / "example_ras.yaml"


def install_example_scheme(*, models, budget_policy, ledger_account) -> None:
    """Publish the example scheme and create the default budget policy and the council's ledger
    accounts, where missing. The data migration calls it with historical models; tests whose
    database was emptied by a flush call it with the real ones."""
    from django.utils import timezone

    from ..ras import content_digest

    data = parse_scheme_text(EXAMPLE_FILE.read_text(encoding="utf-8"))
    if not models.RasScheme.objects.filter(name=data["name"], version=data["version"]).exists():
        scheme = write_scheme(data, models=models, status="published", is_example=True)
        models.RasScheme.objects.filter(pk=scheme.pk).update(
            content_digest=content_digest(canonical(data)), published_at=timezone.now()
        )
    budget_policy.objects.get_or_create(pk=1)
    for kind in ("funding", "reclaimed"):
        ledger_account.objects.get_or_create(code=f"council:{kind}", defaults={"kind": kind})
