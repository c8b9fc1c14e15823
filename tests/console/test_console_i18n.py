"""The agent console in the agent's language: every message shown is in each catalog, translated with the same
placeholders and in the glossary's voice; no template shows text outside the catalogs; pages rendered in each
language hold no English; the language and time zone are chosen and fall back as console.i18n says; dates and
times are written the language's way, times in the agent's zone; refused forms speak the agent's language.
"""

from __future__ import annotations

import configparser
import fnmatch
import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages import frontend
from babel.messages.extract import extract_from_dir
from marshmallow import ValidationError, fields, validate

from contracts.common import NOT_BLANK
from contracts.escalations import EscalationCreateSchema
from gateway.console import i18n, labels
from gateway.console.field_errors import field_errors
from gateway.delivery.outcomes import _describe
from gateway.delivery.publisher import publish_events
from gateway.domain import partner_refs
from gateway.domain.clock import utcnow
from gateway.domain.countries import COUNTRY_CODES
from gateway.domain.escalations import Action, Category, Priority, Side, Status, parse_sla_policy
from gateway.domain.events import EventType
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.notices import NOTICE_LOCALES, glossary
from gateway.domain.situation import NoticeDelivery
from gateway.services import escalations as escalation_service
from gateway.services import faq as faq_service
from gateway.services.partners import deleted_endpoint_reason
from gateway.store.models import Delivery, Escalation
from partners.base import Attempt
from tests.support.api import app_store
from tests.support.console_language import CATALOGS, SAME_AS_ENGLISH, english_left, translations
from tests.support.lookup import add_faq_article, subscriber_in

CONSOLE = Path(i18n.__file__).resolve().parent
TEMPLATES = CONSOLE / "templates" / "console"
TRANSLATED = [language for language in NOTICE_LOCALES if language != "en"]
SLA = parse_sla_policy("urgent=4h,high=1bd,normal=3bd,low=5bd")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


# --- the catalogs ------------------------------------------------------------------------------------------------


def _extracted() -> dict[str | tuple[str, str], set[str]]:
    """Every message the console can show -> the files it is in, found as pybabel finds them (babel.cfg)."""
    with (CONSOLE / "babel.cfg").open() as file:
        method_map, options_map = frontend.parse_mapping_cfg(file, "babel.cfg")
    found: dict[str | tuple[str, str], set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(str(CONSOLE), method_map, options_map):
        found.setdefault(message, set()).add(Path(filename).name)
    return found


MESSAGES = _extracted()
SHOWN = set(MESSAGES)


def test_the_catalogs_are_installed_with_the_package():
    """The catalogs are read from the .po files at start (no build step): a wheel must carry them."""
    setup = configparser.ConfigParser()
    setup.read(CONSOLE.parents[1] / "setup.cfg")
    patterns = setup["options.package_data"]["gateway.console"].split()
    catalogs = [str(path.relative_to(CONSOLE)) for path in CONSOLE.glob("translations/*/LC_MESSAGES/*.po")]
    assert sorted(Path(path).parts[1] for path in catalogs) == sorted(NOTICE_LOCALES)
    assert all(any(fnmatch.fnmatch(path, pattern) for pattern in patterns) for path in [*catalogs, "babel.cfg"])


def test_the_extraction_finds_the_messages_of_the_python_modules_and_the_templates():
    files = set().union(*MESSAGES.values())
    assert {"views.py", "field_errors.py", "labels.py", "sign_in.html", "escalation.html", "settings.html"} <= files
    assert "Missing data for required field." not in MESSAGES  # the API's texts are not the console's


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_every_message_shown_is_in_the_catalog_and_translated(language):
    catalog = CATALOGS[language]
    missing, untranslated = [], []
    for message in sorted(SHOWN, key=str):
        entry = catalog.get(message)
        if entry is None:
            missing.append(message)
        elif language != "en" and (entry.fuzzy or not all(entry.string if entry.pluralizable else [entry.string])):
            untranslated.append(message)
    assert missing == [], f"not in {language}/messages.po"
    assert untranslated == [], f"not translated in {language}/messages.po"
    if language != "en":
        copied = [key for key, text in translations(language).items() if text == key]
        assert sorted(copied) == sorted(SAME_AS_ENGLISH[language]), "English left as the translation"


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_no_catalog_keeps_a_message_nothing_shows(language):
    stale = [message.id for message in CATALOGS[language] if message.id and message.id not in MESSAGES]
    assert stale == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_add_no_markup(language):
    findings = []
    for message in CATALOGS[language]:
        if not message.id or not message.string:
            continue
        source = " ".join(message.id) if isinstance(message.id, tuple) else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            if set(PLACEHOLDER.findall(form)) - {"num"} != set(PLACEHOLDER.findall(source)) - {"num"}:
                findings.append(f"placeholders: {source!r} -> {form!r}")
            # Translations are trusted as HTML (Jinja's i18n marks them safe): only the markup of the source.
            if re.findall(r"<[^>]+>", form) != re.findall(r"<[^>]+>", source) or ('"' in form) != ('"' in source):
                findings.append(f"markup: {source!r} -> {form!r}")
            if re.sub(r"%\(\w+\)s|%%", "", form).count("%"):
                findings.append(f"a bare % (write %%): {form!r}")
    assert findings == []


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_translations_keep_the_glossarys_voice(language):
    """The glossary's terms to avoid and the other register's pronouns, held against every console message (the
    English source too: tests/unit/test_glossary.py reads the templates, where the messages are now calls)."""
    entry = glossary()[language]
    findings = []
    texts = {str(message): str(message) for message in MESSAGES} if language == "en" else translations(language)
    for source, text in texts.items():
        for pattern, preferred, _why in entry["avoid"]:
            findings += [f"{source!r}: {m.group(0)!r} -> {preferred}" for m in re.finditer(pattern, text)]
        for pattern in entry["informal_address"] + entry["partner_team_only"]:
            findings += [f"{source!r}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    assert findings == []


def test_the_glossarys_term_for_escalation_is_the_consoles():
    for language in TRANSLATED:
        term = glossary()[language]["terms"]["escalation"]
        assert term.lower() in translations(language)["Open an escalation"].lower(), language


# --- no text outside the catalogs --------------------------------------------------------------------------------

JINJA = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
# Attributes a reader sees or hears; data-label is shown by the style sheet above a reflowed table's cell.
SHOWN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "label", "data-label"}
LETTER = re.compile(r"[^\W\d_]")
ATTRIBUTE = re.compile(r"[\w:-]+=\"[^\"]*\"|\b(aria-invalid|selected|checked|autofocus|required)\b")


class _LiteralText(HTMLParser):
    """Collects the text a template shows that is neither template code nor inside a gettext call. A key's name
    (<kbd>g</kbd>, <kbd>Esc</kbd>) is what is printed on the key, not text to translate."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "kbd"):
            self._skipping += 1
        shown = dict(attrs)
        names = SHOWN_ATTRIBUTES & shown.keys()
        if tag == "input" and shown.get("type") in ("submit", "button", "reset"):
            names.add("value")  # an input button shows its value
        self.found += [f"{tag}[{name}]={shown[name]!r}" for name in sorted(names) if LETTER.search(shown[name] or "")]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "kbd"):
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.found.append(ATTRIBUTE.sub(" ", data))  # a macro that writes attributes writes no text


def _literal_text(source: str) -> list[str]:
    parser = _LiteralText()
    parser.feed(JINJA.sub(" ", source))
    return [text.strip() for text in parser.found if LETTER.search(text)]


@pytest.mark.parametrize("template", sorted(path.name for path in TEMPLATES.glob("*.html")))
def test_no_template_shows_text_outside_the_catalogs(template):
    assert _literal_text((TEMPLATES / template).read_text(encoding="utf-8")) == []


def test_the_template_check_finds_text_outside_the_catalogs():
    source = (
        '<h1>{{ _("Fine") }}</h1><p>Left in English</p><button aria-label="Close">+</button>'
        "{% trans %}Fine too{% endtrans %}<style>p { color: red }</style><p>{{ value }} · → 42</p>"
        '<input type="submit" value="Send">'
    )
    assert _literal_text(source) == ["Left in English", "button[aria-label]='Close'", "input[value]='Send'"]


# --- the words for codes ---------------------------------------------------------------------------------------


def test_every_code_the_console_shows_has_a_word():
    assert set(labels.CATEGORIES) == set(Category)
    assert set(labels.PRIORITIES) == set(Priority)
    assert set(labels.ESCALATION_STATUSES) == set(Status)
    assert set(labels.DELIVERIES) == set(NoticeDelivery)


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_every_event_type_a_notice_can_report_has_a_name_in_every_catalog(language):
    """Every type the gateway can send, so every type a subscription's history can name (its transitions, its
    scheduled changes and its notices), has a name of its own, translated in each catalog."""
    assert set(labels.EVENTS) == set(EventType)
    names = [labels.EVENTS[event_type] for event_type in EventType]
    assert len(set(names)) == len(names)  # no two types read alike
    if language != "en":
        assert all(translations(language).get(name) for name in names), language


# A fixed moment: the recorded texts are the tests' ids, which every xdist worker must collect alike.
RECORDED_AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (
            _describe(Attempt(RECORDED_AT, 12.0, excerpt="Internal Server Error"), 500, None),
            "Ihr Endpunkt antwortete mit dem HTTP-Status 500.",
        ),
        (
            _describe(Attempt(RECORDED_AT, 5000.0, error_class="DeadlineExceeded"), None, None),
            "Ihr Endpunkt antwortete nicht rechtzeitig.",
        ),
        (
            _describe(Attempt(RECORDED_AT, 3.0, error_class="ConnectionError"), None, None),
            "Ihr Endpunkt war nicht erreichbar.",
        ),
        (
            "Retries exhausted after 8 attempts; last: HTTP 503: Service Unavailable",
            "Nach 8 Versuchen aufgegeben. Ihr Endpunkt antwortete mit dem HTTP-Status 503.",
        ),
        (
            deleted_endpoint_reason(RECORDED_AT),
            "Ihr Endpunkt wurde gelöscht, bevor die Benachrichtigung ihn erreichte.",
        ),
        ("Something else entirely", "Die Benachrichtigung konnte nicht zugestellt werden."),
        ("", ""),
        (None, ""),
    ],
)
def test_a_failed_delivery_is_summed_up_in_the_agents_language(app, recorded, expected):
    with app.test_request_context():
        from flask import g

        g.language = "de"
        assert labels.delivery_problem(recorded) == expected


# --- pages in each language, without English -------------------------------------------------------------------


class _VisibleText(HTMLParser):
    """The text of <main> (or another region) the console itself writes: no script or style, and no element that
    names its own language."""

    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    )

    def __init__(self, region: str) -> None:
        super().__init__(convert_charrefs=True)
        self.region = region
        self.parts: list[str] = []
        self._stack: list[bool] = []  # per open element: shown to this reader
        self._inside = region == "html"

    def handle_starttag(self, tag, attrs):
        if tag == self.region:
            self._inside = True
        if tag in self.VOID:
            return
        shown = dict(attrs)
        # The page's own language (html lang) is checked apart. An element inside that names its language holds
        # text the console does not write (an FAQ article, a customer's situation, a language's own name): the
        # FAQ and situation tests hold those to their language.
        foreign = tag != "html" and "lang" in shown
        hidden = tag in ("script", "style") or foreign
        self._stack.append(not hidden and (not self._stack or self._stack[-1]))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self._stack:
            self._stack.pop()
        if tag == self.region:
            self._inside = False

    def handle_data(self, data):
        if self._inside and (not self._stack or self._stack[-1]):
            self.parts.append(data)


def visible_text(page: str, region: str = "main") -> str:
    parser = _VisibleText(region)
    parser.feed(page)
    segments = (re.sub(r"\s+", " ", part).strip() for part in parser.parts)
    return "\n".join(segment for segment in segments if segment)


def test_the_english_check_finds_english():
    assert english_left("Abrechnung · Add comment · the case\nComment", "de") == ["Add comment", "Comment", "the"]
    assert english_left("Comment un client active-t-il le service ?", "fr") == []  # French's own "comment"
    assert english_left("Ajouter le commentaire · Activation", "fr") == []  # Activation is French as well


def csrf_of(client, url: str) -> str:
    return CSRF.search(client.get(url).get_data(as_text=True)).group(1)


def sign_in(client, token: str, locale: str = "", agent: str = "Ana"):
    data = {"csrf_token": csrf_of(client, "/console/sign-in"), "key": token, "agent": agent, "locale": locale}
    return client.post("/console/sign-in", data=data)


@pytest.fixture
def world(app, seed):
    """alpha (German by default, market DE) with an agent key, a warned subscriber and the shipped FAQ."""
    seed.partner("alpha", locale="de-DE", markets=("DE", "AT"))
    store = app_store(app)
    with store.transaction() as session:
        subscriber_in(session, "alpha", "warned", partner_ref="K-1001")
        add_faq_article(session, "nur-englisch", "en", "English only", body="Read this to the customer.")
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    token = seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_WRITE}).token
    return {"token": token, "seed": seed, "store": store}


def _service_acts(store, case_id: str, action: Action, comment: str | None = None) -> None:
    with store.transaction() as session:
        case = escalation_service.get_escalation(session, case_id, for_update=True)
        escalation_service.change_status(
            session, case, action, side=Side.SERVICE, author="key:gw_abc", now=utcnow(), sla=SLA, comment=comment
        )


def _open_case(client, **fields) -> object:
    data = {"partner_ref": "K-1001", "category": "billing", "priority": "high", "description": "#42", **fields}
    return client.post("/console/escalations", data={"csrf_token": csrf_of(client, "/console/"), **data})


def _pages(client, world) -> dict[str, object]:
    """Every page of the console (and its refusals), as the signed-in client sees them."""
    opened = _open_case(client)
    case_url = opened.headers["Location"]
    case_id = case_url.rsplit("/", 1)[1]
    for action in (Action.ACKNOWLEDGE, Action.START):
        _service_acts(world["store"], case_id, action)
    _service_acts(world["store"], case_id, Action.RESOLVE, comment="#43")
    pages = {
        "home": client.get("/console/"),
        "case (resolved, flash)": client.get(case_url),
        "new escalation": client.get("/console/escalations/new?partner_ref=K-1001"),
        "refused escalation": _open_case(client, category="", description=" ", partner_ref="K\t1"),
        "unknown customer": _open_case(client, partner_ref="K-9999"),
        "refused reopen": client.post(
            f"{case_url}/status", data={"csrf_token": csrf_of(client, case_url), "action": "reopen"}
        ),
        "stale close": client.post(
            f"{case_url}/status", data={"csrf_token": csrf_of(client, case_url), "action": "close", "version": "1"}
        ),
        "faq article": client.get("/console/faq/activate-bundle"),
        "faq fallback": client.get("/console/faq/nur-englisch"),
        "settings": client.get("/console/settings"),
        "refused settings": client.post(
            "/console/settings", data={"csrf_token": csrf_of(client, "/console/"), "time_zone": "Mars/Olympus"}
        ),
        "no such page": client.get("/console/nowhere"),
        "no such case": client.get("/console/escalations/esc_00000000000000000000"),
        "no such article": client.get("/console/faq/no-such-article"),
        "no csrf": client.post("/console/escalations", data={}),
        "customer": client.get("/console/lookup?partner_ref=K-1001"),
        "candidates": client.get("/console/lookup?partner_ref=K-"),
        "no such customer": client.get("/console/lookup?partner_ref=NOBODY"),
        "not a reference": client.get("/console/lookup?partner_ref=K%091"),
        "escalations": client.get("/console/escalations"),
        "faq search": client.get("/console/faq?q=inactivity"),
        "faq typo": client.get("/console/faq?q=inactivty"),
        "faq nothing": client.get("/console/faq?q=zzzzqqq"),
        "faq index": client.get("/console/faq"),
    }
    customer = pages["customer"].get_data(as_text=True)
    for command in ("change_plan", "schedule_cancellation", "cancel_now"):
        confirm = re.search(rf'href="(/console/customers/[^"]+/actions/{command}\?[^"]*)"', customer)
        assert confirm, command
        pages[f"confirm {command}"] = client.get(html.unescape(confirm.group(1)))
    subscription = re.search(r"/console/customers/(sub_\w+)/", customer).group(1)
    pages["faq for the customer"] = client.get(f"/console/faq?subscription={subscription}")
    pages["plan chosen"] = client.get(
        f"/console/customers/{subscription}/actions/change_plan",
        query_string={"plan": "premium", "version": re.search(r"version=(\d+)", customer).group(1)},
    )
    client.post(f"{case_url}/status", data={"csrf_token": csrf_of(client, case_url), "action": "close"})
    pages["closed case (flash)"] = client.get(case_url)
    return pages


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_every_page_is_in_the_agents_language(client, world, language):
    assert sign_in(client, world["token"], locale=language).status_code == 302

    pages = _pages(client, world)

    findings = {}
    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page, name
        text = visible_text(page, region="html")
        assert text, name
        if language != "en":
            left = english_left(text, language)
            if left:
                findings[name] = (left, text[:300])
    assert findings == {}
    if language == "en":  # the English pages say what the catalogs' English says
        assert "Please correct the fields marked below." in visible_text(
            pages["refused escalation"].get_data(as_text=True)
        )


def test_refused_forms_speak_the_agents_language_not_the_apis(client, world):
    sign_in(client, world["token"], locale="fr")

    refused = _open_case(client, category="", description=" ", partner_ref="K\t1", priority="sometimes")

    assert refused.status_code == 422
    text = visible_text(refused.get_data(as_text=True))
    assert "Choisissez une catégorie." in text  # an empty choice is a choice not made
    assert "Ne doit pas contenir que des espaces." in text
    assert "Ne doit contenir ni tabulation" in text
    assert "Choisissez une priorité dans la liste." in text
    assert "Missing data" not in text and "Must be one of" not in text and "billing" not in text


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_every_schema_message_a_console_form_can_get_has_the_agents_wording(app, language):
    """Each rule of the escalation schemas, broken, and what the agent reads for it: never the API's English."""
    cases = {
        "category": {},
        "priority": {"priority": "sometimes"},
        "description": {"description": " \n"},
        "partner_ref": {"partner_ref": "a\tb"},
    }
    base = {"partner_ref": "K-1", "category": "billing", "description": "x", "agent_ref": "Ana"}
    with app.test_request_context():
        from flask import g

        g.language = language
        for field, broken in cases.items():
            data = {**base, **broken}
            if field == "category":
                del data["category"]
            with pytest.raises(ValidationError) as refused:
                EscalationCreateSchema().load(data)
            said = field_errors(refused.value)[field]
            assert said in translations(language).values() or language == "en", (field, said)
            assert not re.search(r"Missing data|Must be one of|Not a valid|does not match", said), said
        too_long = ValidationError({"description": [validate.Length.message_max.format(max=4000)]})
        expected = {"en": "4,000", "de": "4.000", "fr": "4\u202f000", "es": "4.000", "ms": "4,000"}[language]
        assert expected in field_errors(too_long)["description"]
        reference = ValidationError({"partner_ref": [partner_refs.TOO_LONG, NOT_BLANK.error]})
        assert "100" in field_errors(reference)["partner_ref"]
        required = ValidationError({"comment": [fields.Field.default_error_messages["required"]]})
        assert field_errors(required, {"comment": "status_comment"})["status_comment"] == i18n.translations(
            language
        ).gettext("Write a note: reopening needs one.")
        unknown = ValidationError({"category": ["Something no rule of ours says."]})
        assert field_errors(unknown)["category"] == i18n.translations(language).gettext(
            "This value cannot be used here. Check it and try again."
        )


def test_the_notices_say_what_happened_and_why_a_delivery_failed_in_the_agents_language(app, client, seed):
    from sqlalchemy import select

    seed.partner("delta", locale="fr-FR", markets=("DE", "FR"))
    seed.endpoint("delta")
    with app_store(app).transaction() as session:
        subscriber_in(session, "delta", "warned", partner_ref="W-1")
    with app_store(app).transaction() as session:
        publish_events(session, utcnow())  # each event on its way to the endpoint: a delivery
        deliveries = session.scalars(select(Delivery)).all()
        assert deliveries  # the activation went out to the endpoint
        for delivery in deliveries:
            delivery.status = "dead"
            delivery.last_error = "Retries exhausted after 8 attempts; last: HTTP 500: Internal Server Error"
    sign_in(client, seed.token(KeyKind.PARTNER, "delta", {Scope.CALLCENTER}))

    page = client.get("/console/lookup?partner_ref=W-1").get_data(as_text=True)

    notices = visible_text(page[page.index('id="notices"') :], region="html")
    assert "Abonnement activé" in notices
    assert "Abandon après 8 tentatives. Votre point de terminaison a répondu avec le statut HTTP 500." in notices
    assert "subscription.activated" not in page
    assert "Internal Server Error" not in page and "Retries" not in page


# --- which language ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partner_locale", "chosen", "expected"),
    [
        ("de-DE", "", "de"),  # the partner's default
        ("de-AT", "", "de"),  # narrowed as the notices narrow it
        ("ms-MY", "", "ms"),
        ("pt-BR", "", "en"),  # no console language fits: English, as for notices
        ("de-DE", "fr", "fr"),  # the agent's choice first
        ("ms-MY", "es", "es"),
    ],
)
def test_the_language_is_the_agents_choice_else_the_partners_default_with_the_notices_fallback(
    client, app, seed, partner_locale, chosen, expected
):
    seed.partner("gamma", locale=partner_locale, markets=("MY",))
    token = seed.token(KeyKind.PARTNER, "gamma", {Scope.CALLCENTER})
    sign_in(client, token, locale=chosen)

    page = client.get("/console/").get_data(as_text=True)

    hello = {"en": "Hello, Ana", "de": "Hallo, Ana", "fr": "Bonjour, Ana", "es": "Hola, Ana", "ms": "Helo, Ana"}
    assert hello[expected] in visible_text(page)


def test_the_agent_switches_language_in_the_session_and_back_to_the_default(client, world):
    sign_in(client, world["token"])
    assert "Hallo, Ana" in visible_text(client.get("/console/").get_data(as_text=True))

    switched = client.post(
        "/console/settings",
        data={"csrf_token": csrf_of(client, "/console/"), "locale": "es", "time_zone": "", "next": "/console/"},
    )

    assert switched.status_code == 302 and switched.headers["Location"] == "/console/"
    page = client.get("/console/").get_data(as_text=True)
    assert "Hola, Ana" in visible_text(page) and "Su configuración se ha guardado." in page
    with client.session_transaction("/console/") as session:
        assert session["locale"] == "es"
    client.post("/console/settings", data={"csrf_token": csrf_of(client, "/console/"), "locale": ""})
    assert "Hallo, Ana" in visible_text(client.get("/console/").get_data(as_text=True))


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"locale": "de-AT"}, "locale"), ({"locale": "xx"}, "locale"), ({"time_zone": "../../etc/passwd"}, "time_zone")],
)
def test_a_language_or_time_zone_not_offered_is_refused_and_nothing_changes(client, world, fields, field):
    sign_in(client, world["token"], locale="fr")

    refused = client.post("/console/settings", data={"csrf_token": csrf_of(client, "/console/"), **fields})

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f'id="{field}-error"' in page and "dans la liste" in page  # said in the agent's language
    with client.session_transaction("/console/") as session:
        assert session["locale"] == "fr" and not session.get("time_zone")


def test_off_site_next_after_saving_settings_goes_to_the_settings_page(client, world):
    sign_in(client, world["token"])
    saved = client.post(
        "/console/settings",
        data={"csrf_token": csrf_of(client, "/console/"), "locale": "fr", "next": "https://evil.example/"},
    )
    assert saved.headers["Location"] == "/console/settings"


def test_the_sign_in_page_speaks_the_browsers_language_then_the_last_agents(client, world):
    page = client.get("/console/sign-in", headers={"Accept-Language": "ms-MY, en;q=0.5"}).get_data(as_text=True)
    assert "Log masuk" in visible_text(page)
    english = client.get("/console/sign-in", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "Sign in" in visible_text(english)

    refused = sign_in(client, world["token"], locale="es", agent=" ")  # what is wrong, in the language chosen
    assert refused.status_code == 422 and "Introduzca su nombre o su ID de agente" in refused.get_data(as_text=True)

    sign_in(client, world["token"], locale="fr")
    client.post("/console/sign-out", data={"csrf_token": csrf_of(client, "/console/")})
    after = client.get("/console/sign-in", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Votre session est fermée." in after and "Se connecter" in visible_text(after)
    assert 'value="fr" lang="fr" selected' in after
    assert client.get("/console/").status_code == 302  # signed out all the same


def test_a_revoked_key_is_said_in_the_agents_language(app, client, world):
    from gateway.services import keys as key_service

    seed = world["seed"]
    issued = seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER})
    sign_in(client, issued.token, locale="es")
    with app_store(app).transaction() as session:
        key_service.revoke_key(session, issued.key.id, now=utcnow())

    landed = client.get(client.get("/console/").headers["Location"]).get_data(as_text=True)

    assert "Su clave ha sido revocada, por lo que se ha cerrado su sesión." in landed


def _page_language_and_title(response) -> tuple[str, str]:
    page = response.get_data(as_text=True)
    return re.search(r'<html lang="(\w+)">', page).group(1), html.unescape(re.search(r"<h1>(.*?)</h1>", page).group(1))


def test_a_refused_form_is_said_in_the_agents_language_not_the_browsers(client, world):
    """An expired form, a character no store keeps, a form too large or not a form: said in the agent's language
    (here the company's German, no choice made) though the browser asks for English, refused before the page's
    view runs or even before the console's checks (the app's body guard)."""
    sign_in(client, world["token"])
    english = {"Accept-Language": "en"}
    token = csrf_of(client, "/console/")
    refusals = {
        "expired": client.post("/console/escalations", data={"csrf_token": "old"}, headers=english),
        "nul": client.post(
            "/console/escalations", data={"csrf_token": token, "description": "a\x00b"}, headers=english
        ),
        "too large": client.post(
            "/console/escalations", data={"csrf_token": token, "description": "x" * (1024 * 1024)}, headers=english
        ),
        "not a form": client.post("/console/escalations", data=b"{}", content_type="application/json", headers=english),
    }

    said = {name: (response.status_code, *_page_language_and_title(response)) for name, response in refusals.items()}
    assert said == {
        "expired": (400, "de", "Dieses Formular ist abgelaufen oder stammt nicht aus der Konsole"),
        "nul": (422, "de", "Das Formular enthält ein Zeichen, das sich nicht speichern lässt"),
        "too large": (413, "de", "Das Formular ist zu groß"),
        "not a form": (415, "de", "Das Formular konnte nicht gelesen werden"),
    }
    for response in refusals.values():
        assert "Hallo, Ana" not in response.get_data(as_text=True)  # an error page, the agent's header on it
        assert 'action="/console/sign-out"' in response.get_data(as_text=True)


def test_a_refused_form_before_sign_in_is_said_in_the_browsers_language(client, world):
    french = {"Accept-Language": "fr-FR"}
    too_large = client.post("/console/sign-in", data={"key": "x" * (1024 * 1024)}, headers=french)
    expired = client.post("/console/sign-in", data={"key": "gw_x"}, headers=french)

    assert _page_language_and_title(too_large) == ("fr", "Le formulaire est trop volumineux")
    assert _page_language_and_title(expired) == ("fr", "Ce formulaire a expiré ou ne provient pas de la console")


# --- which time zone, and dates and times as each language writes them --------------------------------------------


@pytest.mark.parametrize(
    ("markets", "locale", "zone"),
    [
        (["DE"], "de-DE", "Europe/Berlin"),
        (["AT", "DE"], "de-DE", "Europe/Berlin"),  # the default locale's market, though not the first
        (["AT", "DE"], "en", "Europe/Vienna"),  # else the first market
        (["MY"], "ms-MY", "Asia/Kuala_Lumpur"),  # a market with several zones: its capital's
        (["FR"], "fr-FR", "Europe/Paris"),  # one zone: CLDR's
        (["US"], "en-US", "America/New_York"),
        (["ES"], "es", "Europe/Madrid"),
        (["AQ"], "en", "UTC"),  # none known
        ([], "en", "UTC"),
    ],
)
def test_the_partners_default_time_zone(markets, locale, zone):
    assert i18n.partner_time_zone(markets, locale) == zone


def test_every_market_has_a_time_zone_or_says_utc():
    utc = sorted(code for code in COUNTRY_CODES if i18n.market_time_zone(code) == "UTC")
    assert utc == ["AQ", "BV", "HM", "UM"]  # Antarctica and uninhabited islands
    assert all(zone in i18n.known_time_zones() for zone in i18n.MARKET_ZONES.values())


@pytest.mark.parametrize(
    ("language", "zone", "expected"),
    [
        ("en", "Europe/Berlin", "5 Dec 2026, 14:30 (UTC+1)"),
        ("de", "Europe/Berlin", "05.12.2026, 14:30 (UTC+1)"),
        ("fr", "Asia/Kuala_Lumpur", "5 déc. 2026, 21:30 (UTC+8)"),
        ("es", "America/New_York", "5 dic 2026, 8:30 (UTC-5)"),
        ("ms", "Asia/Kuala_Lumpur", "5 Dis 2026, 9:30 PTG (UTC+8)"),
        ("en", "Asia/Kolkata", "5 Dec 2026, 19:00 (UTC+5:30)"),
        ("en", "UTC", "5 Dec 2026, 13:30 (UTC)"),
    ],
)
def test_a_moment_is_written_in_the_language_and_zone(language, zone, expected):
    moment = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)
    assert i18n.format_moment(moment, language, zone).replace("\u202f", " ") == expected


def test_calendar_days_are_the_days_the_notices_name():
    respond_by = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)  # already the 21st in Kuala Lumpur
    period_end = datetime(2026, 12, 6, tzinfo=UTC)
    assert i18n.format_day(respond_by, "ms") == "20 Nov 2026"
    assert i18n.format_day(respond_by, "de") == "20.11.2026"
    assert i18n.format_last_day(period_end, "fr") == "5 déc. 2026"
    assert i18n.format_day(None, "es") == i18n.format_last_day(None, "es") == "—"


def _case_created_at(app) -> datetime:
    with app_store(app).read() as session:
        from sqlalchemy import select

        return session.scalars(select(Escalation.created_at)).one()


def test_times_are_shown_in_the_partners_zone_and_then_the_agents_choice(app, client, world):
    sign_in(client, world["token"], locale="en")
    case_url = _open_case(client).headers["Location"]
    created = _case_created_at(app)
    berlin = i18n.format_moment(created, "en", "Europe/Berlin")

    assert f"{berlin} by Ana" in html.unescape(client.get(case_url).get_data(as_text=True))  # alpha is in DE

    client.post(
        "/console/settings",
        data={"csrf_token": csrf_of(client, "/console/"), "locale": "", "time_zone": "Asia/Kuala_Lumpur"},
    )
    shown = html.unescape(client.get(case_url).get_data(as_text=True))
    in_german = i18n.format_moment(created, "de", "Asia/Kuala_Lumpur")
    assert f"{in_german} von Ana" in shown and "(UTC+1)" not in shown  # the company's language, the agent's zone
    settings = client.get("/console/settings").get_data(as_text=True)
    assert re.search(r'<option value="Asia/Kuala_Lumpur"\s+selected>Malaysia \u2013 Kuala Lumpur</option>', settings)
    assert "Standard Ihres Unternehmens (Deutschland \u2013 Berlin)" in html.unescape(settings)


def test_the_agents_time_zone_outlives_signing_out_and_in_as_the_language_does(app, client, world):
    sign_in(client, world["token"], locale="en")
    case_url = _open_case(client).headers["Location"]
    client.post(
        "/console/settings",
        data={"csrf_token": csrf_of(client, "/console/"), "locale": "en", "time_zone": "Asia/Kuala_Lumpur"},
    )
    client.post("/console/sign-out", data={"csrf_token": csrf_of(client, "/console/")})
    with client.session_transaction("/console/") as session:
        assert "key_id" not in session and session["time_zone"] == "Asia/Kuala_Lumpur"

    sign_in(client, world["token"], locale="en")

    shown = html.unescape(client.get(case_url).get_data(as_text=True))
    assert i18n.format_moment(_case_created_at(app), "en", "Asia/Kuala_Lumpur") in shown
    with client.session_transaction("/console/") as session:
        assert session["time_zone"] == "Asia/Kuala_Lumpur"
    # Back to the company's default, and that choice outlives the next sign-in too.
    client.post("/console/settings", data={"csrf_token": csrf_of(client, "/console/"), "locale": "en"})
    client.post("/console/sign-out", data={"csrf_token": csrf_of(client, "/console/")})
    sign_in(client, world["token"], locale="en")
    shown = html.unescape(client.get(case_url).get_data(as_text=True))
    assert i18n.format_moment(_case_created_at(app), "en", "Europe/Berlin") in shown


def test_a_zone_kept_from_a_session_ended_by_a_revoked_key_carries_over_and_an_unknown_one_does_not(app, client, world):
    from gateway.services import keys as key_service

    issued = world["seed"].key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER})
    sign_in(client, issued.token, locale="en")
    client.post(
        "/console/settings",
        data={"csrf_token": csrf_of(client, "/console/"), "locale": "en", "time_zone": "America/New_York"},
    )
    with app_store(app).transaction() as session:
        key_service.revoke_key(session, issued.key.id, now=utcnow())
    client.get("/console/")  # signed out, the choices kept

    sign_in(client, world["token"], locale="en")
    with client.session_transaction("/console/") as session:
        assert session["time_zone"] == "America/New_York"
        session.clear()
        session["time_zone"] = "Atlantis/Capital"  # a zone this machine does not know is not carried over
    sign_in(client, world["token"], locale="en")
    with client.session_transaction("/console/") as session:
        assert not session.get("time_zone")


def test_a_zone_remembered_in_the_session_that_this_machine_does_not_know_falls_back_to_the_partners(
    app, client, world
):
    sign_in(client, world["token"], locale="en")
    case_url = _open_case(client).headers["Location"]
    with client.session_transaction("/console/") as session:
        session["time_zone"] = "Atlantis/Capital"

    shown = html.unescape(client.get(case_url).get_data(as_text=True))

    assert i18n.format_moment(_case_created_at(app), "en", "Europe/Berlin") in shown
