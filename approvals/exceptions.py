"""Errors the workflow services raise; the families in `accounts.exceptions` decide the HTTP status."""

from accounts.exceptions import ActionNotAllowed, InvalidInput, StateConflict


class WrongPlanState(StateConflict):
    default_message = "The plan is not in a state where that can be done."


class NotAReviewer(ActionNotAllowed):
    default_message = "Only the client's social worker or team manager can review this plan."


class FourEyes(ActionNotAllowed):
    default_message = "You drafted or submitted this plan, so someone else must approve it."


class AboveAuthority(ActionNotAllowed):
    default_message = "This plan costs more than you may approve: it needs a senior approver."


class ChecklistIncomplete(InvalidInput):
    default_message = "Confirm every item of the sign-off checklist."


class CommentRequired(InvalidInput):
    default_message = "Write a comment saying why."
