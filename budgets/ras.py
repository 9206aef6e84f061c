"""The Resource Allocation System and the eligibility rule, as plain Python over a compiled scheme.

Pricing and eligibility are pure functions of (scheme, answers): the assessment service, the
what-if re-pricing job and the benchmark all call the same code, and a person can follow the
`Pricing.explain()` lines by hand. A scheme is compiled once (one query with prefetches) into
immutable dataclasses so pricing a hundred thousand assessments touches no ORM.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from accounts.money import format_money, round_penny

from .models import ELIGIBILITY_OUTCOMES, Outcome, RasScheme, UnableReason

POINTS_PLACES = Decimal("0.01")
OUTCOME_LABELS = dict(Outcome.choices)
REASON_LABELS = dict(UnableReason.choices)


@dataclass(frozen=True)
class Answer:
    code: str
    text: str
    points: int
    unable: bool
    unable_reason: str = ""


@dataclass(frozen=True)
class Question:
    code: str
    domain: str
    text: str
    help_text: str
    answers: dict[str, Answer]


@dataclass(frozen=True)
class Modifier:
    code: str
    text: str
    percent: Decimal


@dataclass(frozen=True)
class Band:
    up_to_points: int | None
    price_per_point: Decimal


@dataclass(frozen=True)
class CompiledScheme:
    id: int | None
    name: str
    version: int
    currency: str
    price_per_point: Decimal
    min_budget: Decimal
    max_budget: Decimal
    bands: tuple[Band, ...]
    questions: dict[str, Question]
    modifiers: dict[str, Modifier]
    digest: str = ""

    @property
    def domains(self) -> list[str]:
        """Domains that have questions, in the order of the outcomes list."""
        present = {q.domain for q in self.questions.values()}
        return [d for d in Outcome.values if d in present]

    def questions_in(self, domain: str) -> list[Question]:
        return [q for q in self.questions.values() if q.domain == domain]

    @cached_property
    def points_table(self) -> dict[str, dict[str, int]]:
        """{question: {answer: points}} for pricing many assessments quickly."""
        return {q.code: {a.code: a.points for a in q.answers.values()} for q in self.questions.values()}


@dataclass
class BandLine:
    from_points: Decimal
    to_points: Decimal
    price_per_point: Decimal
    amount: Decimal


@dataclass
class Pricing:
    points_by_domain: dict[str, int]
    raw_points: int
    modifiers: list[Modifier]
    points: Decimal
    band_lines: list[BandLine]
    unclamped: Decimal
    amount: Decimal
    clamped: str | None  # "min", "max" or None
    min_budget: Decimal
    max_budget: Decimal

    @property
    def domain_rows(self) -> list[tuple[str, int]]:
        """(area of life, points) in outcome order, for tables people read."""
        return [(OUTCOME_LABELS[d], points) for d, points in self.points_by_domain.items()]

    def as_dict(self) -> dict:
        return {
            "points_by_domain": self.points_by_domain,
            "raw_points": self.raw_points,
            "modifiers": [{"code": m.code, "text": m.text, "percent": str(m.percent)} for m in self.modifiers],
            "points": str(self.points),
            "bands": [
                {
                    "from_points": str(b.from_points),
                    "to_points": str(b.to_points),
                    "price_per_point": str(b.price_per_point),
                    "amount": str(b.amount),
                }
                for b in self.band_lines
            ],
            "unclamped": str(self.unclamped),
            "amount": str(self.amount),
            "clamped": self.clamped,
            "min_budget": str(self.min_budget),
            "max_budget": str(self.max_budget),
        }


@dataclass
class Decision:
    eligible: bool
    reasons: list[str]
    unable_outcomes: dict[str, list[str]] = field(default_factory=dict)


def compile_scheme(scheme: RasScheme) -> CompiledScheme:
    scheme = (
        RasScheme.objects.prefetch_related("questions__answers", "modifiers", "bands").get(pk=scheme.pk)
        if not hasattr(scheme, "_prefetched_objects_cache")
        else scheme
    )
    questions = {
        q.code: Question(
            code=q.code,
            domain=q.domain,
            text=q.text,
            help_text=q.help_text,
            answers={
                a.code: Answer(a.code, a.text, a.points, a.unable, a.unable_reason)
                for a in sorted(q.answers.all(), key=lambda a: (a.position, a.pk))
            },
        )
        for q in sorted(scheme.questions.all(), key=lambda q: (q.position, q.pk))
    }
    return CompiledScheme(
        id=scheme.pk,
        name=scheme.name,
        version=scheme.version,
        currency=str(scheme.price_per_point.currency),
        price_per_point=scheme.price_per_point.amount,
        min_budget=scheme.min_budget.amount,
        max_budget=scheme.max_budget.amount,
        bands=tuple(
            Band(b.up_to_points, b.price_per_point.amount)
            for b in sorted(scheme.bands.all(), key=lambda b: (b.up_to_points is None, b.up_to_points or 0))
        ),
        questions=questions,
        modifiers={
            m.code: Modifier(m.code, m.text, m.percent)
            for m in sorted(scheme.modifiers.all(), key=lambda m: (m.position, m.pk))
        },
        digest=scheme.content_digest,
    )


def scheme_data(compiled: CompiledScheme, *, effective_from: str, description: str = "") -> dict:
    """The scheme in the import/export file format (see docs/ras-format.md)."""
    return {
        "name": compiled.name,
        "version": compiled.version,
        "effective_from": effective_from,
        "description": description,
        "currency": compiled.currency,
        "price_per_point": f"{compiled.price_per_point:.2f}",
        "min_budget": f"{compiled.min_budget:.2f}",
        "max_budget": f"{compiled.max_budget:.2f}",
        "bands": [
            {"up_to_points": b.up_to_points, "price_per_point": f"{b.price_per_point:.2f}"} for b in compiled.bands
        ],
        "modifiers": [
            {"code": m.code, "text": m.text, "percent": f"{m.percent:.2f}"} for m in compiled.modifiers.values()
        ],
        "questions": [
            {
                "code": q.code,
                "domain": q.domain,
                "text": q.text,
                **({"help_text": q.help_text} if q.help_text else {}),
                "answers": [
                    {
                        "code": a.code,
                        "text": a.text,
                        "points": a.points,
                        "unable": a.unable,
                        **({"unable_reason": a.unable_reason} if a.unable_reason else {}),
                    }
                    for a in q.answers.values()
                ],
            }
            for q in compiled.questions.values()
        ],
    }


def content_digest(data: dict) -> str:
    """SHA-256 of the scheme's pricing content (not its name or dates), canonically serialised."""
    priced = {
        k: data[k]
        for k in ("currency", "price_per_point", "min_budget", "max_budget", "bands", "modifiers", "questions")
    }
    return hashlib.sha256(json.dumps(priced, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def answer_errors(compiled: CompiledScheme, answers: dict, *, require_all: bool) -> dict[str, list[str]]:
    """Unknown question codes, unknown answer codes and (if `require_all`) unanswered questions."""
    errors: dict[str, list[str]] = {}
    for code, answer in answers.items():
        question = compiled.questions.get(code)
        if question is None:
            errors[code] = [f"“{code}” is not a question in {compiled.name} v{compiled.version}."]
        elif answer not in question.answers:
            choices = ", ".join(question.answers)
            errors[code] = [f"“{answer}” is not an answer to {code}. Choose one of: {choices}."]
    if require_all:
        for code in compiled.questions:
            if code not in answers:
                errors[code] = ["This question has not been answered."]
    return errors


def modifier_errors(compiled: CompiledScheme, modifiers: list[str]) -> list[str]:
    return [f"“{m}” is not a modifier in this scheme." for m in modifiers if m not in compiled.modifiers]


def answered(compiled: CompiledScheme, answers: dict[str, str]) -> dict[str, str]:
    """The answers to questions this scheme has (a saved draft may hold others)."""
    return {code: answer for code, answer in answers.items() if code in compiled.questions}


def price_answered(compiled: CompiledScheme, answers: dict[str, str], modifiers: list[str] = ()) -> Pricing:
    """`price` over the answers given so far to this scheme's questions: what an assessment,
    its budget page and its statement show."""
    return price(compiled, answered(compiled, answers), modifiers)


def price(compiled: CompiledScheme, answers: dict[str, str], modifiers: list[str] = ()) -> Pricing:
    """Points from the answers, changed by the modifiers that apply, priced through the bands,
    rounded to the penny, then held between the scheme's minimum and maximum."""
    by_domain: dict[str, int] = {}
    for code, answer_code in answers.items():
        question = compiled.questions[code]
        by_domain[question.domain] = by_domain.get(question.domain, 0) + question.answers[answer_code].points
    raw = sum(by_domain.values())
    applied = [compiled.modifiers[m] for m in modifiers]
    points = _modified_points(raw, applied)
    lines = _band_lines(compiled, points)
    unclamped = round_penny(sum((line.amount for line in lines), Decimal(0)))
    amount, clamped = _clamp(compiled, unclamped)
    return Pricing(
        points_by_domain={d: by_domain[d] for d in Outcome.values if d in by_domain},
        raw_points=raw,
        modifiers=applied,
        points=points,
        band_lines=lines,
        unclamped=unclamped,
        amount=round_penny(amount),
        clamped=clamped,
        min_budget=compiled.min_budget,
        max_budget=compiled.max_budget,
    )


def _modified_points(raw: int, applied: list[Modifier]) -> Decimal:
    factor = 1 + sum((m.percent for m in applied), Decimal(0)) / 100
    return max(Decimal(0), (Decimal(raw) * factor).quantize(POINTS_PLACES))


def _band_lines(compiled: CompiledScheme, points: Decimal) -> list[BandLine]:
    """Marginal pricing: each slice of points at its band's price, the rest at the base price."""
    lines: list[BandLine] = []
    priced_to = Decimal(0)
    for band in compiled.bands:
        if priced_to >= points:
            break
        top = points if band.up_to_points is None else min(points, Decimal(band.up_to_points))
        if top > priced_to:
            lines.append(BandLine(priced_to, top, band.price_per_point, (top - priced_to) * band.price_per_point))
            priced_to = top
    if priced_to < points:
        lines.append(
            BandLine(priced_to, points, compiled.price_per_point, (points - priced_to) * compiled.price_per_point)
        )
    return lines


def _clamp(compiled: CompiledScheme, unclamped: Decimal) -> tuple[Decimal, str | None]:
    if unclamped < compiled.min_budget:
        return compiled.min_budget, "min"
    if unclamped > compiled.max_budget:
        return compiled.max_budget, "max"
    return unclamped, None


def price_amount(compiled: CompiledScheme, answers: dict[str, str], modifiers: list[str] = ()) -> Decimal | None:
    """Just the amount `price` would give, for pricing many assessments (the what-if job).
    Answers to questions the scheme does not have are ignored; None if any of its questions is
    unanswered (or answered with a code it does not have)."""
    raw = 0
    for code, points in compiled.points_table.items():
        value = points.get(answers.get(code))
        if value is None:
            return None
        raw += value
    points = _modified_points(raw, [compiled.modifiers[m] for m in modifiers if m in compiled.modifiers])
    unclamped = round_penny(sum((line.amount for line in _band_lines(compiled, points)), Decimal(0)))
    return round_penny(_clamp(compiled, unclamped)[0])


def decide(
    compiled: CompiledScheme, answers: dict[str, str], *, impairment: bool | None, wellbeing_impact: bool | None
) -> Decision:
    """Eligibility (docs/rules.md): eligible when needs arise from an impairment or illness, the person cannot
    achieve two or more of the ten outcomes, and there is (or is likely to be) a significant
    impact on wellbeing as a result. Every reason is stated, met or not."""
    unable: dict[str, list[str]] = {}
    for code, answer_code in answers.items():
        question = compiled.questions[code]
        answer = question.answers[answer_code]
        if answer.unable and question.domain in ELIGIBILITY_OUTCOMES:
            why = unable.setdefault(question.domain, [])
            if answer.unable_reason and REASON_LABELS[answer.unable_reason] not in why:
                why.append(REASON_LABELS[answer.unable_reason])
    unable = {d: unable[d] for d in ELIGIBILITY_OUTCOMES if d in unable}

    reasons = []
    if impairment:
        reasons.append("Their needs arise from a physical or mental impairment or illness.")
    else:
        reasons.append("Their needs were not found to arise from a physical or mental impairment or illness.")
    if unable:
        listed = "; ".join(
            OUTCOME_LABELS[d].lower() + (f" ({', '.join(why)})" if why else "") for d, why in unable.items()
        )
        count = len(unable)
        reasons.append(
            f"They cannot achieve {count} of the ten outcomes: {listed}."
            + ("" if count >= 2 else " At least two are needed.")
        )
    else:
        reasons.append("They can achieve all ten outcomes. At least two must be unachievable.")
    if wellbeing_impact:
        reasons.append("As a result there is, or is likely to be, a significant impact on their wellbeing.")
    else:
        reasons.append("No significant impact on their wellbeing was found.")
    eligible = bool(impairment) and len(unable) >= 2 and bool(wellbeing_impact)
    return Decision(eligible=eligible, reasons=reasons, unable_outcomes=unable)


def number(value: Decimal | int) -> str:
    """'35', '41.4', '-10': a count of points or a percentage without trailing zeros."""
    value = Decimal(value)
    return f"{value.to_integral_value():f}" if value == value.to_integral_value() else f"{value.normalize():f}"


def points(value: Decimal | int) -> str:
    """'1 point', '35 points', '0.5 points'."""
    return f"{number(value)} point" if Decimal(value) == 1 else f"{number(value)} points"


def explain(pricing: Pricing) -> list[str]:
    """Plain-English lines: how the answers became points and the points became pounds."""
    lines = [f"Your answers scored {points(pricing.raw_points)}."]
    for m in pricing.modifiers:
        change = "reduces" if m.percent < 0 else "increases"
        lines.append(f"{m.text}: this {change} the points by {number(abs(m.percent))}%.")
    if pricing.modifiers:
        lines.append(f"That makes {points(pricing.points)}.")
    for b in pricing.band_lines:
        count = b.to_points - b.from_points
        lines.append(
            f"{points(count)} (from {number(b.from_points)} to {number(b.to_points)}) at "
            f"{format_money(b.price_per_point)} a point: {format_money(b.amount)}."
        )
    lines.append(f"In total: {format_money(pricing.unclamped)} a year.")
    if pricing.clamped == "min":
        lines.append(f"Every eligible budget is at least {format_money(pricing.min_budget)}, so yours is that amount.")
    elif pricing.clamped == "max":
        lines.append(f"The scheme's highest budget is {format_money(pricing.max_budget)}, so yours is that amount.")
    return lines
