"""Public open data endpoints (no login): JSON, or CSV with `?format=csv`. Shared by every app
that publishes statistics."""

from __future__ import annotations

import csv
import io

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ..csv_safe import csv_cell

# Open statistics never publish a group of fewer than this many people or payments: no one can be
# picked out (docs/api.md, "Open statistics").
SUPPRESS_BELOW = 5


class CSVRenderer(BaseRenderer):
    """Open data as CSV: `?format=csv` (the rows of `results`, with a header line)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data.get("results", []) if isinstance(data, dict) else []
        fields = (renderer_context or {}).get("view").csv_fields if renderer_context else []
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            # Text a spreadsheet would run as a formula gets a leading ' (numbers stay numbers).
            writer.writerow({k: ("" if v is None else csv_cell(v)) for k, v in row.items()})
        return out.getvalue().encode("utf-8")


class OpenDataView(APIView):
    """Public open data (no login), as JSON or, with `?format=csv`, a CSV download named
    `csv_filename`. Subclasses give `csv_fields` and `data()`."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer, CSVRenderer]
    csv_fields: list[str] = []
    csv_filename = "cairn.csv"

    def data(self) -> dict:
        raise TypeError(f"{type(self).__name__} must say what data it publishes")

    def get(self, request):
        response = Response(self.data())
        if getattr(request, "accepted_renderer", None) and request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
        return response


def open_data_schema(name: str, summary: str, *, rows, **fields):
    """The documented shape of an open-data endpoint: `suppressed_below`, any `fields` of its own,
    then the `results` rows; JSON or `?format=csv`."""
    return extend_schema(
        summary=summary,
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], required=False)],
        responses={
            200: inline_serializer(name, {"suppressed_below": serializers.IntegerField(), **fields, "results": rows})
        },
        tags=["statistics"],
    )
