"""Section headings CVs use, in English, German, French, Spanish, Portuguese and Polish."""

from __future__ import annotations

import re
from enum import StrEnum


class Section(StrEnum):
    SUMMARY = "summary"
    WORK = "work"
    VOLUNTEER = "volunteer"
    EDUCATION = "education"
    SKILLS = "skills"
    PROJECTS = "projects"
    CERTIFICATES = "certificates"
    LANGUAGES = "languages"
    AWARDS = "awards"
    PUBLICATIONS = "publications"
    INTERESTS = "interests"
    REFERENCES = "references"
    CONTACT = "contact"
    OTHER = "other"  # a heading we do not know: its text is kept in the summary


def _names(text: str) -> tuple[str, ...]:
    """Names written one after the other, separated by "|"."""
    return tuple(" ".join(name.split()) for name in text.split("|") if name.strip())


_ALIASES: dict[Section, tuple[str, ...]] = {
    Section.SUMMARY: _names(
        """
        summary | professional summary | career summary | executive summary | profile | professional profile |
        personal profile | about | about me | objective | career objective | personal statement | overview |
        introduction | highlights | summary of qualifications | zusammenfassung | profil | kurzprofil | über
        mich | persönliches profil | à propos | a propos | à propos de moi | présentation | objectif | profil
        professionnel | resumen | perfil | perfil profesional | sobre mí | acerca de mí | objetivo | resumen
        profesional | resumo | perfil profissional | sobre mim | resumo profissional | podsumowanie | o mnie |
        cel zawodowy | profil zawodowy
        """
    ),
    Section.WORK: _names(
        """
        experience | work experience | professional experience | employment | employment history | work history
        | career history | relevant experience | career | professional background | experience & internships |
        internships | industry experience | research experience | teaching experience | work | positions |
        berufserfahrung | erfahrung | berufliche erfahrung | beruflicher werdegang | werdegang | praxiserfahrung
        | berufspraxis | expérience | expériences | expérience professionnelle | expériences professionnelles |
        parcours professionnel | experiencia | experiencia laboral | experiencia profesional | trayectoria
        profesional | experiência | experiência profissional | histórico profissional | doświadczenie |
        doświadczenie zawodowe | historia zatrudnienia | przebieg pracy zawodowej
        """
    ),
    Section.VOLUNTEER: _names(
        """
        volunteer | volunteering | volunteer experience | volunteer work | community service | community
        involvement | ehrenamt | ehrenamtliches engagement | ehrenamtliche tätigkeiten | engagement | bénévolat
        | voluntariado | wolontariat
        """
    ),
    Section.EDUCATION: _names(
        """
        education | academic background | education and training | education & training | academics | academic
        history | educational background | studies | academic qualifications | ausbildung | bildung |
        bildungsweg | studium | schulbildung | akademischer werdegang | formation | formations | éducation |
        parcours académique | études | cursus | educación | formación | formación académica | estudios |
        educação | formação | formação acadêmica | formação académica | wykształcenie | edukacja
        """
    ),
    Section.SKILLS: _names(
        """
        skills | technical skills | core competencies | competencies | key skills | expertise | technologies |
        tech stack | tools | skills & tools | tools & technologies | technical expertise | core skills | skill
        set | skillset | abilities | qualifications | hard skills | soft skills | it skills | kenntnisse |
        fähigkeiten | kompetenzen | it-kenntnisse | fachkenntnisse | technische kenntnisse | edv-kenntnisse |
        compétences | compétences techniques | savoir-faire | habilidades | competencias | conocimientos |
        aptitudes | habilidades técnicas | competências | conhecimentos | habilidades técnicas | umiejętności |
        kompetencje | umiejętności techniczne
        """
    ),
    Section.PROJECTS: _names(
        """
        projects | personal projects | selected projects | side projects | key projects | open source |
        open-source | open source contributions | portfolio | projekte | projets | proyectos | projetos |
        projekty
        """
    ),
    Section.CERTIFICATES: _names(
        """
        certifications | certificates | licenses & certifications | licenses and certifications | licences &
        certifications | certifications & licenses | courses | training | courses & certifications |
        professional development | zertifikate | zertifizierungen | weiterbildung | weiterbildungen |
        fortbildungen | kurse | certificats | formations complémentaires | certificaciones | certificados |
        cursos | certificações | certyfikaty | kursy | szkolenia
        """
    ),
    Section.LANGUAGES: _names(
        """
        languages | language skills | language | spoken languages | sprachen | sprachkenntnisse | fremdsprachen
        | langues | compétences linguistiques | idiomas | lenguas | línguas | języki | języki obce | znajomość
        języków
        """
    ),
    Section.AWARDS: _names(
        """
        awards | honors | honours | achievements | awards & honors | awards and honors | honors & awards |
        honors and awards | awards & achievements | accomplishments | scholarships | distinctions |
        auszeichnungen | preise | erfolge | prix | récompenses | premios | reconocimientos | logros | prêmios |
        prémios | conquistas | nagrody | osiągnięcia | wyróżnienia
        """
    ),
    Section.PUBLICATIONS: _names(
        """
        publications | selected publications | papers | research | patents | talks | invited talks |
        presentations | conference talks | speaking | publikationen | veröffentlichungen | vorträge |
        publications scientifiques | publicaciones | publicações | publikacje
        """
    ),
    Section.INTERESTS: _names(
        """
        interests | hobbies | hobbies & interests | hobbies and interests | personal interests | interessen |
        hobbys | freizeit | centres d'intérêt | centres d’intérêt | loisirs | intereses | aficiones | interesses
        | passatempos | zainteresowania
        """
    ),
    Section.REFERENCES: _names(
        """
        references | referees | referenzen | références | referencias | referências | referencje
        """
    ),
    Section.CONTACT: _names(
        """
        contact | contact information | contact info | contact details | links | personal information | personal
        details | personal data | socials | social | online | find me | kontakt | kontaktdaten | persönliche
        daten | persönliche angaben | coordonnées | informations personnelles | contacto | datos personales |
        información personal | contato | dados pessoais | informações pessoais | dane osobowe | dane kontaktowe
        """
    ),
}
_LOOKUP: dict[str, Section] = {alias: section for section, aliases in _ALIASES.items() for alias in aliases}
# The last word of a longer heading often says it all ("Selected Honors", "Relevant Work Experience").
_TAIL_WORDS: dict[str, Section] = {
    "experience": Section.WORK,
    "employment": Section.WORK,
    "education": Section.EDUCATION,
    "skills": Section.SKILLS,
    "projects": Section.PROJECTS,
    "certifications": Section.CERTIFICATES,
    "certificates": Section.CERTIFICATES,
    "languages": Section.LANGUAGES,
    "awards": Section.AWARDS,
    "honors": Section.AWARDS,
    "honours": Section.AWARDS,
    "publications": Section.PUBLICATIONS,
    "talks": Section.PUBLICATIONS,
    "patents": Section.PUBLICATIONS,
    "interests": Section.INTERESTS,
    "summary": Section.SUMMARY,
    "profile": Section.SUMMARY,
    "volunteering": Section.VOLUNTEER,
    "references": Section.REFERENCES,
}
_SPLIT = re.compile(r"\s*(?:&|/|,|\+|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bi\b)\s*")


def heading_key(line: str) -> str:
    """A heading as compared: lower case, no decoration, no trailing colon, single spaces."""
    key = line.strip().strip("#*_=:-–—|•·[]").strip().lower()
    return re.sub(r"\s+", " ", key).rstrip(":").strip()


def section_of(line: str) -> Section | None:
    """The section a heading line opens, or None when the line is not a heading we know."""
    if len(line) > 60 or len(line.split()) > 6:
        return None
    stripped = line.strip()
    if re.fullmatch(r"(?:[A-ZÀ-Þ] ){2,}[A-ZÀ-Þ]", stripped):  # letter-spaced "S K I L L S"
        stripped = stripped.replace(" ", "")
    key = heading_key(stripped)
    if not key or any(ch.isdigit() for ch in key):
        return None
    if key in _LOOKUP:
        return _LOOKUP[key]
    words = key.split()
    if 1 < len(words) <= 4 and words[-1] in _TAIL_WORDS:
        return _TAIL_WORDS[words[-1]]
    for part in _SPLIT.split(key):
        if part in _LOOKUP:
            return _LOOKUP[part]
    return None
