"""The subscriber lookup's reads on both backends: notices with their deliveries, FAQ titles, open escalations."""

from __future__ import annotations

from sqlalchemy import select, update

from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.situation import Inactivity, NoticeDelivery
from gateway.services import faq as faq_service
from gateway.services import lookup as lookup_service
from gateway.store.models import Delivery
from tests.support.lookup import add_open_escalation, subscriber_in
from tests.support.seeding import Seeder


def test_lookup_reads_everything_on_each_backend(store):
    seed = Seeder(store)
    seed.partner("alpha", locale="fr-FR")
    seed.partner("beta")
    seed.endpoint("alpha")
    seed.endpoint("alpha", "https://hooks.example.net/second")
    now = utcnow()
    with store.transaction() as session:
        warned = subscriber_in(session, "alpha", "warned", now=now)
        subscriber_in(session, "beta", "warned", now=now)  # the same partner_ref at another partner
        add_open_escalation(session, warned, now=now)
    with store.transaction() as session:
        publish_events(session, now)
        first = session.scalar(select(Delivery.id).order_by(Delivery.id).limit(1))
        session.execute(update(Delivery).where(Delivery.id == first).values(status="delivered"))
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=now)

    with store.read() as session:
        found = lookup_service.lookup_subscriber(
            session, partner_code="alpha", partner_ref="warned", locale="fr-BE", now=now
        )

    assert found.subscription.partner_code == "alpha"
    assert found.inactivity is Inactivity.WARNED
    assert found.explanation.locale == "fr" and found.explanation.status_label == "Actif"
    [notice] = found.notices  # the activation; warnings come from a campaign, not from this setup
    assert notice.event_type == "subscription.activated"
    assert len(notice.deliveries) == 2 and notice.delivery is NoticeDelivery.PENDING
    assert [link.locale for link in found.faq] == ["fr"] * len(found.faq)
    assert found.faq[0].slug == "keep-membership-confirmation"
    assert [case.subscription_id for case in found.escalations] == [warned.id]
