"""Who may send, see, confirm and pay invoices, and run payments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import Role
from accounts.permissions import acts_for, can_view_client, has_role, is_admin
from careplans.permissions import REVIEWER_ROLES

if TYPE_CHECKING:
    from accounts.models import User

    from .models import FundAccount, Invoice


def can_invoice(user: User) -> bool:
    """Provider staff linked to an organisation."""
    return has_role(user, Role.PROVIDER) and user.provider_id is not None


def can_view_invoice(user: User, invoice: Invoice) -> bool:
    """The provider's staff, the plan's client (and whoever acts for them) and their social
    worker or team manager, finance and administrators."""
    if has_role(user, Role.PROVIDER):
        return user.provider_id is not None and user.provider_id == invoice.provider_id
    if has_role(user, Role.FINANCE) or is_admin(user):
        return True
    if has_role(user, Role.CLIENT, Role.REPRESENTATIVE):
        return acts_for(user, invoice.plan.client)
    return can_view_client(user, invoice.plan.client) if has_role(user, *REVIEWER_ROLES) else False


def can_confirm_invoice(user: User, invoice: Invoice) -> bool:
    """The plan's client (or someone acting for them), or their social worker or team manager."""
    if has_role(user, Role.CLIENT, Role.REPRESENTATIVE):
        return acts_for(user, invoice.plan.client)
    return has_role(user, *REVIEWER_ROLES) and can_view_client(user, invoice.plan.client)


def can_run_payments(user: User) -> bool:
    """Finance officers start, watch, retry and reconcile payment runs (and administrators)."""
    return has_role(user, Role.FINANCE) or is_admin(user)


def can_view_payments_of(user: User, provider_id: int) -> bool:
    return can_run_payments(user) or (has_role(user, Role.PROVIDER) and user.provider_id == provider_id)


def can_spend_from(user: User, account: FundAccount) -> bool:
    """The fund's holder records what is spent from it: the person holding a direct payment (the
    client or anyone acting for them; a representative named holder alone), or the staff of the
    provider holding an individual service fund."""
    if account.holder_provider_id is not None:
        return has_role(user, Role.PROVIDER) and user.provider_id == account.holder_provider_id
    if account.holder.role == Role.REPRESENTATIVE:  # named holder: that person, not the client
        return bool(user and user.is_authenticated and user.is_active and user.pk == account.holder_id)
    return acts_for(user, account.holder)
