"""Malay stemming for the FAQ search: the affixes of a word taken off and its root restored, so that the forms of
one word are one index term ("kekal", "kekalkan", "dikekalkan", "mengekalkan" -> "kekal").

Snowball has no Malay, and its Indonesian rules, which served before, keep a word family apart where Malay needs
it together: they delete meN-/peN- without giving back the root's first letter that the prefix swallowed
("menonton" -> "onton" but "ditonton" -> "tonton"; "mengekalkan" -> "ekal" but "dikekalkan" -> "kekal"), and they
take ke- off before -kan, a pair standard Malay never forms ("kekalkan" -> "kalkan").

The rules, in order:

1. A particle (-lah, -kah, -pun) and the possessive -nya come off, unless the root itself ends that way
   ("masalah", "tanya"). -ku and -mu stay: the articles and agents write "anda", and many roots end in -ku/-mu
   ("laku", "waktu", "ilmu").
2. A prefix comes off with the suffix it combines with. Malay allows only some pairs: ke-...-an, peN-...-an,
   per-...-an/-kan/-i, ber-...-an, and meN-, di-, ter-, memper-, diper- with -kan or -i; one prefix may sit inside
   ke- ("keberkesanan"). A word with no prefix loses -kan, -an, or -i after most consonants ("hubungi").
3. meN- and peN- swallow the first consonant of a root that starts with k, t, p or s, and the rules give it back:
   meng- before a vowel was k (before e, "mengekalkan") or nothing (before a, i, u, o: "mengambil"), men- before
   a vowel was t ("menonton"), mem- was p ("memantau"), meny- was s ("menyimpan"). Which letter it was cannot
   always be told from the word ("mengira" is "kira" but "mengikut" is "ikut"), so the commoner reading is taken
   and ROOTS lists the roots that read otherwise. menge-/penge- join the one-syllable roots ("mengebil" -> "bil").

A root keeps two syllables, or is one of the listed one-syllable roots, so a short word that merely starts or ends
like an affix stays whole ("pelan", "jalan", "rakan"). Light by design: there is no dictionary of every root, so a
rare word can still come out wrong; what the search needs is that the forms of one word come out the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Roots of one syllable, mostly loan words: Malay puts menge-/penge- before them ("mengesahkan", "pengebilan") and
# they are roots although short ("dicaj" is di- + "caj").
MONOSYLLABIC_ROOTS = _words("bil bom caj cas cat cek faks kod lap pam pos sah sek skrin strim")

# Roots the rules alone would read wrong. Each line says why.
ROOTS = _words(
    # k-roots after meng-/peng- + a, i, u, o (the rule reads those as vowel roots: "mengambil" is "ambil")
    "kata kira kawal kurang kumpul kunci kutip kaji kait kosong kuat kongsi "
    # vowel roots after meng-/peng- + e (the rule reads those as k-roots: "mengekalkan" is "kekal")
    "elak edar eja ejek edit eksport "
    # m-roots after me- that look like mem- + a vowel (the rule gives back p: "memantau" is "pantau")
    "masuk minta mula maklum makan minum milik main mohon muat mudah menang mati malu marah "
    # n-roots after me- that look like men- + a vowel (the rule gives back t: "menonton" is "tonton")
    "nilai nanti nikmat naik nasihat nama "
    # ny-roots after me- that look like meny- + a vowel (the rule gives back s: "menyimpan" is "simpan")
    "nyata nyanyi "
    # r-roots after ber-/ter-, which drop one r ("berasa" is ber- + "rasa")
    "rasa rehat rendah rancang rosak "
    # roots ending in a that take -i (the rule keeps -ai as the root's own ending: "selesai", "senarai")
    "serta kuasa ketua punya "
    # roots ending in -i after a consonant (the rule takes -i off a word with no prefix: "hubungi" is "hubung")
    "bahagi strategi teknologi "
    # roots that begin or end like an affix
    "terima terang terus peranti peribadi berita beritahu kemudian sebahagian digital"
)

_VOWEL_RUN = re.compile(r"[aeiou]+")
_DIPHTHONG_ENDINGS = ("ai", "au", "oi")

# Roots that end like a particle or -nya: the ending is part of the word ("sekolah", "selangkah", "ditanya").
_ROOT_ENDINGS = ("salah", "kalah", "olah", "belah", "langkah", "ampun", "impun", "tanya", "punya")

# prefix -> the suffixes it combines with ("" for none), in the order tried. Longer prefixes first.
_AFFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("memper", ("kan", "i", "")),
    ("diper", ("kan", "i", "")),
    ("menge", ("kan", "i", "")),
    ("penge", ("an", "")),
    ("meng", ("kan", "i", "")),
    ("peng", ("an", "")),
    ("meny", ("kan", "i", "")),
    ("peny", ("an", "")),
    ("ber", ("an", "")),
    ("ter", ("kan", "i", "")),
    ("per", ("kan", "an", "i")),
    ("men", ("kan", "i", "")),
    ("pen", ("an", "")),
    ("mem", ("kan", "i", "")),
    ("pem", ("an", "")),
    ("di", ("kan", "i", "")),
    ("ke", ("an",)),
    ("me", ("kan", "i", "")),
    ("pe", ("an", "")),
    ("", ("kan", "an", "i", "")),
)
_INNER_PREFIXES = {"ke": ("ber", "ter")}  # keberkesanan, ketersediaan

_VOWELS = frozenset("aeiou")

# Two consonants a Malay root can begin with: digraphs for one sound, and clusters of loan words ("produk",
# "strim", "skrin"). Any other pair is a prefix misread ("kendalikan" is not ke- + "ndalik" + -an).
_TWO_CONSONANT_ONSETS = _words("kh ng ny sy gh bl br dr fl fr gl gr kl kr pl pr tr sk sl sm sn sp st sw")


def stem(word: str) -> str:
    """The root of one lower-case Malay word; anything else (digits, other letters) comes back unchanged."""
    if not word.isascii() or not word.isalpha() or syllables(word) < 2 or word in ROOTS:
        return word
    word = _without_particle(word)
    word = _without_possessive(word)
    if word in ROOTS:
        return word
    readings = list(_readings(word))
    for candidates in readings:  # a listed root wins, whichever reading gives it
        for root in candidates:
            if root in ROOTS:
                return root
    for candidates in readings:  # else the first reading's commonest root
        if candidates:
            return candidates[0]
    return word


def syllables(word: str) -> int:
    """Vowels, less one for a closing diphthong: "ahli" 2, "paut" 2 (pa-ut), "selesai" 3, "pantau" 2."""
    count = sum(len(run) for run in _VOWEL_RUN.findall(word))
    return count - 1 if word.endswith(_DIPHTHONG_ENDINGS) else count


def _is_root(root: str) -> bool:
    if root[0] not in _VOWELS and root[1] not in _VOWELS and root[:2] not in _TWO_CONSONANT_ONSETS:
        return False
    return syllables(root) >= 2 or root in MONOSYLLABIC_ROOTS


def _without_particle(word: str) -> str:
    for particle in ("lah", "kah", "pun"):
        if word.endswith(particle) and not word.endswith(_ROOT_ENDINGS):
            rest = word[: -len(particle)]
            return rest if syllables(rest) >= 2 else word
    return word


def _without_possessive(word: str) -> str:
    if word.endswith("nya") and not word.endswith(_ROOT_ENDINGS):
        rest = word[:-3]
        if syllables(rest) >= 2:
            return rest
    return word


def _readings(word: str) -> Iterator[list[str]]:
    """Each way to read the word as prefix + root + suffix that Malay allows, best first, as the possible roots."""
    for prefix, suffixes in _AFFIXES:
        if not word.startswith(prefix):
            continue
        if word.endswith("ai"):  # -ai ends many roots ("selesai"): read as -a + -i only after the whole word
            suffixes = tuple(sorted(suffixes, key=lambda suffix: suffix == "i"))
        for suffix in suffixes:
            if not word.endswith(suffix) or (suffix == "i" and not _takes_i(word, prefix)):
                continue
            inner = word[len(prefix) : len(word) - len(suffix)]
            if len(inner) < 2 or inner == word:
                continue
            roots = [root for root in _restored(prefix, inner) if _is_root(root)]
            for outer in _INNER_PREFIXES.get(prefix, ()):
                roots = [_without_inner(outer, root) for root in roots]
            if roots:
                yield roots


def _takes_i(word: str, prefix: str) -> bool:
    # -i does not follow s ("kongsi", "fungsi" are roots) nor another i ("dicari" is "cari"). On a word with no
    # prefix (an imperative, "hubungi") it follows a consonant, though not l or r, which end many roots
    # ("kembali", "sekali", "kendali", "sendiri"), while -ai, -ui, -oi end roots ("selesai", "mulai").
    before = word[-2]
    if before in "si":
        return False
    return bool(prefix) or (before not in _VOWELS and before not in "lr")


def _without_inner(prefix: str, root: str) -> str:
    """A second prefix inside ke-...-an ("keberkesanan" -> "berkesan" -> "kesan")."""
    if root in ROOTS or not root.startswith(prefix):
        return root
    rest = root[len(prefix) :]
    for candidate in _restored(prefix, rest):
        if _is_root(candidate):
            return candidate
    return root


def _restored(prefix: str, rest: str) -> list[str]:
    """The roots `prefix` + `rest` can come from, the commoner first; none where Malay does not write it so."""
    first = rest[0]
    vowel = first in _VOWELS
    if prefix in ("meng", "peng"):
        if not vowel:
            return [rest]  # before g, h, kh the root keeps its letter ("menghantar")
        return ["k" + rest, rest] if first == "e" else [rest, "k" + rest]
    if prefix in ("menge", "penge"):
        return [rest] if rest in MONOSYLLABIC_ROOTS else []
    if prefix in ("meny", "peny"):
        return ["s" + rest, "ny" + rest] if vowel else []
    if prefix in ("men", "pen"):
        if vowel:
            return ["t" + rest, "n" + rest]
        return [rest] if first in "cdjstz" else []  # "menjawab", "penstriman"
    if prefix in ("mem", "pem"):
        if vowel:
            return ["p" + rest, "m" + rest]
        return [rest] if first in "bfpv" else []  # "membatalkan", "memproses"
    if prefix in ("me", "pe"):
        # before l, m, n, r, w, y (and ng, ny) the root keeps its letter; r only before a vowel, for per- is read
        # with its suffix and "percuma", "perlu" are roots
        if first in "lmnwy" or (first == "r" and len(rest) > 1 and rest[1] in _VOWELS):
            return [rest]
        return []
    if prefix in ("ber", "ter"):
        return [rest, "r" + rest] if vowel else [rest]
    return [rest]  # di-, ke-, per-, memper-, diper-, none
