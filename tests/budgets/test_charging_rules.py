"""`charging.assess()` and `charging.tariff_income()` against the charging rules (Care Act), by
hand-worked examples with the arithmetic written out, and by hypothesis properties.

The rules:
- capital at or below the lower limit (£14,250) is ignored; above the upper limit (£23,250) the
  person pays the full cost; in between, tariff income of £1 a week for every £250, or part of
  £250, above the lower limit;
- income is weekly amounts by kind; some kinds are disregarded in full (earnings, PIP mobility,
  DLA mobility);
- allowances: the Minimum Income Guarantee (MIG) for the person's band, housing costs, and
  disability-related expenditure (DRE);
- weekly contribution = (income counted + tariff − housing − DRE − MIG) × taper, never below
  zero, rounded to the penny (half up); declined, or capital above the upper limit → full cost.

Pure tests: the rules are built directly with the example policy's figures (migration 0010),
no database."""

import importlib
import math
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets import charging
from budgets.charging import Item, Rules
from budgets.models.charging import Band, IncomeKind, default_disregarded_income

D = Decimal
# The example policy's Minimum Income Guarantee, from the migration that ships it.
EXAMPLE_POLICY = importlib.import_module("budgets.migrations.0010_example_charging_policy")
EXAMPLE_MIG = {band: D(amount) for band, amount in EXAMPLE_POLICY.EXAMPLE_MIG.items()}
LABELS = {kind.value: str(kind.label) for kind in IncomeKind}


def rules(**overrides) -> Rules:
    """The example policy's rules: £14,250 / £23,250, £1 per £250, 100% taper, the example MIG,
    earnings and the mobility parts disregarded."""
    values = {
        "lower_capital_limit": D("14250"),
        "upper_capital_limit": D("23250"),
        "tariff_step": D("250"),
        "taper_percent": D("100"),
        "minimum_income_guarantee": dict(EXAMPLE_MIG),
        "disregarded_income": frozenset(default_disregarded_income()),
    }
    values.update(overrides)
    return Rules(**values)


RULES = rules()


def assess(
    *,
    band=Band.PENSION_AGE,
    capital="0",
    income=(),
    housing=(),
    dre=(),
    declined=False,
    with_rules=RULES,
):
    return charging.assess(
        with_rules,
        band=band,
        capital=D(capital),
        income=[Item(label, D(amount)) for label, amount in income],
        housing_costs=[Item(label, D(amount)) for label, amount in housing],
        disability_related_expenditure=[Item(label, D(amount)) for label, amount in dre],
        declined=declined,
        income_labels=LABELS,
    )


def line(result, starts_with: str):
    """The one explanation line whose text starts with `starts_with`."""
    matches = [entry for entry in result.explanation if entry[0].startswith(starts_with)]
    assert len(matches) == 1, (starts_with, result.explanation)
    return matches[0]


def assessable_lines(result):
    """The lines from "Weekly income counted" up to (not including) "What is left"."""
    texts = [text for text, _ in result.explanation]
    start = texts.index("Weekly income counted")
    end = texts.index("What is left (assessable income)")
    return result.explanation[start:end]


# ---------------------------------------------------------------------------------------------
# The example policy's figures


def test_example_mig_has_an_amount_for_every_band_and_nothing_else():
    assert set(EXAMPLE_MIG) == {band.value for band in Band}


def test_the_default_disregards_are_earnings_and_the_mobility_parts():
    assert set(default_disregarded_income()) == {"earnings", "pip_mobility", "dla_mobility"}


# ---------------------------------------------------------------------------------------------
# Hand-worked examples


def test_nil_contribution_when_income_is_below_the_mig():
    # Pension age, single: MIG £228.70. State Pension £221.20; capital £5,000 (below £14,250: no tariff).
    #   221.20 + 0 − 0 − 0 − 228.70 = −7.50  →  never below zero  →  £0.00 a week.
    result = assess(band=Band.PENSION_AGE, capital="5000", income=[("state_pension", "221.20")])

    assert result.full_cost is False
    assert result.weekly_contribution == D("0.00")
    assert result.income_counted == D("221.20")
    assert result.tariff_income == 0
    assert result.minimum_income_guarantee == D("228.70")
    assert line(result, "What is left")[1] == D("-7.50")
    assert line(result, "Nothing is left")[1] == 0
    assert result.explanation[-1][1] == D("0.00")


def test_nil_contribution_when_income_exactly_equals_the_mig():
    # 25 to pension age, single: MIG £164.00. ESA £164.00.  164.00 − 164.00 = 0.00  →  £0.00.
    result = assess(band=Band.AGE_25_TO_PENSION, income=[("esa", "164.00")])

    assert result.weekly_contribution == D("0.00")
    assert line(result, "What is left")[1] == 0


def test_partial_contribution_with_tariff_housing_costs_and_several_dre_items():
    # 25 to pension age, single: MIG £164.00.
    # Income counted: ESA 138.20 + PIP daily living 108.55 + other 10.00            = 256.75
    # Capital £15,100: 15,100 − 14,250 = 850; 850 / 250 = 3.4 → 4 (part of £250)  →  tariff  4.00
    # Housing: rent not covered 15.50 + council tax 6.25                            =  21.75
    # DRE: extra heating 8.40 + extra laundry 4.10 + community alarm 3.25           =  15.75
    # 256.75 + 4.00 − 21.75 − 15.75 − 164.00 = 59.25 a week (taper 100%).
    result = assess(
        band=Band.AGE_25_TO_PENSION,
        capital="15100",
        income=[("esa", "138.20"), ("pip_daily_living", "108.55"), ("other", "10.00")],
        housing=[("Rent not covered by Housing Benefit", "15.50"), ("Council tax", "6.25")],
        dre=[("Extra heating", "8.40"), ("Extra laundry", "4.10"), ("Community alarm", "3.25")],
    )

    assert result.full_cost is False
    assert result.income_counted == D("256.75")
    assert result.tariff_income == D("4")
    assert result.minimum_income_guarantee == D("164.00")
    assert result.weekly_contribution == D("59.25")

    # Every line of the working, with its amount, in order.
    assert result.explanation == [
        ("Employment and Support Allowance: counted", D("138.20")),
        ("PIP daily living: counted", D("108.55")),
        ("Other income: counted", D("10.00")),
        ("Weekly income counted", D("256.75")),
        (
            "Tariff income: £1 a week for every £250.00 (or part) of your capital (£15,100.00) above £14,250.00",
            D("4"),
        ),
        ("Less housing cost: Rent not covered by Housing Benefit", D("-15.50")),
        ("Less housing cost: Council tax", D("-6.25")),
        ("Less disability-related expenditure: Extra heating", D("-8.40")),
        ("Less disability-related expenditure: Extra laundry", D("-4.10")),
        ("Less disability-related expenditure: Community alarm", D("-3.25")),
        ("Less the Minimum Income Guarantee for your circumstances", D("-164.00")),
        ("What is left (assessable income)", D("59.25")),
        ("Your weekly contribution (never more than the cost of your care)", D("59.25")),
    ]


def test_explanation_lines_from_income_counted_onward_add_up_to_the_assessable_figure():
    # Same figures as above: 256.75 + 4 − 15.50 − 6.25 − 8.40 − 4.10 − 3.25 − 164.00 = 59.25.
    result = assess(
        band=Band.AGE_25_TO_PENSION,
        capital="15100",
        income=[("esa", "138.20"), ("pip_daily_living", "108.55"), ("other", "10.00"), ("earnings", "50.00")],
        housing=[("Rent not covered by Housing Benefit", "15.50"), ("Council tax", "6.25")],
        dre=[("Extra heating", "8.40"), ("Extra laundry", "4.10"), ("Community alarm", "3.25")],
    )
    what_is_left = line(result, "What is left")[1]

    assert sum(amount for _, amount in assessable_lines(result)) == what_is_left == D("59.25")
    # The income lines above "Weekly income counted" add up to it (a disregarded line shows £0).
    texts = [text for text, _ in result.explanation]
    income_lines = result.explanation[: texts.index("Weekly income counted")]
    assert sum(amount for _, amount in income_lines) == line(result, "Weekly income counted")[1]
    assert result.explanation[-1][1] == result.weekly_contribution


def test_disregarded_kinds_are_not_counted_but_are_listed_in_the_explanation():
    # Pension age, single: MIG £228.70.
    # Counted: State Pension 221.20 + private pension 60.00                           = 281.20
    # Disregarded: earnings 95.00, PIP mobility 28.70, DLA mobility 26.90 (not counted)
    # 281.20 − 228.70 = 52.50 a week.
    result = assess(
        band=Band.PENSION_AGE,
        income=[
            ("state_pension", "221.20"),
            ("earnings", "95.00"),
            ("pip_mobility", "28.70"),
            ("private_pension", "60.00"),
            ("dla_mobility", "26.90"),
        ],
    )

    assert result.income_counted == D("281.20")
    assert result.weekly_contribution == D("52.50")
    # Each says how much was left out, so the person sees it was not forgotten.
    assert line(result, "Earnings from work (") == ("Earnings from work (£95.00): not counted (disregarded)", D("0"))
    assert line(result, "PIP mobility (") == ("PIP mobility (£28.70): not counted (disregarded)", D("0"))
    assert line(result, "DLA mobility (") == ("DLA mobility (£26.90): not counted (disregarded)", D("0"))
    assert line(result, "State Pension:") == ("State Pension: counted", D("221.20"))
    assert line(result, "Private or workplace pension:") == ("Private or workplace pension: counted", D("60.00"))
    assert line(result, "Weekly income counted")[1] == D("281.20")


@pytest.mark.parametrize("kind", ["earnings", "pip_mobility", "dla_mobility"])
def test_a_disregarded_kind_alone_changes_nothing(kind):
    # 18 to 24, single: MIG £136.00. Universal Credit 150.00 → 150.00 − 136.00 = 14.00, with or
    # without £500 a week of a disregarded kind on top.
    without = assess(band=Band.AGE_18_TO_24, income=[("universal_credit", "150.00")])
    with_it = assess(band=Band.AGE_18_TO_24, income=[("universal_credit", "150.00"), (kind, "500.00")])

    assert without.weekly_contribution == with_it.weekly_contribution == D("14.00")
    assert with_it.income_counted == D("150.00")
    assert line(with_it, f"{LABELS[kind]} (")[0].endswith("not counted (disregarded)")


def test_disregards_follow_the_policy_not_a_fixed_list():
    # A policy that disregards nothing counts earnings: 150.00 + 20.00 − 136.00 = 34.00.
    result = assess(
        band=Band.AGE_18_TO_24,
        income=[("universal_credit", "150.00"), ("earnings", "20.00")],
        with_rules=rules(disregarded_income=frozenset()),
    )
    assert result.income_counted == D("170.00")
    assert result.weekly_contribution == D("34.00")


@pytest.mark.parametrize(
    ("capital", "tariff"),
    [
        ("0", 0),  # nothing
        ("14249.99", 0),  # below the lower limit
        ("14250.00", 0),  # exactly at the lower limit: ignored
        ("14250.01", 1),  # 0.01 over: a part of £250 → £1
        ("14500.00", 1),  # 250 over: exactly one £250 → £1
        ("14500.01", 2),  # 250.01 over: one £250 and a part → £2
        ("14750.00", 2),  # 500 over → £2
        ("15250.00", 4),  # 1,000 over: 1000 / 250 = 4 → £4
        ("15250.01", 5),  # 1,000.01 over → £5
        ("23249.99", 36),  # 8,999.99 over: 35.99996 → 36
        ("23250.00", 36),  # exactly at the upper limit: 9,000 / 250 = 36 → £36
    ],
)
def test_tariff_income_is_one_pound_for_every_250_or_part_above_the_lower_limit(capital, tariff):
    assert charging.tariff_income(D(capital), RULES) == tariff


@pytest.mark.parametrize(
    ("capital", "tariff", "contribution"),
    [
        # Pension age: MIG 228.70; State Pension 300.00 → 300.00 − 228.70 = 71.30 before tariff.
        ("14250.00", 0, "71.30"),  # 71.30 + 0
        ("14250.01", 1, "72.30"),  # 71.30 + 1
        ("14500.00", 1, "72.30"),  # 71.30 + 1
        ("14500.01", 2, "73.30"),  # 71.30 + 2
        ("15250.00", 4, "75.30"),  # 71.30 + 4
        ("23249.99", 36, "107.30"),  # 71.30 + 36
        ("23250.00", 36, "107.30"),  # at the upper limit: still assessed, 71.30 + 36
    ],
)
def test_tariff_income_is_added_to_the_assessable_income(capital, tariff, contribution):
    result = assess(capital=capital, income=[("state_pension", "300.00")])

    assert result.full_cost is False
    assert result.tariff_income == tariff
    assert result.weekly_contribution == D(contribution)
    assert line(result, "Tariff income:" if tariff else "Your capital")[1] == tariff


def test_capital_at_the_lower_limit_explains_there_is_no_tariff_income():
    result = assess(capital="14250", income=[("state_pension", "300.00")])
    assert line(result, "Your capital") == (
        "Your capital (£14,250.00) is not above £14,250.00: no tariff income",
        D("0"),
    )


@pytest.mark.parametrize("capital", ["23250.01", "23251", "100000", "1000000.00"])
def test_capital_above_the_upper_limit_means_full_cost(capital):
    # One penny over £23,250 → full cost, whatever the income and allowances.
    result = assess(
        band=Band.AGE_18_TO_24,
        capital=capital,
        income=[("esa", "10.00")],
        housing=[("Rent", "500.00")],
        dre=[("Heating", "100.00")],
    )

    assert result.full_cost is True
    assert result.weekly_contribution is None
    assert result.explanation == [
        (
            f"Your savings and other capital ({charging.format_money(D(capital))}) are above the upper limit of "
            "£23,250.00, so you pay the full cost of your care.",
            D(capital),
        )
    ]


@pytest.mark.parametrize(
    ("band", "mig", "contribution"),
    [
        # Income 300.00 (Pension Credit), no capital, no costs: 300.00 − MIG.
        (Band.AGE_18_TO_24, "136.00", "164.00"),  # 300.00 − 136.00
        (Band.AGE_18_TO_24_COUPLE, "106.00", "194.00"),  # 300.00 − 106.00
        (Band.AGE_25_TO_PENSION, "164.00", "136.00"),  # 300.00 − 164.00
        (Band.AGE_25_TO_PENSION_COUPLE, "128.00", "172.00"),  # 300.00 − 128.00
        (Band.PENSION_AGE, "228.70", "71.30"),  # 300.00 − 228.70
        (Band.PENSION_AGE_COUPLE, "174.60", "125.40"),  # 300.00 − 174.60
    ],
)
def test_each_band_uses_its_own_mig(band, mig, contribution):
    result = assess(band=band, income=[("pension_credit", "300.00")])

    assert result.minimum_income_guarantee == D(mig)
    assert line(result, "Less the Minimum Income Guarantee")[1] == -D(mig)
    assert result.weekly_contribution == D(contribution)


def test_an_unknown_band_is_refused():
    with pytest.raises(KeyError):
        assess(band="retired_astronaut", income=[("state_pension", "300.00")])


def test_taper_50_percent_rounds_a_half_penny_up():
    # Pension age: MIG 228.70. State Pension 300.03 → 300.03 − 228.70 = 71.33.
    # 71.33 × 50% = 35.665 → half up → £35.67 (banker's rounding would give 35.66).
    result = assess(income=[("state_pension", "300.03")], with_rules=rules(taper_percent=D("50")))

    assert line(result, "What is left")[1] == D("71.33")
    assert result.weekly_contribution == D("35.67")
    assert D("35.665").quantize(D("0.01"), rounding=ROUND_HALF_EVEN) == D("35.66")  # the trap avoided
    assert line(result, "Taper:") == ("Taper: 50% of it is charged", D("35.67"))
    assert result.explanation[-1][1] == D("35.67")


def test_taper_50_percent_of_one_penny_is_one_penny():
    # 228.71 − 228.70 = 0.01; × 50% = 0.005 → half up → £0.01 (banker's: 0.00).
    result = assess(income=[("state_pension", "228.71")], with_rules=rules(taper_percent=D("50")))
    assert result.weekly_contribution == D("0.01")


def test_taper_does_not_make_a_negative_assessable_income_a_charge():
    # 200.00 − 228.70 = −28.70 → × 50% = −14.35 → never below zero → £0.00.
    result = assess(income=[("state_pension", "200.00")], with_rules=rules(taper_percent=D("50")))
    assert result.weekly_contribution == D("0.00")
    assert line(result, "Nothing is left")[1] == 0


def test_a_100_percent_taper_written_with_decimals_adds_no_taper_line():
    result = assess(income=[("state_pension", "300.00")], with_rules=rules(taper_percent=D("100.00")))
    assert result.weekly_contribution == D("71.30")
    assert not [text for text, _ in result.explanation if text.startswith("Taper")]


@pytest.mark.parametrize(
    "figures",
    [
        {"capital": "0", "income": []},
        {"capital": "0", "income": [("state_pension", "1000.00")]},
        {"capital": "20000", "income": [("esa", "500.00")], "housing": [("Rent", "10.00")]},
        {"capital": "1000000", "income": [("earnings", "50.00")]},
    ],
)
def test_declined_means_full_cost_whatever_the_figures(figures):
    result = assess(declined=True, **figures)

    assert result.full_cost is True
    assert result.weekly_contribution is None
    assert result.tariff_income == 0
    assert result.income_counted == 0
    assert result.explanation == [
        ("You chose not to have a financial assessment, so you pay the full cost of your care.", None)
    ]


# ---------------------------------------------------------------------------------------------
# Properties

COUNTED_KINDS = sorted({kind.value for kind in IncomeKind} - set(default_disregarded_income()))
DISREGARDED_KINDS = sorted(default_disregarded_income())
UPPER = RULES.upper_capital_limit
LOWER = RULES.lower_capital_limit


def pence(max_pounds: int) -> st.SearchStrategy[Decimal]:
    """A non-negative whole number of pence, as pounds."""
    return st.integers(min_value=0, max_value=max_pounds * 100).map(lambda p: D(p).scaleb(-2))


weekly = pence(2000)
capital_below_upper = pence(int(UPPER)).filter(lambda c: c <= UPPER)
any_capital = pence(60000)
bands = st.sampled_from([band.value for band in Band])
tapers = st.integers(min_value=0, max_value=10000).map(lambda p: D(p).scaleb(-2))
income_items = st.lists(st.tuples(st.sampled_from(sorted(k.value for k in IncomeKind)), weekly), max_size=5)
cost_items = st.lists(st.tuples(st.sampled_from(["Rent", "Council tax", "Heating", "Laundry"]), weekly), max_size=4)


def run(rules_, band, capital, income, housing, dre, declined=False):
    return charging.assess(
        rules_,
        band=band,
        capital=capital,
        income=[Item(label, amount) for label, amount in income],
        housing_costs=[Item(label, amount) for label, amount in housing],
        disability_related_expenditure=[Item(label, amount) for label, amount in dre],
        declined=declined,
    )


@settings(max_examples=300)
@given(
    band=bands,
    capital=any_capital,
    income=income_items,
    housing=cost_items,
    dre=cost_items,
    taper=tapers,
    declined=st.booleans(),
)
def test_contribution_is_never_negative_and_a_whole_number_of_pence(
    band, capital, income, housing, dre, taper, declined
):
    result = run(rules(taper_percent=taper), band, capital, income, housing, dre, declined)

    # Full cost if and only if declined, or capital above the upper limit.
    assert result.full_cost is (declined or capital > UPPER)
    if result.full_cost:
        assert result.weekly_contribution is None
        return
    contribution = result.weekly_contribution
    assert contribution >= 0
    assert contribution == contribution.quantize(D("0.01"))
    assert contribution.as_tuple().exponent == -2
    # The explanation's working adds up, and ends with the contribution.
    assert sum(amount for _, amount in assessable_lines(result)) == line(result, "What is left")[1]
    assert result.explanation[-1][1] == contribution


@settings(max_examples=200)
@given(
    band=bands,
    capital=capital_below_upper,
    income=income_items,
    housing=cost_items,
    dre=cost_items,
    taper=tapers,
    extra_kind=st.sampled_from(COUNTED_KINDS),
    extra=weekly,
)
def test_more_counted_income_never_lowers_the_contribution(
    band, capital, income, housing, dre, taper, extra_kind, extra
):
    rules_ = rules(taper_percent=taper)
    before = run(rules_, band, capital, income, housing, dre).weekly_contribution
    after = run(rules_, band, capital, [*income, (extra_kind, extra)], housing, dre).weekly_contribution
    assert after >= before


@settings(max_examples=200)
@given(
    band=bands,
    capital=capital_below_upper,
    income=income_items,
    housing=cost_items,
    dre=cost_items,
    taper=tapers,
    extra_kind=st.sampled_from(DISREGARDED_KINDS),
    extra=weekly,
)
def test_disregarded_income_never_changes_the_contribution(
    band, capital, income, housing, dre, taper, extra_kind, extra
):
    rules_ = rules(taper_percent=taper)
    before = run(rules_, band, capital, income, housing, dre)
    after = run(rules_, band, capital, [*income, (extra_kind, extra)], housing, dre)
    assert after.weekly_contribution == before.weekly_contribution
    assert after.income_counted == before.income_counted


@settings(max_examples=200)
@given(
    band=bands,
    capitals=st.tuples(capital_below_upper, capital_below_upper).map(sorted),
    income=income_items,
    housing=cost_items,
    dre=cost_items,
    taper=tapers,
)
def test_more_capital_never_lowers_the_contribution_below_the_upper_limit(band, capitals, income, housing, dre, taper):
    low, high = capitals
    rules_ = rules(taper_percent=taper)
    at_low = run(rules_, band, low, income, housing, dre)
    at_high = run(rules_, band, high, income, housing, dre)
    assert at_high.tariff_income >= at_low.tariff_income
    assert at_high.weekly_contribution >= at_low.weekly_contribution


@settings(max_examples=200)
@given(
    band=bands,
    capital=capital_below_upper,
    income=income_items,
    housing=cost_items,
    dre=cost_items,
    taper=tapers,
    extra=weekly,
    to_housing=st.booleans(),
)
def test_more_housing_costs_or_dre_never_raise_the_contribution(
    band, capital, income, housing, dre, taper, extra, to_housing
):
    rules_ = rules(taper_percent=taper)
    before = run(rules_, band, capital, income, housing, dre).weekly_contribution
    if to_housing:
        housing = [*housing, ("Service charge", extra)]
    else:
        dre = [*dre, ("Special diet", extra)]
    after = run(rules_, band, capital, income, housing, dre).weekly_contribution
    assert after <= before


@settings(max_examples=300)
@given(band=bands, capital=capital_below_upper, income=income_items, housing=cost_items, dre=cost_items)
def test_with_a_100_percent_taper_and_no_disregards_the_contribution_is_the_plain_sum(
    band, capital, income, housing, dre
):
    rules_ = rules(disregarded_income=frozenset())
    result = run(rules_, band, capital, income, housing, dre)

    above = capital - LOWER
    tariff = D(math.ceil(above / 250)) if above > 0 else D(0)
    expected = max(
        D(0),
        sum((amount for _, amount in income), D(0))
        + tariff
        - sum((amount for _, amount in housing), D(0))
        - sum((amount for _, amount in dre), D(0))
        - EXAMPLE_MIG[band],
    )
    assert result.full_cost is False
    assert result.tariff_income == tariff
    assert result.weekly_contribution == expected


@settings(max_examples=300)
@given(capital=any_capital)
def test_tariff_income_is_the_number_of_250s_or_parts_above_the_lower_limit(capital):
    tariff = charging.tariff_income(capital, RULES)
    above = capital - LOWER
    if above <= 0:
        assert tariff == 0
    else:
        # £1 for every £250 or part: the smallest whole number of £250s that covers what is above.
        assert tariff == int(tariff)
        assert (tariff - 1) * 250 < above <= tariff * 250
