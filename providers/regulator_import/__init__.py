"""Importing the Care Quality Commission's data: its care directory (locations) and its ratings.

Two steps, in the house style of `budgets.ras_io`:
1. Read and check the whole file. A file we cannot use at all (unreadable, no header row, a
   required column missing or given twice) is refused with `RegulatorFileInvalid` and nothing is
   written. A row we cannot use (no location ID, no name, a bad date, a location ID already given
   on an earlier line...) is only skipped, with "line N: reason"; the other rows go ahead.
2. Write every good row in one transaction, auditing each provider created or updated.

Matching: a provider is the CQC *location* (its `regulator_id`), so importing the same file twice
creates nothing new — the second run reports every row as unchanged. An empty cell never erases
what is recorded (a provider's own website stays when the directory has none). New providers are
pending checks (the model's default); the directory import never touches a provider's status or
any rating, and the ratings import touches only `regulator_rating` and `regulator_rating_date`.

Line numbers are the file's own (the directory's preamble lines count), so an operator can open
the file at the line named. Column names are matched ignoring case and whitespace.

One module per job, so reading a file can be changed (or tested) without the database writes:
- `csv_table`: finding the header row of a CSV file and keying its rows by column;
- `cells`: checking one cell (dates, websites, postcodes, lengths);
- `formats`: the two files' columns and what makes a row of each good;
- `writing`: the two imports themselves — permission, one transaction, audit rows, the report;
- `progress`: the progress callback both steps report through.
Callers import from here: `from providers.regulator_import import import_cqc_directory`.
"""

from .cells import *  # noqa: F403
from .cells import __all__ as _cell_names
from .csv_table import *  # noqa: F403
from .csv_table import __all__ as _table_names
from .formats import *  # noqa: F403
from .formats import __all__ as _format_names
from .progress import *  # noqa: F403
from .progress import __all__ as _progress_names
from .writing import *  # noqa: F403
from .writing import __all__ as _writing_names

__all__ = [*_table_names, *_cell_names, *_format_names, *_progress_names, *_writing_names]
