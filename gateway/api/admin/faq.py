"""Operator FAQ routes (/admin/v1/faq): list, read, create, replace and delete articles."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.faq import (
    ARTICLE_LOCALE_PARAMETER,
    SLUG_PARAMETER,
    FaqArticleContentSchema,
    FaqArticleCreateSchema,
    FaqArticleListQuerySchema,
    FaqArticlePageSchema,
    FaqArticleSchema,
)
from gateway.api.http.auth import requires
from gateway.api.http.etags import etag, expected_version
from gateway.api.http.idempotent import idempotent
from gateway.api.http.pagination import decode_cursor, page
from gateway.api.http.uow import in_transaction, reading
from gateway.domain.clock import utcnow
from gateway.domain.faq_articles import ArticleContent
from gateway.domain.keys import Scope
from gateway.services import faq as faq_service

blp = Blueprint("faq", __name__)

ARTICLE_ETAG_HEADER = {
    "ETag": {"description": "The article's version; send it back as If-Match.", "schema": {"type": "string"}}
}


def _content(body: dict) -> ArticleContent:
    return ArticleContent.of(body["title"], body["body"], body["tags"], body["related_events"])


def _article_response(article):
    return article, {"ETag": etag(article.version)}


@blp.route("/faq")
class FaqArticles(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(FaqArticleListQuerySchema, location="query")
    @blp.response(200, FaqArticlePageSchema)
    def get(self, query):
        """List FAQ articles (without their bodies), by slug then locale"""
        after = tuple(decode_cursor(query["cursor"], 2)) if "cursor" in query else None
        with reading() as session:
            found = faq_service.list_articles(
                session, limit=query["limit"] + 1, after=after, locale=query.get("locale"), source=query.get("source")
            )
        return page(found, query["limit"], key=lambda article: [article.slug, article.locale])

    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(FaqArticleCreateSchema)
    @blp.response(201, FaqArticleSchema, headers=ARTICLE_ETAG_HEADER)
    def post(self, body, session):
        """Write a new FAQ article; one that exists already is a 409 (replace it with PUT)"""
        article = faq_service.create_article(session, body["slug"], body["locale"], _content(body), now=utcnow())
        return _article_response(article)


@blp.route("/faq/<slug>/<locale>", parameters=[SLUG_PARAMETER, ARTICLE_LOCALE_PARAMETER])
class FaqArticleItem(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, FaqArticleSchema, headers=ARTICLE_ETAG_HEADER)
    def get(self, slug, locale):
        """Show one FAQ article in one language"""
        with reading() as session:
            return _article_response(faq_service.get_article(session, slug, locale))

    @requires(Scope.ADMIN)
    @in_transaction
    @blp.arguments(FaqArticleContentSchema)
    @blp.response(200, FaqArticleSchema, headers=ARTICLE_ETAG_HEADER)
    def put(self, body, slug, locale, session):
        """Create or replace a FAQ article (If-Match guards concurrent edits; the next `gateway faq load` keeps it)"""
        article = faq_service.put_article(
            session, slug, locale, _content(body), expected_version=expected_version(), now=utcnow()
        )
        return _article_response(article)

    @requires(Scope.ADMIN)
    @in_transaction
    @blp.response(204)
    def delete(self, slug, locale, session):
        """Delete a FAQ article (If-Match guards concurrent edits); one with a file returns at the next load"""
        faq_service.delete_article(session, slug, locale, expected_version=expected_version())
