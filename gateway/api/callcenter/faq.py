"""Call-center FAQ routes (/v1/callcenter/faq): search in the caller's language, read one article; cacheable.

The search index comes from the store, once per process, and is rebuilt when the store's FAQ revision moves
(an operator's edit or a load), so every process answers from the current articles. Responses carry an ETag
(search: the revision and the question; article: which article, at which version, for which locale) and a
short private Cache-Control; If-None-Match with the current ETag gets a 304 without a body.
"""

from __future__ import annotations

import hashlib

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.faq import (
    SLUG_PARAMETER,
    CallCenterFaqArticleSchema,
    FaqArticleQuerySchema,
    FaqSearchQuerySchema,
    FaqSearchResultsSchema,
)
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.uow import reading
from gateway.domain.clock import utcnow
from gateway.domain.errors import NotFound
from gateway.domain.faq_search import FALLBACK_LANGUAGE, language_of
from gateway.domain.keys import Scope
from gateway.runtime import faq_search_index
from gateway.services import faq as faq_service
from gateway.services import partners as partner_service
from gateway.services import sharing as sharing_service

blp = Blueprint("faq", __name__)

# Articles change rarely and agents repeat questions: a browser may reuse an answer for a minute, then
# revalidates with If-None-Match. `private`: the answers need a key, so no shared cache may keep them.
CACHE_CONTROL = "private, max-age=60"
CACHE_HEADERS = {
    "ETag": {
        "description": "Send it back as If-None-Match to get a 304 while unchanged.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
}
NOT_MODIFIED = "Not modified: the ETag sent as If-None-Match is still current."


def _tag(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]
    return f'"{digest}"'


def _caching(tag: str) -> dict[str, str]:
    return {"ETag": tag, "Cache-Control": CACHE_CONTROL}


def _not_modified(tag: str) -> Response | None:
    # If-None-Match compares weakly (RFC 9110): W/"x" from a cache that weakened our tag still matches.
    if request.if_none_match.contains_weak(tag.strip('"')):
        return Response(status=304, headers=_caching(tag))
    return None


def _embargoed(session) -> frozenset[str]:
    """The articles this partner's agents may not read yet (the sharing policy's embargo in its markets)."""
    return sharing_service.embargoed_articles(
        session, partner_service.get_partner(session, current_partner_code()).markets
    )


def _locale(session, query: dict) -> str:
    return query.get("locale") or partner_service.get_partner(session, current_partner_code()).default_locale


@blp.route("/faq/search")
class FaqSearch(MethodView):
    @requires(Scope.CALLCENTER)
    @blp.arguments(FaqSearchQuerySchema, location="query")
    @blp.response(200, FaqSearchResultsSchema, headers=CACHE_HEADERS)
    @blp.alt_response(304, description=NOT_MODIFIED)
    def get(self, query):
        """Search the FAQ in the caller's language (English when it has no good match), best first

        Typos are forgiven; only articles that match well come back, or the closest three marked as no good
        match. An empty question lists every article A-Z by keyword instead. With `subscription_id`, articles
        that explain that subscriber's situation rank higher.
        """
        question = " ".join(query["q"].split())
        with reading() as session:
            locale = _locale(session, query)
            snapshot = faq_search_index().current(session)
            hidden = _embargoed(session)
            boost: tuple[str, ...] = ()
            if query.get("subscription_id"):
                boost = faq_service.customer_context(
                    session,
                    snapshot.index,
                    partner_code=current_partner_code(),
                    subscription_id=query["subscription_id"],
                    now=utcnow(),
                ).articles
        # The subscriber's situation enters as the articles it boosts: the same situation, the same answer.
        tag = _tag("search", snapshot.revision, question, locale, query["limit"], *sorted(hidden), "|", *sorted(boost))
        unchanged = _not_modified(tag)
        if unchanged is not None:
            return unchanged
        if not question:
            index = snapshot.index.keyword_index(locale, exclude=hidden)
            return {"results": [], "good_match": False, "corrections": [], "index": index}, _caching(tag)
        found = snapshot.index.search(question, locale, query["limit"], boost=boost, exclude=hidden)
        body = {"results": found.hits, "good_match": found.good_match, "corrections": found.corrections, "index": []}
        return body, _caching(tag)


@blp.route("/faq/<slug>", parameters=[SLUG_PARAMETER])
class FaqArticleForAgent(MethodView):
    @requires(Scope.CALLCENTER)
    @blp.arguments(FaqArticleQuerySchema, location="query")
    @blp.response(200, CallCenterFaqArticleSchema, headers=CACHE_HEADERS)
    @blp.alt_response(304, description=NOT_MODIFIED)
    def get(self, query, slug):
        """One FAQ article in the caller's language, or in English when that language has none"""
        with reading() as session:
            locale = _locale(session, query)
            if slug in _embargoed(session):
                raise NotFound("FAQ article", slug)
            article = faq_service.find_article_for_locale(session, slug, locale)
        # The version alone would not do: a deleted and re-created article starts again at version 1.
        tag = _tag("article", article.slug, article.locale, article.version, article.updated_at.isoformat(), locale)
        unchanged = _not_modified(tag)
        if unchanged is not None:
            return unchanged
        body = {
            "slug": article.slug,
            "locale": article.locale,
            "requested_locale": locale,
            "fallback": article.locale == FALLBACK_LANGUAGE and language_of(locale) != FALLBACK_LANGUAGE,
            "title": article.title,
            "body": article.body,
            "tags": article.tags,
            "related_events": article.related_events,
            "updated_at": article.updated_at,
        }
        return body, {**_caching(tag), "Content-Language": article.locale}
