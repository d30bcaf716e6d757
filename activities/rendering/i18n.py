"""Words the themes print around the CV's own text, in every output language, and date formatting."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Labels:
    """Section headings and the few other words a theme prints."""

    summary: str
    experience: str
    education: str
    skills: str
    projects: str
    languages: str
    certificates: str
    awards: str
    publications: str
    volunteering: str
    interests: str
    references: str
    present: str
    courses: str


LABELS: dict[str, Labels] = {
    "en": Labels(
        summary="Summary",
        experience="Experience",
        education="Education",
        skills="Skills",
        projects="Projects",
        languages="Languages",
        certificates="Certificates",
        awards="Awards",
        publications="Publications",
        volunteering="Volunteering",
        interests="Interests",
        references="References",
        present="Present",
        courses="Courses",
    ),
    "de": Labels(
        summary="Profil",
        experience="Berufserfahrung",
        education="Ausbildung",
        skills="Kenntnisse",
        projects="Projekte",
        languages="Sprachen",
        certificates="Zertifikate",
        awards="Auszeichnungen",
        publications="Veröffentlichungen",
        volunteering="Ehrenamt",
        interests="Interessen",
        references="Referenzen",
        present="heute",
        courses="Kurse",
    ),
    "fr": Labels(
        summary="Profil",
        experience="Expérience professionnelle",
        education="Formation",
        skills="Compétences",
        projects="Projets",
        languages="Langues",
        certificates="Certifications",
        awards="Distinctions",
        publications="Publications",
        volunteering="Bénévolat",
        interests="Centres d’intérêt",
        references="Références",
        present="aujourd’hui",
        courses="Cours",
    ),
    "es": Labels(
        summary="Perfil",
        experience="Experiencia profesional",
        education="Formación",
        skills="Competencias",
        projects="Proyectos",
        languages="Idiomas",
        certificates="Certificaciones",
        awards="Premios",
        publications="Publicaciones",
        volunteering="Voluntariado",
        interests="Intereses",
        references="Referencias",
        present="actualidad",
        courses="Cursos",
    ),
    "pt": Labels(
        summary="Perfil",
        experience="Experiência profissional",
        education="Formação",
        skills="Competências",
        projects="Projetos",
        languages="Idiomas",
        certificates="Certificações",
        awards="Distinções",
        publications="Publicações",
        volunteering="Voluntariado",
        interests="Interesses",
        references="Referências",
        present="presente",
        courses="Cursos",
    ),
    "pl": Labels(
        summary="Profil",
        experience="Doświadczenie zawodowe",
        education="Wykształcenie",
        skills="Umiejętności",
        projects="Projekty",
        languages="Języki",
        certificates="Certyfikaty",
        awards="Nagrody",
        publications="Publikacje",
        volunteering="Wolontariat",
        interests="Zainteresowania",
        references="Referencje",
        present="obecnie",
        courses="Kursy",
    ),
    "it": Labels(
        summary="Profilo",
        experience="Esperienza professionale",
        education="Istruzione",
        skills="Competenze",
        projects="Progetti",
        languages="Lingue",
        certificates="Certificazioni",
        awards="Premi",
        publications="Pubblicazioni",
        volunteering="Volontariato",
        interests="Interessi",
        references="Referenze",
        present="presente",
        courses="Corsi",
    ),
    "nl": Labels(
        summary="Profiel",
        experience="Werkervaring",
        education="Opleiding",
        skills="Vaardigheden",
        projects="Projecten",
        languages="Talen",
        certificates="Certificaten",
        awards="Prijzen",
        publications="Publicaties",
        volunteering="Vrijwilligerswerk",
        interests="Interesses",
        references="Referenties",
        present="heden",
        courses="Cursussen",
    ),
    "uk": Labels(
        summary="Профіль",
        experience="Досвід роботи",
        education="Освіта",
        skills="Навички",
        projects="Проєкти",
        languages="Мови",
        certificates="Сертифікати",
        awards="Нагороди",
        publications="Публікації",
        volunteering="Волонтерство",
        interests="Інтереси",
        references="Рекомендації",
        present="дотепер",
        courses="Курси",
    ),
    "ru": Labels(
        summary="О себе",
        experience="Опыт работы",
        education="Образование",
        skills="Навыки",
        projects="Проекты",
        languages="Языки",
        certificates="Сертификаты",
        awards="Награды",
        publications="Публикации",
        volunteering="Волонтёрская деятельность",
        interests="Интересы",
        references="Рекомендации",
        present="настоящее время",
        courses="Курсы",
    ),
    "el": Labels(
        summary="Προφίλ",
        experience="Επαγγελματική εμπειρία",
        education="Εκπαίδευση",
        skills="Δεξιότητες",
        projects="Έργα",
        languages="Γλώσσες",
        certificates="Πιστοποιήσεις",
        awards="Βραβεία",
        publications="Δημοσιεύσεις",
        volunteering="Εθελοντική δράση",
        interests="Ενδιαφέροντα",
        references="Συστάσεις",
        present="σήμερα",
        courses="Μαθήματα",
    ),
    "zh": Labels(
        summary="个人简介",
        experience="工作经历",
        education="教育背景",
        skills="专业技能",
        projects="项目经历",
        languages="语言能力",
        certificates="证书",
        awards="荣誉奖项",
        publications="出版物",
        volunteering="志愿者经历",
        interests="兴趣爱好",
        references="推荐人",
        present="至今",
        courses="课程",
    ),
    "ja": Labels(
        summary="プロフィール",
        experience="職務経歴",
        education="学歴",
        skills="スキル",
        projects="プロジェクト",
        languages="語学",
        certificates="資格",
        awards="受賞歴",
        publications="出版物",
        volunteering="ボランティア活動",
        interests="興味・関心",
        references="推薦者",
        present="現在",
        courses="履修科目",
    ),
    "ko": Labels(
        summary="자기소개",
        experience="경력",
        education="학력",
        skills="보유 기술",
        projects="프로젝트",
        languages="어학",
        certificates="자격증",
        awards="수상 경력",
        publications="출판물",
        volunteering="봉사 활동",
        interests="관심 분야",
        references="추천인",
        present="현재",
        courses="수강 과목",
    ),
}

# Abbreviated month names; None means the language writes dates with numbers (_NUMERIC_DATES).
_MONTHS: dict[str, tuple[str, ...] | None] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "es": ("ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.", "nov.", "dic."),
    "pt": ("jan.", "fev.", "mar.", "abr.", "mai.", "jun.", "jul.", "ago.", "set.", "out.", "nov.", "dez."),
    "pl": ("sty.", "lut.", "mar.", "kwi.", "maj", "cze.", "lip.", "sie.", "wrz.", "paź.", "lis.", "gru."),
    "it": ("gen.", "feb.", "mar.", "apr.", "mag.", "giu.", "lug.", "ago.", "set.", "ott.", "nov.", "dic."),
    "nl": ("jan.", "feb.", "mrt.", "apr.", "mei", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec."),
    "uk": (
        "січ.",
        "лют.",
        "бер.",
        "квіт.",
        "трав.",
        "черв.",
        "лип.",
        "серп.",
        "вер.",
        "жовт.",
        "лист.",
        "груд.",
    ),
    "ru": (
        "янв.",
        "февр.",
        "март",
        "апр.",
        "май",
        "июнь",
        "июль",
        "авг.",
        "сент.",
        "окт.",
        "нояб.",
        "дек.",
    ),
    "el": ("Ιαν.", "Φεβ.", "Μαρ.", "Απρ.", "Μαΐ.", "Ιούν.", "Ιούλ.", "Αύγ.", "Σεπ.", "Οκτ.", "Νοέ.", "Δεκ."),
    "zh": None,
    "ja": None,
    "ko": None,
}
# Year and month, then year, month and day, for the languages that write dates with numbers.
_NUMERIC_DATES: dict[str, tuple[str, str]] = {
    "zh": ("{y}年{m}月", "{y}年{m}月{d}日"),
    "ja": ("{y}年{m}月", "{y}年{m}月{d}日"),
    "ko": ("{y}년 {m}월", "{y}년 {m}월 {d}일"),
}

_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def primary_language(language: str) -> str:
    """The supported language a tag asks for ("de-AT" -> "de"); English for anything unknown."""
    primary = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    return primary if primary in LABELS else DEFAULT_LANGUAGE


def html_lang(language: str) -> str:
    """The value for <html lang>: the caller's tag when it is well formed (fonts and hyphenation use it)."""
    tag = language.strip().replace("_", "-")
    return tag if _LANGUAGE_TAG.match(tag) else DEFAULT_LANGUAGE


def labels_for(language: str) -> Labels:
    return LABELS[primary_language(language)]


def format_date(value: str | None, language: str) -> str:
    """ISO "2020-03" -> "Mar 2020" (or "2020年3月", "2020년 3월"); text that is not an ISO date is printed as is."""
    if not value or not value.strip():
        return ""
    match = _ISO_DATE.match(value.strip())
    if match is None:
        return value.strip()
    year, month, day = match.groups()
    if month is None or not 1 <= int(month) <= 12:
        return value.strip() if month is not None else year
    primary = primary_language(language)
    months = _MONTHS[primary]
    if months is None:
        with_month, with_day = _NUMERIC_DATES[primary]
        return (with_day if day else with_month).format(y=year, m=int(month), d=int(day or 0))
    return (f"{int(day)} " if day else "") + f"{months[int(month) - 1]} {year}"


def format_date_range(start: str | None, end: str | None, language: str, *, open_ended: bool = True) -> str:
    """E.g. "Mar 2020 – Present"; a missing end means "ongoing" only when the entry can be ongoing."""
    first, last = format_date(start, language), format_date(end, language)
    if first and last:
        return first if first == last else f"{first} – {last}"
    if first:
        return f"{first} – {labels_for(language).present}" if open_ended else first
    return last
