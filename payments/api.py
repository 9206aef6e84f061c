"""Invoices, payment runs, payments, the Stripe webhook and spend statistics (docs/api.md,
"Invoices and payments" and "Open statistics")."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.fields import ID_MAX, MoneyField
from accounts.api.open_data import OpenDataView, open_data_schema
from accounts.api.parsers import JSONParser
from accounts.api.views import IgnoreAcceptNegotiation, RolePredicate
from accounts.exceptions import InvalidInput, NotVisible
from accounts.throttles import PublicRateThrottle
from careplans.models import PlanLine

from . import selectors, services, stats
from .models import (
    ContributionCharge,
    ContributionPayment,
    FundAccount,
    FundKind,
    Invoice,
    Load,
    Payment,
    PaymentKind,
    PaymentRun,
    PaymentStatus,
    Recovery,
    Spending,
)
from .pdf import invoice_pdf
from .permissions import can_invoice, can_run_payments


class InvoiceSerializer(serializers.ModelSerializer):
    plan_line = serializers.IntegerField(source="line_id")
    unit_price = MoneyField()
    amount = MoneyField()
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id", "plan", "plan_line", "provider", "period_start", "period_end", "units", "unit_price", "amount",
            "status", "reference", "has_file", "submitted_at", "confirmed_automatically", "dispute_reason", "paid_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_file(self, invoice) -> bool:
        return bool(invoice.supporting_file)


class InvoiceCreateSerializer(serializers.Serializer):
    plan_line = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    units = serializers.DecimalField(max_digits=8, decimal_places=2)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60)
    supporting_file = serializers.FileField(required=False)


class DisputeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, error_messages={"required": "Say what is wrong with the invoice."})


class MayInvoice(RolePredicate):
    predicate = staticmethod(can_invoice)
    message = "Only a provider's staff can send invoices."


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = InvoiceSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_permissions(self):
        extra = [MayInvoice()] if self.action == "create" else []
        return [*super().get_permissions(), *extra]

    def get_queryset(self):
        return selectors.invoices_visible_to(self.request.user)

    def get_object(self):
        return selectors.invoice_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(request=InvoiceCreateSerializer, responses={201: InvoiceSerializer})
    def create(self, request):
        body = InvoiceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        line = PlanLine.objects.filter(pk=data["plan_line"]).first()
        if line is None:
            raise InvalidInput("There is no such plan line.", field="plan_line")
        invoice = services.invoice_submit(
            actor=request.user,
            line=line,
            period_start=data["period_start"],
            period_end=data["period_end"],
            units=data["units"],
            reference=data.get("reference", ""),
            supporting_file=data.get("supporting_file"),
            request=request,
        )
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        invoice = services.invoice_confirm(actor=request.user, invoice=self.get_object(), request=request)
        return Response(InvoiceSerializer(invoice).data)

    @extend_schema(request=DisputeSerializer, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        body = DisputeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = services.invoice_dispute(
            actor=request.user, invoice=self.get_object(), reason=body.validated_data["reason"], request=request
        )
        return Response(InvoiceSerializer(invoice).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The invoice as a PDF")})
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAcceptNegotiation)
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="invoice-{invoice.pk}.pdf"'
        return response

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="The supporting file")})
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAcceptNegotiation)
    def file(self, request, pk=None):
        invoice = self.get_object()
        if not invoice.supporting_file:
            raise NotVisible("This invoice has no supporting file.")
        return supporting_file_response(invoice)


def stored_file_response(file, name: str, content_type: str) -> FileResponse:
    """An uploaded file (an invoice's supporting document, a spending's receipt): always a
    download (never shown inline), with the type found when it was uploaded."""
    return FileResponse(
        file.open("rb"), as_attachment=True, filename=name, content_type=content_type or "application/octet-stream"
    )


def supporting_file_response(invoice: Invoice) -> FileResponse:
    return stored_file_response(
        invoice.supporting_file, invoice.supporting_file_name or f"invoice-{invoice.pk}", invoice.supporting_file_type
    )


class MayRunPayments(RolePredicate):
    predicate = staticmethod(can_run_payments)
    message = "Only finance officers run payments."


class PaymentRunSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    total = MoneyField()
    paid_count = serializers.SerializerMethodField()
    failed_count = serializers.SerializerMethodField()
    pending_count = serializers.SerializerMethodField()

    class Meta:
        model = PaymentRun
        fields = [
            "id", "status", "gateway", "payment_count", "paid_count", "failed_count", "pending_count", "total",
            "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _counts(self, run) -> dict:
        if not hasattr(run, "_counts"):
            run._counts = selectors.payment_run_counts(run)
        return run._counts

    def get_status(self, run) -> str:
        return "finished" if run.finished_at else "running"

    def get_paid_count(self, run) -> int:
        return self._counts(run)["paid"]

    def get_failed_count(self, run) -> int:
        return self._counts(run)["failed"]

    def get_pending_count(self, run) -> int:
        return self._counts(run)["pending"]


class PaymentRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PaymentRunSerializer
    queryset = PaymentRun.objects.order_by("-started_at", "-id")

    def get_permissions(self):
        return [*super().get_permissions(), MayRunPayments()]

    @extend_schema(request=None, responses={201: PaymentRunSerializer})
    def create(self, request):
        run = services.payment_run_start(actor=request.user, request=request)
        run.refresh_from_db()
        return Response(PaymentRunSerializer(run).data, status=status.HTTP_201_CREATED)


class PaymentSerializer(serializers.ModelSerializer):
    amount = MoneyField()

    class Meta:
        model = Payment
        fields = [
            "id", "run", "invoice", "provider", "amount", "status", "attempts", "last_error", "transfer_id",
            "created_at", "paid_at", "reversed_at", "kind", "load", "person",
        ]  # fmt: skip
        read_only_fields = fields


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Finance sees every payment; a provider's staff see their organisation's."""

    serializer_class = PaymentSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(PaymentStatus.values)),
            OpenApiParameter("provider", int),
            OpenApiParameter("run", int),
            OpenApiParameter("kind", str, enum=list(PaymentKind.values)),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        payments = selectors.payments_visible_to(self.request.user)
        params = self.request.query_params
        problems = {}
        if params.get("status"):
            if params["status"] not in PaymentStatus.values:
                problems["status"] = [f"Choose one of: {', '.join(PaymentStatus.values)}."]
            payments = payments.filter(status=params["status"])
        if params.get("kind"):
            if params["kind"] not in PaymentKind.values:
                problems["kind"] = [f"Choose one of: {', '.join(PaymentKind.values)}."]
            payments = payments.filter(kind=params["kind"])
        for name in ("provider", "run"):
            if params.get(name):
                # ASCII digits only ("²".isdigit() is true), and no more than an id can have.
                if not (params[name].isascii() and params[name].isdigit() and int(params[name]) <= ID_MAX):
                    problems[name] = ["Give an id (a whole number)."]
                else:
                    payments = payments.filter(**{f"{name}_id": int(params[name])})
        if problems:
            raise InvalidInput(errors=problems)
        return payments

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])


class LoadSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    contribution = MoneyField()

    class Meta:
        model = Load
        fields = ["period_start", "period_end", "due", "amount", "contribution", "status"]
        read_only_fields = fields


def fund_body(account: FundAccount) -> dict:
    """A fund as the API shows it: who holds it, its figures and its whole schedule."""
    loads = selectors.fund_loads(account)
    figures = selectors.fund_figures(account, loads)
    money = MoneyField()
    return {
        "holder": account.holder_id,
        "holder_provider": account.holder_provider_id,
        **{name: money.to_representation(getattr(figures, name)) for name in FUND_FIGURES},
        "schedule": LoadSerializer(loads, many=True).data,
        "flags": selectors.fund_flags(account, figures, loads, selectors.fund_spending(account)),
        "card": card_body(selectors.fund_card(account)),
    }


def card_body(card) -> dict | None:
    if card is None:
        return None
    return {"last4": card.last4, "active": card.active, "limit": MoneyField().to_representation(card.limit)}


class CardSerializer(serializers.Serializer):
    last4 = serializers.CharField()
    active = serializers.BooleanField()
    limit = MoneyField(help_text="What the card may spend in all: loaded, less recovered and other spending.")


FUND_FIGURES = ["loaded", "spent", "recovered", "balance", "surplus"]


class FundSerializer(serializers.Serializer):
    """The documented shape of `fund_body`."""

    holder = serializers.IntegerField(allow_null=True)
    holder_provider = serializers.IntegerField(allow_null=True)
    loaded = MoneyField()
    spent = MoneyField()
    recovered = MoneyField()
    balance = MoneyField()
    surplus = MoneyField()
    schedule = LoadSerializer(many=True)
    flags = serializers.ListField(child=serializers.CharField())
    card = CardSerializer(allow_null=True, help_text="The prepaid card the direct payment is paid onto, if any.")


class DirectPaymentView(APIView):
    """The budget's direct payment: 404 while the budget has none (no approved direct-payment line)."""

    @extend_schema(responses=FundSerializer, summary="A budget's direct payment account", tags=["funds"])
    def get(self, request, budget_id):
        return Response(fund_body(selectors.fund_get_for(request.user, budget_id, FundKind.DIRECT_PAYMENT)))


class CardIssueSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=100, help_text="The holder's address, first line (billing address).")
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=20)


class DirectPaymentCardView(APIView):
    """Issue the holder's prepaid card (where the council issues them)."""

    @extend_schema(
        request=CardIssueSerializer, responses={201: FundSerializer}, summary="Issue a prepaid card", tags=["funds"]
    )
    def post(self, request, budget_id):
        account = selectors.fund_get_for(request.user, budget_id, FundKind.DIRECT_PAYMENT)
        body = CardIssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.fund_card_issue(actor=request.user, account=account, request=request, **body.validated_data)
        return Response(fund_body(account), status=status.HTTP_201_CREATED)


class FundHolderSerializer(serializers.Serializer):
    holder = serializers.IntegerField(min_value=1, help_text="The client, or one of their representatives.")


class DirectPaymentHolderView(APIView):
    """Name who holds the direct payment (the client's social worker or an administrator)."""

    @extend_schema(
        request=FundHolderSerializer,
        responses=FundSerializer,
        summary="Name the direct payment's holder",
        tags=["funds"],
    )
    def post(self, request, budget_id):
        account = selectors.fund_get_for(request.user, budget_id, FundKind.DIRECT_PAYMENT)
        body = FundHolderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = services.fund_holder_set(
            actor=request.user, account=account, holder_id=body.validated_data["holder"], request=request
        )
        return Response(fund_body(account))


class IndividualServiceFundsView(APIView):
    """The budget's individual service funds, one per provider holding one."""

    @extend_schema(responses=FundSerializer(many=True), summary="A budget's individual service funds", tags=["funds"])
    def get(self, request, budget_id):
        return Response([fund_body(account) for account in selectors.funds_isf_for(request.user, budget_id)])


class AmountField(MoneyField):
    """Money, or (in a multipart form, where a receipt comes too) a decimal string in pounds."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = {"amount": data, "currency": "GBP"}
        return super().to_internal_value(data)


class SpendingSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    plan_line = serializers.IntegerField(source="line_id", allow_null=True)
    has_receipt = serializers.SerializerMethodField()
    receipt_needed = serializers.SerializerMethodField()
    by_card = serializers.SerializerMethodField()

    class Meta:
        model = Spending
        fields = [
            "id",
            "date",
            "amount",
            "payee",
            "plan_line",
            "description",
            "has_receipt",
            "receipt_needed",
            "recorded_at",
            "by_card",
        ]
        read_only_fields = fields

    def get_by_card(self, spending) -> bool:
        """Reported by the prepaid card (the holder adds what it was for and the receipt)."""
        return bool(spending.card_transaction_id)

    def get_has_receipt(self, spending) -> bool:
        return bool(spending.receipt)

    def get_receipt_needed(self, spending) -> bool:
        """A receipt is missing where the policy asks for one (the spending is kept, and flagged)."""
        if not hasattr(self, "_threshold"):  # once for a whole list
            self._threshold = selectors.receipt_threshold()
        return not spending.receipt and spending.amount.amount > self._threshold


class SpendingCreateSerializer(serializers.Serializer):
    date = serializers.DateField()
    amount = AmountField()
    payee = serializers.CharField(max_length=200)
    plan_line = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    receipt = serializers.FileField(required=False)


class DirectPaymentSpendingView(APIView):
    """What the person holding the direct payment spent from it: list (whoever may see the budget)
    and record (the holder). A provider holding an individual service fund for the budget lists and
    records its own fund's spending here."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=SpendingSerializer(many=True), summary="Spending from a direct payment", tags=["funds"])
    def get(self, request, budget_id):
        account = selectors.fund_spent_from_by(request.user, budget_id)
        return Response(SpendingSerializer(selectors.fund_spending(account), many=True).data)

    @extend_schema(
        request=SpendingCreateSerializer, responses={201: SpendingSerializer}, summary="Record spending", tags=["funds"]
    )
    def post(self, request, budget_id):
        account = selectors.fund_spent_from_by(request.user, budget_id)
        body = SpendingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spending = services.spending_record(
            actor=request.user,
            account=account,
            date=data["date"],
            amount=data["amount"].amount,
            payee=data["payee"],
            line_id=data.get("plan_line"),
            description=data.get("description", ""),
            receipt=data.get("receipt"),
            request=request,
        )
        return Response(SpendingSerializer(spending).data, status=status.HTTP_201_CREATED)


class SpendingDetailsSerializer(serializers.Serializer):
    plan_line = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    receipt = serializers.FileField(required=False)


class SpendingDetailsView(APIView):
    """The holder adds what a card payment was for and its receipt."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=SpendingDetailsSerializer,
        responses=SpendingSerializer,
        summary="Add what a card payment was for",
        tags=["funds"],
        operation_id="budgets_direct_payment_spending_details",
    )
    def post(self, request, budget_id, sid):
        account = selectors.fund_spent_from_by(request.user, budget_id)
        spending = account.spending.filter(pk=sid).first()
        if spending is None:
            raise NotVisible("No such payment.")
        body = SpendingDetailsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spending = services.spending_details_add(
            actor=request.user,
            spending=spending,
            line_id=data.get("plan_line"),
            description=data.get("description", ""),
            receipt=data.get("receipt"),
            request=request,
        )
        return Response(SpendingSerializer(spending).data)


class RecoverySerializer(serializers.ModelSerializer):
    amount = MoneyField()
    surplus = MoneyField()
    owed = MoneyField()
    declared_owed = MoneyField()
    recovered = MoneyField(allow_null=True)
    fund = serializers.CharField(source="account.kind")
    holder_provider = serializers.IntegerField(source="account.holder_provider_id", allow_null=True)

    class Meta:
        model = Recovery
        fields = [
            "id",
            "fund",
            "holder_provider",
            "status",
            "amount",
            "surplus",
            "owed",
            "declared_owed",
            "reason",
            "explanation",
            "respond_by",
            "proposed_at",
            "answered_at",
            "closed_at",
            "recovered",
        ]
        read_only_fields = fields


class RecoveryCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    owed = MoneyField(required=False)
    holder_provider = serializers.IntegerField(
        required=False, min_value=1, help_text="Recover from this provider's individual service fund instead."
    )


class RecoveryExplainSerializer(serializers.Serializer):
    explanation = serializers.CharField(max_length=2000)
    declared_owed = MoneyField(required=False)


class RecoveriesView(APIView):
    """Recoveries of surplus from the budget's direct payment (and individual service funds):
    listed for whoever may see the fund, proposed by finance."""

    @extend_schema(responses=RecoverySerializer(many=True), summary="Recoveries of surplus", tags=["funds"])
    def get(self, request, budget_id):
        accounts = selectors.funds_visible_for(request.user, budget_id)
        rows = Recovery.objects.filter(account__in=accounts).select_related("account").order_by("-pk")
        return Response(RecoverySerializer(rows, many=True).data)

    @extend_schema(
        request=RecoveryCreateSerializer,
        responses={201: RecoverySerializer},
        summary="Propose recovering a fund's surplus",
        tags=["funds"],
    )
    def post(self, request, budget_id):
        body = RecoveryCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("holder_provider"):
            account = next(
                (
                    fund
                    for fund in selectors.funds_isf_for(request.user, budget_id)
                    if fund.holder_provider_id == data["holder_provider"]
                ),
                None,
            )
            if account is None:
                raise InvalidInput(
                    "This budget has no individual service fund with that provider.", field="holder_provider"
                )
        else:
            account = selectors.fund_get_for(request.user, budget_id, FundKind.DIRECT_PAYMENT)
        owed = data.get("owed")
        recovery = services.recovery_propose(
            actor=request.user,
            account=account,
            reason=data["reason"],
            owed=owed.amount if owed is not None else None,
            request=request,
        )
        return Response(RecoverySerializer(recovery).data, status=status.HTTP_201_CREATED)


class RecoveryActionView(APIView):
    """One step of a recovery: `accept` or `explain` (the holder), `complete` or `withdraw` (finance)."""

    action_name = ""

    def recovery(self, request, budget_id, rid) -> Recovery:
        recovery = (
            Recovery.objects.filter(pk=rid, account__budget_id=budget_id).select_related("account__budget").first()
        )
        if recovery is None or not selectors.can_see_fund(request.user, recovery.account):
            raise NotVisible("No such recovery.")
        return recovery

    def post(self, request, budget_id, rid):
        recovery = self.recovery(request, budget_id, rid)
        if self.action_name == "explain":
            body = RecoveryExplainSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            owed = body.validated_data.get("declared_owed")
            recovery = services.recovery_explain(
                actor=request.user,
                recovery=recovery,
                explanation=body.validated_data["explanation"],
                declared_owed=owed.amount if owed is not None else None,
                request=request,
            )
        else:
            recovery = getattr(services, f"recovery_{self.action_name}")(
                actor=request.user, recovery=recovery, request=request
            )
        return Response(RecoverySerializer(recovery).data)


def _recovery_action(name: str, summary: str, request_body=None) -> type[RecoveryActionView]:
    view = type(f"Recovery{name.title()}View", (RecoveryActionView,), {"action_name": name})
    view.post = extend_schema(request=request_body, responses=RecoverySerializer, summary=summary, tags=["funds"])(
        view.post
    )
    return view


RecoveryAcceptView = _recovery_action("accept", "Accept a proposed recovery (the holder)")
RecoveryExplainView = _recovery_action(
    "explain", "Explain, declaring what is still owed (the holder)", RecoveryExplainSerializer
)
RecoveryCompleteView = _recovery_action("complete", "Complete a recovery (finance)")
RecoveryWithdrawView = _recovery_action("withdraw", "Withdraw a recovery (finance)")


class StripeWebhookView(APIView):
    """Public: Stripe calls it. The signature is the authentication (bad or missing → 400, nothing
    stored); each event is stored once by its id and handled once."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer]

    @extend_schema(
        request=None,
        responses={200: inline_serializer("WebhookAck", {"received": serializers.BooleanField()})},
        summary="Stripe webhook (signature checked)",
        tags=["payments"],
    )
    def post(self, request):
        event = services.webhook_receive(
            gateway_name="stripe", payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        return Response({"received": True, "event": event.event_id, "outcome": event.outcome})


# One month and category of spend (the schema names it `SpendRow`).
class SpendRowSerializer(serializers.Serializer):
    month = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    payments = serializers.IntegerField(allow_null=True)
    amount = serializers.CharField(allow_null=True)
    suppressed = serializers.BooleanField()


SpendRow = SpendRowSerializer(many=True)


class SpendView(OpenDataView):
    """Public open data: spend by service category by month, small groups suppressed."""

    csv_fields = stats.SPEND_CSV_FIELDS
    csv_filename = "cairn-spend.csv"
    throttle_classes = [PublicRateThrottle]

    @open_data_schema(
        "Spend", "Spend by service category by month (open data)", rows=SpendRow, currency=serializers.CharField()
    )
    def get(self, request):
        return super().get(request)

    def data(self) -> dict:
        return {"suppressed_below": stats.SUPPRESS_BELOW, "currency": "GBP", "results": stats.spend_by_category()}


class ContributionChargeSerializer(serializers.ModelSerializer):
    amount = MoneyField(allow_negative=True)
    netted = MoneyField(allow_negative=True)
    billed = MoneyField(allow_negative=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = ContributionCharge
        fields = ["id", "period_start", "period_end", "kind", "corrects", "amount", "netted", "billed", "status"]
        read_only_fields = fields

    def get_status(self, charge) -> str:
        """`netted` (nothing billed), `billed`, or `credited` (a correction that lowered what is owed)."""
        if charge.billed.amount > 0:
            return "billed"
        return "credited" if charge.billed.amount < 0 else "netted"


class ContributionsSerializer(serializers.Serializer):
    weekly_contribution = MoneyField(allow_null=True)
    full_cost = serializers.BooleanField()
    charged = MoneyField(allow_negative=True)
    netted = MoneyField(allow_negative=True)
    billed = MoneyField(allow_negative=True)
    paid = MoneyField()
    arrears = MoneyField(allow_negative=True)
    charges = ContributionChargeSerializer(many=True)


def _client_for(user, client_id: int):
    from accounts.models import Role, User
    from budgets.permissions import can_view_financial_assessments

    client = User.objects.filter(pk=client_id, role=Role.CLIENT).first()
    if client is None or not can_view_financial_assessments(user, client):
        raise NotVisible("No such client.")
    return client


class ContributionsView(APIView):
    """What a person pays towards their care: charges, what loads netted, what was billed and paid,
    and arrears (whoever may see the client)."""

    @extend_schema(responses=ContributionsSerializer, summary="A person's contributions", tags=["charging"])
    def get(self, request, client_id):
        summary = selectors.contributions_summary(_client_for(request.user, client_id))
        return Response(ContributionsSerializer(summary).data)


class CheckoutView(APIView):
    """The person (or whoever acts for them) opens the gateway's hosted page to pay what is owed."""

    @extend_schema(
        request=None,
        responses={201: inline_serializer("ContributionCheckoutStarted", {"url": serializers.URLField()})},
        summary="Pay contributions online",
        tags=["charging"],
    )
    def post(self, request, client_id):
        client = _client_for(request.user, client_id)
        page = request.build_absolute_uri(f"/clients/{client.pk}/contributions/")
        checkout = services.contribution_checkout_start(actor=request.user, client=client, return_url=page)
        return Response({"url": checkout.url, "amount": MoneyField().to_representation(checkout.amount)}, status=201)


class ContributionPaymentSerializer(serializers.ModelSerializer):
    amount = MoneyField()

    class Meta:
        model = ContributionPayment
        fields = ["id", "client", "amount", "date", "reference", "method"]
        read_only_fields = fields


class ContributionPaymentCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1)
    amount = MoneyField()
    date = serializers.DateField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ContributionPaymentsView(APIView):
    """Finance records money a person paid towards their care."""

    @extend_schema(
        request=ContributionPaymentCreateSerializer,
        responses={201: ContributionPaymentSerializer},
        summary="Record money received",
        tags=["charging"],
    )
    def post(self, request):
        from accounts.models import Role, User

        body = ContributionPaymentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        client = User.objects.filter(pk=data["client"], role=Role.CLIENT).first()
        if client is None:
            raise NotVisible("No such client.")
        payment = services.contribution_payment_record(
            actor=request.user,
            client=client,
            amount=data["amount"].amount,
            date=data["date"],
            reference=data.get("reference", ""),
            request=request,
        )
        return Response(ContributionPaymentSerializer(payment).data, status=status.HTTP_201_CREATED)
