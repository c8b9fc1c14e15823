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


# Not "of": German and Malay name the Isle of Man and Port of Spain as English does (CLDR).
ENGLISH_WORDS = re.compile(
    r"\b(the|and|your|you|with|this|that|has|been|please|here|which|there|for|not|from|is|are|to|it|by|be|can"
    r"|will|what|when|could|should|would)\b"
)


def english_left(text: str, language: str) -> list[str]:
    """The English in a page meant for `language`: catalog messages shown untranslated, and common English words."""
    known = translations(language)
    found = [
        message
        for message, translated in known.items()
        if translated != message
        and len(message) > 2
        and re.search(r"(?<!\w)" + re.escape(re.sub(r"%\(\w+\)s.*", "", message).strip()) + r"(?!\w)", text)
        and re.sub(r"%\(\w+\)s.*", "", message).strip()
    ]
    return found + ENGLISH_WORDS.findall(text)
