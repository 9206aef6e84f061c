"""`manage.py seed_demo [--clients N]`: a fictional council to try Cairn with.

Idempotent: people and organisations are found by username or name and created only when
missing, through the same services the product uses (so the demo's audit trail is real too).
Every demo login shares one password, listed in README.md.
"""

from __future__ import annotations

import io
import json
import logging
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone
from djmoney.money import Money
from reportlab.lib.pagesizes import A5
from reportlab.pdfgen import canvas

from accounts.models import AuditAction, CaseloadAssignment, Role, Team, User
from accounts.services import audit_record, caseload_assign, team_create, user_create
from approvals import services as workflow
from budgets.models import Assessment, RasScheme, SchemeStatus
from budgets.selectors import active_scheme
from budgets.services.assessments import assessment_complete, assessment_create
from budgets.services.charging import financial_assessment_record, policy_in_force
from budgets.services.schemes import scheme_export, scheme_import
from careplans.models import CarePlan, PlanStatus
from careplans.services import plan_create
from marketplace.services import review_create
from payments import selectors
from payments import services as payments
from payments.models import FundAccount, FundKind, PaymentRun
from providers.models import Provider, ProviderStatus, ServiceOffering
from providers.services import provider_create, provider_verify, service_create

DEMO_PASSWORD = "demo-pass-2026"

STAFF = [
    # username, full name, role
    ("taylor.reid", "Taylor Reid", Role.TEAM_MANAGER),
    ("sam.patel", "Sam Patel", Role.SOCIAL_WORKER),
    ("jo.okafor", "Jo Okafor", Role.SOCIAL_WORKER),
    ("chris.wong", "Chris Wong", Role.SOCIAL_WORKER),
    ("casey.brown", "Casey Brown", Role.CASE_MANAGER),
    ("farah.ahmed", "Farah Ahmed", Role.FINANCE),
]
TEAM_NAME = "North Locality Team"
# username, full name, the client they act for (as a family member)
REPRESENTATIVE = ("pat.ellis", "Pat Ellis", "ruth.ellis")
# Grace Adeyemi takes part of her plan as a direct payment to employ a personal assistant, which her
# son manages for her; her transport is an individual service fund the transport firm holds.
DIRECT_PAYMENT_CLIENT = "grace.adeyemi"
DIRECT_PAYMENT_REPRESENTATIVE = ("kwame.adeyemi", "Kwame Adeyemi")
PA_NAME = "Joy Mensah (personal assistant)"

PROVIDERS = [
    # organisation, postcode, staff username, staff name, CQC location ID, CQC rating, verified?
    ("Brightside Home Care", "NF1 4QT", "lee.brightside", "Lee Carter", "1-1000000001", "good", True),
    ("Riverside Day Centre", "NF2 7HD", "mo.riverside", "Mo Hussain", "1-1000000002", "outstanding", True),
    ("Northfield PA Collective", "NF3 1AA", "ana.pacollective", "Ana Silva", None, "not_yet_rated", True),
    ("Wheels Community Transport", "NF1 9ZX", "dan.wheels", "Dan Evans", None, "not_yet_rated", True),
    ("Harbour Respite Homes", "NF2 2RS", "kim.harbour", "Kim Doyle", "1-1000000005", "requires_improvement", False),
]
# organisation → (title, category, unit, price, districts, description)
SERVICES = {
    "Brightside Home Care": [
        ("Personal care visits", "personal_care", "hour", "24.50", ["NF1", "NF2"],
         "Help with washing, dressing and meals at home, by a small regular team."),
        ("Night sitting", "personal_care", "night", "145.00", ["NF1"], "A carer stays overnight, awake or sleeping."),
        ("Cleaning and laundry", "domestic_help", "hour", "18.00", ["NF1", "NF2", "NF3"], "Weekly or fortnightly."),
    ],
    "Riverside Day Centre": [
        ("Day centre sessions", "day_opportunities", "day", "62.00", ["NF2", "NF3"],
         "Activities, lunch and company, with transport available."),
        ("Art and music group", "community_activities", "session", "15.00", ["NF2"], "Small groups, all abilities."),
        ("Short respite breaks", "respite", "night", "180.00", ["NF1", "NF2", "NF3"],
         "Planned overnight breaks so family carers can rest."),
    ],
    "Northfield PA Collective": [
        ("Personal assistant support", "personal_assistant", "hour", "16.50", ["NF1", "NF2", "NF3"],
         "Choose your own PA for daily living, work or getting out."),
    ],
    "Wheels Community Transport": [
        ("Door-to-door transport", "transport", "session", "12.00", ["NF1", "NF2", "NF3"],
         "Wheelchair-accessible minibus to appointments and activities."),
    ],
    "Harbour Respite Homes": [
        ("Residential respite", "respite", "week", "950.00", ["NF2"], "Stays of one or two weeks."),
    ],
}  # fmt: skip

# Financial assessments (docs/charging.md) showing each outcome: Ruth pays nothing (her income is
# below the Minimum Income Guarantee), Grace pays part (the worked example in the docs), George the
# full cost (his savings are above the upper capital limit).
FINANCIAL = {
    "ruth.ellis": {"band": "pension_age", "capital": "3000", "income": [("state_pension", "221.20")]},
    "grace.adeyemi": {
        "band": "pension_age",
        "capital": "15000",
        "income": [("state_pension", "221.20"), ("attendance_allowance", "72.65"), ("earnings", "50.00")],
        "housing_costs": [("Council tax", "10.00")],
        "disability_related_expenditure": [
            ("Extra heating", "28.00"),
            ("Special diet", "15.00"),
            ("Extra laundry", "10.00"),
        ],
    },
    "george.mensah": {"band": "25_to_pension_age", "capital": "40000", "income": [("esa", "140.55")]},
}

CLIENT_NAMES = [
    "Ruth Ellis", "George Mensah", "Aisha Khan", "Peter Novak", "Margaret Lewis", "Tom Hughes",
    "Grace Adeyemi", "Harry Walsh", "Nadia Rahman", "Owen Price", "Leah Fischer", "Ben Clarke",
    "Ivy Chen", "Frank Doyle", "Sophie Martin", "Kwame Asante", "Eileen Byrne", "Raj Mehta",
    "Carol White", "Dylan Rees",
]  # fmt: skip
CLIENT_POSTCODES = ["NF1 2AB", "NF1 5CD", "NF2 3EF", "NF2 8GH", "NF3 4JK", "NF3 6LM"]
UNALLOCATED = 2  # the last clients are left for the team manager to allocate

# Needs for the first demo clients, as answers to the example RAS: (answer level per outcome
# question, night support, risk, unpaid carer?, complete?). Others are left unassessed.
LEVELS = ["independent", "some_help", "lots_of_help", "full_help"]
DEMO_NEEDS = [
    ([1, 1, 0, 1, 0, 1, 1, 0, 1, 0], "none", "low", False, True),  # moderate needs
    ([3, 3, 2, 3, 2, 2, 1, 1, 2, 0], "every_night", "moderate", False, True),  # high needs
    ([1, 0, 0, 0, 0, 1, 0, 0, 0, 0], "none", "low", True, True),  # lowest eligible, with a carer
    ([2, 2, 1, 2, 1, 1, 2, 1, 2, 0], "occasional", "low", True, False),  # assessment in progress
]
COMPLETED_NEEDS = 3  # the first three of DEMO_NEEDS end with a budget
# Where each demo client's plan has got to (by client number; the rest stay drafts).
WORKFLOW_DEMO = {1: "approved", 2: "submitted", 4: "in_review", 5: "changes_requested", 6: "approved", 7: "submitted"}
OUTCOME_QUESTIONS = [
    "nutrition", "hygiene", "toilet", "dressing", "home_safety",
    "habitable_home", "relationships", "work_education", "community", "caring_for_child",
]  # fmt: skip


@contextmanager
def _quiet_background_jobs(verbosity: int):
    """Tasks run inline while seeding (no broker), and Celery logs a line for each; below
    verbosity 2 only warnings and errors are shown."""
    trace = logging.getLogger("celery.app.trace")
    previous = trace.level
    if verbosity < 2:
        trace.setLevel(logging.WARNING)
    try:
        yield
    finally:
        trace.setLevel(previous)


def _payslip(week_ending, amount: Decimal) -> SimpleUploadedFile:
    """The PA's payslip for a week, as the PDF a payroll service would send."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A5)
    page.setTitle("Payslip")
    lines = [
        "Payslip",
        PA_NAME,
        f"Week ending {week_ending:%-d %B %Y}",
        "2 hours at £14.50",
        f"Paid: £{amount:.2f}",
        "Employer: Grace Adeyemi (direct payment)",
    ]
    for n, text in enumerate(lines):
        page.drawString(40, 540 - 24 * n, text)
    page.showPage()
    page.save()
    return SimpleUploadedFile(f"payslip-{week_ending:%Y-%m-%d}.pdf", out.getvalue(), content_type="application/pdf")


def _client_identity(index: int) -> tuple[str, str]:
    name = CLIENT_NAMES[index % len(CLIENT_NAMES)]
    round_ = index // len(CLIENT_NAMES)
    username = name.lower().replace(" ", ".") + (str(round_ + 1) if round_ else "")
    return username, name + (f" {round_ + 1}" if round_ else "")


class Command(BaseCommand):
    help = "Create (or complete) a fictional council's people and providers for a demo. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=12, help="How many demo clients (default 12).")

    def handle(self, *args, clients: int, **options):
        if clients < 0:
            raise CommandError("--clients must be 0 or more.")
        # The demo people's addresses are fictional: whatever EMAIL_URL says, their workflow
        # notifications are kept in memory, never sent.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
            _quiet_background_jobs(options.get("verbosity", 1)),
        ):
            with transaction.atomic():
                created = self._seed(clients)
            # After the commit: the payment run's sending (queued on commit) has paid the loads due.
            with transaction.atomic():
                created += self._spend_demo()
            with transaction.atomic():
                created += self._draft_scheme()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new records)."))
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")

    def _seed(self, n_clients: int) -> int:
        created = 0
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            # The first administrator cannot be created by another administrator.
            admin = User.objects.create_superuser(
                "admin", "admin@northfield.example", DEMO_PASSWORD, full_name="Alex Morgan"
            )
            audit_record(actor=None, action=AuditAction.CREATE, target=admin, message="seed_demo bootstrap")
            created += 1

        def person(username: str, full_name: str, role: str, **extra) -> User:
            nonlocal created
            existing = User.objects.filter(username=username).first()
            if existing:
                return existing
            created += 1
            return user_create(
                actor=admin,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                full_name=full_name,
                email=f"{username}@northfield.example",
                **extra,
            )

        staff = {username: person(username, name, role) for username, name, role in STAFF}

        case_manager = staff["casey.brown"]
        for org, postcode, username, name, regulator_id, rating, verified in PROVIDERS:
            provider = Provider.objects.filter(name=org).first()
            if provider is None:
                provider = provider_create(
                    actor=admin,
                    name=org,
                    postcode=postcode,
                    email=f"office@{username.split('.')[1]}.example",
                    regulator_id=regulator_id,
                    regulator_rating=rating,
                    areas_served=sorted({d for s in SERVICES[org] for d in s[4]}),
                )
                created += 1
            member = person(username, name, Role.PROVIDER, provider=provider)
            if not provider.services.exists():
                for title, category, unit, price, districts, description in SERVICES[org]:
                    service_create(
                        actor=member,
                        title=title,
                        category=category,
                        unit=unit,
                        unit_price=Money(price, "GBP"),
                        postcode_districts=districts,
                        description=description,
                    )
                    created += 1
            if verified and provider.status == ProviderStatus.PENDING:
                provider_verify(actor=case_manager, provider=provider, reason="Checks complete (demo data)")

        social_workers = [u for u in staff.values() if u.role == Role.SOCIAL_WORKER]
        self._social_workers = social_workers
        if not Team.objects.filter(name=TEAM_NAME).exists():
            team_create(actor=admin, name=TEAM_NAME, manager=staff["taylor.reid"], members=social_workers)
            created += 1

        for i in range(n_clients):
            username, name = _client_identity(i)
            client = person(username, name, Role.CLIENT, postcode=CLIENT_POSTCODES[i % len(CLIENT_POSTCODES)])
            allocate = i < n_clients - UNALLOCATED
            if allocate and not CaseloadAssignment.objects.filter(client=client).exists():
                caseload_assign(actor=admin, social_worker=social_workers[i % len(social_workers)], client=client)
                created += 1
            if allocate and not Assessment.objects.filter(client=client).exists():
                # The first four show each assessment outcome; later clients repeat the completed ones.
                needs = DEMO_NEEDS[i] if i < len(DEMO_NEEDS) else DEMO_NEEDS[i % COMPLETED_NEEDS]
                worker = social_workers[i % len(social_workers)]
                created += self._assess(client, worker, needs, WORKFLOW_DEMO.get(i, "draft"), staff["taylor.reid"])

        # Ruth Ellis's daughter acts for her (a representative), once Ruth exists.
        ruth = User.objects.filter(username=REPRESENTATIVE[2], role=Role.CLIENT).first()
        if ruth is not None:
            username, full_name, _ = REPRESENTATIVE
            person(username, full_name, Role.REPRESENTATIVE, represents=[ruth])
        grace = User.objects.filter(username=DIRECT_PAYMENT_CLIENT, role=Role.CLIENT).first()
        if grace is not None:
            person(*DIRECT_PAYMENT_REPRESENTATIVE, Role.REPRESENTATIVE, represents=[grace])
        return created

    def _draft_scheme(self) -> int:
        """A draft next version of the scheme in force (same prices), so an administrator can try
        a what-if re-pricing at once (once: an existing draft is kept)."""
        admin = User.objects.filter(username="admin").first()
        scheme = active_scheme()
        if admin is None or scheme is None or RasScheme.objects.filter(status=SchemeStatus.DRAFT).exists():
            return 0
        data = scheme_export(scheme=scheme)
        data["version"] = (RasScheme.objects.filter(name=scheme.name).aggregate(v=Max("version"))["v"] or 0) + 1
        data["effective_from"] = max(timezone.localdate(), scheme.effective_from)
        data["description"] = "Demo draft: change its prices, then run a what-if to see who would gain or lose."
        scheme_import(actor=admin, text=json.dumps(data, default=str))
        return 1

    def _spend_demo(self) -> int:
        grace = User.objects.filter(username=DIRECT_PAYMENT_CLIENT, role=Role.CLIENT).first()
        son = User.objects.filter(username=DIRECT_PAYMENT_REPRESENTATIVE[0], role=Role.REPRESENTATIVE).first()
        return self._spend(grace, son) if grace and son else 0

    def _spend(self, client: User, representative: User) -> int:
        """The personal assistant's weekly wages the representative has paid from the direct
        payment since it began, one with its payslip as the receipt (once)."""
        account = FundAccount.objects.filter(budget__client=client, kind=FundKind.DIRECT_PAYMENT).first()
        if account is None or account.spending.exists():
            return 0
        line = account.loads.exclude(status="cancelled").first().plan.lines.filter(service__isnull=True).first()
        today = timezone.localdate()
        created = 0
        week = account.anchor + timedelta(days=6)  # wages are paid at the end of each week worked
        while week < today:
            amount = Decimal("29.00")  # two hours at £14.50
            if selectors.fund_figures(account).balance.amount < amount:
                break
            last = week + timedelta(days=7) >= today
            payments.spending_record(
                actor=representative,
                account=account,
                date=week,
                amount=amount,
                payee=PA_NAME,
                line_id=line.pk if line else None,
                description=f"Wages: two hours, week ending {week:%-d %B}",
                receipt=_payslip(week, amount) if last else None,
            )
            created += 1
            week += timedelta(days=7)
        return created

    def _assess(self, client: User, social_worker: User, needs, stage: str, manager: User) -> int:
        levels, night, risk, carer, complete = needs
        answers = {q: LEVELS[level] for q, level in zip(OUTCOME_QUESTIONS, levels, strict=True)}
        answers.update(night_support=night, risk=risk)
        assessment = assessment_create(
            actor=social_worker,
            client=client,
            answers=answers,
            modifiers=["unpaid_carer"] if carer else [],
            impairment=True,
            wellbeing_impact=True,
        )
        if complete:
            # Approved demo plans started six weeks ago, so there is delivered support to invoice.
            started = timezone.localdate() - timedelta(days=42) if stage == "approved" else None
            budget = assessment_complete(actor=social_worker, assessment=assessment, period_start=started)
            self._financial(client, budget)
            plan = self._plan(client, budget)
            self._advance(plan, stage, social_worker, manager)
            if stage == "approved":
                if client.username == DIRECT_PAYMENT_CLIENT:
                    # Grace's plan has been in force since her budget began (six weeks), so her
                    # direct payment has a few weeks of loads and wages paid from them. The demo
                    # dates only the approval back: the workflow's history keeps today's steps.
                    CarePlan.objects.filter(pk=plan.pk).update(
                        approved_at=timezone.make_aware(datetime.combine(budget.period_start, time(9)))
                    )
                # Seeding is one transaction, so the schedule approval queues on commit would come
                # too late for the payment run below to pay the loads due: make it now (idempotent).
                payments.funds_schedule(plan_id=plan.pk)
                self._invoice(plan, social_worker)
                self._review(plan)
        return 1

    def _financial(self, client: User, budget) -> None:
        """The client's financial assessment, from their budget's start, by finance (once)."""
        figures = FINANCIAL.get(client.username)
        finance = User.objects.filter(role=Role.FINANCE).first()
        if figures is None or finance is None or client.financial_assessments.exists():
            return
        if policy_in_force(budget.period_start) is None:  # a database without the example policy
            return
        financial_assessment_record(
            actor=finance,
            client=client,
            date=budget.period_start,
            band=figures["band"],
            capital=Decimal(figures["capital"]),
            income=[{"kind": kind, "weekly_amount": Decimal(amount)} for kind, amount in figures["income"]],
            housing_costs=[
                {"description": what, "weekly_amount": Decimal(amount)}
                for what, amount in figures.get("housing_costs", [])
            ],
            disability_related_expenditure=[
                {"description": what, "weekly_amount": Decimal(amount)}
                for what, amount in figures.get("disability_related_expenditure", [])
            ],
        )

    def _review(self, plan) -> None:
        """The client reviews the provider of their personal care; the others (transport, respite)
        are left for the person trying the demo to rate."""
        words = {
            4: "Reliable and kind. The carers arrive on time and know what I like.",
            5: "Excellent: they treat me as a person, not a task list.",
        }
        first = plan.lines.filter(provider__isnull=False).order_by("position").first()
        for n, provider_id in enumerate([first.provider_id] if first else []):
            provider = Provider.objects.get(pk=provider_id)
            if not provider.reviews.filter(author=plan.client).exists():
                stars = 4 + (plan.pk + n) % 2
                review_create(
                    actor=plan.client, provider=provider, rating=stars, text=words[stars], reliability=stars, kindness=5
                )

    def _invoice(self, plan, social_worker: User) -> None:
        """Weekly invoices for the support delivered so far: the older ones confirmed and paid
        in a payment run, the last week's waiting for the client to confirm."""
        line = plan.lines.filter(kind="weekly").order_by("position").first()
        staff = User.objects.filter(provider_id=line.provider_id, role=Role.PROVIDER).first()
        if staff is None:
            return
        start = line.start
        invoices = []
        for week in range(5):
            first = start + timedelta(days=7 * week)
            invoices.append(
                payments.invoice_submit(
                    actor=staff,
                    line=line,
                    period_start=first,
                    period_end=first + timedelta(days=6),
                    units=line.units_per_week,
                    reference=f"{line.provider.name[:3].upper()}-{plan.pk:03d}-{week + 1}",
                )
            )
        for invoice in invoices[:4]:
            payments.invoice_confirm(actor=plan.client, invoice=invoice)
        finance = User.objects.filter(role=Role.FINANCE).first()
        if finance is not None and not PaymentRun.objects.filter(payments__invoice__in=invoices).exists():
            payments.payment_run_start(actor=finance)

    def _advance(self, plan, stage: str, social_worker: User, manager: User) -> None:
        """Move a demo plan through the real workflow services to `stage`, so its history,
        notifications, review clock and ledger are what they would be."""
        if stage == "draft":
            return
        plan = workflow.plan_submit(
            actor=plan.client, plan=plan, comment="I have talked this through with my daughter."
        )
        if stage == "submitted":
            return
        plan = workflow.plan_start_review(actor=social_worker, plan=plan)
        if stage == "in_review":
            return
        if stage == "changes_requested":
            workflow.plan_request_changes(
                actor=social_worker,
                plan=plan,
                comment="Please add how you will get to the day centre on Fridays, and who covers if a carer is ill.",
            )
            return
        plan = workflow.plan_approve(
            actor=social_worker, plan=plan, checklist=dict.fromkeys(workflow.CHECKLIST, True), comment="A clear plan."
        )
        if plan.status == PlanStatus.AWAITING_SENIOR_APPROVAL:
            workflow.plan_approve(
                actor=manager,
                plan=plan,
                checklist=dict.fromkeys(workflow.CHECKLIST, True),
                comment="Agreed: the overnight support is needed.",
            )

    def _plan(self, client: User, budget) -> CarePlan:
        """A draft plan with realistic lines for each demo client with a budget."""
        services = {s.title: s for s in ServiceOffering.objects.filter(provider__status=ProviderStatus.VERIFIED)}
        start = budget.period_start
        amount = budget.indicative_amount.amount
        hours = "1" if amount < 3000 else "3" if amount < 10000 else "5"  # so every demo plan fits its budget
        lines = [
            {"service": services["Personal care visits"].pk, "units_per_week": hours, "start": start,
             "end": budget.period_end},
            {"service": services["Door-to-door transport"].pk, "units_per_week": "1", "start": start,
             "end": budget.period_end},
        ]  # fmt: skip
        if client.username == DIRECT_PAYMENT_CLIENT:  # a mixed plan: see DIRECT_PAYMENT_CLIENT
            lines[1]["money_management"] = "individual_service_fund"
            lines.append(
                {"description": "Personal assistant", "unit": "hour", "unit_price": "14.50", "units_per_week": "2",
                 "start": start, "end": budget.period_end, "money_management": "direct_payment"}
            )  # fmt: skip
        if budget.indicative_amount.amount > 10000:
            lines.append(
                {"service": services["Short respite breaks"].pk, "quantity": "6", "start": start + timedelta(days=60)}
            )
        return plan_create(
            actor=client,
            budget=budget,
            outcomes=["Stay living in my own home", "Get out to the shops and see friends every week"],
            lines=lines,
            risks="Risk of falls when alone; a pendant alarm is fitted.",
            contacts="My daughter, and my social worker at the council.",
        )
