"""`ras.price()` and `ras.explain()`: marginal bands, band edges, modifiers, rounding to the penny,
clamping to the scheme's minimum and maximum, and the example scheme's range (PRODUCT.md §2).

Most tests are pure: the example scheme is compiled straight from its shipped file (checked once
against the migrated, published copy), and small schemes are built by hand."""

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets import ras
from budgets.models import ELIGIBILITY_OUTCOMES
from budgets.ras import Answer, Band, CompiledScheme, Modifier, Question
from budgets.ras_io import parse_scheme_text
from tests.budgets.conftest import OUTCOME_QUESTIONS, answers_with

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "budgets" / "data" / "example_ras.yaml"
D = Decimal


def compile_data(data: dict) -> CompiledScheme:
    """A CompiledScheme from validated file data, without the database."""
    return CompiledScheme(
        id=None,
        name=data["name"],
        version=data["version"],
        currency=data["currency"],
        price_per_point=data["price_per_point"],
        min_budget=data["min_budget"],
        max_budget=data["max_budget"],
        bands=tuple(Band(b["up_to_points"], b["price_per_point"]) for b in data["bands"]),
        questions={
            q["code"]: Question(
                code=q["code"],
                domain=q["domain"],
                text=q["text"],
                help_text=q["help_text"],
                answers={
                    a["code"]: Answer(a["code"], a["text"], a["points"], a["unable"], a["unable_reason"])
                    for a in q["answers"]
                },
            )
            for q in data["questions"]
        },
        modifiers={m["code"]: Modifier(m["code"], m["text"], m["percent"]) for m in data["modifiers"]},
    )


EXAMPLE = compile_data(parse_scheme_text(EXAMPLE_FILE.read_text(encoding="utf-8")))
CARER = "unpaid_carer"


def hand_scheme(
    *,
    price="3.35",
    min_budget="0.00",
    max_budget="100000.00",
    bands=(),
    points=(0, 1, 2, 3, 5, 10, 25),
    modifiers=None,
) -> CompiledScheme:
    """One `other` question whose answer `pN` is worth N points, and the given modifiers."""
    modifiers = modifiers if modifiers is not None else {"third": "-66.67", "half": "-50", "plus": "10"}
    return CompiledScheme(
        id=None,
        name="Hand-made",
        version=1,
        currency="GBP",
        price_per_point=D(price),
        min_budget=D(min_budget),
        max_budget=D(max_budget),
        bands=tuple(Band(limit, D(p)) for limit, p in bands),
        questions={
            "q": Question(
                code="q",
                domain="other",
                text="How much?",
                help_text="",
                answers={f"p{n}": Answer(f"p{n}", f"{n} points", n, False) for n in points},
            )
        },
        modifiers={code: Modifier(code, f"Modifier {code}", D(pct)) for code, pct in modifiers.items()},
    )


def outcome_answers(*levels: str, night="none", risk="low") -> dict[str, str]:
    """The first outcome questions answered at the given levels, the rest independent."""
    return answers_with(dict(zip(OUTCOME_QUESTIONS, levels, strict=False)), night=night, risk=risk)


ALL_TOP = answers_with(dict.fromkeys(OUTCOME_QUESTIONS, "full_help"), night="every_night", risk="high")


# --- The example file compiles the same way the database copy does ---------------------------


@pytest.mark.django_db
def test_example_compiled_from_its_file_matches_the_published_scheme(compiled):
    assert dataclasses.replace(compiled, id=None, digest="") == EXAMPLE


# --- Bands in the example scheme ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "points", "amount", "lines"),
    [
        # 8 points, all in the first band.
        (outcome_answers("some_help", "some_help"), 8, "2000.00", [("0", "8", "250.00", "2000.00")]),
        # Exactly 40: the first band only, no empty second line.
        (outcome_answers(*["some_help"] * 10), 40, "10000.00", [("0", "40", "250.00", "10000.00")]),
        # 41: one point in the second band.
        (
            outcome_answers(*["full_help"] * 3, risk="moderate"),
            41,
            "10400.00",
            [("0", "40", "250.00", "10000.00"), ("40", "41", "400.00", "400.00")],
        ),
        # Exactly 100: two full bands, nothing in the open band.
        (
            outcome_answers(*["full_help"] * 6, "lots_of_help", night="every_night"),
            100,
            "34000.00",
            [("0", "40", "250.00", "10000.00"), ("40", "100", "400.00", "24000.00")],
        ),
        # 101: one point in the open band at £520.
        (
            outcome_answers(*["full_help"] * 8, risk="moderate"),
            101,
            "34520.00",
            [
                ("0", "40", "250.00", "10000.00"),
                ("40", "100", "400.00", "24000.00"),
                ("100", "101", "520.00", "520.00"),
            ],
        ),
        # The highest need: 150 points.
        (
            ALL_TOP,
            150,
            "60000.00",
            [
                ("0", "40", "250.00", "10000.00"),
                ("40", "100", "400.00", "24000.00"),
                ("100", "150", "520.00", "26000.00"),
            ],
        ),
    ],
    ids=["8", "40-edge", "41", "100-edge", "101", "150"],
)
def test_example_prices_points_marginally_through_its_bands(answers, points, amount, lines):
    pricing = ras.price(EXAMPLE, answers)
    assert pricing.raw_points == points
    assert pricing.points == points
    assert pricing.unclamped == D(amount)
    assert pricing.amount == D(amount)
    assert pricing.clamped is None
    assert [(b.from_points, b.to_points, b.price_per_point, b.amount) for b in pricing.band_lines] == [
        (D(f), D(t), D(p), D(a)) for f, t, p, a in lines
    ]


def test_example_lowest_eligible_need_is_2000_pounds():
    pricing = ras.price(EXAMPLE, outcome_answers("some_help", "some_help"))
    assert pricing.amount == D("2000.00")
    assert pricing.clamped is None


def test_example_highest_need_is_60000_pounds():
    pricing = ras.price(EXAMPLE, ALL_TOP)
    assert pricing.raw_points == 150
    assert pricing.amount == D("60000.00")
    assert pricing.clamped is None


def test_points_are_totalled_per_domain_in_outcome_order():
    answers = outcome_answers("full_help", "some_help", night="occasional", risk="high")
    pricing = ras.price(EXAMPLE, answers)
    assert list(pricing.points_by_domain) == [*ELIGIBILITY_OUTCOMES, "other"]
    assert {d: p for d, p in pricing.points_by_domain.items() if p} == {
        "nutrition": 12,
        "personal_hygiene": 4,
        "other": 20,
    }
    assert pricing.raw_points == 36


# --- Modifiers ----------------------------------------------------------------------------------


def test_unpaid_carer_reduces_46_points_to_41_40():
    answers = outcome_answers(*["full_help"] * 3, night="occasional")
    pricing = ras.price(EXAMPLE, answers, [CARER])
    assert pricing.raw_points == 46
    assert pricing.points == D("41.40")
    assert [m.code for m in pricing.modifiers] == [CARER]
    # 40 × £250 + 1.4 × £400
    assert pricing.amount == D("10560.00")
    assert [(b.from_points, b.to_points) for b in pricing.band_lines] == [(D(0), D(40)), (D(40), D("41.40"))]


def test_without_the_modifier_the_same_answers_price_at_full_points():
    answers = outcome_answers(*["full_help"] * 3, night="occasional")
    pricing = ras.price(EXAMPLE, answers)
    assert pricing.points == 46
    assert pricing.amount == D("12400.00")
    assert pricing.modifiers == []


def test_modifier_points_are_quantised_to_hundredths():
    # 1 point less 66.67% = 0.3333 points, kept as 0.33.
    pricing = ras.price(hand_scheme(), {"q": "p1"}, ["third"])
    assert pricing.points == D("0.33")
    assert pricing.points.as_tuple().exponent == -2


def test_several_modifiers_add_their_percentages():
    # -50% + 10% = -40% of 10 points.
    pricing = ras.price(hand_scheme(), {"q": "p10"}, ["half", "plus"])
    assert pricing.points == D("6.00")


def test_modifiers_never_make_points_negative():
    scheme = hand_scheme(modifiers={"a": "-100", "b": "-100"})
    pricing = ras.price(scheme, {"q": "p10"}, ["a", "b"])
    assert pricing.points == 0
    assert pricing.amount == D("0.00")


# --- Rounding to the penny, half up ---------------------------------------------------------------


def test_fractional_points_are_rounded_to_the_penny():
    # 0.33 points × £3.35 = £1.1055 → £1.11
    pricing = ras.price(hand_scheme(price="3.35"), {"q": "p1"}, ["third"])
    assert pricing.unclamped == D("1.11")
    assert pricing.amount == D("1.11")


def test_an_exact_half_penny_rounds_up_not_to_even():
    # 0.5 points × £3.45 = £1.725 → £1.73 (banker's rounding would give £1.72)
    pricing = ras.price(hand_scheme(price="3.45"), {"q": "p1"}, ["half"])
    assert pricing.points == D("0.50")
    assert pricing.band_lines[0].amount == D("1.725")
    assert pricing.amount == D("1.73")


def test_amounts_always_have_two_decimal_places():
    pricing = ras.price(hand_scheme(price="10.00"), {"q": "p3"})
    assert pricing.amount == D("30.00")
    assert pricing.amount.as_tuple().exponent == -2
    assert pricing.unclamped.as_tuple().exponent == -2


# --- Clamping -------------------------------------------------------------------------------------


def test_a_budget_below_the_minimum_is_raised_to_it():
    # One outcome with some help: 4 points = £1,000, below the £2,000 minimum.
    pricing = ras.price(EXAMPLE, outcome_answers("some_help"))
    assert pricing.unclamped == D("1000.00")
    assert pricing.amount == D("2000.00")
    assert pricing.clamped == "min"


def test_the_carer_modifier_can_take_the_lowest_need_below_the_minimum():
    pricing = ras.price(EXAMPLE, outcome_answers("some_help", "some_help"), [CARER])
    assert pricing.points == D("7.20")
    assert pricing.unclamped == D("1800.00")
    assert (pricing.amount, pricing.clamped) == (D("2000.00"), "min")


def test_no_points_at_all_gives_the_minimum():
    pricing = ras.price(EXAMPLE, answers_with())
    assert pricing.raw_points == 0
    assert pricing.band_lines == []
    assert pricing.unclamped == D("0.00")
    assert (pricing.amount, pricing.clamped) == (D("2000.00"), "min")


def test_a_budget_above_the_maximum_is_lowered_to_it():
    scheme = hand_scheme(price="10.00", max_budget="100.00")
    pricing = ras.price(scheme, {"q": "p25"})
    assert pricing.unclamped == D("250.00")
    assert pricing.amount == D("100.00")
    assert pricing.clamped == "max"


def test_amounts_exactly_at_the_limits_are_not_clamped():
    scheme = hand_scheme(price="10.00", min_budget="20.00", max_budget="100.00")
    low = ras.price(scheme, {"q": "p2"})
    high = ras.price(scheme, {"q": "p10"})
    assert (low.amount, low.clamped) == (D("20.00"), None)
    assert (high.amount, high.clamped) == (D("100.00"), None)


def test_min_and_max_are_reported_on_the_pricing():
    pricing = ras.price(EXAMPLE, answers_with())
    assert (pricing.min_budget, pricing.max_budget) == (D("2000.00"), D("60000.00"))


# --- Schemes without bands, and points beyond the last band -----------------------------------


def test_a_scheme_without_bands_uses_its_price_per_point():
    pricing = ras.price(hand_scheme(price="7.50"), {"q": "p10"})
    assert [(b.from_points, b.to_points, b.price_per_point) for b in pricing.band_lines] == [(D(0), D(10), D("7.50"))]
    assert pricing.amount == D("75.00")


def test_points_beyond_the_last_bounded_band_use_the_base_price():
    scheme = hand_scheme(price="5.00", bands=[(10, "1.00"), (20, "2.00")])
    pricing = ras.price(scheme, {"q": "p25"})
    assert [(b.from_points, b.to_points, b.price_per_point, b.amount) for b in pricing.band_lines] == [
        (D(0), D(10), D("1.00"), D("10.00")),
        (D(10), D(20), D("2.00"), D("20.00")),
        (D(20), D(25), D("5.00"), D("25.00")),
    ]
    assert pricing.amount == D("55.00")


def test_an_open_last_band_takes_every_remaining_point():
    scheme = hand_scheme(price="5.00", bands=[(10, "1.00"), (None, "2.00")])
    pricing = ras.price(scheme, {"q": "p25"})
    assert [b.price_per_point for b in pricing.band_lines] == [D("1.00"), D("2.00")]
    assert pricing.amount == D("40.00")


def test_points_inside_the_first_band_give_one_line():
    scheme = hand_scheme(price="5.00", bands=[(10, "1.00"), (20, "2.00")])
    pricing = ras.price(scheme, {"q": "p3"})
    assert len(pricing.band_lines) == 1
    assert pricing.amount == D("3.00")


# --- Properties -----------------------------------------------------------------------------------

EXAMPLE_CHOICES = {code: list(q.answers) for code, q in EXAMPLE.questions.items()}
example_answers = st.fixed_dictionaries({code: st.sampled_from(codes) for code, codes in EXAMPLE_CHOICES.items()})
example_modifiers = st.lists(st.sampled_from(list(EXAMPLE.modifiers)), max_size=1, unique=True)


def is_pennies(value: Decimal) -> bool:
    return value == value.quantize(D("0.01")) and value.as_tuple().exponent >= -2


@given(answers=example_answers, modifiers=example_modifiers)
def test_example_amount_is_always_between_min_and_max_in_pennies(answers, modifiers):
    pricing = ras.price(EXAMPLE, answers, modifiers)
    assert EXAMPLE.min_budget <= pricing.amount <= EXAMPLE.max_budget
    assert is_pennies(pricing.amount)
    assert is_pennies(pricing.unclamped)
    assert sum(pricing.points_by_domain.values()) == pricing.raw_points


@given(answers=example_answers, modifiers=example_modifiers, data=st.data())
def test_example_more_points_never_give_less_money(answers, modifiers, data):
    code = data.draw(st.sampled_from(list(EXAMPLE_CHOICES)))
    question = EXAMPLE.questions[code]
    current = question.answers[answers[code]].points
    higher = [a.code for a in question.answers.values() if a.points >= current]
    raised = {**answers, code: data.draw(st.sampled_from(higher))}
    before = ras.price(EXAMPLE, answers, modifiers)
    after = ras.price(EXAMPLE, raised, modifiers)
    assert after.points >= before.points
    assert after.unclamped >= before.unclamped
    assert after.amount >= before.amount


@given(a=example_answers, b=example_answers, modifiers_a=example_modifiers, modifiers_b=example_modifiers)
def test_example_amount_is_monotonic_in_points(a, b, modifiers_a, modifiers_b):
    pa = ras.price(EXAMPLE, a, modifiers_a)
    pb = ras.price(EXAMPLE, b, modifiers_b)
    if pa.points <= pb.points:
        assert pa.amount <= pb.amount
    else:
        assert pa.amount >= pb.amount


prices = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2)


@st.composite
def hand_schemes(draw):
    limits = sorted(draw(st.sets(st.integers(min_value=1, max_value=200), max_size=4)))
    band_prices = draw(st.lists(prices, min_size=len(limits), max_size=len(limits)))
    bands = list(zip(limits, band_prices, strict=True))
    if draw(st.booleans()):
        bands.append((None, draw(prices)))
    low = draw(st.decimals(min_value=D("0.00"), max_value=D("50000.00"), places=2))
    high = draw(st.decimals(min_value=max(low, D("0.01")), max_value=D("100000.00"), places=2))
    percents = draw(st.lists(st.decimals(min_value=D("-100"), max_value=D("100"), places=2), min_size=0, max_size=3))
    return hand_scheme(
        price=str(draw(prices)),
        min_budget=str(low),
        max_budget=str(high),
        bands=[(limit, str(p)) for limit, p in bands],
        points=(0, 1, 3, 7, 40, 99, 250),
        modifiers={f"m{i}": str(p) for i, p in enumerate(percents)},
    )


@settings(max_examples=200)
@given(scheme=hand_schemes(), data=st.data())
def test_any_scheme_gives_an_amount_in_pennies_between_its_min_and_max(scheme, data):
    answer = data.draw(st.sampled_from(list(scheme.questions["q"].answers)))
    modifiers = data.draw(st.lists(st.sampled_from(list(scheme.modifiers) or ["none"]), unique=True))
    modifiers = [m for m in modifiers if m in scheme.modifiers]
    pricing = ras.price(scheme, {"q": answer}, modifiers)
    assert scheme.min_budget <= pricing.amount <= scheme.max_budget
    assert is_pennies(pricing.amount)
    assert pricing.points >= 0
    assert pricing.points.as_tuple().exponent >= -2
    # The band lines cover exactly the points, without gaps.
    covered = D(0)
    for line in pricing.band_lines:
        assert line.from_points == covered
        assert line.to_points > line.from_points
        covered = line.to_points
    assert covered == pricing.points
    expected = (
        "min" if pricing.unclamped < scheme.min_budget else "max" if pricing.unclamped > scheme.max_budget else None
    )
    assert pricing.clamped == expected


# --- explain() ------------------------------------------------------------------------------------


def test_explain_states_points_each_band_and_the_total():
    lines = ras.explain(ras.price(EXAMPLE, ALL_TOP))
    assert lines == [
        "Your answers scored 150 points.",
        "40 points (from 0 to 40) at £250.00 a point: £10,000.00.",
        "60 points (from 40 to 100) at £400.00 a point: £24,000.00.",
        "50 points (from 100 to 150) at £520.00 a point: £26,000.00.",
        "In total: £60,000.00 a year.",
    ]


def test_explain_states_the_modifier_and_the_changed_points():
    answers = outcome_answers(*["full_help"] * 3, night="occasional")
    lines = ras.explain(ras.price(EXAMPLE, answers, [CARER]))
    assert lines == [
        "Your answers scored 46 points.",
        "An unpaid carer gives regular support that they are willing and able to continue: "
        "this reduces the points by 10%.",
        "That makes 41.4 points.",
        "40 points (from 0 to 40) at £250.00 a point: £10,000.00.",
        "1.4 points (from 40 to 41.4) at £400.00 a point: £560.00.",
        "In total: £10,560.00 a year.",
    ]


def test_explain_says_an_increase_for_a_positive_modifier():
    lines = ras.explain(ras.price(hand_scheme(price="1.00"), {"q": "p10"}, ["plus"]))
    assert "Modifier plus: this increases the points by 10%." in lines
    assert "That makes 11 points." in lines


def test_explain_says_when_the_minimum_applies():
    lines = ras.explain(ras.price(EXAMPLE, outcome_answers("some_help")))
    assert lines[0] == "Your answers scored 4 points."
    assert "In total: £1,000.00 a year." in lines
    assert lines[-1] == "Every eligible budget is at least £2,000.00, so yours is that amount."


def test_explain_says_when_the_maximum_applies():
    scheme = hand_scheme(price="10.00", max_budget="100.00")
    lines = ras.explain(ras.price(scheme, {"q": "p25"}))
    assert lines[-2] == "In total: £250.00 a year."
    assert lines[-1] == "The scheme's highest budget is £100.00, so yours is that amount."


def test_explain_adds_no_clamping_sentence_inside_the_range():
    lines = ras.explain(ras.price(EXAMPLE, outcome_answers("some_help", "some_help")))
    assert lines == [
        "Your answers scored 8 points.",
        "8 points (from 0 to 8) at £250.00 a point: £2,000.00.",
        "In total: £2,000.00 a year.",
    ]


def test_pricing_as_dict_is_json_ready():
    pricing = ras.price(EXAMPLE, outcome_answers(*["full_help"] * 3, night="occasional"), [CARER])
    data = pricing.as_dict()
    assert data["points"] == "41.40"
    assert data["amount"] == "10560.00"
    assert data["clamped"] is None
    assert data["modifiers"] == [{"code": CARER, "text": EXAMPLE.modifiers[CARER].text, "percent": "-10"}]
    assert [b["price_per_point"] for b in data["bands"]] == ["250.00", "400.00"]
