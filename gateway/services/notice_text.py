"""Rendered notice text: subject, body and one-SMS text from the template files, in the best locale there is.

Templates live in gateway/templates/notices/<locale>/<name>.txt, reviewed like code. Each defines three blocks,
`subject`, `body` and `sms`. They are rendered in Jinja2's sandbox with undefined names as errors, so a
template can neither reach into Python objects nor silently print an empty value. Dates, amounts, markets and
plans arrive already written the way the locale writes them (country names from CLDR, plan names from the
glossary, gateway/templates/glossary.toml); `.codes` still gives a market list's ISO codes, for an SMS that
has no room for the names, and the `last_day` filter turns a period end into the last day it covers.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from gateway.domain.notices import (
    PARTS,
    format_date,
    format_money,
    locale_chain,
    market_name,
    names_list,
    plan_name,
)

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent / "templates" / "notices"
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")


class Money(tuple):
    """An amount and its ISO 4217 currency, written per locale when rendered."""

    def __new__(cls, amount: Decimal, currency: str) -> Money:
        return super().__new__(cls, (Decimal(amount), currency))


class Markets(tuple):
    """Markets by ISO 3166-1 code, written as the reader's language names the countries."""


class Plans(tuple):
    """Plan codes, written as the glossary names the plans in the reader's language."""


class DateText(str):
    """A date as the locale writes it, keeping the moment for `last_day`."""

    moment: datetime
    language: str

    def __new__(cls, moment: datetime, language: str) -> DateText:
        text = super().__new__(cls, format_date(moment, language))
        text.moment, text.language = moment, language
        return text


class MarketsText(str):
    """Country names joined as the language joins a list; `.codes` are the ISO codes, for an SMS."""

    codes: str

    def __new__(cls, codes: Markets, language: str) -> MarketsText:
        text = super().__new__(cls, names_list((market_name(code, language) for code in codes), language))
        text.codes = ", ".join(codes)
        return text


def last_day(value: DateText) -> DateText:
    """The last calendar day (UTC) before a moment: a billing period ending at midnight on 6 December covers
    5 December, and that is the date a member may count on, phrased inclusively ("up to and including")."""
    return DateText(value.moment - timedelta(microseconds=1), value.language)


def _localized(value: Any, language: str) -> Any:
    if isinstance(value, datetime):
        return DateText(value, language)
    if isinstance(value, Money):
        return format_money(value[0], value[1], language)
    if isinstance(value, Markets):
        return MarketsText(value, language)
    if isinstance(value, Plans):
        return names_list((plan_name(code, language) for code in value), language)
    if isinstance(value, tuple):
        return tuple(_localized(item, language) for item in value)
    return value


def _body_text(text: str) -> str:
    """Paragraphs separated by one blank line; the lines of a paragraph joined."""
    paragraphs = [_SPACES.sub(" ", paragraph).strip() for paragraph in _BLANK_LINES.split(text.strip())]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


class NoticeRenderer:
    """Renders notice templates; one per process is enough (compiled templates and results are cached)."""

    def __init__(self, root: Path = TEMPLATE_ROOT) -> None:
        self.root = root
        self._environment = SandboxedEnvironment(
            loader=FileSystemLoader(str(root)),
            undefined=StrictUndefined,
            autoescape=False,  # plain text for email, SMS and app notifications, not HTML
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.filters["last_day"] = last_day

    def languages(self) -> list[str]:
        return sorted(path.name for path in self.root.iterdir() if path.is_dir())

    @lru_cache(maxsize=1024)  # noqa: B019 - templates do not change while the process runs
    def resolve_locale(self, template: str, locale: str | None) -> str:
        """The first locale of the fallback chain (de-AT -> de -> en) that has this template."""
        for candidate in locale_chain(locale):
            if (self.root / candidate / f"{template}.txt").is_file():
                return candidate
        raise LookupError(f"notice template {template!r} exists in no locale of {locale_chain(locale)}")

    def render(self, template: str, locale: str | None, **context: Any) -> dict[str, str]:
        """{"locale", "subject", "body", "sms"} for one notice; lists in `context` should be tuples."""
        chosen = self.resolve_locale(template, locale)
        return dict(self._render(template, chosen, tuple(sorted(context.items()))))

    @lru_cache(maxsize=4096)  # noqa: B019 - one renderer per process; a campaign renders the same text many times
    def _render(self, template: str, locale: str, context: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, str], ...]:
        language = locale.split("-")[0]
        compiled = self._environment.get_template(f"{locale}/{template}.txt")
        values = {name: _localized(value, language) for name, value in context}
        rendered = compiled.new_context(values)
        parts = {part: "".join(compiled.blocks[part](rendered)) for part in PARTS}
        return (
            ("locale", locale),
            ("subject", _SPACES.sub(" ", parts["subject"]).strip()),
            ("body", _body_text(parts["body"])),
            ("sms", _SPACES.sub(" ", parts["sms"]).strip()),
        )


_default: NoticeRenderer | None = None


def renderer() -> NoticeRenderer:
    """The process's renderer over the packaged templates."""
    global _default
    if _default is None:
        _default = NoticeRenderer()
    return _default
