"""Errors the payments services raise; the families in `accounts.exceptions` decide the HTTP status
(and the page's answer)."""

from accounts.exceptions import StateConflict


class InvoiceDuplicate(StateConflict):
    default_message = "This line has already been invoiced for exactly this period."


class NotInvoiceable(StateConflict):
    default_message = "Only support under an approved plan can be invoiced."


class WrongInvoiceState(StateConflict):
    default_message = "The invoice is not in a state where that can be done."


class NothingToPay(StateConflict):
    default_message = "There is nothing to pay: no confirmed invoice or direct payment load is waiting."


class PaymentNotYetSent(Exception):
    """The attempt ended without a definite answer: try again later (the same key, after a lookup)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
