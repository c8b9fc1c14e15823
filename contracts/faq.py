"""FAQ shapes: articles as operators write them, and search results and articles as agents read them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import NOT_BLANK, PageQuerySchema, PageSchema
from contracts.events import CATALOG
from gateway.domain.faq_articles import NOT_A_SLUG, NOT_AN_ARTICLE_LOCALE, SLUG, SLUG_MAX_LENGTH, TITLE_MAX_LENGTH
from gateway.domain.faq_search import LANGUAGES
from gateway.domain.partners import LOCALE, NOT_A_LOCALE

SEARCH_LIMIT_MAX = 50
QUERY_MAX_LENGTH = 200
SUBSCRIPTION_ID_MAX_LENGTH = 40  # the column's size
EVENT_TYPES = sorted(CATALOG)

# The path parameters of /admin/v1/faq/{slug}/{locale} and /v1/callcenter/faq/{slug}, as OpenAPI states them.
SLUG_PARAMETER = {
    "in": "path",
    "name": "slug",
    "description": "The article's name: lower-case words joined by hyphens.",
    "schema": {"type": "string", "pattern": SLUG.pattern, "maxLength": SLUG_MAX_LENGTH, "example": "extra-member"},
}
ARTICLE_LOCALE_PARAMETER = {
    "in": "path",
    "name": "locale",
    "description": "The article's language.",
    "schema": {"type": "string", "enum": list(LANGUAGES), "example": "de"},
}


def caller_locale_field(description: str, example: str) -> fields.String:
    """A BCP 47 tag of whoever asks: any region or script; the article language is derived from it."""
    return fields.String(
        validate=[validate.Length(min=2, max=35), validate.Regexp(LOCALE, error=NOT_A_LOCALE)],
        metadata={"description": description, "example": example},
    )


def article_locale_field(**options) -> fields.String:
    return fields.String(
        validate=validate.OneOf(LANGUAGES, error=NOT_AN_ARTICLE_LOCALE),
        metadata={"description": "The article's language (BCP 47 primary language subtag).", "example": "de"},
        **options,
    )


def slug_field(**options) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=SLUG_MAX_LENGTH), validate.Regexp(SLUG, error=NOT_A_SLUG)],
        metadata={"description": "The article's name, the same in every language.", "example": "extra-member"},
        **options,
    )


class FaqArticleContentSchema(Schema):
    """What an operator writes: the article's text in one language."""

    title = fields.String(required=True, validate=[validate.Length(min=1, max=TITLE_MAX_LENGTH), NOT_BLANK])
    body = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100_000), NOT_BLANK],
        metadata={"description": "Markdown, written to be read out to a customer."},
    )
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)),
        load_default=list,
        validate=validate.Length(max=30),
        metadata={"description": "Keywords agents search by; weigh between the title and the body."},
    )
    related_events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES, error="Not an event type of the catalog.")),
        load_default=list,
        validate=validate.Length(max=30),
        metadata={
            "description": "Event types (see the webhooks section) whose situation the article explains.",
            "example": ["sharing.extra_member_added"],
        },
    )


class FaqArticleCreateSchema(FaqArticleContentSchema):
    """A new article: its name and language, and its text."""

    slug = slug_field(required=True)
    locale = article_locale_field(required=True)


class FaqArticleSummarySchema(Schema):
    slug = fields.String(required=True)
    locale = fields.String(required=True)
    title = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)
    related_events = fields.List(fields.String(), required=True)
    source = fields.String(
        required=True,
        validate=validate.OneOf(["file", "admin"]),
        metadata={
            "description": "file: as loaded from the reviewed article files; admin: edited through this API "
            "(`gateway faq load` keeps it unless run with --overwrite-edits)."
        },
    )
    version = fields.Integer(required=True, metadata={"description": "Bumped on every change; the ETag."})
    updated_at = fields.DateTime(required=True)


class FaqArticleSchema(FaqArticleSummarySchema):
    """One article in one language, as operators see it."""

    body = fields.String(required=True, metadata={"description": "Markdown."})


class FaqArticleListQuerySchema(PageQuerySchema):
    locale = article_locale_field()
    source = fields.String(validate=validate.OneOf(["file", "admin"]))


class FaqArticlePageSchema(PageSchema):
    items = fields.List(fields.Nested(FaqArticleSummarySchema), required=True)


class FaqSearchQuerySchema(Schema):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=QUERY_MAX_LENGTH),
        metadata={
            "description": "What the customer asks about, in their words; typos are forgiven (one or two slips "
            "per word, see `corrections`). Empty or left out: no search, the A-Z `index` of every article instead.",
            "example": "Zusatzmitglied",
        },
    )
    locale = caller_locale_field(
        "BCP 47; the caller's language ('de-AT' searches German). Default: the partner's default locale. "
        "English answers come back when the language has no good match.",
        "de-AT",
    )
    limit = fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=SEARCH_LIMIT_MAX),
        metadata={"description": "At most this many results; fewer when the rest would match only weakly."},
    )
    subscription_id = fields.String(
        validate=validate.Length(min=1, max=SUBSCRIPTION_ID_MAX_LENGTH),
        metadata={
            "description": "The subscriber the agent is helping (one of the caller's own): articles that explain "
            "their situation rank higher when they match the question. Another partner's is a 404.",
            "example": "sub_8f14e45fceea167a9a0c",
        },
    )


class FaqSearchHitSchema(Schema):
    slug = fields.String(required=True)
    locale = fields.String(required=True, metadata={"description": "The article's language (en after a fallback)."})
    title = fields.String(required=True)
    snippet = fields.String(
        required=True, metadata={"description": "Plain text around the words found, at most 200 characters."}
    )
    score = fields.Float(
        required=True, metadata={"description": "Relevance (BM25F); compare only within one response."}
    )


class FaqCorrectionSchema(Schema):
    typed = fields.String(required=True, metadata={"description": "A word of the question as typed."})
    searched = fields.String(
        required=True, metadata={"description": "The word of the articles searched for instead, as they write it."}
    )


class FaqArticleRefSchema(Schema):
    slug = fields.String(required=True)
    locale = fields.String(required=True, metadata={"description": "The article's language (en after a fallback)."})
    title = fields.String(required=True)


class FaqIndexEntrySchema(Schema):
    keyword = fields.String(required=True, metadata={"description": "A tag of the articles, as they write it."})
    articles = fields.List(fields.Nested(FaqArticleRefSchema), required=True)


class FaqSearchResultsSchema(Schema):
    """The articles that answer the question, best first; or, for an empty question, the A-Z index."""

    results = fields.List(
        fields.Nested(FaqSearchHitSchema),
        required=True,
        metadata={"description": "Best first; no weak matches padding the list. Empty for an empty question."},
    )
    good_match = fields.Boolean(
        required=True,
        metadata={
            "description": "False when nothing answers the question well: `results` are then the closest three "
            "(or none), to be offered as such. False for an empty question too."
        },
    )
    corrections = fields.List(
        fields.Nested(FaqCorrectionSchema),
        required=True,
        metadata={"description": "Words taken for typos and what was searched for instead; empty when none."},
    )
    index = fields.List(
        fields.Nested(FaqIndexEntrySchema),
        required=True,
        metadata={
            "description": "For an empty question only (else empty): every article the caller may read, filed "
            "under each of its keywords, keywords A-Z; articles the language lacks come in English."
        },
    )


class FaqArticleQuerySchema(Schema):
    locale = caller_locale_field("BCP 47. Default: the partner's default locale.", "fr-CA")


class CallCenterFaqArticleSchema(Schema):
    """One article for an agent, in the caller's language or, when it has none, in English."""

    slug = fields.String(required=True)
    locale = fields.String(required=True, metadata={"description": "The language of the article returned."})
    requested_locale = fields.String(required=True, metadata={"description": "The locale asked for."})
    fallback = fields.Boolean(
        required=True,
        metadata={"description": "True when the article is in English because none exists in the requested language."},
    )
    title = fields.String(required=True)
    body = fields.String(required=True, metadata={"description": "Markdown."})
    tags = fields.List(fields.String(), required=True)
    related_events = fields.List(fields.String(), required=True)
    updated_at = fields.DateTime(required=True)
