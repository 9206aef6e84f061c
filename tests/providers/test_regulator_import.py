"""Importing the CQC care directory and CQC ratings (`providers.regulator_import` and the
`import_cqc_directory` / `import_regulator_ratings` commands; PRODUCT.md §6)."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from accounts.exceptions import ActionNotAllowed, InvalidInput
from accounts.models import AuditAction, AuditEvent
from providers.models import Provider, ProviderStatus, RegulatorRating
from providers.regulator_import import (
    RegulatorFileInvalid,
    import_cqc_directory,
    import_regulator_ratings,
    normalise_website,
    parse_cqc_date,
    parse_publication_date,
)
from tests.factories import ProviderFactory

PREAMBLE = [
    ["Care directory with filters"],
    ["Data as at: 01 May 2024"],
    ["Source: Care Quality Commission"],
    [],
]
HEADER = [
    "Name",
    "Also known as",
    "Address",
    "Postcode",
    "Phone number",
    "Service's website (if available)",
    "Service types",
    "Date of latest check",
    "Specialisms/services",
    "Provider name",
    "Local authority",
    "Region",
    "Location URL",
    "CQC Location ID (for office use only)",
    "CQC Provider ID (for office use only)",
]


def location(**cells) -> dict:
    n = cells.pop("n", 1)
    row = {
        "Name": f"Sunrise Home Care {n}",
        "Also known as": "",
        "Address": f"{n} High Street, Northford",
        "Postcode": "nf1 2ab",
        "Phone number": "01234 567890",
        "Service's website (if available)": "www.sunrise.example",
        "Service types": "Homecare agencies",
        "Date of latest check": "06/Aug/2019 - 10:15",
        "Specialisms/services": "Dementia|Physical disabilities",
        "Provider name": "Sunrise Ltd",
        "Local authority": "Northford",
        "Region": "North",
        "Location URL": f"https://www.cqc.org.uk/location/1-{100 + n}",
        "CQC Location ID (for office use only)": f"1-{100 + n}",
        "CQC Provider ID (for office use only)": "1-900",
    }
    row.update(cells)
    return row


def directory_text(rows, *, header=HEADER, preamble=PREAMBLE, trailing_blank_lines=2) -> str:
    """The directory as published: preamble, header, rows (the header's order), blank lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(preamble)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in HEADER] if isinstance(row, dict) else row)
    return out.getvalue() + "\r\n" * trailing_blank_lines


def ratings_text(rows, *, header=("Location ID", "Overall rating", "Publication date")) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def snapshot() -> tuple:
    return (
        list(Provider.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


# With PREAMBLE the header is on line 5, so data rows start on line 6.
FIRST = 6


# --------------------------------------------------------------------------------------------
# The care directory


@pytest.mark.django_db
def test_well_formed_directory_file_creates_pending_providers_with_every_field(tmp_path):
    path = tmp_path / "directory.csv"
    text = directory_text([location(n=1), location(n=2, **{"Service's website (if available)": ""})])
    path.write_text(text, encoding="utf-8-sig", newline="")

    report = import_cqc_directory(text_or_path=path)

    assert (report.rows, report.created, report.updated, report.unchanged, report.skipped) == (2, 2, 0, 0, [])
    first = Provider.objects.get(regulator_id="1-101")
    assert first.name == "Sunrise Home Care 1"
    assert first.address == "1 High Street, Northford"
    assert first.postcode == "NF1 2AB"
    assert first.phone == "01234 567890"
    assert first.website == "https://www.sunrise.example"
    assert first.regulator_provider_id == "1-900"
    assert first.regulator_checked_at == datetime.date(2019, 8, 6)
    assert first.areas_served == ["NF1"]
    assert first.status == ProviderStatus.PENDING
    assert first.regulator_rating == RegulatorRating.NOT_YET_RATED
    assert Provider.objects.get(regulator_id="1-102").website == ""
    created = AuditEvent.objects.filter(action=AuditAction.CREATE, target_id=str(first.pk)).get()
    assert created.actor is None
    assert created.changes == {"name": "Sunrise Home Care 1", "regulator_id": "1-101"}
    assert created.message == f"Imported from the CQC care directory, line {FIRST}"


@pytest.mark.django_db
def test_file_with_bad_rows_imports_the_good_ones_and_reports_each_bad_one_with_its_line():
    rows = [
        location(n=1),  # line 6: fine
        location(n=2, **{"CQC Location ID (for office use only)": ""}),  # 7
        location(n=3, Name="  "),  # 8
        location(n=4, **{"Date of latest check": "31/Feb/2019 - 10:15"}),  # 9
        location(n=5, **{"CQC Location ID (for office use only)": "1-101"}),  # 10: 1-101 again
        location(n=6, **{"Service's website (if available)": "not a website"}),  # 11
        ["Short row", "", "Somewhere"],  # 12
        location(n=7, Name="N" * 201),  # 13
        location(n=8, **{"Date of latest check": ""}),  # 14: fine, never checked
    ]
    before = AuditEvent.objects.count()

    report = import_cqc_directory(text_or_path=directory_text(rows))

    assert report.skipped == [
        "line 7: no CQC location ID.",
        "line 8: no name for CQC location ID 1-103.",
        "line 9: “31/Feb/2019 - 10:15” is not a date of latest check like 06/Aug/2019 - 10:15.",
        "line 10: CQC location ID 1-101 is already on line 6; only that row is imported.",
        "line 11: “not a website” is not a website address.",
        "line 12: this row has 3 cells but the header has 15.",
        "line 13: the name is longer than 200 characters.",
    ]
    assert (report.rows, report.created, report.updated, report.unchanged) == (9, 2, 0, 0)
    assert sorted(Provider.objects.values_list("regulator_id", flat=True)) == ["1-101", "1-108"]
    assert Provider.objects.get(regulator_id="1-101").name == "Sunrise Home Care 1"
    assert Provider.objects.get(regulator_id="1-108").regulator_checked_at is None
    assert AuditEvent.objects.count() == before + 2


@pytest.mark.django_db
def test_skipped_rows_are_named_by_the_file_line_even_after_a_cell_that_spans_lines():
    rows = [location(n=1, Address="1 High Street\nNorthford"), location(n=2, Name="")]  # lines 6-7, 8
    report = import_cqc_directory(text_or_path=directory_text(rows))
    assert report.skipped == ["line 8: no name for CQC location ID 1-102."]
    assert Provider.objects.get(regulator_id="1-101").address == "1 High Street Northford"


@pytest.mark.django_db
@pytest.mark.parametrize("dropped", ["Name", "CQC Location ID (for office use only)", "Date of latest check"])
def test_directory_missing_a_required_column_is_refused_and_nothing_is_written(dropped):
    ProviderFactory(regulator_id="1-101", name="Old name")
    header = [name for name in HEADER if name != dropped]
    rows = [[location(n=1, Name="New name")[name] for name in header]]
    before = snapshot()

    with pytest.raises(RegulatorFileInvalid) as info:
        import_cqc_directory(text_or_path=directory_text(rows, header=header))

    assert isinstance(info.value, InvalidInput)
    assert info.value.errors == {"file": [f"line 5: the header has no “{dropped}” column."]}
    assert snapshot() == before


@pytest.mark.django_db
def test_directory_naming_a_column_twice_is_refused_and_nothing_is_written():
    header = [*HEADER, "Postcode"]
    rows = [[*location(n=1).values(), "NF9 9ZZ"]]
    with pytest.raises(RegulatorFileInvalid, match="the “Postcode” column is given twice"):
        import_cqc_directory(text_or_path=directory_text(rows, header=header))
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_file_that_is_not_the_directory_is_refused():
    with pytest.raises(RegulatorFileInvalid, match="No header row found in the first 20 lines"):
        import_cqc_directory(text_or_path="id,score\n1,2\n")
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(directory_text([location(n=1, Name="Café Care")]).encode("latin-1"))
    with pytest.raises(RegulatorFileInvalid, match="not UTF-8 text"):
        import_cqc_directory(text_or_path=path)
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_reimporting_the_same_file_creates_no_duplicates_and_reports_every_row_unchanged():
    text = directory_text([location(n=1), location(n=2), location(n=3)])
    import_cqc_directory(text_or_path=text)
    before = snapshot()

    report = import_cqc_directory(text_or_path=text)

    assert (report.created, report.updated, report.unchanged, report.skipped) == (0, 0, 3, [])
    assert snapshot() == before


@pytest.mark.django_db
def test_changed_row_updates_the_provider_and_writes_an_audit_row():
    import_cqc_directory(text_or_path=directory_text([location(n=1), location(n=2)]))
    changed = location(n=1, **{"Phone number": "01234 000000", "Date of latest check": "01/Mar/2024 - 09:00"})

    report = import_cqc_directory(text_or_path=directory_text([changed, location(n=2)]))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    provider = Provider.objects.get(regulator_id="1-101")
    assert provider.phone == "01234 000000"
    assert provider.regulator_checked_at == datetime.date(2024, 3, 1)
    audit = AuditEvent.objects.filter(action=AuditAction.UPDATE, target_id=str(provider.pk)).get()
    assert audit.changes == {
        "phone": {"from": "01234 567890", "to": "01234 000000"},
        "regulator_checked_at": {"from": "2019-08-06", "to": "2024-03-01"},
    }
    assert audit.message == f"Imported from the CQC care directory, line {FIRST}"


@pytest.mark.django_db
def test_directory_update_keeps_status_ratings_areas_and_what_an_empty_cell_does_not_give():
    provider = ProviderFactory(
        regulator_id="1-101",
        name="Sunrise",
        website="https://own-site.example",
        areas_served=["NF7", "NF8"],
        regulator_rating=RegulatorRating.GOOD,
        regulator_rating_date=datetime.date(2023, 1, 5),
    )
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.VERIFIED)
    row = location(n=1, **{"Service's website (if available)": "", "Phone number": ""})

    report = import_cqc_directory(text_or_path=directory_text([row]))

    assert report.updated == 1
    provider.refresh_from_db()
    assert provider.name == "Sunrise Home Care 1"
    assert provider.status == ProviderStatus.VERIFIED
    assert provider.regulator_rating == RegulatorRating.GOOD
    assert provider.regulator_rating_date == datetime.date(2023, 1, 5)
    assert provider.website == "https://own-site.example"
    assert provider.areas_served == ["NF7", "NF8"]


@pytest.mark.django_db
def test_existing_provider_with_no_areas_gets_its_postcode_district():
    ProviderFactory(regulator_id="1-101", postcode="NF1 2AB", areas_served=[])
    import_cqc_directory(text_or_path=directory_text([location(n=1)]))
    assert Provider.objects.get(regulator_id="1-101").areas_served == ["NF1"]


@pytest.mark.django_db
def test_header_matching_ignores_case_and_whitespace():
    header = [f"  {name.upper()} " if i % 2 else name.lower().replace(" ", "  ") for i, name in enumerate(HEADER)]
    header[HEADER.index("CQC Location ID (for office use only)")] = "cqc\u00a0location id(for office use only)"
    rows = [list(location(n=1).values())]

    report = import_cqc_directory(text_or_path=directory_text(rows, header=header))

    assert (report.created, report.skipped) == (1, [])
    assert Provider.objects.get(regulator_id="1-101").name == "Sunrise Home Care 1"


@pytest.mark.django_db
def test_directory_without_preamble_is_read_too():
    report = import_cqc_directory(text_or_path=directory_text([location(n=1)], preamble=[]).encode("utf-8-sig"))
    assert report.created == 1


@pytest.mark.django_db
def test_only_administrators_and_case_managers_may_import(social_worker, case_manager):
    text = directory_text([location(n=1)])
    with pytest.raises(ActionNotAllowed):
        import_cqc_directory(text_or_path=text, actor=social_worker)
    assert not Provider.objects.exists()

    import_cqc_directory(text_or_path=text, actor=case_manager)
    assert AuditEvent.objects.get(action=AuditAction.CREATE).actor == case_manager


@pytest.mark.django_db
def test_progress_callback_is_called_every_thousand_rows_of_a_large_file():
    rows = [location(n=n) for n in range(1, 2501)]
    calls = []

    report = import_cqc_directory(
        text_or_path=directory_text(rows), progress=lambda done, total, stage: calls.append((done, total, stage))
    )

    assert report.created == 2500
    assert calls == [
        (1000, 2500, "checked"),
        (2000, 2500, "checked"),
        (2500, 2500, "checked"),
        (1000, 2500, "written"),
        (2000, 2500, "written"),
        (2500, 2500, "written"),
    ]


# --------------------------------------------------------------------------------------------
# Ratings


@pytest.mark.django_db
def test_ratings_import_updates_ratings_and_dates_and_skips_unknown_ids_and_bad_values():
    outstanding = ProviderFactory(regulator_id="1-101")
    good = ProviderFactory(regulator_id="1-102")
    poor = ProviderFactory(regulator_id="1-103")
    kept = ProviderFactory(regulator_id="1-104", regulator_rating=RegulatorRating.GOOD)
    Provider.objects.filter(pk=good.pk).update(status=ProviderStatus.VERIFIED)
    text = ratings_text(
        [
            ["1-101", "Outstanding", "2024-05-01"],  # line 2
            ["1-102", "GOOD", "01/05/2024"],  # 3
            ["1-103", "requires  improvement", "01/May/2024"],  # 4
            ["1-999", "Good", "2024-05-01"],  # 5: unknown
            ["1-104", "Excellent", "2024-05-01"],  # 6: bad rating
            ["1-104", "Good", "2024-13-01"],  # 7: bad date
            ["1-104", "Inadequate", ""],  # 8: no date
        ]
    )

    report = import_regulator_ratings(text_or_path=text)

    assert (report.rows, report.updated, report.unchanged) == (7, 3, 0)
    assert report.skipped == [
        "line 5: no provider has CQC location ID 1-999.",
        "line 6: “Excellent” is not an overall rating; use one of: Outstanding, Good, Requires improvement, "
        "Inadequate, Not yet rated.",
        "line 7: “2024-13-01” is not a publication date like 2024-05-01, 01/05/2024 or 01/May/2024.",
        "line 8: no publication date for the Inadequate rating.",
    ]
    may_first = datetime.date(2024, 5, 1)
    for provider, rating in [
        (outstanding, RegulatorRating.OUTSTANDING),
        (good, RegulatorRating.GOOD),
        (poor, RegulatorRating.REQUIRES_IMPROVEMENT),
    ]:
        provider.refresh_from_db()
        assert (provider.regulator_rating, provider.regulator_rating_date) == (rating, may_first)
    good.refresh_from_db()
    assert good.status == ProviderStatus.VERIFIED
    kept.refresh_from_db()
    assert (kept.regulator_rating, kept.regulator_rating_date) == (RegulatorRating.GOOD, None)
    audit = AuditEvent.objects.get(action=AuditAction.UPDATE, target_id=str(poor.pk))
    assert audit.changes == {
        "regulator_rating": {"from": "not_yet_rated", "to": "requires_improvement"},
        "regulator_rating_date": {"from": "None", "to": "2024-05-01"},
    }
    assert audit.message == "Imported from CQC ratings, line 4"


@pytest.mark.django_db
def test_reimporting_ratings_reports_them_unchanged_and_writes_nothing():
    ProviderFactory(regulator_id="1-101")
    text = ratings_text([["1-101", "Good", "2024-05-01"]])
    import_regulator_ratings(text_or_path=text)
    before = snapshot()

    report = import_regulator_ratings(text_or_path=text)

    assert (report.updated, report.unchanged) == (0, 1)
    assert snapshot() == before


@pytest.mark.django_db
def test_ratings_file_missing_a_column_is_refused_and_nothing_is_written():
    ProviderFactory(regulator_id="1-101")
    before = snapshot()
    text = ratings_text([["1-101", "Good"]], header=("Location ID", "Overall rating"))
    with pytest.raises(RegulatorFileInvalid) as info:
        import_regulator_ratings(text_or_path=text)
    assert info.value.errors == {"file": ["line 1: the header has no “Publication date” column."]}
    assert snapshot() == before


@pytest.mark.django_db
def test_ratings_header_matching_ignores_case_and_whitespace():
    ProviderFactory(regulator_id="1-101")
    text = ratings_text(
        [["1-101", "Inadequate", "2024-05-01"]], header=(" LOCATION id", "overallRating ", "publication date")
    )
    assert import_regulator_ratings(text_or_path=text).updated == 1
    assert Provider.objects.get(regulator_id="1-101").regulator_rating == RegulatorRating.INADEQUATE


# --------------------------------------------------------------------------------------------
# Cells


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("06/Aug/2019 - 10:15", datetime.date(2019, 8, 6)),
        ("6/aug/2019", datetime.date(2019, 8, 6)),
        ("29/Feb/2024 - 23:59", datetime.date(2024, 2, 29)),
        ("29/Feb/2023 - 10:15", None),
        ("06/Aug/2019 - 25:15", None),
        ("06/Augu/2019", None),
        ("2019-08-06", None),
    ],
)
def test_date_of_latest_check_is_read_as_published(text, expected):
    assert parse_cqc_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", datetime.date(2024, 5, 1)),
        ("01/05/2024", datetime.date(2024, 5, 1)),
        ("1/5/2024", datetime.date(2024, 5, 1)),
        ("01/May/2024", datetime.date(2024, 5, 1)),
        ("05/01/2024", datetime.date(2024, 1, 5)),
        ("31/02/2024", None),
        ("May 2024", None),
    ],
)
def test_publication_date_accepts_iso_and_day_first_dates(text, expected):
    assert parse_publication_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("www.care.example", "https://www.care.example"),
        ("http://care.example/home", "http://care.example/home"),
        ("HTTPS://care.example", "HTTPS://care.example"),
        ("ftp://care.example", None),
        ("care home", None),
        ("n/a", None),
    ],
)
def test_websites_get_a_scheme_and_clearly_invalid_ones_are_refused(text, expected):
    assert normalise_website(text) == expected


# --------------------------------------------------------------------------------------------
# Commands


@pytest.mark.django_db
def test_import_cqc_directory_command_prints_the_report(tmp_path, capsys):
    path = tmp_path / "directory.csv"
    rows = [location(n=1), location(n=2, Name="")]
    path.write_text(directory_text(rows), encoding="utf-8", newline="")

    call_command("import_cqc_directory", str(path))

    out = capsys.readouterr().out
    assert f"{path}: 2 rows: 1 created, 0 updated, 0 unchanged, 1 skipped." in out
    assert "  skipped line 7: no name for CQC location ID 1-102." in out


@pytest.mark.django_db
def test_import_cqc_directory_command_shows_progress_on_stderr(tmp_path, capsys):
    path = tmp_path / "directory.csv"
    path.write_text(directory_text([location(n=n) for n in range(1, 1201)]), encoding="utf-8", newline="")

    call_command("import_cqc_directory", str(path))

    err = capsys.readouterr().err.splitlines()
    assert err == ["1,000 of 1,200 rows checked", "1,200 of 1,200 rows checked", "1,000 of 1,200 rows written",
                   "1,200 of 1,200 rows written"]  # fmt: skip


@pytest.mark.django_db
def test_import_cqc_directory_command_refuses_a_file_missing_a_column(tmp_path):
    path = tmp_path / "directory.csv"
    header = [name for name in HEADER if name != "Postcode"]
    path.write_text(directory_text([[location(n=1)[n] for n in header]], header=header), encoding="utf-8")
    with pytest.raises(CommandError) as info:
        call_command("import_cqc_directory", str(path))
    assert str(info.value) == (
        f"{path} was not imported; nothing was written:\n  line 5: the header has no “Postcode” column."
    )
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_import_cqc_directory_command_says_when_the_file_cannot_be_read(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_cqc_directory", str(tmp_path / "missing.csv"))


@pytest.mark.django_db
def test_import_regulator_ratings_command_prints_the_report(tmp_path, capsys):
    ProviderFactory(regulator_id="1-101")
    path = tmp_path / "ratings.csv"
    path.write_text(ratings_text([["1-101", "Good", "2024-05-01"], ["1-999", "Good", "2024-05-01"]]), encoding="utf-8")

    call_command("import_regulator_ratings", str(path))

    out = capsys.readouterr().out
    assert f"{path}: 2 rows: 0 created, 1 updated, 0 unchanged, 1 skipped." in out
    assert "  skipped line 3: no provider has CQC location ID 1-999." in out


@pytest.mark.django_db
def test_import_regulator_ratings_command_refuses_a_file_missing_a_column(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(ratings_text([["1-101", "2024-05-01"]], header=("Location ID", "Publication date")))
    with pytest.raises(CommandError, match="the header has no “Overall rating” column"):
        call_command("import_regulator_ratings", str(path))
