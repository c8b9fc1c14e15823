"""Token format, hashing and the scope rules, without any store."""

from __future__ import annotations

import pytest

from gateway.domain.keys import (
    SCOPES_BY_KIND,
    TOKEN_PATTERN,
    KeyKind,
    check_scopes,
    generate_token,
    hash_token,
    token_matches,
    token_prefix,
)


def test_generated_tokens_are_well_formed_unique_and_hashed():
    tokens = [generate_token() for _ in range(100)]
    assert len({t.token for t in tokens}) == 100
    for new in tokens:
        assert TOKEN_PATTERN.match(new.token)
        assert token_prefix(new.token) == new.prefix
        assert new.secret_hash == hash_token(new.token) != new.token
        assert token_matches(new.token, new.secret_hash)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "gw_",
        "gw_0123456789ab",
        "gw_0123456789AB_" + "a" * 48,
        "gw_0123456789ab_" + "a" * 47,
        "xx_0123456789ab_" + "a" * 48,
        " gw_0123456789ab_" + "a" * 48,
    ],
)
def test_malformed_tokens_have_no_prefix(token):
    assert token_prefix(token) is None


def test_a_token_does_not_match_another_tokens_hash():
    first, second = generate_token(), generate_token()
    assert not token_matches(first.token, second.secret_hash)


def test_scopes_must_belong_to_the_kind():
    assert check_scopes(KeyKind.PARTNER, {"events:read", "callcenter"}) == {}
    assert "admin" in check_scopes(KeyKind.PARTNER, {"events:read", "admin"})["scopes"]
    assert "service" in check_scopes(KeyKind.OPERATOR, {"service"})["scopes"]
    assert check_scopes(KeyKind.SERVICE, set()) == {"scopes": "A key needs at least one scope."}


def test_no_scope_is_shared_between_kinds():
    kinds = list(SCOPES_BY_KIND.values())
    for index, scopes in enumerate(kinds):
        for other in kinds[index + 1 :]:
            assert not scopes & other
