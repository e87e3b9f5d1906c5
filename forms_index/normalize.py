"""One normalisation for index time and query time.

``normalize()`` turns what a citizen types and what the catalogue says into one
comparable form:

* Unicode NFKC, which folds full-width Latin letters, digits and punctuation
  (``ＩＲ５６Ｂ`` → ``IR56B``, ``，`` → ``,``);
* OpenCC Simplified → Traditional (Hong Kong variant), so ``护照`` and ``護照`` meet;
* case folding and whitespace collapsing;
* form-number canonicalisation: a known form prefix followed by its number, with or
  without spaces or hyphens (``ir 56b``, ``IR-56B``, ``ＩＲ５６Ｂ``), becomes ``IR56B``.

Form prefixes are letters that start official form numbers (``IR``, ``BIR``, ``TD``,
``FEHB``…). A built-in set covers the shipped catalogue; an index adds the prefixes of
its own catalogue and records them in its metadata, so a query is normalised exactly
like the entries it is compared with.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import opencc

#: Prefixes of the official form numbers in the shipped catalogue (lower case).
BUILTIN_FORM_PREFIXES: frozenset[str] = frozenset(
    """
    ba bir birs birsp ca cccai ced cr cre d dca edb epd fehb form fs gf hd hkcad hyd id ide
    ir irbr irsd lcs ld le md mpfs mr mw n nar nd ndr nn nnc nr nrc nsc ofca op p pol pos r
    reo rop s sc sf sfo smf swd t td tid tsf tsfs ve wfa wr wwo esls
    """.split()
)

_OPENCC_S2HK = opencc.OpenCC("s2hk")
_OPENCC_T2S = opencc.OpenCC("t2s")

_WS = re.compile(r"\s+")
# A prefix (letters), an optional "(x)" qualifier as in "ID(E) 991", an optional
# separator, the digits, and an optional one- or two-letter suffix ("56B", "56 m").
_FORM_NO = re.compile(
    r"(?<![a-z0-9])"
    r"(?P<prefix>[a-z]{1,6})(?:\((?P<qual>[a-z])\))?"
    r"(?P<sep>[ \-.]?)"
    r"(?P<digits>\d{1,5})"
    r"(?:(?P<suffix>[a-z]{1,2})|[ \-](?P<loose>[a-z]))?"
    r"(?![a-z0-9])"
)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class Normalizer:
    """Normalises text; knows which letter groups start form numbers."""

    def __init__(self, form_prefixes: Iterable[str] = ()) -> None:
        self.form_prefixes: frozenset[str] = BUILTIN_FORM_PREFIXES | {
            p.lower() for p in form_prefixes
        }

    def __call__(self, text: str) -> str:
        return self.normalize(text)

    def normalize(self, text: str) -> str:
        """Return the canonical form of ``text`` (see the module docstring)."""
        text = unicodedata.normalize("NFKC", text)
        text = _strip_controls(text)
        if _HAN.search(text):
            text = to_traditional(text)
        text = _WS.sub(" ", text.casefold()).strip()
        return _FORM_NO.sub(self._canonical_number, text)

    def _canonical_number(self, m: re.Match[str]) -> str:
        prefix = m.group("prefix")
        qual = m.group("qual") or ""
        if prefix not in self.form_prefixes and prefix + qual not in self.form_prefixes:
            return m.group(0)
        # A one-letter prefix ("t2", "d1") only counts when written together.
        if len(prefix) == 1 and (m.group("sep") or qual):
            return m.group(0)
        suffix = m.group("suffix") or m.group("loose") or ""
        return (prefix + qual + m.group("digits") + suffix).upper()


def _strip_controls(text: str) -> str:
    return "".join(
        " " if ch in "\t\n\r\f\v" else ch
        for ch in text
        if ch in "\t\n\r\f\v" or unicodedata.category(ch)[0] != "C"
    )


def to_traditional(text: str) -> str:
    """OpenCC Simplified → Traditional (Hong Kong)."""
    return _OPENCC_S2HK.convert(text)


def to_simplified(text: str) -> str:
    """OpenCC Traditional → Simplified."""
    return _OPENCC_T2S.convert(text)


_DEFAULT = Normalizer()


def normalize(text: str) -> str:
    """Normalise with the built-in form prefixes (see :class:`Normalizer`)."""
    return _DEFAULT.normalize(text)


def canonical_form_numbers(form_no: str) -> list[str]:
    """Every canonical key under which an entry's printed form number can be asked for.

    ``"ID 841 / ID 842"`` → ``["ID841", "ID842"]``; ``"ID(E) 991"`` → ``["IDE991",
    "ID991"]``; ``"EDB75 (Form 6)"`` → ``["EDB75", "FORM6"]``; ``"BIRSP1–BIRSP5"`` →
    ``["BIRSP1", …, "BIRSP5"]``. Keys are upper-case letters and digits only.
    """
    text = unicodedata.normalize("NFKC", form_no).strip()
    if not text:
        return []
    # A long parenthetical holding a number is another name ("EDB75 (Form 6)"); a short
    # one is part of the number ("ID(E) 991", "SFO 107B(1)").
    alternatives = re.findall(r"\(([^()]*\d[^()]*)\)", text)
    main = re.sub(
        r"\(([^()]*\d[^()]*)\)", lambda m: m.group(0) if len(m.group(1)) <= 2 else " ", text
    )
    keys: list[str] = []
    for part in re.split(r"\s+(?:/|&|or)\s+|\s*[,;]\s*", main) + [
        a for a in alternatives if len(a) > 2
    ]:
        part = part.strip()
        if not part or not re.search(r"\d", part):
            continue
        rng = re.fullmatch(r"([A-Za-z]+)(\d+)\s*[–-]\s*(?:[A-Za-z]+)?(\d+)", part)
        if rng and int(rng.group(3)) - int(rng.group(2)) <= 50:
            prefix = rng.group(1).upper()
            keys += [f"{prefix}{n}" for n in range(int(rng.group(2)), int(rng.group(3)) + 1)]
            continue
        compact = _compact(part)
        keys.append(compact)
        # "ID(E) 991" is also asked for as "ID 991"; "SFO 107B(1)" as "SFO 107B".
        without_qual = _compact(re.sub(r"\([A-Za-z0-9]\)", "", part))
        if without_qual != compact:
            keys.append(without_qual)
    # A bare "Form 1" is kept: the entry is found by it, ranked by the rest of the query.
    return list(dict.fromkeys(k for k in keys if k and not k.isdigit()))


def _compact(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text).upper()


def form_prefixes_of(form_numbers: Iterable[str]) -> set[str]:
    """The letter groups that start the given canonical form numbers (lower case)."""
    out: set[str] = set()
    for key in form_numbers:
        m = re.match(r"[A-Z]+", key)
        if m:
            out.add(m.group(0).lower())
    return out


def has_han(text: str) -> bool:
    """True when ``text`` contains a Chinese character."""
    return _HAN.search(text) is not None


def detect_script(text: str) -> str:
    """``"hans"`` (Simplified), ``"hant"`` (Traditional) or ``"latin"`` (no Chinese).

    Text whose characters are the same in both scripts counts as Traditional, the
    default for Hong Kong.
    """
    han = "".join(_HAN.findall(text))
    if not han:
        return "latin"
    to_hant = to_traditional(han)
    if to_hant == han:
        return "hant"
    # Simplified when converting to Simplified changes nothing but converting to
    # Traditional does.
    return "hans" if to_simplified(han) == han or _differs_more(han, to_hant) else "hant"


def _differs_more(han: str, to_hant: str) -> bool:
    changed_by_s2t = sum(a != b for a, b in zip(han, to_hant, strict=False))
    changed_by_t2s = sum(a != b for a, b in zip(han, to_simplified(han), strict=False))
    return changed_by_s2t > changed_by_t2s
