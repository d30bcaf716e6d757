"""Contact details in CV text: e-mail, phone, web links, social profiles and an obvious location."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from activities.documents.dates import find_dates

EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TLDS = (
    "com|org|net|io|dev|me|ai|co|app|de|fr|es|pt|pl|it|nl|ch|at|be|uk|eu|us|ca|info|tech|xyz|page|site|blog|"
    "cv|online|codes|website|studio|design|email|link|bio|sh|so|gg|in|br|mx|ar|cl|se|no|dk|fi|cz|ie"
)
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]|,\"']+"
    rf"|(?<![@\w.\-/])(?:[a-z0-9][a-z0-9\-]*\.)+(?:{_TLDS})(?![\w\-])(?:/[^\s<>()\[\]|,\"']*)?",
    re.I,
)
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d \t().\-/]{5,20}\d(?!\w)")
_CITY = r"[A-ZÀ-ÖØ-Þ][\w'’.\-]*(?: (?:[A-ZÀ-ÖØ-Þ][\w'’.\-]*|am|an|de|del|la|le|sur|upon|on|im|da|do|dos|das|di)){0,3}"
_COUNTRIES = (
    "USA|U\\.S\\.A\\.|United States|United Kingdom|England|Scotland|Wales|Ireland|Canada|Mexico|México|Brazil|Brasil|"
    "Argentina|Chile|Colombia|Peru|Perú|Germany|Deutschland|France|Spain|España|Portugal|Poland|Polska|Italy|Italia|"
    "Netherlands|The Netherlands|Nederland|Belgium|Belgique|België|Switzerland|Schweiz|Suisse|Austria|Österreich|"
    "Sweden|Sverige|Norway|Norge|Denmark|Danmark|Finland|Suomi|Czech Republic|Czechia|Slovakia|Hungary|Romania|"
    "Bulgaria|Greece|Turkey|Türkiye|Ukraine|Israel|India|China|Japan|Korea|South Korea|Singapore|Australia|"
    "New Zealand|South Africa|Nigeria|Kenya|Egypt|UAE|United Arab Emirates|Luxembourg|Estonia|Latvia|Lithuania|"
    "Croatia|Serbia|Slovenia|Vietnam|Thailand|Indonesia|Philippines|Malaysia|Pakistan|Bangladesh|Taiwan|Hong Kong"
)
LOCATION_RE = re.compile(
    rf"(?:Remote|Hybrid|Homeoffice|Télétravail|Remoto|Zdalnie)"
    rf"|{_CITY}(?:, ?(?:[A-Z]{{2}}|{_COUNTRIES}|{_CITY}, ?(?:[A-Z]{{2}}|{_COUNTRIES})))(?: \((?:Remote|Hybrid)\))?"
    rf"|(?:{_COUNTRIES})"
)
SEPARATORS_RE = re.compile(r"\s*(?:\||•|·|▪|◦|‣|⋅|∙|/\s|\s/|;|\s[–—-]\s)\s*|\s{2,}")

# Host fragment -> network name as users write it.
_NETWORKS: tuple[tuple[str, str], ...] = (
    ("linkedin.com", "LinkedIn"),
    ("github.com", "GitHub"),
    ("gitlab.com", "GitLab"),
    ("bitbucket.org", "Bitbucket"),
    ("twitter.com", "Twitter"),
    ("x.com", "X"),
    ("stackoverflow.com", "StackOverflow"),
    ("medium.com", "Medium"),
    ("behance.net", "Behance"),
    ("dribbble.com", "Dribbble"),
    ("kaggle.com", "Kaggle"),
    ("orcid.org", "ORCID"),
    ("xing.com", "Xing"),
    ("huggingface.co", "HuggingFace"),
    ("scholar.google", "Google Scholar"),
    ("youtube.com", "YouTube"),
    ("instagram.com", "Instagram"),
    ("facebook.com", "Facebook"),
)
_NAMED_PROFILE_RE = re.compile(
    r"\b(LinkedIn|GitHub|GitLab|Twitter|Xing|StackOverflow|Stack Overflow|Kaggle|Medium|Behance|Dribbble)\s*[:|]\s*"
    r"@?([\w.\-]{2,40})\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class FoundProfile:
    network: str | None
    username: str | None
    url: str | None


@dataclass(slots=True)
class Contacts:
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # not profiles: personal site, portfolio
    profiles: list[FoundProfile] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)  # text of contact lines that is none of the above

    def add_url(self, url: str) -> None:
        profile = profile_for(url)
        if profile is not None:
            if not any(_same_url(p.url, url) for p in self.profiles):
                self.profiles.append(profile)
        elif not any(_same_url(u, url) for u in self.urls):
            self.urls.append(url)


def _same_url(a: str | None, b: str) -> bool:
    return a is not None and _bare(a) == _bare(b)


def _bare(url: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).rstrip("/")


def profile_for(url: str) -> FoundProfile | None:
    bare = _bare(url)
    for host, network in _NETWORKS:
        if bare.startswith(host) or f".{host}" in bare.split("/", 1)[0]:
            path = [p for p in bare.split("/", 1)[1].split("/") if p] if "/" in bare else []
            if path and path[0] in ("in", "pub", "u", "user", "users", "company", "@"):
                path = path[1:]
            username = _original_case(url, path[0]) if path else None
            return FoundProfile(network, username.lstrip("@") if username else None, url)
    return None


def _original_case(url: str, lowered: str) -> str:
    index = url.lower().rfind(lowered)
    return url[index : index + len(lowered)] if index >= 0 else lowered


def find_phones(text: str) -> list[tuple[int, int]]:
    """Spans of phone numbers: 7 to 15 digits, not a date range, not a plain number."""
    spans: list[tuple[int, int]] = []
    for match in _PHONE_RE.finditer(text):
        candidate = match.group(0)
        digits = sum(ch.isdigit() for ch in candidate)
        if not 7 <= digits <= 15:
            continue
        plain = not re.search(r"[+()]", candidate)
        if plain and find_dates(candidate) is not None and re.search(r"(?:19|20)\d\d\D+(?:19|20)\d\d", candidate):
            continue
        if plain and re.fullmatch(r"[\d.,]+", candidate):
            continue
        spans.append((match.start(), match.end()))
    return spans


def is_location(text: str) -> bool:
    return bool(LOCATION_RE.fullmatch(text.strip())) and not any(ch.isdigit() for ch in text)


def scan_contact_line(line: str, into: Contacts) -> bool:
    """Take contact details out of `line` into `into`. True when the line held any; the rest of such a line
    (location, stray words) is kept as location or leftovers."""
    spans: list[tuple[int, int]] = []
    for match in EMAIL_RE.finditer(line):
        if match.group(0) not in into.emails:
            into.emails.append(match.group(0))
        spans.append(match.span())
    for match in URL_RE.finditer(line):
        if any(s <= match.start() < e for s, e in spans):
            continue
        url = match.group(0).rstrip(".,;:")
        if url.lower().startswith("mailto:"):
            continue
        into.add_url(url)
        spans.append((match.start(), match.start() + len(url)))
    for start, end in find_phones(line):
        if any(s <= start < e or start <= s < end for s, e in spans):
            continue
        phone = line[start:end].strip()
        if phone not in into.phones:
            into.phones.append(phone)
        spans.append((start, end))
    for match in _NAMED_PROFILE_RE.finditer(line):
        # Any overlap: "GitHub: github.com/jane" is the URL already taken, not a user named "github.com".
        if any(match.start() < e and s < match.end() for s, e in spans):
            continue
        network = match.group(1)
        if not any(p.network and p.network.lower() == network.lower() for p in into.profiles):
            into.profiles.append(FoundProfile(network, match.group(2), None))
        spans.append(match.span())
    if not spans:
        return False
    rest = re.sub(r"\(\s*\)|\[\s*\]|<\s*>", " ", _remove_spans(line, spans))
    usernames = {p.username.lower() for p in into.profiles if p.username}
    for piece in SEPARATORS_RE.split(rest):
        piece = piece.strip(" ,:;-–—|•·")
        if not piece:
            continue
        if is_location(piece):
            if piece not in into.locations:
                into.locations.append(piece)
            continue
        # Keep the piece whole (or drop it whole when it is only labels and user names): no new strings.
        if any(w.lower().strip(":.") not in usernames | _CONTACT_LABELS for w in piece.split()):
            into.leftovers.append(piece)
    return True


# Labels people put before contact details ("Email: ...", "Tel. ..."); they carry no information of their own.
_CONTACT_LABELS_TEXT = (
    "email e-mail mail phone tel telephone mobile mob cell web website site portfolio linkedin github "
    "telefon handy courriel téléphone correo teléfono telefone telemóvel celular adres strona"
)
_CONTACT_LABELS = frozenset(_CONTACT_LABELS_TEXT.split())


def _remove_spans(line: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    previous = 0
    for start, end in sorted(spans):
        if start < previous:
            continue
        out.append(line[previous:start])
        out.append("  ")  # what was between two contact details stays apart
        previous = end
    out.append(line[previous:])
    return "".join(out)
