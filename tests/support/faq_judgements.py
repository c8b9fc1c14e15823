"""Judged FAQ queries: what an agent types, per language, and the articles (slugs) that answer it.

Written from the article files' content, the way agents phrase a customer's question while on a call, not copied
from titles; the judgements were made before any ranking was looked at. `PLAIN` has no typos: retrieval quality
on it must not drop. `TYPOS` has one or two slips per query (missing, doubled, swapped or wrong letters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

ACCESS = "access-until-billing-period-end"
ACTIVATE = "activate-bundle"
CANCEL = "cancel-partner-billed"
CONFIRMATION = "cancellation-confirmation-email"
ESCALATE = "contact-support-escalation"
RETENTION = "data-retention-deletion"
DOUBLE = "double-billing-existing-account"
EXTRA = "extra-member"
INACTIVE = "inactive-membership-cancellation"
KEEP = "keep-membership-confirmation"
SHARING = "paid-sharing-household"
PLAN = "plan-change-timing"
REJOIN = "rejoin-restore-profile"
SUSPENDED = "suspended-non-payment"

Judgement = tuple[str, frozenset[str]]


def _judged(*pairs: tuple[str, str | tuple[str, ...]]) -> list[Judgement]:
    return [(query, frozenset((answer,) if isinstance(answer, str) else answer)) for query, answer in pairs]


PLAIN: dict[str, list[Judgement]] = {
    "en": _judged(
        ("customer still has access after cancelling", ACCESS),
        ("how to cancel the bundle plan", CANCEL),
        ("no cancellation email received", CONFIRMATION),
        ("escalate to the streaming service", ESCALATE),
        ("when is customer data deleted", RETENTION),
        ("charged twice after activation", DOUBLE),
        ("add someone outside the household", (EXTRA, SHARING)),
        ("membership cancelled because not used", INACTIVE),
        ("inactivity warning keep membership", KEEP),
        ("password sharing ended", SHARING),
        ("when does a downgrade take effect", PLAN),
        ("get profile back after rejoining", REJOIN),
        ("access suspended unpaid bill", SUSPENDED),
        ("activation code", ACTIVATE),
        ("refund double payment", DOUBLE),
        ("my list deleted", (RETENTION, REJOIN)),
    ),
    "de": _judged(
        ("Zugang nach Kündigung", ACCESS),
        ("Tarif kündigen", CANCEL),
        ("Kündigungsbestätigung nicht erhalten", CONFIRMATION),
        ("Fall eskalieren", ESCALATE),
        ("Daten löschen", RETENTION),
        ("doppelt bezahlt", DOUBLE),
        ("Zusatzmitglied hinzufügen", EXTRA),
        ("wegen Inaktivität gekündigt", INACTIVE),
        ("Mitgliedschaft behalten", KEEP),
        ("Passwort teilen Haushalt", SHARING),
        ("Upgrade sofort wirksam", PLAN),
        ("Profil wiederherstellen", REJOIN),
        ("Zugang gesperrt Rechnung nicht bezahlt", SUSPENDED),
        ("Aktivierungscode", ACTIVATE),
    ),
    "fr": _judged(
        ("accès après résiliation", ACCESS),
        ("résilier l'offre", CANCEL),
        ("pas reçu l'e-mail de confirmation", CONFIRMATION),
        ("escalader un dossier", ESCALATE),
        ("suppression des données", RETENTION),
        ("facturé deux fois", DOUBLE),
        ("ajouter un membre supplémentaire", EXTRA),
        ("résilié pour inactivité", INACTIVE),
        ("garder l'abonnement", KEEP),
        ("partage du mot de passe", SHARING),
        ("changement d'offre", PLAN),
        ("retrouver son profil", REJOIN),
        ("accès suspendu impayé", SUSPENDED),
        ("code d'activation", ACTIVATE),
    ),
    "es": _judged(
        ("sigue viendo después de cancelar", ACCESS),
        ("cancelar el plan", CANCEL),
        ("no recibió el correo de confirmación", CONFIRMATION),
        ("abrir una incidencia", ESCALATE),
        ("eliminar datos", RETENTION),
        ("cobro doble", DOUBLE),
        ("añadir miembro extra", EXTRA),
        ("cancelada por inactividad", INACTIVE),
        ("conservar la suscripción", KEEP),
        ("compartir contraseña fuera del hogar", SHARING),
        ("cambio de plan", PLAN),
        ("recuperar el perfil", REJOIN),
        ("acceso suspendido por falta de pago", SUSPENDED),
        ("código de activación", ACTIVATE),
    ),
    "ms": _judged(
        ("masih boleh menonton selepas batal", ACCESS),
        ("batalkan pelan", CANCEL),
        ("tidak terima e-mel pengesahan", CONFIRMATION),
        ("eskalasi kes", ESCALATE),
        ("data dipadamkan", RETENTION),
        ("dicaj dua kali", DOUBLE),
        ("tambah ahli tambahan", EXTRA),
        ("dibatalkan kerana tidak aktif", INACTIVE),
        ("kekalkan keahlian", KEEP),
        ("kongsi kata laluan", SHARING),
        ("tukar pelan", PLAN),
        ("dapatkan semula profil", REJOIN),
        ("akses digantung bil tidak dibayar", SUSPENDED),
        ("kod pengaktifan", ACTIVATE),
    ),
}

# The cancellation articles: what an agent typing just "cancel subscription" (or "Kündigung") is after.
CANCELLING = (CANCEL, ACCESS, CONFIRMATION)

TYPOS: dict[str, list[Judgement]] = {
    "en": _judged(
        ("cancle subscriptoin", CANCELLING),
        ("chagred twice", DOUBLE),
        ("extra memebr", EXTRA),
        ("inactivty warning", (KEEP, INACTIVE)),
        ("pasword sharing", SHARING),
        ("suspnded acess", SUSPENDED),
        ("activaton code", ACTIVATE),
        ("data deleiton", RETENTION),
        ("plan chnage", PLAN),
        ("escalaton", ESCALATE),
    ),
    "de": _judged(
        ("Kündigng", CANCELLING),
        ("Zusatzmitgleid", EXTRA),
        ("Inaktivtät Warnung", (KEEP, INACTIVE)),
        ("doppelt belastett", DOUBLE),
        ("Passwrot teilen", SHARING),
        ("Profil wiederherstelen", REJOIN),
        ("Aktivierungskode", ACTIVATE),
        ("Tarifwechesl", PLAN),
    ),
    "fr": _judged(
        ("résiliaton", CANCELLING),
        ("membre supplémentiare", EXTRA),
        ("remboursment", DOUBLE),
        ("avertissement inactivté", (KEEP, INACTIVE)),
        ("mot de pase partage", SHARING),
        ("accès suspnedu", SUSPENDED),
        ("code d'activaiton", ACTIVATE),
        ("supression des données", RETENTION),
    ),
    "es": _judged(
        ("cancelasion", CANCELLING),
        ("miembro extar", EXTRA),
        ("compartri contraseña", SHARING),
        ("aviso inactivdad", (KEEP, INACTIVE)),
        ("reembolos", DOUBLE),
        ("acceso suspenidido", SUSPENDED),
        ("códgo de activación", ACTIVATE),
        ("eliminacion de dastos", RETENTION),
    ),
    "ms": _judged(
        ("pembatalna", CANCELLING),
        ("ahli tambahna", EXTRA),
        ("kata laluna", SHARING),
        ("akses digantnug", SUSPENDED),
        ("kod pengaktifna", ACTIVATE),
        ("amaran ketidakaktifn", (KEEP, INACTIVE)),
        ("dicaj dua kalli", DOUBLE),
        ("pemadmaan data", RETENTION),
    ),
}


def measure(
    ranked: Callable[[str, str], Sequence[str]], judged: Mapping[str, list[Judgement]]
) -> dict[str, tuple[float, float]]:
    """Per language, and over all ('all'): (hit@3, MRR@5) of `ranked(query, locale)`, the slugs best first.

    hit@3: the share of queries with an answering article among the first three. MRR@5: the mean of 1/rank of
    the first answering article among the first five (0 when none is).
    """
    figures: dict[str, tuple[float, float]] = {}
    hits_all: list[float] = []
    reciprocal_all: list[float] = []
    for locale, judgements in judged.items():
        hits, reciprocal = [], []
        for query, answers in judgements:
            slugs = list(ranked(query, locale))[:5]
            first = next((rank for rank, slug in enumerate(slugs, 1) if slug in answers), None)
            hits.append(1.0 if first is not None and first <= 3 else 0.0)
            reciprocal.append(1.0 / first if first is not None else 0.0)
        figures[locale] = (sum(hits) / len(hits), sum(reciprocal) / len(reciprocal))
        hits_all += hits
        reciprocal_all += reciprocal
    figures["all"] = (sum(hits_all) / len(hits_all), sum(reciprocal_all) / len(reciprocal_all))
    return figures
