"""The exception families every Cairn service raises.

Services raise a subclass of one of these with a message a person can act on; the HTML views and
the API map the family to an outcome in one place (`accounts.api.errors` for the API):

| family              | API  | page                      |
|---------------------|------|---------------------------|
| `InvalidInput`      | 400  | form error                |
| `ActionNotAllowed`  | 403  | 403 page                  |
| `NotVisible`        | 404  | 404 page                  |
| `StateConflict`     | 409  | message, nothing changed  |

Later apps subclass these (`BudgetExceeded(StateConflict)`, `NotOnCaseload(NotVisible)`...).
"""


class CairnError(Exception):
    """Base of every error a service raises on purpose."""

    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ):
        self.field = field
        # Several messages at once (e.g. every rule a password breaks), keyed by field.
        self.errors = errors or {}
        if message is None and self.errors:
            message = " ".join(m for msgs in self.errors.values() for m in msgs)
        self.message = message or self.default_message
        super().__init__(self.message)

    def as_dict(self) -> dict[str, list[str]]:
        """The `{"field": ["message"]}` shape docs/api.md gives for errors."""
        if self.errors:
            return self.errors
        return {self.field: [self.message]} if self.field else {}


class InvalidInput(CairnError):
    default_message = "The information given is not valid."


class ActionNotAllowed(CairnError):
    default_message = "You are not allowed to do that."


class NotVisible(CairnError):
    default_message = "Not found."


class StateConflict(CairnError):
    default_message = "That cannot be done in the record's current state."


class AuditImmutable(StateConflict):
    default_message = "Audit events are append-only."


class NotOnCaseload(NotVisible):
    default_message = "That client is not on your caseload."


class WrongRole(InvalidInput):
    default_message = "That person does not have the right role."


class AlreadyAssigned(StateConflict):
    default_message = "That client is already on this social worker's caseload."


class NotAllowedToManageRepresentatives(ActionNotAllowed):
    default_message = "Only the client's social worker or an administrator can change who acts for them."


class AlreadyRepresents(StateConflict):
    default_message = "This person already acts for this client."


class RepresentationGone(StateConflict):
    default_message = "This person no longer acts for this client: someone has already removed them."
