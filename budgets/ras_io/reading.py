"""Reading and checking a RAS scheme file (YAML or JSON) into clean data, and putting clean data in
the export format's shape (`canonical`). No database: the whole file is checked before the writing
step sees any of it.

Each problem names the line and the question (and answer) it is about. JSON is read with the YAML
parser (JSON is YAML), so both formats report line numbers. The format is described in
docs/ras-format.md.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from accounts.money import CURRENCIES

from ..models import Outcome, UnableReason

CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")  # used with fullmatch: no trailing newline slips in
MAX_VERSION = 1_000_000
NAME_LENGTH = 200
TEXT_LENGTH = 500
DESCRIPTION_LENGTH = 5_000
# Bounds a real scheme stays far inside, so nothing a file says can overflow a column or make
# pricing slow: the file's size, its nesting, each list's length, each number's size.
MAX_FILE_CHARS = 1_000_000
MAX_DEPTH = 10  # the format nests 5 deep (scheme → questions → question → answers → answer)
MAX_NUMBER_CHARS = 30  # a scalar that resolves to a number, as written
MAX_QUESTIONS = 200
MAX_ANSWERS = 20
MAX_BANDS = 50
MAX_MODIFIERS = 50
MAX_POINTS = 10_000  # one answer's points
MAX_BAND_POINTS = 10_000_000  # a band's upper limit
MAX_PRICE = Decimal("100000")  # a point's price
MAX_BUDGET = Decimal("100000000")  # a budget's minimum or maximum
TOP_KEYS = {
    "name", "version", "effective_from", "description", "currency", "price_per_point",
    "min_budget", "max_budget", "bands", "modifiers", "questions",
}  # fmt: skip
QUESTION_KEYS = {"code", "domain", "text", "help_text", "answers"}
ANSWER_KEYS = {"code", "text", "points", "unable", "unable_reason"}
BAND_KEYS = {"up_to_points", "price_per_point"}
MODIFIER_KEYS = {"code", "text", "percent"}
LINE = "__line__"


class _LineLoader(yaml.SafeLoader):
    """Records the line each mapping starts on, so errors can point at it, and every key given
    twice in one mapping (plain YAML would silently keep the last)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[str] = []
        self._depth = 0

    def compose_node(self, parent, index):
        """Refuse anchors and aliases (a few lines of `&a`/`*a` can expand to gigabytes: the
        "billion laughs") and nesting deeper than the format has, before anything is built.
        Scalars that resolve to numbers are measured as written, before Python converts them (a
        5,000-digit integer would take the conversion down)."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (& and *) are not allowed in a scheme file", event.start_mark
            )
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_NUMBER_CHARS:
            tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
                raise yaml.composer.ComposerError(
                    None, None, f"a number longer than {MAX_NUMBER_CHARS} characters", event.start_mark
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"the file nests more than {MAX_DEPTH} levels deep", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain word, not a list or mapping", key_node.start_mark
                )
            key = key_node.value
            if key in seen:
                self.duplicates.append(f"line {key_node.start_mark.line + 1}: “{key}” is given twice.")
            seen.add(key)
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        return mapping


# Dates stay text until validation, so an impossible date (2027-02-30) is reported, not a crash.
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


@dataclass
class SchemeFileErrors(Exception):
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.errors)


def decode_scheme_file(content: bytes) -> str:
    """A scheme file's bytes as text: UTF-8 (a byte-order mark is allowed), at most
    `MAX_FILE_CHARS`; otherwise `SchemeFileErrors` saying where the file goes wrong."""
    if len(content) > 4 * MAX_FILE_CHARS:
        raise SchemeFileErrors([f"The file is too large: a scheme file has at most {MAX_FILE_CHARS:,} characters."])
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise SchemeFileErrors(
            [f"line {line} (byte {exc.start + 1}): the file is not UTF-8 text; save it as UTF-8 and try again."]
        ) from None


def parse_scheme_text(text: str | bytes) -> dict:
    """Parse and validate a whole scheme file (text, or the file's bytes, which must be UTF-8).
    Returns clean data or raises `SchemeFileErrors`: never any other exception, whatever the file."""
    if isinstance(text, bytes | bytearray):
        text = decode_scheme_file(bytes(text))
    if len(text) > MAX_FILE_CHARS:
        raise SchemeFileErrors([f"The file is too large: a scheme file has at most {MAX_FILE_CHARS:,} characters."])
    loader = _LineLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", exc)
        raise SchemeFileErrors([f"{where}the file is not valid YAML or JSON ({problem})."]) from exc
    except (ValueError, OverflowError, RecursionError) as exc:  # defence in depth: the bounds above come first
        raise SchemeFileErrors(["The file is not valid YAML or JSON (a value cannot be read)."]) from exc
    finally:
        loader.dispose()
    try:
        data = validate_scheme_data(raw)
    except SchemeFileErrors as exc:
        raise SchemeFileErrors(loader.duplicates + exc.errors) from None
    if loader.duplicates:
        raise SchemeFileErrors(loader.duplicates)
    return data


def _money(value: Any, *, positive: bool) -> Decimal | None:
    """An amount written as a number or as text ("250.00"), finite, with at most two decimal
    places, 0 or more (or above 0). Anything else (a list, `true`, `.inf`) is None. The caller
    checks the upper bound (`_too_big`), which `"1e999999"` fails."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > MAX_NUMBER_CHARS:
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount.as_tuple().exponent < -2 or amount < 0 or (positive and amount == 0):
        return None
    return amount


def _whole(value: Any, *, minimum: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        return None
    return value


# Control characters (NUL would fail PostgreSQL's insert) and bidirectional overrides (which make
# text read differently from what it holds) have no place in a scheme's wording.
_UNWANTED_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _clean(value: str) -> bool:
    return _UNWANTED_CHARS.search(value) is None


def _text(value: Any, limit: int = TEXT_LENGTH) -> str | None:
    """Non-empty text no longer than the column that will hold it (`_clean` is checked apart)."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        return None
    return value.strip()


UNCLEAN = "holds a control character or a bidirectional override: remove it."


def validate_scheme_data(raw: Any) -> dict:
    errors: list[str] = []

    def err(line: int | None, where: str, message: str) -> None:
        errors.append(f"line {line}{', ' + where if where else ''}: {message}" if line else f"{where}: {message}")

    if not isinstance(raw, dict):
        raise SchemeFileErrors(["The file must hold one scheme: a mapping with name, version, questions…"])
    top = raw.get(LINE, 1)
    for key in sorted(map(str, set(raw) - TOP_KEYS - {LINE})):
        err(top, "", f"unknown field “{key}”.")

    name = _text(raw.get("name"), NAME_LENGTH)
    if name is None:
        err(top, "", f"“name” is required: text of up to {NAME_LENGTH} characters.")
    elif not _clean(name):
        err(top, "", f"“name” {UNCLEAN}")
    version = _whole(raw.get("version"), minimum=1)
    if version is None or version > MAX_VERSION:
        err(top, "", f"“version” must be a whole number from 1 to {MAX_VERSION:,}.")
    effective = raw.get("effective_from")
    if isinstance(effective, str):
        try:
            effective = datetime.date.fromisoformat(effective)
        except ValueError:
            effective = None
    if not isinstance(effective, datetime.date):
        err(top, "", "“effective_from” must be a date like 2027-04-01.")
    currency = raw.get("currency", CURRENCIES[0])
    if not isinstance(currency, str) or currency not in CURRENCIES:
        err(top, "", f"“currency” must be one of {', '.join(CURRENCIES)}.")
    price = _money(raw.get("price_per_point"), positive=True)
    if price is None:
        err(top, "", "“price_per_point” must be an amount above zero with at most two decimal places.")
    elif price > MAX_PRICE:
        err(top, "", f"“price_per_point” must be at most {MAX_PRICE:,}.")
        price = None
    min_budget = _money(raw.get("min_budget"), positive=False)
    max_budget = _money(raw.get("max_budget"), positive=True)
    if min_budget is None:
        err(top, "", "“min_budget” must be an amount of zero or more with at most two decimal places.")
    elif min_budget > MAX_BUDGET:
        err(top, "", f"“min_budget” must be at most {MAX_BUDGET:,}.")
        min_budget = None
    if max_budget is None:
        err(top, "", "“max_budget” must be an amount above zero with at most two decimal places.")
    elif max_budget > MAX_BUDGET:
        err(top, "", f"“max_budget” must be at most {MAX_BUDGET:,}.")
        max_budget = None
    if min_budget is not None and max_budget is not None and max_budget < min_budget:
        err(top, "", "“max_budget” must not be less than “min_budget”.")

    bands = []
    raw_bands = raw.get("bands") or []
    if not isinstance(raw_bands, list):
        err(top, "", "“bands” must be a list.")
        raw_bands = []
    elif len(raw_bands) > MAX_BANDS:
        err(top, "", f"a scheme has at most {MAX_BANDS} bands.")
        raw_bands = []
    previous_limit = 0
    for i, band in enumerate(raw_bands, start=1):
        line = band.get(LINE) if isinstance(band, dict) else None
        where = f"band {i}"
        if not isinstance(band, dict):
            err(line, where, "each band must be a mapping with up_to_points and price_per_point.")
            continue
        for key in sorted(map(str, set(band) - BAND_KEYS - {LINE})):
            err(line, where, f"unknown field “{key}”.")
        limit = band.get("up_to_points")
        if limit is not None:
            limit = _whole(limit, minimum=1)
            if limit is None:
                err(line, where, "“up_to_points” must be a whole number above zero, or null for no limit.")
            elif limit > MAX_BAND_POINTS:
                err(line, where, f"“up_to_points” must be at most {MAX_BAND_POINTS:,}.")
                limit = None
            elif limit <= previous_limit:
                err(line, where, f"“up_to_points” must be above the previous band's ({previous_limit}).")
            else:
                previous_limit = limit
        elif i != len(raw_bands):
            err(line, where, "only the last band may have no upper limit.")
        band_price = _money(band.get("price_per_point"), positive=True)
        if band_price is None:
            err(line, where, "“price_per_point” must be an amount above zero with at most two decimal places.")
        elif band_price > MAX_PRICE:
            err(line, where, f"“price_per_point” must be at most {MAX_PRICE:,}.")
            band_price = None
        bands.append({"up_to_points": limit, "price_per_point": band_price})

    modifiers = []
    raw_modifiers = raw.get("modifiers") or []
    if not isinstance(raw_modifiers, list):
        err(top, "", "“modifiers” must be a list.")
        raw_modifiers = []
    elif len(raw_modifiers) > MAX_MODIFIERS:
        err(top, "", f"a scheme has at most {MAX_MODIFIERS} modifiers.")
        raw_modifiers = []
    seen_modifiers: set[str] = set()
    for i, modifier in enumerate(raw_modifiers, start=1):
        line = modifier.get(LINE) if isinstance(modifier, dict) else None
        if not isinstance(modifier, dict):
            err(line, f"modifier {i}", "each modifier must be a mapping with code, text and percent.")
            continue
        code = modifier.get("code")
        where = f"modifier {code}" if isinstance(code, str) else f"modifier {i}"
        for key in sorted(map(str, set(modifier) - MODIFIER_KEYS - {LINE})):
            err(line, where, f"unknown field “{key}”.")
        if not isinstance(code, str) or not CODE_RE.fullmatch(code):
            err(line, where, "“code” must be lower-case letters, digits, - or _ (up to 60).")
        elif code in seen_modifiers:
            err(line, where, "this code is used twice.")
        seen_modifiers.add(code if isinstance(code, str) else "")
        text = _text(modifier.get("text"))
        if text is None:
            err(line, where, f"“text” is required: up to {TEXT_LENGTH} characters.")
        elif not _clean(text):
            err(line, where, f"“text” {UNCLEAN}")
        try:
            raw_percent = modifier.get("percent")
            if isinstance(raw_percent, bool) or not isinstance(raw_percent, str | int | float):
                raise InvalidOperation
            percent = Decimal(str(raw_percent))
            if not percent.is_finite() or not -100 <= percent <= 100 or percent.as_tuple().exponent < -2:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            err(line, where, "“percent” must be a number from -100 to 100, e.g. -10 to reduce points by 10%.")
            percent = None
        modifiers.append({"code": code, "text": text, "percent": percent})

    questions = []
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        err(top, "", "“questions” must be a list with at least one question.")
        raw_questions = []
    elif len(raw_questions) > MAX_QUESTIONS:
        err(top, "", f"a scheme has at most {MAX_QUESTIONS} questions.")
        raw_questions = []
    seen_questions: set[str] = set()
    for i, question in enumerate(raw_questions, start=1):
        line = question.get(LINE) if isinstance(question, dict) else None
        if not isinstance(question, dict):
            err(line, f"question {i}", "each question must be a mapping with code, domain, text and answers.")
            continue
        code = question.get("code")
        where = f"question {code}" if isinstance(code, str) else f"question {i}"
        for key in sorted(map(str, set(question) - QUESTION_KEYS - {LINE})):
            err(line, where, f"unknown field “{key}”.")
        if not isinstance(code, str) or not CODE_RE.fullmatch(code):
            err(line, where, "“code” must be lower-case letters, digits, - or _ (up to 60).")
        elif code in seen_questions:
            err(line, where, "this code is used twice.")
        seen_questions.add(code if isinstance(code, str) else "")
        domain = question.get("domain")
        if not isinstance(domain, str) or domain not in Outcome.values:
            err(line, where, f"“domain” must be one of: {', '.join(Outcome.values)}.")
        text = _text(question.get("text"))
        if text is None:
            err(line, where, f"“text” is required: up to {TEXT_LENGTH} characters.")
        elif not _clean(text):
            err(line, where, f"“text” {UNCLEAN}")
        help_text = question.get("help_text", "")
        if not isinstance(help_text, str) or len(help_text) > TEXT_LENGTH:
            err(line, where, f"“help_text” must be text of up to {TEXT_LENGTH} characters.")
            help_text = ""
        elif not _clean(help_text):
            err(line, where, f"“help_text” {UNCLEAN}")
            help_text = ""
        answers = []
        raw_answers = question.get("answers")
        if not isinstance(raw_answers, list) or len(raw_answers) < 2:
            err(line, where, "“answers” must be a list of at least two answers.")
            raw_answers = []
        elif len(raw_answers) > MAX_ANSWERS:
            err(line, where, f"a question has at most {MAX_ANSWERS} answers.")
            raw_answers = []
        seen_answers: set[str] = set()
        for j, answer in enumerate(raw_answers, start=1):
            a_line = answer.get(LINE) if isinstance(answer, dict) else line
            if not isinstance(answer, dict):
                err(a_line, f"{where}, answer {j}", "each answer must be a mapping with code, text and points.")
                continue
            a_code = answer.get("code")
            a_where = f"{where}, answer {a_code}" if isinstance(a_code, str) else f"{where}, answer {j}"
            for key in sorted(map(str, set(answer) - ANSWER_KEYS - {LINE})):
                err(a_line, a_where, f"unknown field “{key}”.")
            if not isinstance(a_code, str) or not CODE_RE.fullmatch(a_code):
                err(a_line, a_where, "“code” must be lower-case letters, digits, - or _ (up to 60).")
            elif a_code in seen_answers:
                err(a_line, a_where, "this code is used twice in the question.")
            seen_answers.add(a_code if isinstance(a_code, str) else "")
            a_text = _text(answer.get("text"))
            if a_text is None:
                err(a_line, a_where, f"“text” is required: up to {TEXT_LENGTH} characters.")
            elif not _clean(a_text):
                err(a_line, a_where, f"“text” {UNCLEAN}")
            points = _whole(answer.get("points"), minimum=0)
            if points is None:
                err(a_line, a_where, "“points” must be a whole number, 0 or more.")
            elif points > MAX_POINTS:
                err(a_line, a_where, f"“points” must be at most {MAX_POINTS:,}.")
                points = None
            unable = answer.get("unable", False)
            if not isinstance(unable, bool):
                err(a_line, a_where, "“unable” must be true or false.")
            reason = answer.get("unable_reason", "") or ""
            if reason and (not isinstance(reason, str) or reason not in UnableReason.values):
                err(a_line, a_where, f"“unable_reason” must be one of: {', '.join(UnableReason.values)}.")
            elif reason and unable is not True:
                err(a_line, a_where, "“unable_reason” is only for answers with unable: true.")
            answers.append(
                {"code": a_code, "text": a_text, "points": points, "unable": unable is True, "unable_reason": reason}
            )
        questions.append({"code": code, "domain": domain, "text": text, "help_text": help_text, "answers": answers})

    description = raw.get("description", "") or ""
    if not isinstance(description, str) or len(description) > DESCRIPTION_LENGTH:
        err(top, "", f"“description” must be text of up to {DESCRIPTION_LENGTH:,} characters.")
    elif not _clean(description):
        err(top, "", f"“description” {UNCLEAN}")
    if errors:
        raise SchemeFileErrors(errors)
    return {
        "name": name,
        "version": version,
        "effective_from": effective,
        "description": description,
        "currency": currency,
        "price_per_point": price,
        "min_budget": min_budget,
        "max_budget": max_budget,
        "bands": bands,
        "modifiers": modifiers,
        "questions": questions,
    }


def canonical(data: dict) -> dict:
    """Validated data in the export format's shape, as `ras.scheme_data` gives it for a stored
    scheme, so both hash to the same `content_digest`."""
    return {
        "name": data["name"],
        "version": data["version"],
        "effective_from": data["effective_from"].isoformat(),
        "description": data["description"],
        "currency": data["currency"],
        "price_per_point": f"{data['price_per_point']:.2f}",
        "min_budget": f"{data['min_budget']:.2f}",
        "max_budget": f"{data['max_budget']:.2f}",
        "bands": [
            {"up_to_points": b["up_to_points"], "price_per_point": f"{b['price_per_point']:.2f}"} for b in data["bands"]
        ],
        "modifiers": [
            {"code": m["code"], "text": m["text"], "percent": f"{m['percent']:.2f}"} for m in data["modifiers"]
        ],
        "questions": [
            {
                "code": q["code"],
                "domain": q["domain"],
                "text": q["text"],
                **({"help_text": q["help_text"]} if q["help_text"] else {}),
                "answers": [
                    {
                        "code": a["code"],
                        "text": a["text"],
                        "points": a["points"],
                        "unable": a["unable"],
                        **({"unable_reason": a["unable_reason"]} if a["unable_reason"] else {}),
                    }
                    for a in q["answers"]
                ],
            }
            for q in data["questions"]
        ],
    }
