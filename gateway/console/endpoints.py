"""The agent console's endpoint names: which pages need a signed-in agent, and which are reachable without one.

Console pages authenticate through the console session, not a bearer key, so the API's auth matrix leaves them
to the console's own tests (tests/console), which check every name here against the URL map.
"""

from __future__ import annotations

BLUEPRINT = "console"
URL_PREFIX = "/console"

# Reachable without a session: the sign-in page, and the "no such page" answer for any other console URL.
# The console's style sheet and script (asset) too: the sign-in page needs them.
OPEN_ENDPOINTS = frozenset({f"{BLUEPRINT}.sign_in", f"{BLUEPRINT}.no_such_page", f"{BLUEPRINT}.asset"})
# Everything else needs a signed-in agent whose key still holds the callcenter scope.
AGENT_ENDPOINTS = frozenset(
    f"{BLUEPRINT}.{name}"
    for name in (
        "home",
        "sign_out",
        "faq_search",
        "faq_article",
        "lookup",
        "escalations",
        "new_escalation",
        "open_escalation",
        "escalation",
        "comment",
        "change_escalation_status",
        "customer",
        "confirm_action",
        "run_action",
        "settings",
    )
)
CONSOLE_ENDPOINTS = OPEN_ENDPOINTS | AGENT_ENDPOINTS
