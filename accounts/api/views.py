"""People endpoints (docs/api.md): auth token, users, teams, caseloads.

Views translate HTTP to service calls and back; refusals come from services as
`accounts.exceptions` errors and are shaped by `accounts.api.errors`.
"""

from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import generics, mixins, status, viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions, services, tokens
from accounts.models import AuditAction, CaseloadAssignment, Role, Team, User
from accounts.selectors import client_list_visible_to
from accounts.throttles import SignInFailureThrottle, SignInRateThrottle

from . import serializers as s


class RolePredicate(BasePermission):
    """Wraps a `permissions.py` predicate so a role that may not call the endpoint gets 403."""

    predicate = staticmethod(lambda user: False)
    message = "Your role may not do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and self.predicate(request.user))


class IsAdminRole(RolePredicate):
    predicate = staticmethod(permissions.is_admin)
    message = "Only administrators may do this."


class CanAssignCaseloads(RolePredicate):
    predicate = staticmethod(permissions.can_assign_caseloads)
    message = "Only administrators and team managers may allocate caseloads."


class TokenView(APIView):
    """Exchange a username and password for a new API token, which expires (docs/security.md,
    "Tokens"). Attempts are limited per address, failures more tightly (password spraying); a
    success clears the lock-out count for that username and address, as a page sign-in does."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [SignInRateThrottle]

    @extend_schema(request=s.TokenRequestSerializer, responses=s.TokenSerializer, auth=[])
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        failures = SignInFailureThrottle()
        if not failures.allow_request(request, self):
            self.throttled(request, failures.wait())
        try:
            user = authenticate(
                request=request._request,
                username=data.validated_data["username"],
                password=data.validated_data["password"],
            )
        except AxesBackendPermissionDenied:
            return Response(
                {"detail": "Too many failed sign-in attempts. Wait and try again later."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None or not user.is_active:
            failures.record_failure(request)
            return Response(
                {"non_field_errors": ["Unable to sign in with the username and password given."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        AxesProxyHandler.user_logged_in(sender=type(self), request=request._request, user=user)
        token, key = tokens.token_issue(user=user, request=request._request)
        return Response({"token": key, "id": token.token_key, "expires_at": token.expiry})


class TokenListView(generics.ListAPIView):
    """The caller's API tokens that still work (never the tokens themselves)."""

    serializer_class = s.TokenInfoSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return AuthToken.objects.none()
        return tokens.token_list(user=self.request.user)


class TokenRevokeView(APIView):
    """Revoke one of the caller's own tokens; someone else's is 404."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, token_id: str):
        tokens.token_revoke(actor=request.user, token_id=token_id, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Accounts. Administrators create and list them; anyone may read their own."""

    serializer_class = s.UserSerializer

    def get_permissions(self):
        if self.action == "retrieve":
            return super().get_permissions()
        return [*super().get_permissions(), IsAdminRole()]

    def get_queryset(self):
        user = self.request.user
        users = User.objects.order_by("id").prefetch_related("representations")
        return users if permissions.is_admin(user) else users.filter(pk=user.pk)

    def retrieve(self, request, *args, **kwargs):
        user = self.get_object()
        if user.role == Role.CLIENT and user.pk != request.user.pk:
            services.audit_record(actor=request.user, action=AuditAction.VIEW, target=user, request=request._request)
        return Response(self.get_serializer(user).data)

    @extend_schema(request=s.UserCreateSerializer, responses={201: s.UserSerializer})
    def create(self, request):
        data = s.UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(actor=request.user, request=request._request, **data.validated_data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TeamViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Teams: a team manager and their social workers. Administrators manage them."""

    serializer_class = s.TeamSerializer
    permission_classes = [*APIView.permission_classes, IsAdminRole]
    queryset = Team.objects.select_related("manager").prefetch_related("members").order_by("id")

    @extend_schema(request=s.TeamCreateSerializer, responses={201: s.TeamSerializer})
    def create(self, request):
        data = s.TeamCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(actor=request.user, request=request._request, **data.validated_data)
        return Response(s.TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class CaseloadViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Open caseload allocations the caller can see; administrators and team managers allocate."""

    serializer_class = s.CaseloadSerializer

    def get_permissions(self):
        extra = [CanAssignCaseloads()] if self.action == "create" else []
        return [*super().get_permissions(), *extra]

    def get_queryset(self):
        return CaseloadAssignment.objects.filter(
            end_date__isnull=True, client__in=client_list_visible_to(self.request.user)
        ).order_by("id")

    @extend_schema(request=s.CaseloadCreateSerializer, responses={201: s.CaseloadSerializer})
    def create(self, request):
        data = s.CaseloadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.caseload_assign(actor=request.user, request=request._request, **data.validated_data)
        return Response(s.CaseloadSerializer(assignment).data, status=status.HTTP_201_CREATED)


class MeView(generics.RetrieveAPIView):
    """The signed-in account, so an integration can check whose token it holds."""

    serializer_class = s.UserSerializer

    def get_object(self):
        return self.request.user


class IgnoreAcceptNegotiation(BaseContentNegotiation):
    """For endpoints that answer a file (PDF) whatever the Accept header says (docs/api.md): the view
    returns the file itself; refusals still come back as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
