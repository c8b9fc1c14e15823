"""Benchmark: FAQ search latency over 1,000 articles per locale x 5 locales, in-process.

Synthetic articles (titles 6-12 words, 3-6 tags, Markdown bodies of 120-250 words) are drawn from a made-up
vocabulary of real words per language with a Zipf-like frequency, so a few words sit in most articles and most
words in few. 10,000 queries of 1-4 words run in mixed locales (regional ones, unknown ones answered in English,
and English words asked in another locale so that the English fallback runs), each timed on its own.

Typo tolerance is on, as in production. A second set, made from the same queries, has one or two slips in each
(a letter dropped, doubled, swapped with its neighbour or mistyped, in words of four letters or more): every one
of them goes through the correction against the language's vocabulary (gateway.domain.faq_spelling).

Baseline, measured in the same run: normalizing the same queries alone (locale to language, tokenize, fold,
drop stopwords, stem with a warm cache), which every search must do before it touches a posting.

    python bench/faq_search.py [--articles 1000] [--queries 10000]

Last two lines: `faq_search_p99_ms: <ms> (target <= 5)`, then `faq_typo_p99_ms: <ms> (target <= 10)`, the
bench's figure.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from gateway.domain.faq_search import Article, FaqIndex, analyze, language_of

# Ordered roughly from frequent to rare: the Zipf draw favours the front of each list.
VOCABULARY = {
    "en": """account subscription partner plan billing payment cancel member profile access device password email
        streaming app service month period invoice price change renew activate confirm reset login household
        sharing code verify refund charge bundle operator contract period card settings language subtitle
        download offline screen quality television phone tablet browser support agent request status error
        message notification reminder inactive warning retention restore rejoin list history viewing address
        country region travel upgrade downgrade premium standard basic extra slot transfer ownership family
        kids parental control pin limit concurrent stream buffering network connection router speed update
        version install remove sign verify identity phone number deadline notice termination renewal discount
        promotion voucher gift balance receipt tax currency exchange fraud security suspicious locked blocked
        unlock recovery backup archive export privacy consent cookie data deletion portability complaint
        escalation callback ticket resolution delay outage maintenance schedule announcement policy rollout""",
    "de": """Konto Abonnement Partner Tarif Abrechnung Zahlung kündigen Mitglied Profil Zugang Gerät Passwort
        E-Mail Streaming App Dienst Monat Zeitraum Rechnung Preis Änderung verlängern aktivieren bestätigen
        zurücksetzen Anmeldung Haushalt Teilen Code prüfen Erstattung Gebühr Paket Anbieter Vertrag Karte
        Einstellungen Sprache Untertitel herunterladen offline Bildschirm Qualität Fernseher Telefon Tablet
        Browser Hilfe Mitarbeiter Anfrage Status Fehler Nachricht Benachrichtigung Erinnerung inaktiv Warnung
        Aufbewahrung wiederherstellen Rückkehr Liste Verlauf Wiedergabe Adresse Land Region Reise Upgrade
        Downgrade Zusatzmitglied Übertragung Familie Kinder Jugendschutz Sperre Grenze gleichzeitig Netzwerk
        Verbindung Router Geschwindigkeit Aktualisierung Version installieren entfernen Identität Rufnummer
        Frist Hinweis Kündigung Verlängerung Rabatt Aktion Gutschein Guthaben Beleg Steuer Währung Betrug
        Sicherheit verdächtig gesperrt entsperren Wiederherstellung Datenschutz Einwilligung Löschung Beschwerde
        Eskalation Rückruf Ticket Lösung Verzögerung Störung Wartung Ankündigung Richtlinie Einführung""",
    "fr": """compte abonnement partenaire forfait facturation paiement résilier membre profil accès appareil
        mot passe courriel streaming application service mois période facture prix changement renouveler
        activer confirmer réinitialiser connexion foyer partage code vérifier remboursement frais offre
        opérateur contrat carte paramètres langue sous-titres télécharger hors-ligne écran qualité télévision
        téléphone tablette navigateur assistance conseiller demande statut erreur message notification rappel
        inactif avertissement conservation restaurer retour liste historique visionnage adresse pays région
        voyage supérieur inférieur supplémentaire transfert famille enfants contrôle parental limite simultané
        réseau connexion vitesse mise jour version installer supprimer identité numéro délai avis résiliation
        renouvellement remise promotion bon cadeau solde reçu taxe devise fraude sécurité suspect bloqué
        débloquer récupération confidentialité consentement suppression réclamation escalade rappel ticket
        résolution retard panne maintenance annonce politique déploiement annulée annulation""",
    "es": """cuenta suscripción socio plan facturación pago cancelar miembro perfil acceso dispositivo contraseña
        correo streaming aplicación servicio mes periodo factura precio cambio renovar activar confirmar
        restablecer inicio hogar compartir código verificar reembolso cargo paquete operador contrato tarjeta
        ajustes idioma subtítulos descargar pantalla calidad televisor teléfono tableta navegador ayuda agente
        solicitud estado error mensaje notificación recordatorio inactivo aviso conservación restaurar regreso
        lista historial reproducción dirección país región viaje mejora adicional transferencia familia niños
        control parental límite simultáneo red conexión velocidad actualización versión instalar eliminar
        identidad número plazo cancelación renovación descuento promoción cupón regalo saldo recibo impuesto
        moneda fraude seguridad sospechoso bloqueado desbloquear recuperación privacidad consentimiento
        eliminación reclamación escalado llamada ticket resolución retraso interrupción mantenimiento anuncio
        política lanzamiento cancelado""",
    "ms": """akaun langganan rakan pelan bil pembayaran batal ahli profil akses peranti kata laluan emel penstriman
        aplikasi perkhidmatan bulan tempoh invois harga perubahan memperbaharui aktifkan sahkan tetapkan semula
        log masuk isi rumah perkongsian kod semak bayaran balik caj pakej pengendali kontrak kad tetapan bahasa
        sari kata muat turun luar talian skrin kualiti televisyen telefon tablet pelayar sokongan ejen permintaan
        status ralat mesej pemberitahuan peringatan tidak aktif amaran penyimpanan pulihkan kembali senarai
        sejarah tontonan alamat negara wilayah perjalanan naik taraf tambahan pemindahan keluarga kanak-kanak
        kawalan ibu bapa had serentak rangkaian sambungan kelajuan kemas kini versi pasang buang identiti nombor
        tarikh akhir notis pembatalan pembaharuan diskaun promosi baucar hadiah baki resit cukai mata wang
        penipuan keselamatan mencurigakan disekat buka sekatan pemulihan privasi persetujuan pemadaman aduan
        eskalasi panggilan tiket penyelesaian kelewatan gangguan penyelenggaraan pengumuman dasar pelancaran
        dibatalkan""",
}
FUNCTION_WORDS = {
    "en": "the to and of a you your is in for with on can be this",
    "de": "der die und das Sie ist in zu den mit für auf Ihr wird ein",
    "fr": "le la de et les vous votre est en du des pour un une dans",
    "es": "el la de y que los su en para un una es se por con",
    "ms": "yang dan anda di untuk ini dengan akan dalam boleh pada ke itu adalah oleh",
}
LOCALES = ["en", "de", "fr", "es", "ms"]
QUERY_LOCALES = ["en", "en-GB", "de", "de-AT", "de-CH", "fr", "fr-CA", "es", "es-MX", "ms", "ms-MY", "pt-BR", "it"]


class ZipfWords:
    """Words drawn with probability proportional to 1 / rank (s = 1)."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.words = words
        self.weights = [1.0 / rank for rank in range(1, len(words) + 1)]
        self.rng = rng

    def draw(self, count: int) -> list[str]:
        return self.rng.choices(self.words, weights=self.weights, k=count)


def make_articles(per_locale: int, rng: random.Random) -> list[Article]:
    articles = []
    for locale in LOCALES:
        content = ZipfWords(VOCABULARY[locale].split(), rng)
        function = FUNCTION_WORDS[locale].split()
        for number in range(per_locale):
            title = " ".join(content.draw(rng.randint(6, 12))).capitalize()
            tags = tuple(dict.fromkeys(content.draw(rng.randint(3, 6))))
            slug = f"{locale}-article-{number:04d}"
            articles.append(Article(slug, locale, title, tags, body(content, function, rng)))
    return articles


def body(content: ZipfWords, function: list[str], rng: random.Random) -> str:
    """120-250 words of Markdown: a heading, paragraphs with some bold words, a bullet list."""
    target, words, parts = rng.randint(120, 250), 0, [f"## {' '.join(content.draw(4)).capitalize()}"]
    while words < target:
        length = min(rng.randint(8, 20), target - words)
        sentence = [rng.choice(function) if rng.random() < 0.35 else content.draw(1)[0] for _ in range(length)]
        if rng.random() < 0.3:
            bold = rng.randrange(length)
            sentence[bold] = f"**{sentence[bold]}**"
        line = " ".join(sentence).capitalize() + "."
        parts.append(f"- {line}" if rng.random() < 0.2 else line)
        words += length
    return "\n\n".join(parts)


def make_queries(count: int, rng: random.Random) -> list[tuple[str, str]]:
    queries = []
    for _ in range(count):
        locale = rng.choice(QUERY_LOCALES)
        language = language_of(locale)
        if language != "en" and rng.random() < 0.1:
            language = "en"  # an agent types English words in a German console: the fallback runs
        words = VOCABULARY[language].split()
        # Queries favour the middle of the vocabulary: agents ask about specific things, not the commonest words.
        picked = [words[min(len(words) - 1, int(rng.paretovariate(0.8) * 4))] for _ in range(rng.randint(1, 4))]
        queries.append((" ".join(picked), locale))
    return queries


def with_typos(queries: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str, str]]:
    """(mistyped, locale, typed right): each query with one or two slips, as fast typing makes them, in its words
    of four letters or more (queries without such a word are left out)."""
    mistyped = []
    for query, locale in queries:
        words = query.split()
        long_enough = [number for number, word in enumerate(words) if len(word) >= 4]
        if not long_enough:
            continue
        for _ in range(rng.randint(1, 2)):
            number = rng.choice(long_enough)
            words[number] = slip(words[number], rng)
        mistyped.append((" ".join(words), locale, query))
    return mistyped


def slip(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word) - 1)  # first and last letters are seldom the ones mistyped
    match rng.choice(("drop", "double", "swap", "wrong")):
        case "drop":
            return word[:at] + word[at + 1 :]
        case "double":
            return word[:at] + word[at] + word[at:]
        case "swap":
            return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        case _:
            return word[:at] + rng.choice("aeinorst") + word[at + 1 :]


def timed(run: Callable[[str, str], object], queries: list[tuple[str, str]]) -> list[int]:
    durations = []
    clock = time.perf_counter_ns
    for query, locale in queries:
        start = clock()
        run(query, locale)
        durations.append(clock() - start)
    return durations


def percentile(sorted_values: list[int], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))] / 1e6


def describe(name: str, durations: list[int]) -> dict[str, float]:
    values = sorted(durations)
    figures = {p: percentile(values, p / 100) for p in (50, 90, 99)}
    figures["max"], figures["mean"] = values[-1] / 1e6, statistics.fmean(values) / 1e6
    print(
        f"{name}: p50 {figures[50]:.3f} ms, p90 {figures[90]:.3f} ms, p99 {figures[99]:.3f} ms, "
        f"max {figures['max']:.3f} ms, mean {figures['mean']:.3f} ms"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="articles per locale")
    parser.add_argument("--queries", type=int, default=10_000)
    options = parser.parse_args()

    rng = random.Random(7)
    articles = make_articles(options.articles, rng)
    queries = make_queries(options.queries, rng)
    mistyped = with_typos(queries, random.Random(11))
    body_words = [len(a.body.split()) for a in articles]
    print(
        f"{len(articles):,} articles ({options.articles:,} per locale x {len(LOCALES)}), body words "
        f"{min(body_words)}-{max(body_words)} (mean {statistics.fmean(body_words):.0f}); {len(queries):,} queries, "
        f"{len(mistyped):,} of them also with typos"
    )

    start = time.perf_counter()
    index = FaqIndex(articles)
    build_seconds = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    traced = FaqIndex(articles)  # the same build again, traced: what one index holds (stem cache already warm)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    print(
        f"build: {build_seconds:.2f} s; index memory {retained / 2**20:.1f} MiB "
        f"(peak while building {peak / 2**20:.1f} MiB)"
    )

    def normalize_only(query: str, locale: str) -> list[str]:
        return analyze(query, language_of(locale))

    timed(index.search, queries[:500])  # warm-up: stem cache, branch caches
    baseline = describe("baseline (normalize the query only)", timed(normalize_only, queries))
    searched = timed(index.search, queries)
    search = describe("search (limit 10)", searched)
    # Typos last and on their own: each slip is looked up once here (the vocabulary remembers lookups, as it does
    # for agents repeating a slip), so the figures hold the edit-distance search itself.
    typo_queries = [(wrong, locale) for wrong, locale, _ in mistyped]
    typo = describe("search with one or two typos (limit 10)", timed(index.search, typo_queries))

    results = [index.search(query, locale) for query, locale in queries]
    answered = sum(1 for found in results if found.hits)
    good = sum(1 for found in results if found.good_match)
    fell_back = sum(
        1
        for (_, locale), found in zip(queries, results, strict=True)
        if language_of(locale) != "en" and any(hit.locale == "en" for hit in found.hits)
    )
    print(
        f"answered {answered:,} of {len(queries):,} queries ({good:,} with a good match, the rest the closest "
        f"three); {fell_back:,} in another locale fell back to English; search p50 is "
        f"{search[50] / baseline[50]:.1f}x the normalization baseline"
    )
    print(f"typos: {same_first_hit(index, mistyped):.1%} find the first result the query typed right finds")
    print(f"faq_search_p99_ms: {search[99]:.2f} (target <= 5)")
    print(f"faq_typo_p99_ms: {typo[99]:.2f} (target <= 10)")
    sys.stdout.flush()


def same_first_hit(index: FaqIndex, mistyped: list[tuple[str, str, str]]) -> float:
    """The share of typo queries whose first result is that of the query typed right (over those with one)."""
    same = judged = 0
    for wrong, locale, right in mistyped:
        expected = index.search(right, locale).hits
        if expected:
            judged += 1
            found = index.search(wrong, locale).hits
            same += bool(found) and found[0].slug == expected[0].slug
    return same / judged if judged else 0.0


if __name__ == "__main__":
    main()
