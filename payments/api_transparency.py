"""Public open data: transparency spend, each payment over £500 to an organisation in a quarter
(payments/transparency.py; docs/open-data.md). JSON, or CSV with `?format=csv`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from accounts.api.fields import MoneyField
from accounts.api.open_data import OpenDataView
from accounts.throttles import PublicRateThrottle

from . import transparency

TransparencyRow = inline_serializer(
    "TransparencySpendRow",
    {
        "date": serializers.DateField(),
        "department": serializers.CharField(),
        "beneficiary": serializers.CharField(),
        "purpose": serializers.CharField(),
        "amount": MoneyField(),
        "transaction_number": serializers.CharField(),
    },
    many=True,
)


class TransparencySpendView(OpenDataView):
    """Each paid payment over £500 to an organisation in the quarter; never one to a person."""

    csv_fields = transparency.CSV_FIELDS
    throttle_classes = [PublicRateThrottle]

    @extend_schema(
        summary="Transparency spend: payments over £500 to organisations in a quarter (open data)",
        parameters=[
            OpenApiParameter("quarter", str, required=True, description="YYYY-Qn; Q1 is January to March"),
            OpenApiParameter("format", str, enum=["json", "csv"], required=False),
        ],
        responses={
            200: inline_serializer(
                "TransparencySpend",
                {
                    "quarter": serializers.CharField(),
                    "threshold": MoneyField(),
                    "results": TransparencyRow,
                },
            )
        },
        tags=["statistics"],
    )
    def get(self, request):
        return super().get(request)

    @property
    def csv_filename(self) -> str:
        return f"cairn-transparency-spend-{self.request.query_params.get('quarter', '')}.csv"

    def data(self) -> dict:
        quarter = transparency.quarter_parse(self.request.query_params.get("quarter"))
        rows = transparency.transparency_spend(quarter)
        as_csv = self.request.accepted_renderer.format == "csv"
        for row in rows:
            # CSV carries plain pounds (the Code's "amount"); JSON the API's money object.
            amount, currency = row.pop("amount"), row.pop("currency")
            row["amount"] = f"{amount:.2f}" if as_csv else {"amount": f"{amount:.2f}", "currency": currency}
        return {
            "quarter": str(quarter),
            "threshold": {"amount": f"{transparency.THRESHOLD:.2f}", "currency": "GBP"},
            "results": rows,
        }

    def finalize_response(self, request, response, *args, **kwargs):
        # A refusal is JSON field messages even when CSV was asked for: a CSV of an error says nothing.
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
