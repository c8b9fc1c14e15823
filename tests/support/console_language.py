"""What the console tests read of the console's catalogs: each language's translations, and the English left in a
page meant for another language."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from gateway.console import i18n
from gateway.domain.notices import NOTICE_LOCALES


def catalog(language: str):
    with (i18n.TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=language)


CATALOGS = {language: catalog(language) for language in NOTICE_LOCALES}


def translations(language: str) -> dict[str, str]:
    """msgid (the singular for a plural) -> every translated form joined, for the checks on wording."""
    found = {}
    for message in CATALOGS[language]:
        if message.id:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            found[key] = " ".join(forms)
    return found


# Messages a language writes exactly as English does; any other translation equal to its source is a copy left
# untranslated.
SAME_AS_ENGLISH = {
    "de": {"Normal", "Status", "FAQ"},
    "fr": {"Activation", "Action", "Actions", "Console", "FAQ"},
    "es": {"Normal", "Plan: %(plan)s", "Plan:"},
    "ms": {"Status"},
}

# Not "of": German and Malay name the Isle of Man and Port of Spain as English does (CLDR).
ENGLISH_WORDS = re.compile(
    r"\b(the|and|your|you|with|this|that|has|been|please|here|which|there|for|not|from|is|are|to|it|by|be|can"
    r"|will|what|when|could|should|would)\b"
)


def english_left(text: str, language: str) -> list[str]:
    """The English in a page meant for `language` (its text segments one per line): catalog messages shown
    untranslated, and common English words. A one-word message counts only as a segment of its own (a label, a
    button): inside a sentence it may be a word of the language as well (French "Comment un client...")."""
    found = []
    for message in translations("en"):  # every message, whatever the language's catalog says of it
        lead = re.sub(r"%\(\w+\)s.*", "", message).strip()  # the text before the first placeholder
        if message in SAME_AS_ENGLISH[language] or len(lead) < 3:
            continue
        pattern = rf"(?m)^\s*{re.escape(lead)}[\s.:]*$" if " " not in lead else rf"(?<!\w){re.escape(lead)}(?!\w)"
        if re.search(pattern, text):
            found.append(message)
    return found + ENGLISH_WORDS.findall(text)
