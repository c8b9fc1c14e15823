"""What a call-center agent reads about a subscriber, in each console language: statuses, reasons, next steps.

Every status, inactivity sub-state, reason and command of the transition table (gateway.domain.lifecycle) has a
text in each language of NOTICE_LOCALES; a unit test fails when one is missing. Texts speak to the agent, who
retells them to the caller. `{placeholders}` are dates, written the way the language writes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageTexts:
    status_labels: dict[str, str]
    # may use {activation_expires}, {last_access_day} (the day before the period end), {retention_until}
    status_explanations: dict[str, str]
    # The "cancelled" explanation when a rejoin may not undo the cancellation (lifecycle.rejoin_refusal: fraud,
    # or the partner's own reasons); may use {retention_until}
    cancelled_no_rejoin: str
    reasons: dict[str, str]
    inactivity: dict[str, str]  # may use {inactivity_warned}, {respond_by}
    actions: dict[str, str]
    actors: dict[str, str]
    unknown_date: str


ENGLISH = LanguageTexts(
    status_labels={
        "pending_activation": "Waiting for activation",
        "active": "Active",
        "suspended": "Suspended",
        "cancellation_scheduled": "Cancellation scheduled",
        "cancelled": "Cancelled",
        "purged": "Ended, data deleted",
    },
    status_explanations={
        "pending_activation": "The bundle has been sold, but the customer has not yet linked a streaming account. "
        "The activation code works until {activation_expires}.",
        "active": "The membership is running and the customer can watch.",
        "suspended": "Watching is paused because a payment to you is missing. It comes back as soon as you "
        "resume the subscription.",
        "cancellation_scheduled": "The membership ends with the current billing period. The customer keeps full "
        "access up to and including {last_access_day} and is not charged after that.",
        "cancelled": "The membership has ended and billing has stopped. Profile, list and settings are kept until "
        "{retention_until}; rejoining before then restores them.",
        "purged": "The membership ended and the retention period is over: profile, list and settings have been "
        "deleted. To watch again the customer needs a new subscription.",
    },
    cancelled_no_rejoin="The membership has ended and billing has stopped. Rejoining cannot undo this cancellation: "
    "to watch again the customer needs a new subscription. Profile, list and settings are kept until "
    "{retention_until} and then deleted.",
    reasons={
        "created": "You created the subscription.",
        "account_linked": "The customer linked an existing streaming account with the activation code.",
        "account_created": "The customer created a new streaming account with the activation code.",
        "activation_expired": "Nobody used the activation code before it expired.",
        "non_payment": "You reported that the customer did not pay.",
        "payment_recovered": "You reported that the payment arrived.",
        "member_request": "The customer asked for it.",
        "billing_period_ended": "The billing period in which the customer cancelled has ended.",
        "partner_churn": "You ended the bundle.",
        "account_closed": "The streaming account was closed.",
        "fraud": "The subscription was ended because of suspected fraud.",
        "upgrade": "The customer moved to a bigger plan, effective at once.",
        "downgrade": "The customer moved to a smaller plan, effective from the next billing period.",
        "member_rejoined": "The customer rejoined within the retention period; their profile was restored.",
        "retention_expired": "The retention period after the cancellation ran out.",
        "inactivity": "The customer had not watched for a long time and did not confirm after the warning.",
        "member_confirmed": "The customer confirmed in the app.",
        "partner_confirmed": "You confirmed on the customer's behalf.",
        "viewing_activity": "The customer watched something after the warning.",
    },
    inactivity={
        "not_warned": "No inactivity warning is open.",
        "warned": "The customer was warned on {inactivity_warned} for not watching. To keep the membership they must "
        "confirm by {respond_by}, in the app or through you; watching anything also counts. Otherwise the "
        "membership is cancelled and billing stops.",
        "kept": "The customer was warned for inactivity on {inactivity_warned} and the membership was kept.",
        "cancelled": "The customer was warned for inactivity on {inactivity_warned} and did not answer in time: the "
        "membership was cancelled for inactivity on {cancelled}.",
    },
    actions={
        "activate": "Activate with the activation code",
        "expire_activation": "Cancel when the activation code expires",
        "suspend": "Suspend for non-payment",
        "resume": "Resume after payment",
        "schedule_cancellation": "Cancel at the end of the billing period",
        "revert_cancellation": "Withdraw the cancellation",
        "end_period": "End the membership when the billing period ends",
        "cancel_now": "Cancel immediately",
        "change_plan": "Change the plan",
        "rejoin": "Rejoin and restore the profile",
        "purge": "Delete profile and data when the retention period ends",
        "warn_inactivity": "Warn about inactivity (if the customer stops watching)",
        "confirm_keep": "Confirm to keep the membership",
        "cancel_inactive": "Cancel for inactivity if there is no confirmation",
    },
    actors={
        "partner": "you (partner)",
        "member": "the customer, in the app",
        "service": "the streaming service",
        "scheduler": "automatically",
    },
    unknown_date="(date unknown)",
)

GERMAN = LanguageTexts(
    status_labels={
        "pending_activation": "Wartet auf Aktivierung",
        "active": "Aktiv",
        "suspended": "Gesperrt",
        "cancellation_scheduled": "Kündigung vorgemerkt",
        "cancelled": "Gekündigt",
        "purged": "Beendet, Daten gelöscht",
    },
    status_explanations={
        "pending_activation": "Das Paket ist verkauft, aber die Kundin oder der Kunde hat noch kein "
        "Streaming-Konto verknüpft. Der Aktivierungscode gilt bis zum {activation_expires}.",
        "active": "Die Mitgliedschaft läuft, Streaming ist möglich.",
        "suspended": "Streaming ist pausiert, weil eine Zahlung an Sie fehlt. Sobald Sie die Mitgliedschaft "
        "fortsetzen, geht es weiter.",
        "cancellation_scheduled": "Die Mitgliedschaft endet mit dem laufenden Abrechnungszeitraum. Bis einschließlich "
        "{last_access_day} bleibt der volle Zugang, danach wird nichts mehr berechnet.",
        "cancelled": "Die Mitgliedschaft ist beendet, die Abrechnung gestoppt. Profil, Liste und Einstellungen "
        "bleiben bis zum {retention_until} erhalten; wer vorher zurückkehrt, bekommt sie wieder.",
        "purged": "Die Mitgliedschaft ist beendet und die Aufbewahrungsfrist abgelaufen: Profil, Liste und "
        "Einstellungen sind gelöscht. Für einen Neustart ist eine neue Mitgliedschaft nötig.",
    },
    cancelled_no_rejoin="Die Mitgliedschaft ist beendet, die Abrechnung gestoppt. Eine Rückkehr macht diese Kündigung "
    "nicht rückgängig: Für einen Neustart ist eine neue Mitgliedschaft nötig. Profil, Liste und Einstellungen bleiben "
    "bis zum {retention_until} erhalten und werden danach gelöscht.",
    reasons={
        "created": "Sie haben die Mitgliedschaft angelegt.",
        "account_linked": "Ein bestehendes Streaming-Konto wurde mit dem Aktivierungscode verknüpft.",
        "account_created": "Mit dem Aktivierungscode wurde ein neues Streaming-Konto angelegt.",
        "activation_expired": "Der Aktivierungscode wurde nicht rechtzeitig eingelöst.",
        "non_payment": "Sie haben einen Zahlungsausfall gemeldet.",
        "payment_recovered": "Sie haben den Zahlungseingang gemeldet.",
        "member_request": "Auf Wunsch der Kundin oder des Kunden.",
        "billing_period_ended": "Der Abrechnungszeitraum, zu dem gekündigt wurde, ist abgelaufen.",
        "partner_churn": "Sie haben das Paket beendet.",
        "account_closed": "Das Streaming-Konto wurde geschlossen.",
        "fraud": "Die Mitgliedschaft wurde wegen Betrugsverdachts beendet.",
        "upgrade": "Wechsel in einen größeren Tarif, sofort wirksam.",
        "downgrade": "Wechsel in einen kleineren Tarif, wirksam ab dem nächsten Abrechnungszeitraum.",
        "member_rejoined": "Rückkehr innerhalb der Aufbewahrungsfrist; das Profil wurde wiederhergestellt.",
        "retention_expired": "Die Aufbewahrungsfrist nach der Kündigung ist abgelaufen.",
        "inactivity": "Lange nichts angesehen und nach der Inaktivitätswarnung nicht bestätigt.",
        "member_confirmed": "In der App bestätigt.",
        "partner_confirmed": "Sie haben im Auftrag der Kundin oder des Kunden bestätigt.",
        "viewing_activity": "Nach der Inaktivitätswarnung wurde wieder etwas angesehen.",
    },
    inactivity={
        "not_warned": "Es ist keine Inaktivitätswarnung offen.",
        "warned": "Am {inactivity_warned} kam eine Inaktivitätswarnung. Um die Mitgliedschaft zu "
        "behalten, muss bis zum {respond_by} bestätigt werden, in der App oder über Sie; auch einfach etwas "
        "ansehen zählt. Sonst wird gekündigt und die Abrechnung endet.",
        "kept": "Am {inactivity_warned} kam eine Inaktivitätswarnung; die Mitgliedschaft wurde behalten.",
        "cancelled": "Am {inactivity_warned} kam eine Inaktivitätswarnung, ohne rechtzeitige Antwort: Die "
        "Mitgliedschaft wurde am {cancelled} wegen Inaktivität gekündigt.",
    },
    actions={
        "activate": "Mit dem Aktivierungscode aktivieren",
        "expire_activation": "Kündigen, wenn der Aktivierungscode abläuft",
        "suspend": "Wegen Zahlungsausfall sperren",
        "resume": "Nach Zahlung fortsetzen",
        "schedule_cancellation": "Zum Ende des Abrechnungszeitraums kündigen",
        "revert_cancellation": "Kündigung zurücknehmen",
        "end_period": "Mitgliedschaft zum Ende des Abrechnungszeitraums beenden",
        "cancel_now": "Sofort kündigen",
        "change_plan": "Tarif wechseln",
        "rejoin": "Zurückkehren und Profil wiederherstellen",
        "purge": "Profil und Daten nach Ablauf der Aufbewahrungsfrist löschen",
        "warn_inactivity": "Inaktivitätswarnung senden (wenn nichts mehr angesehen wird)",
        "confirm_keep": "Bestätigen, dass die Mitgliedschaft bleibt",
        "cancel_inactive": "Wegen Inaktivität kündigen, wenn keine Bestätigung kommt",
    },
    actors={
        "partner": "Sie (Partner)",
        "member": "Kundin oder Kunde, in der App",
        "service": "der Streamingdienst",
        "scheduler": "automatisch",
    },
    unknown_date="(Datum unbekannt)",
)

FRENCH = LanguageTexts(
    status_labels={
        "pending_activation": "En attente d'activation",
        "active": "Actif",
        "suspended": "Suspendu",
        "cancellation_scheduled": "Résiliation programmée",
        "cancelled": "Résilié",
        "purged": "Terminé, données supprimées",
    },
    status_explanations={
        "pending_activation": "L'offre a été vendue, mais le client n'a pas encore associé de compte de "
        "streaming. Le code d'activation est valable jusqu'au {activation_expires}.",
        "active": "L'abonnement est en cours et le client peut regarder.",
        "suspended": "Le visionnage est interrompu car un paiement ne vous est pas parvenu. Il reprend dès que vous "
        "réactivez l'abonnement.",
        "cancellation_scheduled": "L'abonnement prend fin avec la période de facturation en cours. Le client "
        "garde un accès complet jusqu'au {last_access_day} inclus et ne sera plus facturé ensuite.",
        "cancelled": "L'abonnement est terminé et la facturation arrêtée. Le profil, la liste et les paramètres "
        "sont conservés jusqu'au {retention_until} ; un retour avant cette date les restaure.",
        "purged": "L'abonnement est terminé et la durée de conservation écoulée : le profil, la liste et les "
        "paramètres ont été supprimés. Pour regarder à nouveau, il faut un nouvel abonnement.",
    },
    cancelled_no_rejoin="L'abonnement est terminé et la facturation arrêtée. Un retour n'annule pas cette "
    "résiliation : pour regarder à nouveau, le client a besoin d'un nouvel abonnement. Le profil, la liste et les "
    "paramètres sont conservés jusqu'au {retention_until}, puis supprimés.",
    reasons={
        "created": "Vous avez créé l'abonnement.",
        "account_linked": "Le client a associé un compte de streaming existant avec le code d'activation.",
        "account_created": "Le client a créé un nouveau compte de streaming avec le code d'activation.",
        "activation_expired": "Le code d'activation n'a pas été utilisé avant son expiration.",
        "non_payment": "Vous avez signalé un défaut de paiement.",
        "payment_recovered": "Vous avez signalé que le paiement est arrivé.",
        "member_request": "À la demande du client.",
        "billing_period_ended": "La période de facturation au terme de laquelle le client a résilié est finie.",
        "partner_churn": "Vous avez mis fin à l'offre.",
        "account_closed": "Le compte de streaming a été fermé.",
        "fraud": "L'abonnement a été arrêté pour suspicion de fraude.",
        "upgrade": "Passage à une offre supérieure, effectif immédiatement.",
        "downgrade": "Passage à une offre inférieure, effectif à la prochaine période de facturation.",
        "member_rejoined": "Retour pendant la durée de conservation ; le profil a été restauré.",
        "retention_expired": "La durée de conservation après la résiliation est écoulée.",
        "inactivity": "Le client ne regardait plus rien depuis longtemps et n'a pas confirmé après l'avertissement.",
        "member_confirmed": "Le client a confirmé dans l'application.",
        "partner_confirmed": "Vous avez confirmé pour le compte du client.",
        "viewing_activity": "Le client a regardé quelque chose après l'avertissement.",
    },
    inactivity={
        "not_warned": "Aucun avertissement d'inactivité en cours.",
        "warned": "Le client a été averti le {inactivity_warned} pour inactivité. Pour garder l'abonnement, il doit "
        "confirmer au plus tard le {respond_by}, dans l'application ou par votre intermédiaire ; regarder un contenu "
        "suffit aussi. Sinon l'abonnement est résilié et la facturation s'arrête.",
        "kept": "Le client a été averti le {inactivity_warned} pour inactivité et l'abonnement a été conservé.",
        "cancelled": "Le client a été averti le {inactivity_warned} pour inactivité et n'a pas répondu à temps : "
        "l'abonnement a été résilié pour inactivité le {cancelled}.",
    },
    actions={
        "activate": "Activer avec le code d'activation",
        "expire_activation": "Résilier à l'expiration du code d'activation",
        "suspend": "Suspendre pour défaut de paiement",
        "resume": "Réactiver après paiement",
        "schedule_cancellation": "Résilier à la fin de la période de facturation",
        "revert_cancellation": "Annuler la résiliation",
        "end_period": "Mettre fin à l'abonnement à la fin de la période de facturation",
        "cancel_now": "Résilier immédiatement",
        "change_plan": "Changer d'offre",
        "rejoin": "Revenir et restaurer le profil",
        "purge": "Supprimer le profil et les données à la fin de la durée de conservation",
        "warn_inactivity": "Avertir en cas d'inactivité (si le client ne regarde plus rien)",
        "confirm_keep": "Confirmer le maintien de l'abonnement",
        "cancel_inactive": "Résilier pour inactivité faute de confirmation",
    },
    actors={
        "partner": "vous (partenaire)",
        "member": "le client, dans l'application",
        "service": "le service de streaming",
        "scheduler": "automatiquement",
    },
    unknown_date="(date inconnue)",
)

SPANISH = LanguageTexts(
    status_labels={
        "pending_activation": "Pendiente de activación",
        "active": "Activa",
        "suspended": "Suspendida",
        "cancellation_scheduled": "Cancelación programada",
        "cancelled": "Cancelada",
        "purged": "Finalizada, datos eliminados",
    },
    status_explanations={
        "pending_activation": "El paquete está vendido, pero el cliente aún no ha vinculado una cuenta de "
        "streaming. El código de activación vale hasta el {activation_expires}.",
        "active": "La suscripción está en marcha y el cliente puede ver contenido.",
        "suspended": "La reproducción está en pausa porque no le ha llegado un pago. Se reanuda en "
        "cuanto usted reactive la suscripción.",
        "cancellation_scheduled": "La suscripción termina con el periodo de facturación actual. El cliente "
        "mantiene el acceso completo hasta el {last_access_day} incluido y después no se le cobra nada más.",
        "cancelled": "La suscripción ha terminado y la facturación se ha detenido. El perfil, la lista y los "
        "ajustes se conservan hasta el {retention_until}; si vuelve antes, los recupera.",
        "purged": "La suscripción terminó y el periodo de conservación ha pasado: el perfil, la lista y los "
        "ajustes se han eliminado. Para volver a ver contenido necesita una suscripción nueva.",
    },
    cancelled_no_rejoin="La suscripción ha terminado y la facturación se ha detenido. Esta cancelación no se deshace "
    "aunque el cliente vuelva: para volver a ver contenido necesita una suscripción nueva. El perfil, la lista y los "
    "ajustes se conservan hasta el {retention_until} y después se eliminan.",
    reasons={
        "created": "Usted creó la suscripción.",
        "account_linked": "El cliente vinculó una cuenta de streaming existente con el código de activación.",
        "account_created": "El cliente creó una cuenta de streaming nueva con el código de activación.",
        "activation_expired": "Nadie usó el código de activación antes de que caducara.",
        "non_payment": "Usted informó de que el cliente no pagó.",
        "payment_recovered": "Usted informó de que el pago llegó.",
        "member_request": "A petición del cliente.",
        "billing_period_ended": "Terminó el periodo de facturación al final del cual el cliente canceló.",
        "partner_churn": "Usted dio de baja el paquete.",
        "account_closed": "La cuenta de streaming se cerró.",
        "fraud": "La suscripción se terminó por sospecha de fraude.",
        "upgrade": "Cambio a un plan superior, con efecto inmediato.",
        "downgrade": "Cambio a un plan inferior, con efecto desde el próximo periodo de facturación.",
        "member_rejoined": "El cliente volvió dentro del periodo de conservación y recuperó su perfil.",
        "retention_expired": "El periodo de conservación tras la cancelación ha terminado.",
        "inactivity": "El cliente llevaba mucho tiempo sin ver nada y no confirmó tras el aviso.",
        "member_confirmed": "El cliente confirmó en la aplicación.",
        "partner_confirmed": "Usted confirmó en nombre del cliente.",
        "viewing_activity": "El cliente vio algo después del aviso.",
    },
    inactivity={
        "not_warned": "No hay ningún aviso de inactividad abierto.",
        "warned": "El cliente recibió el {inactivity_warned} un aviso por inactividad. Para conservar la "
        "suscripción debe confirmar a más tardar el {respond_by}, en la aplicación o a través de usted; ver "
        "cualquier contenido también cuenta. Si no, la suscripción se cancela y se deja de cobrar.",
        "kept": "El cliente recibió el {inactivity_warned} un aviso por inactividad y conservó la suscripción.",
        "cancelled": "El cliente recibió el {inactivity_warned} un aviso por inactividad y no respondió a tiempo: la "
        "suscripción se canceló por inactividad el {cancelled}.",
    },
    actions={
        "activate": "Activar con el código de activación",
        "expire_activation": "Cancelar cuando caduque el código de activación",
        "suspend": "Suspender por impago",
        "resume": "Reactivar tras el pago",
        "schedule_cancellation": "Cancelar al final del periodo de facturación",
        "revert_cancellation": "Retirar la cancelación",
        "end_period": "Terminar la suscripción al final del periodo de facturación",
        "cancel_now": "Cancelar de inmediato",
        "change_plan": "Cambiar de plan",
        "rejoin": "Volver y recuperar el perfil",
        "purge": "Eliminar perfil y datos al terminar el periodo de conservación",
        "warn_inactivity": "Avisar por inactividad (si el cliente deja de ver contenido)",
        "confirm_keep": "Confirmar que se conserva la suscripción",
        "cancel_inactive": "Cancelar por inactividad si no hay confirmación",
    },
    actors={
        "partner": "usted (socio)",
        "member": "el cliente, en la aplicación",
        "service": "el servicio de streaming",
        "scheduler": "automáticamente",
    },
    unknown_date="(fecha desconocida)",
)

MALAY = LanguageTexts(
    status_labels={
        "pending_activation": "Menunggu pengaktifan",
        "active": "Aktif",
        "suspended": "Digantung",
        "cancellation_scheduled": "Pembatalan dijadualkan",
        "cancelled": "Dibatalkan",
        "purged": "Tamat, data dipadam",
    },
    status_explanations={
        "pending_activation": "Pakej telah dijual, tetapi pelanggan belum memautkan akaun penstriman. Kod "
        "pengaktifan sah sehingga {activation_expires}.",
        "active": "Keahlian sedang berjalan dan pelanggan boleh menonton.",
        "suspended": "Tontonan dihentikan sementara kerana bayaran kepada anda belum diterima. Ia akan "
        "disambung sebaik sahaja anda menyambung semula keahlian.",
        "cancellation_scheduled": "Keahlian tamat pada akhir tempoh pengebilan semasa. Pelanggan masih mempunyai "
        "akses penuh sehingga dan termasuk {last_access_day} dan tidak akan dicaj selepas itu.",
        "cancelled": "Keahlian telah tamat dan bil telah dihentikan. Profil, senarai dan tetapan disimpan "
        "sehingga {retention_until}; jika pelanggan kembali sebelum itu, semuanya dipulihkan.",
        "purged": "Keahlian telah tamat dan tempoh simpanan sudah berakhir: profil, senarai dan tetapan telah "
        "dipadam. Untuk menonton semula, pelanggan memerlukan keahlian baharu.",
    },
    cancelled_no_rejoin="Keahlian telah tamat dan bil telah dihentikan. Pelanggan tidak boleh kembali untuk memulihkan "
    "keahlian ini: untuk menonton semula, pelanggan memerlukan keahlian baharu. Profil, senarai dan tetapan disimpan "
    "sehingga {retention_until}, kemudian dipadam.",
    reasons={
        "created": "Anda telah mencipta keahlian ini.",
        "account_linked": "Pelanggan memautkan akaun penstriman sedia ada dengan kod pengaktifan.",
        "account_created": "Pelanggan mencipta akaun penstriman baharu dengan kod pengaktifan.",
        "activation_expired": "Kod pengaktifan tidak digunakan sebelum tamat tempoh.",
        "non_payment": "Anda melaporkan bahawa pelanggan tidak membayar.",
        "payment_recovered": "Anda melaporkan bahawa bayaran telah diterima.",
        "member_request": "Atas permintaan pelanggan.",
        "billing_period_ended": "Tempoh pengebilan semasa pelanggan membatalkan keahlian telah tamat.",
        "partner_churn": "Anda telah menamatkan pakej ini.",
        "account_closed": "Akaun penstriman telah ditutup.",
        "fraud": "Keahlian ditamatkan kerana disyaki penipuan.",
        "upgrade": "Bertukar ke pelan yang lebih besar, berkuat kuasa serta-merta.",
        "downgrade": "Bertukar ke pelan yang lebih kecil, berkuat kuasa mulai tempoh pengebilan seterusnya.",
        "member_rejoined": "Pelanggan kembali dalam tempoh simpanan; profilnya telah dipulihkan.",
        "retention_expired": "Tempoh simpanan selepas pembatalan telah tamat.",
        "inactivity": "Pelanggan sudah lama tidak menonton dan tidak mengesahkan selepas amaran.",
        "member_confirmed": "Pelanggan telah mengesahkan dalam aplikasi.",
        "partner_confirmed": "Anda telah mengesahkan bagi pihak pelanggan.",
        "viewing_activity": "Pelanggan menonton sesuatu selepas amaran.",
    },
    inactivity={
        "not_warned": "Tiada amaran ketidakaktifan yang terbuka.",
        "warned": "Pelanggan menerima amaran ketidakaktifan pada {inactivity_warned}. Untuk mengekalkan keahlian, "
        "pelanggan perlu mengesahkan selewat-lewatnya {respond_by}, dalam aplikasi atau melalui anda; menonton apa-apa "
        "juga dikira. Jika tidak, keahlian dibatalkan dan bil dihentikan.",
        "kept": "Pelanggan menerima amaran ketidakaktifan pada {inactivity_warned} dan keahlian dikekalkan.",
        "cancelled": "Pelanggan menerima amaran ketidakaktifan pada {inactivity_warned} dan tidak menjawab dalam "
        "tempoh: keahlian dibatalkan kerana tidak aktif pada {cancelled}.",
    },
    actions={
        "activate": "Aktifkan dengan kod pengaktifan",
        "expire_activation": "Batalkan apabila kod pengaktifan tamat tempoh",
        "suspend": "Gantung kerana tidak membayar",
        "resume": "Sambung semula selepas bayaran",
        "schedule_cancellation": "Batalkan pada akhir tempoh pengebilan",
        "revert_cancellation": "Tarik balik pembatalan",
        "end_period": "Tamatkan keahlian pada akhir tempoh pengebilan",
        "cancel_now": "Batalkan serta-merta",
        "change_plan": "Tukar pelan",
        "rejoin": "Kembali dan pulihkan profil",
        "purge": "Padam profil dan data apabila tempoh simpanan tamat",
        "warn_inactivity": "Beri amaran ketidakaktifan (jika pelanggan berhenti menonton)",
        "confirm_keep": "Sahkan untuk mengekalkan keahlian",
        "cancel_inactive": "Batalkan kerana tidak aktif jika tiada pengesahan",
    },
    actors={
        "partner": "anda (rakan kongsi)",
        "member": "pelanggan, dalam aplikasi",
        "service": "perkhidmatan penstriman",
        "scheduler": "secara automatik",
    },
    unknown_date="(tarikh tidak diketahui)",
)

TEXTS: dict[str, LanguageTexts] = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH, "es": SPANISH, "ms": MALAY}
