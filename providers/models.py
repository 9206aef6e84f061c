"""Provider organisations, their onboarding, their services, and the rating figures the catalogue
sorts by.

Design:
- `Provider.status` is an FSM: pending → verified → suspended ⇄ verified, moved only by case
  managers through `providers.services` (each change audited with its reason). Only verified
  providers' services are listed, bought, invoiced or paid.
- Regulator data (the Care Quality Commission's location ID, overall rating and its date) is kept
  beside — never merged with — the client rating. `rating` and `review_count` are the stored
  aggregate that the ratings capability keeps current through `provider_rating_update`, so the
  catalogue can filter and sort by them with an index.
- A `ServiceOffering` has a unit price (lines of a care plan copy it, so a later price change
  never alters an agreed plan) and the postcode districts it serves, stored both as a list for
  display and as `ServiceArea` rows so "serves NF1" is an indexed join. Retiring hides an offering
  from the catalogue; it is never deleted.
- Open data: a provider and a service each keep a stored random `oruk_id` (the UUID published in
  the Open Referral UK directory, never derived from a database id that could be reused) and, when
  they came from another directory, that directory's id in `external_id`, so a re-import updates the
  same row (docs/open-data.md).
- Search: on PostgreSQL `search_vector` (title and description, kept by a trigger) has a GIN index,
  and provider names a trigram index; on SQLite the catalogue falls back to `icontains`.
- The catalogue's search tables (`ServiceListing`, and `ServiceListingArea` per district;
  PostgreSQL only): one row per listed service holding everything the catalogue filters and sorts
  by, kept by database triggers.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.money import money_field


class ProviderStatus(models.TextChoices):
    PENDING = "pending", "Pending checks"
    VERIFIED = "verified", "Verified"
    SUSPENDED = "suspended", "Suspended"


class RegulatorRating(models.TextChoices):
    OUTSTANDING = "outstanding", "Outstanding"
    GOOD = "good", "Good"
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
    INADEQUATE = "inadequate", "Inadequate"
    NOT_YET_RATED = "not_yet_rated", "Not yet rated"


class Provider(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    name = models.CharField(max_length=200)
    status = FSMField(default=ProviderStatus.PENDING, choices=ProviderStatus.choices, protected=True, db_index=True)
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    address = models.CharField(max_length=300, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    areas_served = models.JSONField(default=list, blank=True, help_text="Postcode districts, e.g. NF1.")
    regulator_id = models.CharField(
        "CQC location ID", max_length=30, null=True, blank=True, unique=True, help_text="e.g. 1-123456789"
    )
    regulator_provider_id = models.CharField("CQC provider ID", max_length=30, blank=True)
    regulator_rating = models.CharField(
        max_length=30, choices=RegulatorRating.choices, default=RegulatorRating.NOT_YET_RATED, db_index=True
    )
    regulator_rating_date = models.DateField(null=True, blank=True)
    regulator_checked_at = models.DateField(null=True, blank=True, help_text="Date of the latest CQC check.")
    # The client-rating aggregate (ratings capability): null until there are visible reviews.
    rating = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True, db_index=True)
    review_count = models.PositiveIntegerField(default=0, db_index=True)
    oruk_id = models.UUIDField("Open Referral UK id", default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(
        "id in the directory it was imported from", max_length=100, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["status", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == ProviderStatus.VERIFIED

    @transition(field=status, source=ProviderStatus.PENDING, target=ProviderStatus.VERIFIED)
    def verify(self) -> None:
        """Checks done: the provider's services are listed from now on."""

    @transition(field=status, source=ProviderStatus.VERIFIED, target=ProviderStatus.SUSPENDED)
    def suspend(self) -> None:
        """Taken out of the catalogue; no new plan lines, invoices or payments."""

    @transition(field=status, source=ProviderStatus.SUSPENDED, target=ProviderStatus.VERIFIED)
    def reinstate(self) -> None:
        """Back in the catalogue."""


class ServiceCategory(models.TextChoices):
    PERSONAL_CARE = "personal_care", "Personal care"
    PERSONAL_ASSISTANT = "personal_assistant", "Personal assistant"
    DAY_OPPORTUNITIES = "day_opportunities", "Day opportunities"
    RESPITE = "respite", "Respite"
    DOMESTIC_HELP = "domestic_help", "Domestic help"
    COMMUNITY_ACTIVITIES = "community_activities", "Community activities"
    TRANSPORT = "transport", "Transport"
    EQUIPMENT = "equipment", "Equipment"
    THERAPY = "therapy", "Therapy"
    OTHER = "other", "Other"


class ServiceUnit(models.TextChoices):
    HOUR = "hour", "hour"
    SESSION = "session", "session"
    DAY = "day", "day"
    NIGHT = "night", "night"
    WEEK = "week", "week"
    ITEM = "item", "item"


class ServiceOffering(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=30, choices=ServiceCategory.choices, db_index=True)
    unit = models.CharField(max_length=10, choices=ServiceUnit.choices)
    unit_price = money_field()
    description = models.TextField(blank=True)
    postcode_districts = models.JSONField(default=list, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    oruk_id = models.UUIDField("Open Referral UK id", default=uuid.uuid4, unique=True, editable=False)
    # The directory publishes each service once more, at its provider's location, under its own id.
    oruk_service_at_location_id = models.UUIDField(
        "Open Referral UK service-at-location id", default=uuid.uuid4, unique=True, editable=False
    )
    external_id = models.CharField(
        "id in the directory it was imported from", max_length=100, null=True, blank=True, unique=True
    )
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(name="service_price_positive", condition=Q(unit_price__gt=0)),
            models.CheckConstraint(name="service_category_known", condition=Q(category__in=ServiceCategory.values)),
            models.CheckConstraint(name="service_unit_known", condition=Q(unit__in=ServiceUnit.values)),
        ]
        indexes = [
            models.Index(fields=["unit_price", "id"], name="service_price_idx"),
            models.Index(fields=["category", "unit_price"], name="service_category_price_idx"),
            models.Index(fields=["provider", "retired_at"], name="service_provider_live_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.provider})"

    @property
    def is_live(self) -> bool:
        return self.retired_at is None


class ServiceArea(models.Model):
    """One postcode district a service covers: the indexed form of `postcode_districts`."""

    service = models.ForeignKey(ServiceOffering, on_delete=models.CASCADE, related_name="areas")
    district = models.CharField(max_length=4)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "service"], name="service_area_unique")]

    def __str__(self) -> str:
        return self.district


class ServiceListing(models.Model):
    """The catalogue's search table: one row for each live service of a verified provider, holding
    what the catalogue filters and sorts by — the service's title, category, price, search vector
    and postcode districts beside its provider's rating, review count and regulator rating.

    Why: a catalogue search over the service and provider tables joined cannot walk one index for
    "verified, serves NF12, sorted by rating"; on 500,000 services such pages took 100–700 ms. Here
    every filter and sort is a column of one table with its own index (the districts a GIN-indexed
    JSON array), so a page is an index walk or one bitmap scan (bench/search.py).

    PostgreSQL only: statement-level triggers (migration 0011) keep it equal to the rule in
    `providers.selectors.catalogue_services` whenever a service, its areas or its provider change,
    by any writer — the product, an import or a bulk UPDATE. On SQLite the table stays empty and the
    catalogue reads the service and provider tables. Never written by the application."""

    service = models.OneToOneField(
        ServiceOffering, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="listing"
    )
    provider = models.ForeignKey(Provider, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=30)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    search_vector = SearchVectorField(null=True)
    districts = models.JSONField(default=list)
    rating = models.DecimalField(max_digits=4, decimal_places=2, null=True)
    review_count = models.PositiveIntegerField(default=0)
    regulator_rating = models.CharField(max_length=30)

    def __str__(self) -> str:
        return f"listing of service {self.service_id}"


class ServiceListingArea(models.Model):
    """The search table again, one row per postcode district a listed service covers, holding the
    columns the catalogue filters and sorts by (PostgreSQL only, kept by the same triggers).

    Why: "serves NF12, sorted by price" on the listing table is a GIN bitmap of every NF12 service
    followed by a sort, or a walk down the price index testing each row's districts — PostgreSQL
    guessed wrong between them often enough to cost 50–80 ms. Here it is one walk down the
    (district, price) index, whatever the other filters. On SQLite it stays empty."""

    # No index of its own: the unique (service, district) index (migration 0011) leads with it.
    service = models.ForeignKey(
        ServiceOffering,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="listing_areas",
    )
    district = models.CharField(max_length=4)
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=30)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    rating = models.DecimalField(max_digits=4, decimal_places=2, null=True)
    review_count = models.PositiveIntegerField(default=0)
    regulator_rating = models.CharField(max_length=30)

    def __str__(self) -> str:
        return f"listing of service {self.service_id} in {self.district}"
