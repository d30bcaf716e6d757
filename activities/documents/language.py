"""Which language a CV is written in: deterministic, no model, well under 5 ms for a long CV.

Scripts decide first: Hangul is Korean, Han with kana Japanese, Han alone Chinese, Greek Greek, Cyrillic Russian
or Ukrainian (by the letters only one of them has, and function words). A CV in those scripts keeps many Latin
words (tools, employers), so a script wins with a quarter of the text; a Han character counts half a word.
Latin text is scored by function words and frequent CV words, each worth 1 shared among the languages that
use it, plus a little for letters with diacritics; names and technical terms carry no weight.

The result is stored in the parsed CV's JSON Resume `meta` (tooling data in that schema), so every copy of the
CV, the improvement's snapshot included, says which language it was written in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.resume import Resume

# The key under the JSON Resume `meta` object: {"code": "de", "confidence": 0.93}; code is null when unsure.
META_KEY = "detectedLanguage"
LANGUAGES = ("en", "de", "fr", "es", "pt", "pl", "it", "nl", "zh", "ja", "ko", "ru", "uk", "el")

# A CV's first pages say all there is to say: longer texts are cut here to keep detection fast.
_SAMPLE_CHARS = 20_000
# Below this much evidence (about three function words) the text is not said to be in any language.
_MIN_EVIDENCE = 3.0
# Evidence at which the amount of text no longer limits the confidence.
_FULL_EVIDENCE = 12.0
# The share of the text a non-Latin script needs to be the CV's script.
_SCRIPT_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    code: str | None  # ISO 639-1; None when the text says too little
    confidence: float  # 0 to 1, two decimals


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LATIN_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """the and of to in for with on at by from as an a is was were are be been being that this these which
        who whose our my i we its over into across including using within while than also through after
        led managed developed built designed improved reduced increased implemented created delivered worked
        responsible years experience skills education university present"""
    ),
    "de": _words(
        """und der die das den dem des ein eine einer eines einem einen mit für von bei im in zur zum auf als aus
        über sowie nach durch ist sind war wurde werden ich wir unter bis vom am an oder auch nicht zu seit
        berufserfahrung ausbildung kenntnisse entwicklung verantwortlich leitung erfahrung studium sprachen
        unternehmen bereich jahre heute aufbau einführung betreuung durchführung kunden mitarbeiter"""
    ),
    "fr": _words(
        """le la les des du de et en un une pour avec dans sur par au aux est sont été qui que ce cette ses leur
        plus ou chez depuis d l qu à expérience formation compétences gestion développement équipe mise œuvre
        projets langues aujourd hui responsable entreprise réalisation suivi"""
    ),
    "es": _words(
        """el la lo los las del y de en a con para por un una que se su sus al como desde entre sobre más años
        experiencia gestión desarrollo equipo empresa responsable formación idiomas conocimientos hasta
        actualidad también proyectos clientes diseño"""
    ),
    "pt": _words(
        """o os a as do da dos das de em no na nos nas e ou com para por um uma que ao à pela pelo mais como
        experiência gestão desenvolvimento equipe equipa empresa formação idiomas conhecimentos atual
        responsável não são projetos clientes atualmente"""
    ),
    "it": _words(
        """il lo la i gli le di da a del della dei delle e ed in con per un una che è al alla nel nella come sono
        anche esperienza sviluppo gestione azienda formazione competenze lingue presso attuale più dal dalla
        degli sul sulla l d progetti clienti"""
    ),
    "nl": _words(
        """de het een en van in op met voor bij naar als aan door is zijn werd om te tot ook ik wij over uit
        werkervaring opleiding vaardigheden ontwikkeling verantwoordelijk bedrijf heden talen kennis beheer
        klanten onderwijs projecten"""
    ),
    "pl": _words(
        """i w z na do się od dla o oraz jest to że po przez jako we ze za przy nie pracy doświadczenie
        wykształcenie umiejętności zespołu zespół projektów firmy obecnie języki rozwój zarządzanie
        odpowiedzialny odpowiedzialna studia klientów"""
    ),
}

# Letters with diacritics and the languages that write them; worth a little, since names carry them too.
_LATIN_LETTERS: dict[str, tuple[str, ...]] = {
    "ä": ("de",),
    "ö": ("de",),
    "ü": ("de",),
    "ß": ("de",),
    "é": ("fr", "pt", "it", "es"),
    "è": ("fr", "it"),
    "ê": ("fr", "pt"),
    "â": ("fr", "pt"),
    "î": ("fr",),
    "ô": ("fr", "pt"),
    "û": ("fr",),
    "ù": ("fr", "it"),
    "ç": ("fr", "pt"),
    "œ": ("fr",),
    "à": ("fr", "it", "pt"),
    "ì": ("it",),
    "ò": ("it",),
    "ñ": ("es",),
    "á": ("es", "pt"),
    "í": ("es", "pt"),
    "ó": ("es", "pt", "pl"),
    "ú": ("es", "pt"),
    "ã": ("pt",),
    "õ": ("pt",),
    "ą": ("pl",),
    "ć": ("pl",),
    "ę": ("pl",),
    "ł": ("pl",),
    "ń": ("pl",),
    "ś": ("pl",),
    "ź": ("pl",),
    "ż": ("pl",),
}
_LETTER_WEIGHT = 0.25

_CYRILLIC_WORDS: dict[str, frozenset[str]] = {
    "uk": _words(
        """та і й що які це в у з із від для до на по за як при роботи досвід освіта навички розробка команди
        проєктів проектів компанії теперішній дотепер мови"""
    ),
    "ru": _words(
        """и что которые это в с со от для до на по за как при из не работы опыт образование навыки разработка
        команды проектов компании настоящее время языки"""
    ),
}
_CYRILLIC_LETTERS: dict[str, str] = {
    "і": "uk",
    "ї": "uk",
    "є": "uk",
    "ґ": "uk",
    "ы": "ru",
    "э": "ru",
    "ъ": "ru",
    "ё": "ru",
}


def _shares(table: Mapping[str, frozenset[str]]) -> dict[str, tuple[tuple[str, float], ...]]:
    """word -> ((language, weight), ...): a word several languages use is worth 1 shared among them."""
    owners: dict[str, list[str]] = {}
    for language, words in table.items():
        for word in words:
            owners.setdefault(word, []).append(language)
    return {word: tuple((language, 1 / len(langs)) for language in langs) for word, langs in owners.items()}


_LATIN_SHARES = _shares(_LATIN_WORDS)
_CYRILLIC_SHARES = _shares(_CYRILLIC_WORDS)

# E-mail addresses, links and dotted names ("example.com", "Node.js") are not words of any language.
_NOISE = re.compile(r"(?<!\S)(?=[^\s@/.]*(?:@|://|\.\w))\S+")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+")
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")
_GREEK_WORD = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]+")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_MARKED_LATIN = re.compile("[" + "".join(_LATIN_LETTERS) + "]")
_MARKED_CYRILLIC = re.compile("[" + "".join(_CYRILLIC_LETTERS) + "]")


def _best(scores: Mapping[str, float]) -> tuple[str, float, float]:
    """The winning language (ties go to the order of LANGUAGES), its score, and its share of its own and the
    runner-up's scores: the odds against the one alternative that matters (0.5 is a tie)."""
    ranked = sorted(scores, key=lambda c: (-scores[c], LANGUAGES.index(c)))
    first, second = scores[ranked[0]], scores[ranked[1]]
    return ranked[0], first, first / (first + second) if first else 0.0


def _score_latin(words: list[str], text: str) -> dict[str, float]:
    scores = dict.fromkeys(_LATIN_WORDS, 0.0)
    for word in words:
        for language, weight in _LATIN_SHARES.get(word, ()):
            scores[language] += weight
    for letter, count in Counter(_MARKED_LATIN.findall(text)).items():
        languages = _LATIN_LETTERS[letter]
        for language in languages:
            scores[language] += _LETTER_WEIGHT * count / len(languages)
    return scores


def _score_cyrillic(words: list[str], text: str) -> dict[str, float]:
    scores = dict.fromkeys(_CYRILLIC_WORDS, 0.0)
    for word in words:
        for language, weight in _CYRILLIC_SHARES.get(word, ()):
            scores[language] += weight
    for letter in _MARKED_CYRILLIC.findall(text):
        scores[_CYRILLIC_LETTERS[letter]] += _LETTER_WEIGHT
    return scores


def _result(code: str | None, confidence: float) -> DetectedLanguage:
    return DetectedLanguage(code, round(min(max(confidence, 0.0), 1.0), 2) if code else 0.0)


def detect_language(text: str) -> DetectedLanguage:
    """The language a CV's text is written in, with a confidence; code None when there is too little text."""
    sample = _NOISE.sub(" ", text[:_SAMPLE_CHARS]).lower()
    latin = _LATIN_WORD.findall(sample)
    cyrillic = _CYRILLIC_WORD.findall(sample)
    greek = len(_GREEK_WORD.findall(sample))
    hangul = len(_HANGUL_WORD.findall(sample))
    han, kana = len(_HAN.findall(sample)), len(_KANA.findall(sample))
    units = {"latin": float(len(latin)), "cyrillic": float(len(cyrillic)), "greek": float(greek)}
    units |= {"hangul": float(hangul), "cjk": (han + kana) / 2}
    total = sum(units.values())
    if total == 0:
        return _result(None, 0.0)
    script = max(("cjk", "hangul", "cyrillic", "greek"), key=lambda s: units[s])
    share = units[script] / total
    if share >= _SCRIPT_SHARE and units[script] >= _MIN_EVIDENCE / 2:
        # A script this present is the CV's; the rest are names and tools written in Latin letters.
        certainty = min(1.0, share / 0.5) * min(1.0, units[script] / _FULL_EVIDENCE)
        if script == "hangul":
            return _result("ko", certainty)
        if script == "greek":
            return _result("el", certainty)
        if script == "cjk":
            kana_ratio = kana / (han + kana)
            # Japanese always writes some kana (particles, endings); Chinese none, bar a quoted name.
            if kana_ratio >= 0.05:
                return _result("ja", certainty * min(1.0, kana_ratio / 0.15))
            return _result("zh", certainty * (1 - kana_ratio / 0.05))
        code, _, within = _best(_score_cyrillic(cyrillic, sample))
        return _result(code, certainty * (within if within else 0.5))
    code, evidence, within = _best(_score_latin(latin, sample))
    if evidence < _MIN_EVIDENCE:
        return _result(None, 0.0)
    latin_share = units["latin"] / total
    return _result(code, within * min(1.0, evidence / _FULL_EVIDENCE) * min(1.0, latin_share / 0.5))


# --- stored with the parsed CV ----------------------------------------------------------------------------


def with_detected_language(resume: dict[str, Any], text: str) -> dict[str, Any]:
    """A parsed CV (JSON) with `meta.detectedLanguage` set from its text; one that has it is returned as is."""
    meta = resume.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get(META_KEY), dict):
        return resume
    detected = detect_language(text)
    stored = {"code": detected.code, "confidence": detected.confidence}
    return {**resume, "meta": {**(meta if isinstance(meta, dict) else {}), META_KEY: stored}}


def stored_language(resume: Mapping[str, Any] | Resume | None) -> str | None:
    """The detected language a parsed CV (JSON or Resume) carries, if any."""
    data = (resume.model_extra or {}) if isinstance(resume, Resume) else (resume or {})
    meta = data.get("meta")
    found = meta.get(META_KEY) if isinstance(meta, dict) else None
    code = found.get("code") if isinstance(found, dict) else None
    return code if isinstance(code, str) and code in LANGUAGES else None


def stored_confidence(resume: Mapping[str, Any] | None) -> float | None:
    meta = (resume or {}).get("meta")
    found = meta.get(META_KEY) if isinstance(meta, dict) else None
    value = found.get("confidence") if isinstance(found, dict) and found.get("code") else None
    return float(value) if isinstance(value, int | float) else None
