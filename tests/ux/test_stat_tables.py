"""The open statistics pages' table rows, built by `stat_charts` tags rather than a template loop:
the same cells a reader gets, text escaped, groups too small to show said so."""

from __future__ import annotations

from decimal import Decimal

from accounts.templatetags.stat_charts import approval_times_rows, spend_rows


def test_approval_rows_show_figures_and_hide_small_groups():
    html = approval_times_rows(
        [
            {"month": "2026-11", "count": 12, "median_days": 3.5, "p90_days": 10.0, "suppressed": False},
            {"month": "2026-12", "count": None, "median_days": None, "p90_days": None, "suppressed": True},
        ],
        5,
    )
    first, second = html.split("\n  ")
    assert first == (
        '<tr class="govuk-table__row"><td class="govuk-table__cell">November 2026</td>'
        '<td class="govuk-table__cell govuk-table__cell--numeric">12</td>'
        '<td class="govuk-table__cell govuk-table__cell--numeric">3.5</td>'
        '<td class="govuk-table__cell govuk-table__cell--numeric">10.0</td></tr>'
    )
    assert "December 2026" in second
    assert 'colspan="3">Fewer than 5: not shown</td>' in second
    assert "None" not in second


def test_spend_rows_escape_text_and_format_money():
    html = spend_rows(
        [
            {"month": "2026-10", "category_label": "<b>Day & night</b>", "payments": 7,
             "amount": Decimal("12345.5"), "suppressed": False},
            {"month": "2026-10", "category_label": "Respite", "payments": None, "amount": None, "suppressed": True},
        ],
        5,
    )  # fmt: skip
    assert "&lt;b&gt;Day &amp; night&lt;/b&gt;" in html
    assert "<b>" not in html
    assert ">7</td>" in html
    assert "£12,345.50" in html
    assert 'colspan="2">Fewer than 5: not shown</td>' in html


def test_empty_tables_say_so():
    assert "No plans yet." in approval_times_rows([], 5)
    assert "Nothing paid yet." in spend_rows([], 5)
