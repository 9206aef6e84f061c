"""Errors the budgets services raise; the families in `accounts.exceptions` decide the HTTP status."""

from accounts.exceptions import ActionNotAllowed, InvalidInput, NotVisible, StateConflict


class LedgerImmutable(StateConflict):
    default_message = "Ledger entries are never changed or deleted; post a reversal instead."


class Unbalanced(InvalidInput):
    default_message = "A ledger transaction must balance: its postings must sum to zero in one currency."


class BudgetExceeded(StateConflict):
    default_message = "That is more than the budget has available."


class IdempotencyConflict(StateConflict):
    default_message = "That idempotency key was already used for a different movement."


class AlreadyReversed(StateConflict):
    default_message = "That transaction has already been reversed."


class SchemeNotEditable(StateConflict):
    default_message = "A published RAS scheme cannot be changed; create a new version."


class NoActiveScheme(StateConflict):
    default_message = "No RAS scheme is published and in effect."


class SchemeInvalid(InvalidInput):
    default_message = "The RAS scheme is not valid."


class AssessmentIncomplete(InvalidInput):
    default_message = "Every question must be answered."


class NotEligible(StateConflict):
    default_message = "The person is not eligible, so no budget can be set."


class AssessmentClosed(StateConflict):
    default_message = "This assessment is already completed."


class ClientNotVisible(NotVisible):
    default_message = "No such client on your caseload."


class NotAllowed(ActionNotAllowed):
    pass
