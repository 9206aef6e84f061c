"""Review endpoints (docs/api.md): `POST /reviews/`, `GET /providers/{id}/reviews/`,
`POST /reviews/{id}/hide/` and `/restore/` (case managers), and `/answer/` (the provider, once)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from accounts.exceptions import InvalidInput, NotVisible
from accounts.text import FreeTextField
from providers.models import Provider
from providers.selectors import provider_get_for

from . import selectors, services
from .models import DIMENSIONS, Review
from .permissions import can_moderate_reviews


class ReviewSerializer(serializers.ModelSerializer):
    yours = serializers.SerializerMethodField()
    hidden_reason = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id", "provider", "rating", *DIMENSIONS, "text", "created_at", "answer", "answered_at", "hidden",
            "hidden_reason", "yours",
        ]  # fmt: skip
        read_only_fields = fields

    def _user(self):
        request = self.context.get("request")
        return request.user if request else None

    def get_yours(self, review) -> bool:
        user = self._user()
        return bool(user and review.author_id == user.pk)

    def get_hidden_reason(self, review) -> str:
        user = self._user()
        if user and (review.author_id == user.pk or can_moderate_reviews(user)):
            return review.hidden_reason
        return ""


class ReviewCreateSerializer(serializers.Serializer):
    provider = serializers.IntegerField()
    rating = serializers.IntegerField()
    text = FreeTextField(max_length=5000, allow_blank=True)
    reliability = serializers.IntegerField(required=False, allow_null=True)
    kindness = serializers.IntegerField(required=False, allow_null=True)
    communication = serializers.IntegerField(required=False, allow_null=True)
    value = serializers.IntegerField(required=False, allow_null=True)


class ReasonBody(serializers.Serializer):
    reason = FreeTextField(max_length=500, error_messages={"required": "Give the reason for hiding it."})


class AnswerBody(serializers.Serializer):
    text = FreeTextField(max_length=5000, error_messages={"required": "Write your answer."})


class ReviewViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReviewSerializer
    queryset = Review.objects.none()  # objects come from get_object, with the visibility rule

    def get_object(self):
        review = Review.objects.select_related("provider").filter(pk=self.kwargs["pk"]).first()
        user = self.request.user
        if review is None or (review.hidden and review.author_id != user.pk and not can_moderate_reviews(user)):
            raise NotVisible("No such review.")
        return review

    @extend_schema(request=ReviewCreateSerializer, responses={201: ReviewSerializer})
    def create(self, request):
        body = ReviewCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        provider = Provider.objects.filter(pk=data.pop("provider")).first()
        if provider is None:
            raise InvalidInput("There is no such provider.", field="provider")
        review = services.review_create(actor=request.user, provider=provider, request=request, **data)
        return Response(ReviewSerializer(review, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonBody, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        body = ReasonBody(data=request.data)
        body.is_valid(raise_exception=True)
        review = services.review_hide(
            actor=request.user, review=self.get_object(), reason=body.validated_data["reason"], request=request
        )
        return Response(ReviewSerializer(review, context={"request": request}).data)

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        review = services.review_restore(actor=request.user, review=self.get_object(), request=request)
        return Response(ReviewSerializer(review, context={"request": request}).data)

    @extend_schema(request=AnswerBody, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        body = AnswerBody(data=request.data)
        body.is_valid(raise_exception=True)
        review = services.review_answer(
            actor=request.user, review=self.get_object(), text=body.validated_data["text"], request=request
        )
        return Response(ReviewSerializer(review, context={"request": request}).data)


class ProviderReviewsView(ListAPIView):
    """A provider's reviews (hidden ones only to their author and to case managers)."""

    serializer_class = ReviewSerializer
    queryset = Review.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        provider = provider_get_for(self.request.user, self.kwargs["pk"])  # NotVisible → 404
        if can_moderate_reviews(self.request.user):
            return selectors.reviews_for_moderation().filter(provider=provider)
        return selectors.provider_reviews_for(self.request.user, provider)
