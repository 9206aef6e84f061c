"""The API's JSON parser: bounded, and refusing text no database can store (docs/api.md, "Limits").

DRF's own parser reads a body of any size and hands back whatever `json` makes of it. This one
- refuses a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes before parsing it (Django's own cap
  covers form posts, not a stream DRF reads itself);
- refuses nesting deeper than `MAX_JSON_DEPTH` (a body of 1,000 nested arrays would otherwise raise
  `RecursionError` in the parser or, below the limit, in whatever walks the data next);
- refuses NUL characters (PostgreSQL cannot store them in text) and lone UTF-16 surrogates
  (`"\\ud800"`: not Unicode, so no database encodes them) in any key or value.
Each is a 400 naming the top-level field it was found in, before any view runs, so nothing changes.
"""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.settings import api_settings

MAX_JSON_DEPTH = 20


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "Text must not contain NUL (\\u0000) characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode (it contains a lone surrogate, like \\ud800)."
    return None


def _problem(value) -> str | None:
    """The first thing wrong inside `value`, walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The data is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
        if isinstance(item, str):
            problem = _bad_text(item)
            if problem:
                return problem
        elif isinstance(item, dict):
            for key, inner in item.items():
                problem = _bad_text(key)
                if problem:
                    return problem
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
    return None


def check_parsed(data):
    """Raise `ParseError` (400) if `data` holds something no field may hold; the message is keyed by
    the top-level field it is in when the body is an object."""
    if isinstance(data, dict):
        for key, value in data.items():
            problem = _bad_text(key) or _problem(value)
            if problem:
                safe_key = key if _bad_text(key) is None else "non_field_errors"
                raise ParseError({safe_key: [problem]})
        return data
    problem = _problem(data)
    if problem:
        raise ParseError(problem)
    return data


class JSONParser(DRFJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = (stream.read() if limit is None else stream.read(limit + 1)) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise ParseError(f"The request body is too large (at most {limit:,} bytes).")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError("The request body is not valid text in its declared encoding.") from exc
        try:
            data = json.loads(text, parse_constant=self._refuse_constant if api_settings.STRICT_JSON else None)
        except RecursionError as exc:
            raise ParseError(f"The data is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        return check_parsed(data)

    @staticmethod
    def _refuse_constant(name):
        raise ValueError(f"{name} is not valid JSON")
