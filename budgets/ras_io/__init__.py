"""RAS scheme files (YAML or JSON): reading and checking them, and writing their rows.

Two steps, one module each, so the file format can be changed (or tested) without the database:
- `reading`: parse the whole file and check every rule before anything is written; each problem
  names the line and the question (and answer) it is about. `canonical` puts checked data in the
  export format's shape, as `budgets.ras.scheme_data` gives a stored scheme, so both hash alike.
  The format is described in docs/ras-format.md.
- `writing`: create a scheme and its rows from checked data, and install the example scheme. Both
  take the model classes as an argument so the data migration that ships the example scheme can
  call them with its historical models.
Callers import from here: `from budgets.ras_io import parse_scheme_text`.
"""

from .reading import (
    ANSWER_KEYS,
    BAND_KEYS,
    CODE_RE,
    LINE,
    MAX_FILE_CHARS,
    MAX_VERSION,
    MODIFIER_KEYS,
    NAME_LENGTH,
    QUESTION_KEYS,
    TEXT_LENGTH,
    TOP_KEYS,
    SchemeFileErrors,
    canonical,
    decode_scheme_file,
    parse_scheme_text,
    validate_scheme_data,
)
from .writing import EXAMPLE_FILE, install_example_scheme, write_scheme

__all__ = [
    "ANSWER_KEYS",
    "BAND_KEYS",
    "CODE_RE",
    "EXAMPLE_FILE",
    "LINE",
    "MAX_FILE_CHARS",
    "MAX_VERSION",
    "MODIFIER_KEYS",
    "NAME_LENGTH",
    "QUESTION_KEYS",
    "TEXT_LENGTH",
    "TOP_KEYS",
    "SchemeFileErrors",
    "canonical",
    "decode_scheme_file",
    "install_example_scheme",
    "parse_scheme_text",
    "validate_scheme_data",
    "write_scheme",
]
