"""Review pages: a client reviews a provider they use, the provider answers, and the case
manager's moderation list and quality dashboard."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from accounts.exceptions import ActionNotAllowed, CairnError, InvalidInput, NotVisible
from accounts.forms import add_service_errors
from accounts.text import FreeTextFormField
from providers.selectors import provider_get_for

from . import selectors, services
from .models import DIMENSIONS, Review
from .permissions import can_answer_review, can_moderate_reviews, can_review_provider

STAR_CHOICES = [(str(n), f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)]


class ReviewForm(forms.Form):
    rating = forms.ChoiceField(
        label="Overall, how was the support?",
        choices=STAR_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose from 1 to 5 stars"},
    )
    text = FreeTextFormField(
        label="Tell others about it",
        help_text="What went well, and what could be better. Do not include anyone's personal details.",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Say something about the support you had"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in DIMENSIONS.items():
            self.fields[name] = forms.ChoiceField(
                label=f"{label} (optional)",
                choices=STAR_CHOICES,
                widget=forms.RadioSelect,
                required=False,
            )


class ReviewCreateView(LoginRequiredMixin, TemplateView):
    template_name = "marketplace/review_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                self.provider = provider_get_for(request.user, kwargs["pk"])
            except NotVisible as exc:
                raise Http404(exc.message) from exc
            if not can_review_provider(request.user, self.provider):
                raise PermissionDenied(
                    "You can review a provider once you have had support from it under an approved care plan."
                )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ReviewForm())
        policy = services.rating_policy()
        context.update(
            provider=self.provider,
            dimension_names=list(DIMENSIONS),
            # Said before the form is filled in, not only when it is refused.
            review_again=selectors.review_again_from(self.request.user, self.provider, policy),
            review_interval_days=policy.review_interval_days,
        )
        return context

    def post(self, request, pk):
        form = ReviewForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.review_create(
                    actor=request.user,
                    provider=self.provider,
                    rating=data["rating"],
                    text=data["text"],
                    request=request,
                    **{name: data.get(name) or None for name in DIMENSIONS},
                )
            except CairnError as exc:
                for key, problems in (exc.errors or {None: [exc.message]}).items():
                    for problem in problems:
                        form.add_error(key if key in form.fields else None, problem)
                status = 409 if not exc.errors and not isinstance(exc, ActionNotAllowed) else 400
                return self.render_to_response(self.get_context_data(form=form), status=status)
            messages.success(request, f"Thank you: your review of {self.provider.name} is published.")
            return HttpResponseRedirect(reverse("provider-page", args=[pk]) + "#reviews")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AnswerForm(forms.Form):
    text = FreeTextFormField(
        label="Answer this review publicly (once)",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter your answer to the review",
            "max_length": "Keep the answer under 5,000 characters",
        },
    )


class ReviewAnswerView(LoginRequiredMixin, View):
    """A provider answers a review once. A refusal about the answer itself shows the answer box
    again, its error by the box and in the summary (the error pattern), not a banner."""

    def post(self, request, pk):
        review = get_object_or_404(Review.objects.select_related("provider", "author"), pk=pk)
        if not can_answer_review(request.user, review):
            raise Http404("No such review.")
        try:
            services.review_answer(
                actor=request.user, review=review, text=request.POST.get("text", ""), request=request
            )
        except CairnError as exc:
            if exc.field == "text" or isinstance(exc, InvalidInput):
                form = AnswerForm(request.POST)
                if form.is_valid():
                    add_service_errors(form, exc)
                return render(request, "marketplace/review_answer.html", {"review": review, "form": form}, status=400)
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your answer is published under the review.")
        return HttpResponseRedirect(reverse("provider-page", args=[review.provider_id]) + "#reviews")


class CaseManagerMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_moderate_reviews(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ModerationView(CaseManagerMixin, TemplateView):
    """Every review, newest first (or only hidden ones), with hide and restore."""

    template_name = "marketplace/moderation.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        only_hidden = self.request.GET.get("show") == "hidden"
        reviews = selectors.reviews_for_moderation(hidden=True if only_hidden else None)
        page = Paginator(reviews, 50).get_page(self.request.GET.get("page"))
        context.update(page_obj=page, reviews=page.object_list, only_hidden=only_hidden)
        return context


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Reason for hiding the review",
        help_text="The author still sees their review, with this reason.",
        max_length=500,
        error_messages={
            "required": "Enter the reason for hiding the review",
            "max_length": "Give the reason in 500 characters or fewer",
        },
    )


class ModerationActionView(CaseManagerMixin, View):
    """Hide (with a reason) or restore a review. Hiding without a reason shows the review again
    with the reason box, its error by the box and in the summary (not a banner on the list)."""

    def post(self, request, pk, decision):
        review = get_object_or_404(Review.objects.select_related("provider", "author"), pk=pk)
        try:
            if decision == "hide":
                services.review_hide(
                    actor=request.user, review=review, reason=request.POST.get("reason", ""), request=request
                )
                messages.success(request, "The review is hidden and no longer counts in the score.")
            elif decision == "restore":
                services.review_restore(actor=request.user, review=review, request=request)
                messages.success(request, "The review is shown again and counts in the score.")
            else:
                raise Http404("No such action.")
        except CairnError as exc:
            if decision == "hide" and exc.field == "reason":
                form = HideForm(request.POST)
                if form.is_valid():
                    add_service_errors(form, exc)
                context = {"review": review, "form": form, "next": self._back(request)}
                return render(request, "marketplace/review_hide.html", context, status=400)
            messages.error(request, exc.message)
        return HttpResponseRedirect(self._back(request))

    @staticmethod
    def _back(request) -> str:
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("moderation")
        return back


class QualityDashboardView(CaseManagerMixin, TemplateView):
    """Providers by score, falling ones, low-rated alerts, disagreements with the regulator, and
    what each has been paid; suspend from here."""

    template_name = "marketplace/quality.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        policy = services.rating_policy()
        spend = selectors.spend_by_provider()
        by_score = selectors.providers_by_score()
        for provider in by_score:
            provider.spend = spend.get(provider.pk)
        context.update(
            policy=policy,
            by_score=by_score,
            falling=selectors.falling_providers(policy),
            low=list(selectors.low_rated(policy)[:100]),
            disagreements=list(selectors.regulator_disagreements()[:100]),
        )
        return context
