"""The OpenAPI document is written on its first read (gateway.api.http.openapi.GatewayApi): every read gets all
of it."""

from __future__ import annotations

import pytest

from gateway import create_app
from tests.support.parallel import all_at_once


def _api(app):
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]


def _fresh_app():
    return create_app({"DATABASE_URL": "sqlite://", "LOG_LEVEL": "WARNING"})


def test_readers_at_once_all_get_the_whole_document():
    expected = _api(_fresh_app()).spec.to_dict()
    api = _api(_fresh_app())
    documents = all_at_once(8, lambda _: api.spec.to_dict())
    assert all(document == expected for document in documents)
    assert expected["webhooks"] and len(expected["paths"]) > 50  # the last step and the blueprints' steps ran


def test_a_step_that_fails_fails_every_read_instead_of_serving_part_of_the_document():
    api = _api(_fresh_app())

    def broken(spec):
        raise RuntimeError("a documentation step broke")

    api._undocumented.insert(1, lambda: broken(api._spec))
    for _ in range(2):
        with pytest.raises(RuntimeError, match="documentation step"):
            api.spec  # noqa: B018 - the read is the behaviour under test
    served = api._app.test_client().get("/openapi.json")
    assert served.status_code == 500 and served.mimetype == "application/problem+json"  # no part-document
