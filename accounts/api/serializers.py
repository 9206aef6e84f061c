"""Input and output shapes for the people endpoints. Rules live in `accounts.services`.

`accounts` is the bottom layer and imports no other app (docs/architecture.md, "Layers"), so the
provider model a member of staff may be given is taken from `User.provider`'s own foreign key
rather than imported from `providers`.
"""

from rest_framework import serializers

from accounts.api.fields import ID_MAX
from accounts.models import CaseloadAssignment, RepresentationKind, Role, Team, User
from accounts.text import NameField

_Provider = User._meta.get_field("provider").related_model


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="Send as `Authorization: Token <token>`. Shown once.")
    id = serializers.CharField(
        read_only=True, help_text="The token's id: its first characters, as listed by GET /auth/tokens/."
    )
    expires_at = serializers.DateTimeField(
        read_only=True, help_text="When the token stops working; sign in again before then for a new one."
    )


class TokenInfoSerializer(serializers.Serializer):
    """One of the caller's tokens, as listed; never the token itself."""

    id = serializers.CharField(read_only=True, source="token_key")
    created_at = serializers.DateTimeField(read_only=True, source="created")
    expires_at = serializers.DateTimeField(read_only=True, source="expiry")
    current = serializers.SerializerMethodField(help_text="Whether this call was made with this token.")

    def get_current(self, token) -> bool:
        used = getattr(self.context.get("request"), "auth", None)
        return getattr(used, "digest", None) == token.digest


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices)
    full_name = NameField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=254)
    postcode = serializers.CharField(required=False, allow_blank=True, default="", max_length=10)
    provider = serializers.PrimaryKeyRelatedField(
        queryset=_Provider._default_manager.all(), required=False, allow_null=True
    )
    # Whether each is a client, and that there is at least one, is the service's rule (with its messages).
    represents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        help_text="For role representative (required, at least one): the user ids of the clients they act for.",
    )
    representation_kind = serializers.ChoiceField(
        choices=RepresentationKind.choices,
        required=False,
        default=RepresentationKind.FAMILY_MEMBER,
        help_text="For role representative: how they act for those clients (default family_member).",
    )

    def validate_represents(self, ids: list[int]) -> list[User]:
        """The users named, in the order given (repeats kept, for the service to refuse)."""
        found = User.objects.in_bulk(set(ids))
        unknown = sorted({pk for pk in ids if pk not in found})
        if unknown:
            raise serializers.ValidationError([f"No user has the id {pk}." for pk in unknown])
        return [found[pk] for pk in ids]


class UserSerializer(serializers.ModelSerializer):
    represents = serializers.SerializerMethodField(
        help_text="For a representative: the user ids of the clients they act for (empty for other roles)."
    )

    class Meta:
        model = User
        fields = ["id", "username", "role", "full_name", "email", "postcode", "provider", "is_active", "represents"]
        read_only_fields = fields

    def get_represents(self, user) -> list[int]:
        if user.role != Role.REPRESENTATIVE:
            return []
        # `representations` is prefetched by the list endpoint.
        return sorted(link.client_id for link in user.representations.all())


class _UserIdField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)


class TeamCreateSerializer(serializers.Serializer):
    name = NameField(max_length=200)
    manager = _UserIdField()
    members = serializers.ListField(child=_UserIdField(), required=False, default=list)


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "manager", "members"]
        read_only_fields = fields


class CaseloadCreateSerializer(serializers.Serializer):
    social_worker = _UserIdField()
    client = _UserIdField()
    start_date = serializers.DateField(required=False)


class CaseloadSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseloadAssignment
        fields = ["id", "social_worker", "client", "start_date", "end_date"]
        read_only_fields = fields
