"""Writing a different value to each of many rows in one statement.

Why not Django's `bulk_update`: it builds a `CASE WHEN pk = … THEN …` per row and field, which
costs milliseconds per row to build and to run; a payment run updates thousands of rows a batch.
`UPDATE … FROM (VALUES …)` does the same in one cheap statement (PostgreSQL, and SQLite 3.33+).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, models

CHUNK = 1000


def update_each(model: type[models.Model], fields: list[str], rows: list[tuple[Any, ...]]) -> int:
    """Set `fields` of each row given as `(pk, value, …)` (values in the order of `fields`, already
    in the database's form: a money field's amount, an id for a foreign key). Returns rows changed.
    The caller holds whatever locks the rows need; nothing here checks a row's state."""
    if not rows:
        return 0
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    model_fields = [model._meta.get_field(name) for name in fields]
    columns = [quote(field.column) for field in model_fields]
    cell = ["%s"] * (len(columns) + 1)
    if connection.vendor == "postgresql":
        # Typed cells: a column whose values are all NULL (or all text-like) would otherwise be text.
        types = [model._meta.pk.rel_db_type(connection)]
        types += [
            f.target_field.rel_db_type(connection) if f.is_relation else f.db_type(connection) for f in model_fields
        ]
        cell = [f"%s::{db_type}" for db_type in types]
        alias = f"v({pk}, {', '.join(columns)})"
        names = [f"v.{column}" for column in columns]
        key = f"v.{pk}"
    else:  # SQLite names a VALUES list's columns column1, column2, …
        alias = "v"
        names = [f"v.column{n + 2}" for n in range(len(columns))]
        key = "v.column1"
    changed = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            row = "(" + ", ".join(cell) + ")"
            # Only identifiers quoted by the connection go into the text; every value is a parameter.
            assignments = ", ".join(f"{c} = {n}" for c, n in zip(columns, names, strict=True))
            values = ", ".join([row] * len(chunk))
            sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS {alias} WHERE {table}.{pk} = {key}"  # noqa: S608
            cursor.execute(sql, [value for values in chunk for value in values])
            changed += cursor.rowcount
    return changed
