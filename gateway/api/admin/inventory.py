"""Operator API for a partner's own TMF637 Product Inventory: where `gateway reconcile --from-tmf` reads its
products, set (URL and token together), shown (the token never) and cleared."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.partner_inventory import PartnerInventorySchema, PartnerInventoryUpdateSchema
from gateway.api.http.auth import requires
from gateway.api.http.uow import in_transaction, reading
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.runtime import setting
from gateway.services import partner_inventory as inventory_service
from gateway.services.partners import get_partner

blp = Blueprint("partner_inventory", __name__)


def _shown(partner) -> dict:
    return {"url": partner.inventory_url, "token_set": partner.inventory_token is not None}


@blp.route("/partners/<code>/inventory")
class PartnerInventory(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, PartnerInventorySchema)
    def get(self, code):
        """Show where the gateway reads a partner's own TMF637 inventory; the token is never shown"""
        with reading() as session:
            return _shown(get_partner(session, code))

    @requires(Scope.ADMIN)
    @in_transaction
    @blp.arguments(PartnerInventoryUpdateSchema)
    @blp.response(200, PartnerInventorySchema)
    def put(self, body, code, session):
        """Set a partner's TMF637 inventory URL and bearer token, together, for `gateway reconcile --from-tmf`

        The token is write-only: no answer shows it again. Unless GATEWAY_ALLOW_PRIVATE_ENDPOINTS is set, the URL
        must be https and its host public, as a webhook endpoint's; where the name points is checked again on
        every connection.
        """
        partner = inventory_service.set_inventory(
            session, code, allow_private=setting("ALLOW_PRIVATE_ENDPOINTS"), now=utcnow(), **body
        )
        return _shown(partner)

    @requires(Scope.ADMIN)
    @in_transaction
    @blp.response(204)
    def delete(self, code, session):
        """Forget a partner's TMF637 inventory URL and token"""
        inventory_service.clear_inventory(session, code, now=utcnow())
