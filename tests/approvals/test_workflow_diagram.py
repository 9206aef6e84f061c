"""docs/plan-workflow.dot is the model's graph: regenerate it when the transitions change."""

import io
import re
from pathlib import Path

from django.core.management import call_command

DOT = Path(__file__).resolve().parents[2] / "docs" / "plan-workflow.dot"
EDGE = re.compile(r'"([^"]+)" -> "([^"]+)" \[label=(\w+)\]')


def _edges(text: str) -> set[tuple[str, str, str]]:
    return set(EDGE.findall(text))


def test_the_documented_diagram_has_exactly_the_models_transitions():
    out = io.StringIO()
    call_command("graph_transitions", "careplans.CarePlan.status", stdout=out)
    generated = _edges(out.getvalue())
    assert len(generated) == 14  # the edges of PRODUCT.md §5, counted on the diagram
    assert _edges(DOT.read_text()) == generated, "run: manage.py graph_transitions careplans.CarePlan.status"
