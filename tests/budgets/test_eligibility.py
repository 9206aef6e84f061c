"""`ras.decide()`: the Care Act 2014 eligibility rule (PRODUCT.md §1) at its boundaries, and the
three reasons it always states."""

from decimal import Decimal

import pytest

from budgets import ras
from budgets.models import ELIGIBILITY_OUTCOMES
from budgets.ras import Answer, CompiledScheme, Question
from tests.budgets.conftest import OUTCOME_QUESTIONS, answers_with

pytestmark = pytest.mark.django_db

IMPAIRMENT_MET = "Their needs arise from a physical or mental impairment or illness."
IMPAIRMENT_NOT_MET = "Their needs were not found to arise from a physical or mental impairment or illness."
WELLBEING_MET = "As a result there is, or is likely to be, a significant impact on their wellbeing."
WELLBEING_NOT_MET = "No significant impact on their wellbeing was found."
NO_OUTCOMES = "They can achieve all ten outcomes. At least two must be unachievable."


def decide(compiled, answers, impairment=True, wellbeing_impact=True):
    return ras.decide(compiled, answers, impairment=impairment, wellbeing_impact=wellbeing_impact)


def hand_scheme(questions: dict[str, tuple[str, list[Answer]]]) -> CompiledScheme:
    return CompiledScheme(
        id=None,
        name="Hand-made",
        version=1,
        currency="GBP",
        price_per_point=Decimal("100.00"),
        min_budget=Decimal("0.00"),
        max_budget=Decimal("100000.00"),
        bands=(),
        questions={
            code: Question(code, domain, code.title(), "", {a.code: a for a in answers})
            for code, (domain, answers) in questions.items()
        },
        modifiers={},
    )


FINE = Answer("fine", "Manages", 0, False)


# --- The three conditions ------------------------------------------------------------------------


def test_two_unable_outcomes_with_impairment_and_wellbeing_impact_are_eligible(compiled, eligible_answers):
    decision = decide(compiled, eligible_answers)
    assert decision.eligible is True
    assert list(decision.unable_outcomes) == ["nutrition", "personal_hygiene"]


def test_one_unable_outcome_is_not_eligible(compiled):
    decision = decide(compiled, answers_with({"nutrition": "full_help"}))
    assert decision.eligible is False
    assert list(decision.unable_outcomes) == ["nutrition"]
    assert decision.reasons[1] == (
        "They cannot achieve 1 of the ten outcomes: managing and maintaining nutrition (needs assistance). "
        "At least two are needed."
    )


def test_no_unable_outcome_is_not_eligible(compiled):
    decision = decide(compiled, answers_with())
    assert decision.eligible is False
    assert decision.unable_outcomes == {}
    assert decision.reasons[1] == NO_OUTCOMES


@pytest.mark.parametrize(
    ("impairment", "unable", "wellbeing", "eligible"),
    [
        (True, 2, True, True),
        (False, 2, True, False),
        (None, 2, True, False),
        (True, 1, True, False),
        (True, 2, False, False),
        (True, 2, None, False),
        (False, 10, False, False),
        (True, 10, True, True),
    ],
)
def test_eligible_only_when_all_three_conditions_hold(compiled, impairment, unable, wellbeing, eligible):
    answers = answers_with(dict.fromkeys(OUTCOME_QUESTIONS[:unable], "some_help"))
    decision = decide(compiled, answers, impairment=impairment, wellbeing_impact=wellbeing)
    assert decision.eligible is eligible
    assert len(decision.unable_outcomes) == unable


def test_without_an_impairment_the_reason_says_so(compiled, eligible_answers):
    decision = decide(compiled, eligible_answers, impairment=False)
    assert decision.eligible is False
    assert decision.reasons[0] == IMPAIRMENT_NOT_MET
    assert decision.reasons[2] == WELLBEING_MET


def test_without_a_wellbeing_impact_the_reason_says_so(compiled, eligible_answers):
    decision = decide(compiled, eligible_answers, wellbeing_impact=False)
    assert decision.eligible is False
    assert decision.reasons[0] == IMPAIRMENT_MET
    assert decision.reasons[2] == WELLBEING_NOT_MET


def test_conditions_not_yet_answered_count_as_not_met(compiled, eligible_answers):
    decision = decide(compiled, eligible_answers, impairment=None, wellbeing_impact=None)
    assert decision.eligible is False
    assert decision.reasons == [IMPAIRMENT_NOT_MET, decision.reasons[1], WELLBEING_NOT_MET]


# --- What counts as an outcome --------------------------------------------------------------------


def test_other_questions_never_count_towards_outcomes_even_with_high_points(compiled):
    answers = answers_with({"nutrition": "full_help"}, night="every_night", risk="high")
    decision = decide(compiled, answers)
    assert decision.eligible is False
    assert list(decision.unable_outcomes) == ["nutrition"]
    # They still count for money.
    assert ras.price(compiled, answers).raw_points == 42


def test_an_unable_answer_in_the_other_domain_is_not_an_outcome():
    scheme = hand_scheme(
        {
            "meals": ("nutrition", [FINE, Answer("help", "Help", 4, True, "needs_assistance")]),
            "night": ("other", [FINE, Answer("always", "Always", 500, True, "endangers")]),
        }
    )
    decision = decide(scheme, {"meals": "help", "night": "always"})
    assert decision.eligible is False
    assert decision.unable_outcomes == {"nutrition": ["needs assistance"]}
    assert "other" not in decision.reasons[1].lower()


def test_two_unable_answers_in_the_same_outcome_count_once():
    scheme = hand_scheme(
        {
            "cooking": ("nutrition", [FINE, Answer("help", "Help", 4, True, "needs_assistance")]),
            "eating": ("nutrition", [FINE, Answer("help", "Help", 4, True, "pain_distress")]),
            "washing": ("personal_hygiene", [FINE, Answer("help", "Help", 4, True, "takes_longer")]),
        }
    )
    decision = decide(scheme, {"cooking": "help", "eating": "help", "washing": "fine"})
    assert decision.eligible is False
    assert decision.unable_outcomes == {
        "nutrition": ["needs assistance", "causes significant pain, distress or anxiety"]
    }
    assert decision.reasons[1].startswith("They cannot achieve 1 of the ten outcomes:")

    both = decide(scheme, {"cooking": "help", "eating": "help", "washing": "help"})
    assert both.eligible is True
    assert list(both.unable_outcomes) == ["nutrition", "personal_hygiene"]


def test_the_same_reason_twice_in_one_outcome_is_listed_once():
    scheme = hand_scheme(
        {
            "cooking": ("nutrition", [FINE, Answer("help", "Help", 4, True, "needs_assistance")]),
            "eating": ("nutrition", [FINE, Answer("help", "Help", 4, True, "needs_assistance")]),
        }
    )
    decision = decide(scheme, {"cooking": "help", "eating": "help"})
    assert decision.unable_outcomes == {"nutrition": ["needs assistance"]}


def test_an_unable_answer_without_a_reason_names_the_outcome_alone():
    scheme = hand_scheme(
        {
            "meals": ("nutrition", [FINE, Answer("help", "Help", 4, True)]),
            "washing": ("personal_hygiene", [FINE, Answer("help", "Help", 4, True, "endangers")]),
        }
    )
    decision = decide(scheme, {"meals": "help", "washing": "help"})
    assert decision.eligible is True
    assert decision.unable_outcomes == {
        "nutrition": [],
        "personal_hygiene": ["endangers their or others' health or safety"],
    }
    assert decision.reasons[1] == (
        "They cannot achieve 2 of the ten outcomes: managing and maintaining nutrition; "
        "maintaining personal hygiene (endangers their or others' health or safety)."
    )


def test_answers_with_points_but_not_unable_do_not_count():
    scheme = hand_scheme(
        {
            "meals": ("nutrition", [FINE, Answer("slow", "Slow", 10, False)]),
            "washing": ("personal_hygiene", [FINE, Answer("slow", "Slow", 10, False)]),
        }
    )
    decision = decide(scheme, {"meals": "slow", "washing": "slow"})
    assert decision.eligible is False
    assert decision.unable_outcomes == {}
    assert decision.reasons[1] == NO_OUTCOMES


# --- Reasons --------------------------------------------------------------------------------------


def test_reasons_name_the_outcomes_and_why_in_outcome_order(compiled):
    # Given in reverse order; listed in the order of the ten outcomes.
    answers = answers_with({"community": "some_help", "hygiene": "some_help", "nutrition": "some_help"})
    decision = decide(compiled, answers)
    assert decision.eligible is True
    assert decision.reasons == [
        IMPAIRMENT_MET,
        "They cannot achieve 3 of the ten outcomes: managing and maintaining nutrition (needs assistance); "
        "maintaining personal hygiene (takes significantly longer than would normally be expected); "
        "making use of necessary facilities or services in the local community "
        "(causes significant pain, distress or anxiety).",
        WELLBEING_MET,
    ]
    assert list(decision.unable_outcomes) == ["nutrition", "personal_hygiene", "community"]


def test_every_outcome_unable_lists_all_ten(compiled):
    answers = answers_with(dict.fromkeys(OUTCOME_QUESTIONS, "full_help"))
    decision = decide(compiled, answers)
    assert decision.eligible is True
    assert list(decision.unable_outcomes) == ELIGIBILITY_OUTCOMES
    assert decision.reasons[1].startswith("They cannot achieve 10 of the ten outcomes:")
    assert "At least two" not in decision.reasons[1]


@pytest.mark.parametrize("impairment", [True, False, None])
@pytest.mark.parametrize("wellbeing", [True, False, None])
@pytest.mark.parametrize("unable", [0, 1, 2, 5])
def test_reasons_always_have_three_sentences(compiled, impairment, wellbeing, unable):
    answers = answers_with(dict.fromkeys(OUTCOME_QUESTIONS[:unable], "lots_of_help"))
    decision = decide(compiled, answers, impairment=impairment, wellbeing_impact=wellbeing)
    assert len(decision.reasons) == 3
    assert decision.reasons[0] == (IMPAIRMENT_MET if impairment else IMPAIRMENT_NOT_MET)
    assert decision.reasons[2] == (WELLBEING_MET if wellbeing else WELLBEING_NOT_MET)
    assert all(reason.endswith(".") for reason in decision.reasons)
    if unable:
        assert decision.reasons[1].startswith(f"They cannot achieve {unable} of the ten outcomes:")
    else:
        assert decision.reasons[1] == NO_OUTCOMES
