"""Every write about people, teams, caseloads and the audit trail.

Each service is keyword-only, takes the acting user as `actor=`, checks the actor may act, raises a
`accounts.exceptions` error with a message a person can act on, and writes its audit row in the
same transaction as the change it records.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from .exceptions import (
    ActionNotAllowed,
    AlreadyAssigned,
    AlreadyRepresents,
    InvalidInput,
    NotAllowedToManageRepresentatives,
    NotVisible,
    RepresentationGone,
    WrongRole,
)
from .models import (
    AuditAction,
    AuditEvent,
    CaseloadAssignment,
    Notification,
    Representation,
    RepresentationKind,
    Role,
    Team,
    TeamMembership,
    User,
)
from .permissions import (
    can_assign_caseload,
    can_manage_representatives,
    can_manage_teams,
    can_manage_users,
    can_view_client,
)
from .text import normalize_username, validate_name


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address, for the audit trail, the rate limits and django-axes' lock-outs alike.

    X-Forwarded-For is set by whoever sends the request, so it is believed only as far as the
    deployment says (docs/security.md, "Proxies and the trust boundary"): only when the request
    arrives from one of `TRUSTED_PROXY_ADDRESSES`, and then the address the outermost of the
    `TRUSTED_PROXY_COUNT` proxies saw is that many entries from the right. A client that reaches
    the app server directly is known by its own address, whatever header it sends.
    """
    if request is None:
        return None
    request = getattr(request, "_request", request)
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies or not _is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) >= proxies:
        candidate = forwarded[-proxies]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote


def _is_trusted_proxy(address: str | None) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in settings.TRUSTED_PROXY_ADDRESSES)


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    subject: User | None = None,
    request: HttpRequest | None = None,
    changes: dict[str, Any] | None = None,
    message: str = "",
    actor_username: str = "",
) -> AuditEvent:
    """Append one row to the audit trail.

    `subject` is the client whose personal data the action touched, when there is one; a user
    record that is a client is its own subject. Never updates or deletes an existing row.
    """
    event = audit_event(
        actor=actor,
        action=action,
        target=target,
        subject=subject,
        request=request,
        changes=changes,
        message=message,
        actor_username=actor_username,
    )
    event.save(force_insert=True)
    return event


def audit_event(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    subject: User | None = None,
    request: HttpRequest | None = None,
    changes: dict[str, Any] | None = None,
    message: str = "",
    actor_username: str = "",
) -> AuditEvent:
    """The row `audit_record` would write, unsaved: for `audit_record_many`."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    if subject is None and isinstance(target, User) and target.role == Role.CLIENT:
        subject = target
    return AuditEvent(
        actor=actor,
        actor_username=(actor.get_username() if actor else actor_username)[:150],
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        subject=subject,
        ip_address=client_ip(request),
        changes=changes or {},
        message=message[:500],
    )


def audit_record_many(events: list[AuditEvent]) -> None:
    """Append many audit rows in one statement (a payment run writes thousands)."""
    AuditEvent.objects.bulk_create(events, batch_size=1000)


def _require_role(user: User, role: str, field: str, label: str) -> None:
    if user.role != role:
        raise WrongRole(f"{user} is not a {label}.", field=field)


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    full_name: str,
    email: str = "",
    postcode: str = "",
    provider: models.Model | None = None,
    represents: Iterable[User] | None = None,
    representation_kind: str = RepresentationKind.FAMILY_MEMBER,
    request: HttpRequest | None = None,
) -> User:
    """Create an account with one role.

    Enforces: only administrators create accounts; the role is known; provider staff belong to a
    provider and no one else does; a representative acts for at least one client (`represents`,
    each a client, each once) and no one else is given clients; the username is free; the
    password passes the validators. Writes a `create` audit row, and for a representative the
    links to their clients (each audited) in the same transaction.
    """
    if not can_manage_users(actor):
        raise ActionNotAllowed("Only administrators can create accounts.")
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [f"“{role}” is not a role. Choose one of: {', '.join(Role.values)}."]
    if role == Role.PROVIDER and provider is None:
        errors["provider"] = ["Provider staff must belong to a provider organisation."]
    if role != Role.PROVIDER and provider is not None:
        errors["provider"] = ["Only provider staff belong to a provider organisation."]
    represents = list(represents or [])
    if role == Role.REPRESENTATIVE:
        represents_errors = _represents_errors(represents)
        if represents_errors:
            errors["represents"] = represents_errors
        if representation_kind not in RepresentationKind.values:
            errors["representation_kind"] = [_unknown_kind(representation_kind)]
    elif represents:
        errors["represents"] = ["Only representatives act for clients: leave this out for any other role."]
    # NFKC first, so `ａｄｍｉｎ` is `admin` and taken like it (accounts/text.py).
    username = normalize_username(username)
    username_max = User._meta.get_field("username").max_length
    if not username:
        errors["username"] = ["Enter a username."]
    elif len(username) > username_max:
        # NFKC may lengthen a name (`㍱` is `hPa`): the column holds the normalised name.
        errors["username"] = [f"Keep the username to {username_max} characters."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is already taken."]
    else:
        try:
            User.username_validator(username)
        except ValidationError:
            errors["username"] = ["Use only letters, numbers and the characters @ . + - _ in a username."]
    if not full_name.strip():
        errors["full_name"] = ["Enter the person's full name."]
    try:
        validate_name(full_name)
    except ValidationError as exc:
        errors.setdefault("full_name", []).extend(exc.messages)
    email_max = User._meta.get_field("email").max_length
    if len(email) > email_max:
        errors["email"] = [f"Keep the email address to {email_max} characters."]
    postcode = postcode.strip().upper()
    postcode_max = User._meta.get_field("postcode").max_length
    if len(postcode) > postcode_max:
        # Upper case may lengthen text (`ß` is `SS`): the column holds the upper-cased postcode.
        errors["postcode"] = [f"Keep the postcode to {postcode_max} characters."]
    if problems := _name_problems(postcode):
        errors.setdefault("postcode", []).extend(problems)
    candidate = User(username=username, email=email, full_name=full_name, role=role)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput(errors=errors)

    user = User(
        username=username,
        email=email,
        full_name=full_name.strip(),
        postcode=postcode,
        role=role,
        provider=provider,
        # The Django admin is for configuration, so it is open to administrators only.
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=user,
        request=request,
        changes={"username": username, "role": role, "provider": getattr(provider, "pk", None)},
    )
    for client in represents if role == Role.REPRESENTATIVE else []:
        _representation_create(
            actor=actor, representative=user, client=client, kind=representation_kind, request=request
        )
    return user


def _name_problems(name: str) -> list[str]:
    try:
        validate_name(name)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _represents_errors(clients: list[User]) -> list[str]:
    if not clients:
        return ["A representative acts for at least one client: give their user ids."]
    problems, seen = [], set()
    for client in clients:
        if client.role != Role.CLIENT:
            problems.append(f"{client} (user {client.pk}) is not a client.")
        elif client.pk in seen:
            problems.append(f"{client} (user {client.pk}) is listed more than once.")
        seen.add(client.pk)
    return problems


def _unknown_kind(kind: str) -> str:
    return f"“{kind}” is not a kind of representative. Choose one of: {', '.join(RepresentationKind.values)}."


@transaction.atomic
def team_create(
    *,
    actor: User,
    name: str,
    manager: User,
    members: Iterable[User] = (),
    request: HttpRequest | None = None,
) -> Team:
    """Create a team led by a team manager, with social workers as members.

    Enforces: administrators only; the manager is a team manager; every member is a social
    worker not already in a team (one team each, also a database constraint). Audited.
    """
    if not can_manage_teams(actor):
        raise ActionNotAllowed("Only administrators can create teams.")
    members = list(members)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Enter a team name."]
    elif problems := _name_problems(name):
        errors["name"] = problems
    elif Team.objects.filter(name__iexact=name.strip()).exists():
        errors["name"] = ["A team with that name already exists."]
    if manager.role != Role.TEAM_MANAGER:
        errors["manager"] = [f"{manager} is not a team manager."]
    member_errors = [f"{m} is not a social worker." for m in members if m.role != Role.SOCIAL_WORKER]
    seen: set[int] = set()
    for m in members:
        if m.pk in seen:
            member_errors.append(f"{m} is listed more than once.")
        seen.add(m.pk)
    taken = TeamMembership.objects.filter(social_worker__in=members).select_related("social_worker", "team")
    member_errors += [f"{tm.social_worker} is already in {tm.team}." for tm in taken]
    if member_errors:
        errors["members"] = member_errors
    if errors:
        raise InvalidInput(errors=errors)

    team = Team.objects.create(name=name.strip(), manager=manager)
    TeamMembership.objects.bulk_create([TeamMembership(team=team, social_worker=m) for m in members])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=team,
        request=request,
        changes={"manager": manager.pk, "members": [m.pk for m in members]},
    )
    return team


def caseload_assign(
    *,
    actor: User,
    social_worker: User,
    client: User,
    start_date: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> CaseloadAssignment:
    """Put a client on a social worker's caseload, ending any other open allocation (a transfer).

    Enforces: the two people have the right roles; the actor may allocate this client to this
    worker (`can_assign_caseload`); the client is not already with this worker (409).
    Locks the client's row so two managers allocating the same client at once cannot both
    succeed; the partial unique constraint on open allocations backs this up. Audited.
    """
    _require_role(social_worker, Role.SOCIAL_WORKER, "social_worker", "social worker")
    _require_role(client, Role.CLIENT, "client", "client")
    if not can_assign_caseload(actor, social_worker, client):
        raise ActionNotAllowed(
            "You can allocate clients only to social workers in your team, "
            "and only clients who are unallocated or already with your team."
        )
    start_date = start_date or timezone.localdate()
    try:
        with transaction.atomic():
            User.objects.select_for_update().get(pk=client.pk)
            current = CaseloadAssignment.objects.filter(client=client, end_date__isnull=True).first()
            if current and current.social_worker_id == social_worker.pk:
                raise AlreadyAssigned(f"{client} is already on {social_worker}'s caseload.")
            if current:
                # Allocation is a fact about a day: a transfer ends the old allocation the day
                # the new one starts (or on its start date, if that was later).
                CaseloadAssignment.objects.filter(pk=current.pk).update(end_date=max(start_date, current.start_date))
                audit_record(
                    actor=actor,
                    action=AuditAction.UPDATE,
                    target=current,
                    subject=client,
                    request=request,
                    changes={"end_date": str(max(start_date, current.start_date))},
                    message="Ended by transfer to another social worker.",
                )
            assignment = CaseloadAssignment.objects.create(
                social_worker=social_worker, client=client, start_date=start_date, assigned_by=actor
            )
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                target=assignment,
                subject=client,
                request=request,
                changes={"social_worker": social_worker.pk, "client": client.pk, "start_date": str(start_date)},
            )
    except IntegrityError as exc:
        raise AlreadyAssigned(f"{client} was allocated by someone else at the same moment; reload and retry.") from exc
    return assignment


def caseload_take_on(*, actor: User, client: User, request: HttpRequest | None = None) -> CaseloadAssignment:
    """A social worker takes an unallocated client onto their own caseload (docs/api.md: assessing a
    client not yet on anyone's caseload does this). Refused if someone already has the client.
    Locks the client's row, like `caseload_assign`. Audited."""
    _require_role(actor, Role.SOCIAL_WORKER, "social_worker", "social worker")
    _require_role(client, Role.CLIENT, "client", "client")
    try:
        with transaction.atomic():
            User.objects.select_for_update().get(pk=client.pk)
            current = CaseloadAssignment.objects.filter(client=client, end_date__isnull=True).first()
            if current is not None:
                if current.social_worker_id == actor.pk:
                    return current
                raise ActionNotAllowed(f"{client} is already on another social worker's caseload.")
            assignment = CaseloadAssignment.objects.create(
                social_worker=actor, client=client, start_date=timezone.localdate(), assigned_by=actor
            )
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                target=assignment,
                subject=client,
                request=request,
                message="Took an unallocated client onto their own caseload.",
            )
    except IntegrityError as exc:
        raise AlreadyAssigned(f"{client} was allocated by someone else at the same moment; reload and retry.") from exc
    return assignment


def _check_may_manage_representatives(actor: User, client: User) -> None:
    """404 for a client the actor may not see (or someone who is not a client, unless the actor
    is an administrator, who is told the role is wrong instead); 403 for someone who may see the
    client but not change who acts for them."""
    if can_manage_representatives(actor, client):
        return
    if client.role == Role.CLIENT and can_view_client(actor, client):
        raise NotAllowedToManageRepresentatives()
    if not (can_manage_users(actor) and client.role != Role.CLIENT):
        raise NotVisible("No such client.")


def _representation_create(*, actor: User, representative: User, client: User, kind: str, request) -> Representation:
    """Write one link and its audit row (the caller has checked who may, the roles and the kind)."""
    link = Representation.objects.create(representative=representative, client=client, kind=kind, created_by=actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=link,
        subject=client,
        request=request,
        changes={"representative": representative.pk, "client": client.pk, "kind": kind},
    )
    return link


def representation_add(
    *,
    actor: User,
    representative: User,
    client: User,
    kind: str,
    request: HttpRequest | None = None,
) -> Representation:
    """Let a representative act for a client (docs/rules.md, "People acting for a client").

    Enforces: the actor is an administrator or the client's current social worker (403 for
    others who may see the client, 404 for those who may not); the representative has the role
    `representative` and an open account, the client the role `client`, the kind is known (400);
    the pair is not linked already (409; also a unique constraint). Locks the client's row, so two
    people adding the same link at once cannot both succeed. Audited; nothing is written on refusal.
    """
    _check_may_manage_representatives(actor, client)
    errors: dict[str, list[str]] = {}
    if representative.role != Role.REPRESENTATIVE:
        errors["representative"] = [f"{representative} is not a representative. An administrator gives them that role."]
    elif not representative.is_active:
        errors["representative"] = [f"{representative}'s account is closed."]
    if client.role != Role.CLIENT:
        errors["client"] = [f"{client} is not a client."]
    if kind not in RepresentationKind.values:
        errors["kind"] = [_unknown_kind(kind)]
    if errors:
        raise InvalidInput(errors=errors)
    try:
        with transaction.atomic():
            User.objects.select_for_update().get(pk=client.pk)
            if Representation.objects.filter(representative=representative, client=client).exists():
                raise AlreadyRepresents(f"{representative} already acts for {client}.")
            return _representation_create(
                actor=actor, representative=representative, client=client, kind=kind, request=request
            )
    except IntegrityError as exc:
        raise AlreadyRepresents(f"{representative} already acts for {client}.") from exc


def representation_remove(*, actor: User, representation: Representation, request: HttpRequest | None = None) -> None:
    """Stop a representative acting for a client. Enforces the same people as
    `representation_add` (403/404); a link already removed is a 409. Locks the link's row, and
    writes a `delete` audit row saying what the link was, in the same transaction."""
    client = representation.client
    _check_may_manage_representatives(actor, client)
    with transaction.atomic():
        link = Representation.objects.select_for_update().filter(pk=representation.pk).first()
        if link is None:
            raise RepresentationGone()
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            target=link,
            subject=client,
            request=request,
            changes={"representative": link.representative_id, "client": link.client_id, "kind": link.kind},
        )
        link.delete()


def password_changed_record(*, user: User, request: HttpRequest | None = None) -> AuditEvent:
    return audit_record(actor=user, action=AuditAction.PASSWORD_CHANGED, target=user, request=request)


def notification_send(
    *,
    recipients: Iterable[User | None],
    message: str,
    actor: User | None,
    link: str = "",
    target: models.Model | None = None,
) -> list[int]:
    """Tell people something in the app now, and by email once the caller's transaction commits.
    Skips nobody-recipients, the actor (they know what they did), inactive users and repeats.
    Returns the new notifications' ids. Queues the email task on commit."""
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    rows = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or (actor is not None and user.pk == actor.pk) or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                target_type=target_type,
                target_id=target.pk if target is not None else None,
                message=message[:500],
                link=link,
            )
        )
    ids = [n.pk for n in Notification.objects.bulk_create(rows)]  # PostgreSQL and SQLite return the ids
    if ids:
        from .tasks import notifications_email

        notifications_email.delay_on_commit(ids)
    return ids


def notifications_send_email(*, notification_ids: list[int]) -> int:
    """Email each notification not yet emailed. The mark is written and committed under a row lock
    before the mail goes: a retried task sends each once (a crash loses one email, never sends two)."""
    from django.core.mail import send_mail

    sent = 0
    for pk in notification_ids:
        with transaction.atomic():
            note = (
                Notification.objects.select_for_update(of=("self",))
                .select_related("recipient")
                .filter(pk=pk, emailed_at__isnull=True)
                .first()
            )
            if note is None or not note.recipient.email:
                continue
            note.emailed_at = timezone.now()
            note.save(update_fields=["emailed_at"])
        about = ContentType.objects.get_for_id(note.target_type_id).name if note.target_type_id else None
        send_mail(
            subject=f"Cairn: {'an' if about[:1] in 'aeiou' else 'a'} {about} has changed"
            if about
            else "Cairn: something needs your attention",
            message=f"{note.message}\n\nSee it at {settings.CAIRN_SITE_URL}{note.link}\n",
            from_email=None,
            recipient_list=[note.recipient.email],
        )
        sent += 1
    return sent


def notification_mark_read(*, actor: User, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when no ids are given)."""
    rows = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=notification_ids)
    return rows.update(read_at=timezone.now())
