"""A partner_ref's one normal form: how the gateway reads a partner's customer reference wherever one comes in.

A partner's systems, its agents and its rosters all name a customer by the partner's reference, and each pads it
in its own way: a CSV export adds a space, a form a line break, an agent pastes a tab. So every reference is read
the same way before it is stored or looked up: at most 100 characters as sent, surrounding white space dropped,
and what is left must not be empty nor hold a control character or white space other than the plain space (a
tab or line break inside is a broken field, not part of anyone's reference). Spaces inside stay: "ACME 0042" is a
reference as written.
"""

from __future__ import annotations

import re

MAX_LENGTH = 100  # the column's length (gateway.store.models.Subscription.partner_ref)
# C0 and C1 control characters and DEL, lone surrogates (no UTF-8 form), and any white space but the space.
_NOT_IN_A_REF = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]|[^\\S ]")

# The rule as a pattern JSON Schema tools read alike (ECMA-262 and Python agree on these escapes; their \s do not),
# published with the field so that generated clients and test data know it: white space (Python's) around, then
# something with neither a control character nor white space other than the space inside.
_SPACES = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_NOT_INSIDE = "\\x00-\\x1f\\x7f-\\x9f\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
PATTERN = f"^[{_SPACES}]*[^{_NOT_INSIDE} ](?:[^{_NOT_INSIDE}]*[^{_NOT_INSIDE} ])?[{_SPACES}]*$"

BLANK = "Must contain more than white space."
TOO_LONG = f"At most {MAX_LENGTH} characters, white space included."
CONTROL = "Must not hold a control character, tab or line break (spaces are fine)."
DESCRIPTION = (
    "The partner's own reference for the customer. Read in one normal form everywhere (create, filters, look-ups, "
    f"escalations, rosters): at most {MAX_LENGTH} characters, and its surrounding white space is dropped; what is "
    "left must not be empty nor hold a control character, tab or line break (spaces are fine)."
)


class UnusableRef(ValueError):
    """The text cannot be read as a reference; its message says why (one of the texts above)."""


def normal_form(value: str) -> str:
    """The reference `value` names, in its normal form; UnusableRef when it names none."""
    if len(value) > MAX_LENGTH:  # counted as sent, as the contract's maxLength counts it
        raise UnusableRef(TOO_LONG)
    reference = value.strip()
    if not reference:
        raise UnusableRef(BLANK)
    if _NOT_IN_A_REF.search(reference):
        raise UnusableRef(CONTROL)
    return reference


def normal_form_or_none(value: object) -> str | None:
    """The reference a text names in its normal form, or None when it is not text or names none."""
    if not isinstance(value, str):
        return None
    try:
        return normal_form(value)
    except UnusableRef:
        return None
