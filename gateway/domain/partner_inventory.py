"""What a partner's TMF637 inventory URL must look like: the API's base URL, held to the rules of webhook
endpoints (https, a public host). (What its token may hold is the client's rule: partners.tmf_inventory.)"""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.domain.partners import HTTPS_REQUIRED, INTERNAL_HOST, NOT_AN_ENDPOINT, check_endpoint_url

NO_QUERY = "The API's base URL, without a query or fragment: the gateway adds /product?offset=…&limit=…."
NOT_THE_BASE = "The API's base URL (…/productInventory/v4), without /product: the gateway adds it."
# The endpoint rules' messages, worded for an inventory.
_WORDED = {
    NOT_AN_ENDPOINT: NOT_AN_ENDPOINT,
    HTTPS_REQUIRED: "The inventory must be reached over https.",
    INTERNAL_HOST: "The inventory must be public: loopback, private and link-local hosts are not allowed.",
}


def normal_inventory_url(url: str) -> str:
    """The base URL as stored: surrounding white space and trailing slashes dropped."""
    return url.strip().rstrip("/")


def check_inventory_url(url: str, *, allow_private: bool = False) -> dict[str, str]:
    """Field errors for an inventory's base URL (already in its normal form). Unless the operator allows private
    endpoints (tests, demos), https and a host that does not name an internal address; where a name points is
    checked again on every connection (partners.tmf_inventory)."""
    errors = check_endpoint_url(url, allow_private=allow_private)
    if errors:
        return {"url": _WORDED.get(errors["url"], errors["url"])}
    parsed = urlsplit(url)
    if parsed.query or parsed.fragment or "?" in url or "#" in url:
        return {"url": NO_QUERY}
    if parsed.path.rstrip("/").endswith("/product"):
        return {"url": NOT_THE_BASE}
    return {}
