"""Adding to an operation's OpenAPI entry from our own decorators, the way flask-smorest's `doc` does."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any


def manual_doc(wrapper: Callable[..., Any], view: Callable[..., Any]) -> dict[str, Any]:
    """The wrapper's own copy of the view's manually added OpenAPI fields, ready to extend.

    flask-smorest reads them from `_apidoc["manual_doc"]` on the outermost function; copying keeps the
    wrapped view's entry untouched.
    """
    wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    return wrapper._apidoc.setdefault("manual_doc", {})
