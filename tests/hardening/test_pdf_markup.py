"""Text that reaches reportlab's markup (`Paragraph`) is always escaped: a scheme's name, a
modifier's wording, a client's name or a final budget's reason holding tags is printed literally,
never becomes a link, never makes reportlab open a local file and never breaks the PDF
(docs/security.md, "PDFs and imports")."""

import io
import re
from pathlib import Path

import pytest
from djmoney.money import Money
from pypdf import PdfReader

from accounts.pdf import p, render
from budgets.models import Assessment, PersonalBudget, RasModifier, RasScheme
from budgets.pdf import budget_month_statement_pdf, budget_statement_pdf
from tests.budgets.conftest import make_budget, scheme  # noqa: F401  (fixtures, requested by name)

pytestmark = pytest.mark.django_db

HOSTILE = [
    '<a href="https://evil.example/">Click me</a>',
    '<img src="/etc/hostname"/>',
    '<font color="red" size="40">big</font>',
    "<b>unbalanced bold",
    "Fish & chips &amp; peas &#60;",
    "</para><para>x",
    '<link href="file:///etc/passwd">local</link>',
    "Line one\nLine two",
]
ROOT = Path(__file__).resolve().parents[2]


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def links(content: bytes) -> list:
    reader = PdfReader(io.BytesIO(content))
    return [a for page in reader.pages for a in (page.get("/Annots") or [])]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("words", HOSTILE)
def test_p_prints_hostile_words_literally(words):
    content = render([p(words), p(words, "h2", bold=True)], title=words)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert squash(words) in squash(text)
    assert links(content) == []


def test_every_paragraph_is_built_by_p():
    """reportlab's Paragraph parses markup: only `accounts.pdf.p` (which escapes) may build one."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or path == ROOT / "accounts" / "pdf.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "Paragraph(" in source or "Paragraph\n" in source or "import Paragraph" in source:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.fixture
def hostile_budget(make_budget, client_user, scheme):  # noqa: F811
    name = " | ".join(HOSTILE[:4])
    client_user.full_name = '<a href="https://evil.example/">Ann</a> <img src="/etc/hostname"/> & <b>'
    client_user.save()
    RasScheme.objects.filter(pk=scheme.pk).update(name=f"Scheme {name}")
    RasModifier.objects.filter(scheme=scheme).update(text='Carer <img src="/etc/hostname"/> <a href="x">y</a>')
    budget = make_budget(client_user)
    Assessment.objects.filter(pk=budget.assessment_id).update(modifiers=[scheme.modifiers.first().code])
    PersonalBudget.objects.filter(pk=budget.pk).update(
        final_amount=Money("9000.00", "GBP"), final_reason='Agreed <font size="90">at panel</font> & <b>'
    )
    return PersonalBudget.objects.get(pk=budget.pk), name


def test_the_budget_statement_prints_hostile_texts_literally(hostile_budget, client_user):
    budget, name = hostile_budget
    content = budget_statement_pdf(budget)
    text = squash(pdf_text(content))
    assert squash(f"Scheme {name}") in text
    assert squash(client_user.full_name) in text
    assert squash('Carer <img src="/etc/hostname"/> <a href="x">y</a>') in text
    assert squash('Agreed <font size="90">at panel</font> & <b>') in text
    assert links(content) == []


def test_the_statement_pages_answer_with_the_pdf(hostile_budget, web_as, client_user):
    budget, _ = hostile_budget
    response = web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf")
    assert response.status_code == 200
    assert squash(client_user.full_name) in squash(pdf_text(response.content))


def test_the_month_statement_prints_the_name_literally(hostile_budget, client_user):
    budget, _ = hostile_budget
    content = budget_month_statement_pdf(budget, budget.period_start.replace(day=1))
    assert squash(client_user.full_name) in squash(pdf_text(content))
    assert links(content) == []
