"""Malay stemming (gateway.domain.malay_stemmer): the forms of one word, as the shipped Malay articles write them,
come out as one term; words that only look affixed stay whole; different words stay apart; and the search finds an
article written in one form from a question in another."""

from __future__ import annotations

import re

import pytest

from gateway.domain.faq_search import Article, FaqIndex, analyze
from gateway.domain.malay_stemmer import MONOSYLLABIC_ROOTS, ROOTS, stem, syllables
from gateway.services.faq import read_article_folder

# Word families as gateway/faq/articles/ms/ writes them (plus a form or two an agent would type), by the affix rule
# each one needs.
FAMILIES = {
    # ke- stays before -kan (standard Malay has no ke-…-kan); meng- before e gives back k
    "kekal": "kekal kekalkan dikekalkan mengekalkan pengekalan kekekalan",
    "kena": "kenakan dikenakan mengenakan",
    "kendali": "kendali pengendali dikendalikan kendalikan",
    "kenal": "dikenali mengenali",
    # meng- before a, i, u, o: a vowel root
    "aktif": "aktif diaktifkan mengaktifkan mengaktifkannya pengaktifan",
    "ikut": "mengikut berikut",
    "ubah": "berubah perubahan",
    # men-/pen- before a vowel give back t
    "tonton": "tonton ditonton menonton tontonan",
    "terima": "terima diterima menerima menerimanya penerimaan",
    "terus": "terus diteruskan meneruskan berterusan",
    "tetap": "tetap ditetapkan menetapkan tetapan",
    "tambah": "tambah ditambah menambah menambahnya tambahan",
    "tamat": "tamat ditamatkan menamatkan",
    "tipu": "penipuan",
    "terang": "terang terangkan penerangan",
    # mem-/pem- before a vowel give back p; before b they go
    "paut": "pautan dipautkan memautkan memautkannya",
    "padam": "dipadamkan pemadaman",
    "pulih": "pulih dipulihkan pemulihan",
    "perlu": "perlu perlukan memerlukan",
    "batal": "batalkan dibatalkan membatalkan membatalkannya pembatalan",
    "beritahu": "diberitahu memberitahu pemberitahuan",
    # meny-/peny- give back s
    "simpan": "disimpan menyimpan penyimpanan",
    "selesai": "selesai selesaikan diselesaikan menyelesaikan penyelesaiannya",
    "serta": "serta sertakan menyertai penyertaan",
    "semak": "semak menyemak",
    "senarai": "senarai tersenarai menyenaraikannya",
    # menge-/penge- and di- before a one-syllable root
    "sah": "sah sahkan disahkan mengesahkan pengesahan",
    "bil": "bil dibilkan mengebil mengebilnya pengebilan",
    "caj": "caj dicaj",
    # ke-…-an, per-…-an, ber-
    "ahli": "ahli keahlian",
    "tukar": "tukar bertukar menukar pertukaran",
    "kongsi": "kongsi berkongsi dikongsi perkongsian",
    "tanya": "tanya ditanya bertanya pertanyaan",
    "minta": "minta diminta meminta permintaan",
    "mula": "bermula permulaan",
    "tikai": "pertikaian mempertikaikan",
    "gantung": "digantung bergantung penggantungan",
    "jalan": "jalan berjalan perjalanan dijalankan",
    # -i comes off an imperative after a consonant, never after s or a vowel
    "hubung": "hubungi menghubungi hubungan",
    "sendiri": "sendiri bersendirian",
    # roots a rule alone would misread (ROOTS): m-, k- and ny-roots after meN-
    "masuk": "masuk masukkan memasukkan termasuk",
    "kata": "kata mengatakan",
    "nyata": "menyatakan menyatakannya",
    "milik": "milik pemilik",
}


@pytest.mark.parametrize(("root", "forms"), FAMILIES.items())
def test_the_forms_of_a_word_in_the_articles_share_its_root(root, forms):
    assert {form: stem(form) for form in forms.split()} == dict.fromkeys(forms.split(), root)


# Words that start or end like an affix but are roots (or a root and a particle the rules must not take).
WHOLE = (
    "pelan jalan rakan bulan kesan penting percuma perlu peranti pertama perkara kerana kembali memang member "
    "masalah sekolah langkah tanya hanya punya kongsi mesej kecil kerap ketika ejen akaun lalai selesai mulai "
    "privasi aplikasi cari hari"
)


@pytest.mark.parametrize("word", WHOLE.split())
def test_words_that_only_look_affixed_stay_whole(word):
    assert stem(word) == word


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("berulang", "memulangkan"),  # ulang (repeat) and pulang (return): mem- gives back p, ber- nothing
        ("pelan", "pelanggan"),  # plan, customer
        ("mengambil", "mengira"),  # ambil, kira (ROOTS)
        ("menonton", "menanti"),  # tonton, nanti (ROOTS)
        ("memakai", "memasuki"),  # pakai, masuk (ROOTS)
    ],
)
def test_different_words_stay_apart(one, other):
    assert stem(one) != stem(other)


def test_particles_and_the_possessive_come_off():
    assert stem("membatalkannya") == stem("batalkan") == "batal"
    assert stem("bolehkah") == "boleh"
    assert stem("sekalipun") == "sekali"
    assert stem("eloklah") == "elok"
    assert stem("lamakah") == "lama"
    assert stem("akaunnya") == "akaun"


def test_what_is_not_a_malay_word_comes_back_unchanged():
    for word in ("2026", "e", "mel", "x", "café", "ñandú", "12abc", ""):
        assert stem(word) == word


def test_syllables_count_vowels_and_a_closing_diphthong_once():
    assert [syllables(word) for word in ("ahli", "paut", "selesai", "pantau", "kes", "keahlian")] == [2, 2, 3, 2, 1, 4]


def test_every_listed_root_is_its_own_stem():
    assert [root for root in sorted(ROOTS | MONOSYLLABIC_ROOTS) if stem(root) != root] == []


def _words_of_the_malay_articles() -> list[str]:
    words: set[str] = set()
    for found in read_article_folder():
        if found.locale.startswith("ms"):
            text = f"{found.content.title} {' '.join(found.content.tags)} {found.content.body}"
            words.update(re.findall(r"[^\W_]+", text.casefold()))
    return sorted(words)


def test_stemming_a_stem_of_the_articles_changes_nothing():
    # an agent who types the root finds the derived forms the articles use
    words = _words_of_the_malay_articles()
    assert len(words) > 300
    assert [(word, stem(word), stem(stem(word))) for word in words if stem(stem(word)) != stem(word)] == []


def test_a_question_in_one_form_finds_the_article_written_in_another():
    keep = Article(
        "keep",
        "ms",
        "Bagaimanakah pelanggan mengekalkan keahlian selepas amaran?",
        (),
        "Pelanggan perlu mengesahkan sebelum tarikh akhir. Pengebilan kekal sama.",
    )
    billing = Article(
        "billing",
        "ms",
        "Mengapakah pelanggan dicaj dua kali?",
        (),
        "Kekalkan caj yang betul dan pulangkan bayaran yang lebih.",
    )
    watch = Article("watch", "ms", "Akses selepas pembatalan", (), "Pelanggan boleh menonton hingga akhir tempoh.")
    index = FaqIndex([keep, billing, watch])
    assert index.search("kekalkan keahlian", "ms").hits[0].slug == "keep"
    assert [hit.slug for hit in index.search("ditonton", "ms").hits] == ["watch"]
    assert [hit.slug for hit in index.search("sahkan", "ms").hits] == ["keep"]
    assert analyze("Pengesahan disahkan", "ms") == ["sah", "sah"]
