"""A refused console form's field errors in the agent's language, instead of the API's validation texts.

The console validates its forms with the API's schemas (contracts/), whose messages are written for developers
("Missing data for required field.", "Must be one of: billing, double_billing, …"). Each message a console form
can get is recognised here by the rule that produced it, and said for the agent, per field where the field
changes what the agent should do. A message not recognised is shown as the field's general advice, never as the
API's English.
"""

from __future__ import annotations

import logging
import re

from marshmallow import ValidationError, fields, validate

from contracts.common import NO_NUL, NOT_BLANK
from gateway.console.i18n import N_, current_language, format_number, gettext
from gateway.domain import partner_refs

log = logging.getLogger("gateway.console")

_REQUIRED = fields.Field.default_error_messages["required"]
_NULL = fields.Field.default_error_messages["null"]
_ONE_OF = re.compile(re.escape(validate.OneOf.default_message).replace(re.escape("{choices}"), ".*"), re.S)
_TOO_LONG = re.compile(re.escape(validate.Length.message_max).replace(re.escape("{max}"), r"(\d+)"))
_LENGTH_BETWEEN = re.compile(
    re.escape(validate.Length.message_all).replace(re.escape("{min}"), r"\d+").replace(re.escape("{max}"), r"(\d+)")
)
_TOO_SHORT = re.compile(re.escape(validate.Length.message_min).replace(re.escape("{min}"), r"\d+"))

# What an empty or missing field asks of the agent, per form field.
MISSING = {
    "partner_ref": N_("Enter the customer reference."),
    "category": N_("Choose a category."),
    "priority": N_("Choose a priority."),
    "description": N_("Write what the customer reported and what you checked."),
    "comment": N_("Write a comment."),
    "status_comment": N_("Write a note: reopening needs one."),
}
NOT_AN_OPTION = {
    "category": N_("Choose a category from the list."),
    "priority": N_("Choose a priority from the list."),
}
BLANK = N_("Must contain more than white space.")
TOO_LONG = N_("At most %(limit)s characters.")
CONTROL = N_("Must not hold a tab, line break or other control character (spaces are fine).")
NUL = N_("Must not hold a NUL character.")
FILL_IN = N_("Fill in this field.")
CANNOT_USE = N_("This value cannot be used here. Check it and try again.")


def _one(field: str, message: str) -> str:
    """The agent's wording of one schema message about `field`."""
    if message in (_REQUIRED, _NULL) or _TOO_SHORT.fullmatch(message):
        return gettext(MISSING.get(field, FILL_IN))
    if _ONE_OF.fullmatch(message):
        return gettext(NOT_AN_OPTION.get(field, CANNOT_USE))
    if message in (NOT_BLANK.error, partner_refs.BLANK):
        return gettext(BLANK)
    too_long = _TOO_LONG.fullmatch(message) or _LENGTH_BETWEEN.fullmatch(message)
    if too_long:
        return gettext(TOO_LONG, limit=format_number(int(too_long.group(1)), current_language()))
    if message == partner_refs.TOO_LONG:
        return gettext(TOO_LONG, limit=format_number(partner_refs.MAX_LENGTH, current_language()))
    if message in (partner_refs.CONTROL, validate.Regexp.default_message):
        return gettext(CONTROL)
    if message == NO_NUL.error:
        return gettext(NUL)
    log.warning("console field error without a console wording", extra={"field": field, "text": message})
    return gettext(CANNOT_USE)


def reference_refusal(message: str) -> str:
    """Why a typed customer reference is none (gateway.domain.partner_refs' reasons), in the agent's words."""
    return _one("partner_ref", message)


def field_errors(error: ValidationError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """{form field: what is wrong, in the agent's language}; `rename` maps schema fields to the form's names."""
    rename = rename or {}
    found = {}
    for field, messages in error.normalized_messages().items():
        shown = rename.get(field, field)
        texts = messages if isinstance(messages, list) else [str(messages)]
        found[shown] = " ".join(dict.fromkeys(_one(shown, str(text)) for text in texts))
    return found
