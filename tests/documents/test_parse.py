"""parse_resume_text: plain CV text to a Resume, case by case, and the rule it never breaks (nothing invented,
nothing lost)."""

from __future__ import annotations

import random
import re

import pytest

from activities.documents import parse_resume_text
from models.resume import Resume, resume_to_text
from tests.documents.builders import SAMPLES, corpus_document, invented_strings


def _work(text: str) -> Resume:
    return parse_resume_text(f"Alex Morgan\nalex@example.com\n\nExperience\n{text}")


@pytest.mark.parametrize(
    ("dates", "start", "end"),
    [
        ("Jan 2020 – Present", "2020-01", None),
        ("January 2020 - present", "2020-01", None),
        ("2019-2021", "2019", "2021"),
        ("2019 – 2021", "2019", "2021"),
        ("03/2018 - 05/2020", "2018-03", "2020-05"),
        ("3/2018 – 11/2020", "2018-03", "2020-11"),
        ("Sept 2018 – May 2023", "2018-09", "2023-05"),
        ("Jan. 2020 to Dec. 2021", "2020-01", "2021-12"),
        ("2018-03 to 2020-11", "2018-03", "2020-11"),
        ("15.03.2018 – 31.12.2019", "2018-03", "2019-12"),
        ("since 2020", "2020", None),
        ("2021 – Current", "2021", None),
        ("März 2019 – heute", "2019-03", None),
        ("seit Oktober 2022", "2022-10", None),
        ("janvier 2019 - aujourd'hui", "2019-01", None),
        ("févr. 2017 – déc. 2018", "2017-02", "2018-12"),
        ("enero de 2020 - actualidad", "2020-01", None),
        ("mar 2019 - atual", "2019-03", None),
        ("sty 2020 - obecnie", "2020-01", None),
        ("(2016 – 2018)", "2016", "2018"),
    ],
)
def test_date_formats(dates: str, start: str, end: str | None) -> None:
    resume = _work(f"Backend Engineer, Acme Corp, {dates}\n- Built the billing service")
    work = resume.work[0]
    assert (work.startDate, work.endDate) == (start, end)
    assert (work.position, work.name) == ("Backend Engineer", "Acme Corp")


@pytest.mark.parametrize(
    ("header", "position", "company", "location"),
    [
        ("Senior Engineer at Acme Corp (2019 - 2021)", "Senior Engineer", "Acme Corp", None),
        (
            "Acme Corp | Senior Engineer | Berlin, Germany | 01/2019 – 03/2021",
            "Senior Engineer",
            "Acme Corp",
            "Berlin, Germany",
        ),
        ("Senior Engineer\nAcme GmbH • Munich, DE\n2019 – 2021", "Senior Engineer", "Acme GmbH", "Munich, DE"),
        ("2019 – 2021\nData Analyst, Foo Ltd", "Data Analyst", "Foo Ltd", None),
        ("Acme Corp, Senior Engineer – Austin, TX  Jan 2019 – Mar 2021", "Senior Engineer", "Acme Corp", "Austin, TX"),
        (
            "Werkstudent Softwareentwicklung bei Siemens AG, 2018 – 2019",
            "Werkstudent Softwareentwicklung",
            "Siemens AG",
            None,
        ),
    ],
)
def test_work_headers(header: str, position: str, company: str, location: str | None) -> None:
    work = _work(f"{header}\n• Shipped the thing").work
    assert len(work) == 1
    assert (work[0].position, work[0].name, work[0].location) == (position, company, location)
    assert work[0].startDate is not None
    assert work[0].highlights == ["Shipped the thing"]


@pytest.mark.parametrize("bullet", ["•", "-", "*", "–", "▪", "◦", "➤", "1.", "2)"])
def test_bullet_styles(bullet: str) -> None:
    work = _work(f"Engineer, Acme Inc, 2020 – 2022\n{bullet} Built the API\n{bullet} Wrote the docs").work[0]
    assert work.highlights == ["Built the API", "Wrote the docs"]


def test_entries_split_on_new_headers_and_wrapped_bullets_join() -> None:
    text = """Lead Engineer, Orbit Labs, 2021 – Present
- Designed the event pipeline that moves
  2 billion records a day
- Mentored 4 engineers
Engineer, Comet Systems, 2018 – 2021
* Built dashboards for the sales team
  and kept them fast
Intern, Nova Inc, Summer 2017
Analyst, Pulsar Ltd, 2016
"""
    work = _work(text).work
    assert [w.name for w in work] == ["Orbit Labs", "Comet Systems", "Nova Inc", "Pulsar Ltd"]
    assert work[0].highlights == [
        "Designed the event pipeline that moves 2 billion records a day",
        "Mentored 4 engineers",
    ]
    assert work[1].highlights == ["Built dashboards for the sales team and kept them fast"]
    assert (work[2].startDate, work[3].startDate) == ("2017", "2016")


def test_sections_in_other_languages() -> None:
    text = """Anna Nowak
anna.nowak@example.pl | +48 601 234 567

Podsumowanie
Inżynier oprogramowania z 8-letnim doświadczeniem.

Doświadczenie zawodowe
Programistka, Allegro sp. z o.o., 2019 – obecnie
• Zbudowała system rekomendacji

Wykształcenie
Magister Informatyki, Politechnika Warszawska, 2012 – 2017

Umiejętności
Java, Kotlin, SQL

Języki
polski (ojczysty), angielski (C1)
"""
    resume = parse_resume_text(text)
    assert resume.basics.name == "Anna Nowak"
    assert resume.basics.summary == "Inżynier oprogramowania z 8-letnim doświadczeniem."
    assert [(w.position, w.name, w.startDate, w.endDate) for w in resume.work] == [
        ("Programistka", "Allegro sp. z o.o.", "2019", None)
    ]
    assert resume.education[0].institution == "Politechnika Warszawska"
    assert resume.education[0].studyType == "Magister"
    assert [s.name for s in resume.skills] == ["Java", "Kotlin", "SQL"]
    assert [(lang.language, lang.fluency) for lang in resume.languages] == [("polski", "ojczysty"), ("angielski", "C1")]


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("Berufserfahrung", "work"),
        ("BERUFLICHER WERDEGANG", "work"),
        ("Expérience professionnelle", "work"),
        ("Experiencia laboral", "work"),
        ("Experiência Profissional", "work"),
        ("Work History:", "work"),
        ("Ausbildung", "education"),
        ("Formation", "education"),
        ("Formación académica", "education"),
        ("Compétences", "skills"),
        ("Kenntnisse", "skills"),
        ("Habilidades", "skills"),
        ("Technical Skills", "skills"),
        ("Projets", "projects"),
        ("Licenses & Certifications", "certificates"),
        ("Idiomas", "languages"),
        ("Auszeichnungen", "awards"),
        ("Honors & Awards", "awards"),
        ("Publications", "publications"),
        ("Volunteering", "volunteer"),
        ("Centres d'intérêt", "interests"),
        ("References", "references"),
    ],
)
def test_heading_aliases(heading: str, field: str) -> None:
    text = f"Alex Morgan\nalex@example.com\n\n{heading}\nEngineer, Acme Corp, 2019 – 2021\n- Did good work"
    resume = parse_resume_text(text)
    assert getattr(resume, field), f"{heading!r} should open {field}"


def test_contacts_and_profiles() -> None:
    text = """María José García-López
Full-Stack Developer
Email: maria.garcia@example.com · Tel: +34 (91) 123-45-67
linkedin.com/in/mariajgarcia | https://github.com/mjgarcia | https://mariagarcia.dev
Valencia, Spain
"""
    basics = parse_resume_text(text).basics
    assert basics.name == "María José García-López"
    assert basics.label == "Full-Stack Developer"
    assert basics.email == "maria.garcia@example.com"
    assert basics.phone == "+34 (91) 123-45-67"
    assert basics.url == "https://mariagarcia.dev"
    assert [(p.network, p.username, p.url) for p in basics.profiles] == [
        ("LinkedIn", "mariajgarcia", "linkedin.com/in/mariajgarcia"),
        ("GitHub", "mjgarcia", "https://github.com/mjgarcia"),
    ]
    assert basics.location is not None and (basics.location.city, basics.location.region) == ("Valencia", "Spain")
    assert basics.summary is None  # labels such as "Email:" are not content


def test_named_profiles_without_urls() -> None:
    basics = parse_resume_text("Sam Lee\nsam@example.com\nGitHub: samlee42 | LinkedIn: sam-lee").basics
    assert [(p.network, p.username) for p in basics.profiles] == [("GitHub", "samlee42"), ("LinkedIn", "sam-lee")]


def test_date_ranges_are_not_phone_numbers() -> None:
    basics = parse_resume_text("Sam Lee\nsam@example.com  2019 - 2021  10.1234/abc.2023\nEngineer").basics
    assert basics.phone is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Languages: Python, Go, Rust", [("Languages", ["Python", "Go", "Rust"])]),
        ("• Cloud: AWS (EC2, S3), GCP", [("Cloud", ["AWS (EC2, S3)", "GCP"])]),
        ("Python, JavaScript, SQL", [("Python", []), ("JavaScript", []), ("SQL", [])]),
        ("Docker | Kubernetes | Helm", [("Docker", []), ("Kubernetes", []), ("Helm", [])]),
        ("Go  Python  REST APIs", [("Go", []), ("Python", []), ("REST APIs", [])]),
        ("- Stakeholder management", [("Stakeholder management", [])]),
        ("CI/CD; A/B testing", [("CI/CD", []), ("A/B testing", [])]),
    ],
)
def test_skill_lines(line: str, expected: list[tuple[str, list[str]]]) -> None:
    skills = parse_resume_text(f"Alex Morgan\nalex@example.com\n\nSkills\n{line}").skills
    assert [(s.name, s.keywords) for s in skills] == expected


def test_education_entries() -> None:
    text = """Education
MSc Computer Science, AGH University of Science and Technology, 2014 – 2019
Master of Science in Data Science — TU Munich (2016–2018)
GPA: 1.3
B.Sc. Informatik, Universität Wien, 2012
Bachelor of Arts, History
University of Toronto | 2010 – 2014
"""
    education = parse_resume_text(f"Alex Morgan\nalex@example.com\n\n{text}").education
    found = [(e.studyType, e.area, e.institution, e.startDate, e.endDate) for e in education]
    assert found == [
        ("MSc", "Computer Science", "AGH University of Science and Technology", "2014", "2019"),
        ("Master of Science", "Data Science", "TU Munich", "2016", "2018"),
        ("B.Sc.", "Informatik", "Universität Wien", None, "2012"),
        ("Bachelor of Arts", "History", "University of Toronto", "2010", "2014"),
    ]
    assert education[1].score == "1.3"


def test_a_header_wrapped_mid_phrase_is_one_line() -> None:
    text = "Alex Morgan\nalex@example.com\n\nEducation\nMSc Physics, Universität Wien, 2014 –\n2019\n"
    text += "BSc Maths,\nTU Graz, 2010 – 2014"
    education = parse_resume_text(text).education
    assert [(e.studyType, e.institution, e.startDate, e.endDate) for e in education] == [
        ("MSc", "Universität Wien", "2014", "2019"),
        ("BSc", "TU Graz", "2010", "2014"),
    ]


def test_unknown_sections_and_stray_lines_are_kept_in_the_summary() -> None:
    text = """Robin Vale
robin@example.org
Open to relocation

Summary
Backend developer who likes boring technology.

Patents and Inventions
US 10,000,001: Adaptive widget caching

Skills
Python
"""
    resume = parse_resume_text(text)
    summary = resume.basics.summary or ""
    assert "Open to relocation" in summary
    assert "Backend developer who likes boring technology." in summary
    assert "US 10,000,001: Adaptive widget caching" in summary or any(
        "Adaptive widget caching" in (p.name or "") for p in resume.publications
    )
    assert [s.name for s in resume.skills] == ["Python"]


def test_awards_certificates_projects_publications() -> None:
    text = """Alex Morgan
alex@example.com

Projects
Tiny DB — a toy key-value store, 2022
https://github.com/alexm/tinydb
- Wrote a B-tree from scratch

Certifications
AWS Certified Solutions Architect – Amazon Web Services (2021)
CKA – The Linux Foundation, 2020

Awards
Best Paper Award — ICSE 2019
Dean's List (2015)

Publications
Fast Joins on Slow Disks | VLDB | 2020
"""
    resume = parse_resume_text(text)
    project = resume.projects[0]
    assert (project.name, project.description, project.url, project.startDate) == (
        "Tiny DB",
        "a toy key-value store",
        "https://github.com/alexm/tinydb",
        "2022",
    )
    assert project.highlights == ["Wrote a B-tree from scratch"]
    assert [(c.name, c.issuer, c.date) for c in resume.certificates] == [
        ("AWS Certified Solutions Architect", "Amazon Web Services", "2021"),
        ("CKA", "The Linux Foundation", "2020"),
    ]
    assert [(a.title, a.awarder, a.date) for a in resume.awards] == [
        ("Best Paper Award", "ICSE", "2019"),
        ("Dean's List", None, "2015"),
    ]
    assert [(p.name, p.publisher, p.releaseDate) for p in resume.publications] == [
        ("Fast Joins on Slow Disks", "VLDB", "2020")
    ]


def test_empty_and_headerless_text() -> None:
    assert parse_resume_text("") == Resume()
    resume = parse_resume_text("- Built things\n- Fixed things")
    assert resume.basics.name is None
    assert "Built things" in (resume.basics.summary or "")


# Property: over many generated CVs, every string of the Resume is a piece of the text, and no word of the
# text is lost (apart from headings, dates, bullets and contact labels).

_NAMES = ["Ada Lovelace", "Grace Hopper", "Zoë Ørsted", "José da Silva", "Nguyễn Văn An", "Łukasz Wróbel"]
_TITLES = ["Senior Software Engineer", "Data Analyst", "Product Manager", "Entwickler", "Ingénieure", "Designer"]
_COMPANIES = ["Acme Corp", "Globex GmbH", "Initech Ltd", "Umbrella SA", "Hooli", "Vandelay Industries"]
_PLACES = ["Berlin, Germany", "Austin, TX", "Lyon, France", "Remote", "São Paulo, Brasil"]
_DATES = [
    "Jan 2020 – Present",
    "2019-2021",
    "03/2018 - 05/2020",
    "Sept 2014 – June 2018",
    "since 2022",
    "2017",
    "Mai 2016 – Aug 2019",
    "2015 – 2016",
]
_BULLETS = ["•", "-", "*", "–", "▪", "1."]
_SENTENCES = [
    "Built a billing platform handling 3 million invoices a month",
    "Reduced p99 latency from 900 ms to 120 ms",
    "Mentored 5 engineers and ran the hiring loop",
    "Migrated 40 services to Kubernetes",
    "Wrote the style guide used across the company",
]
_HEADINGS = {
    "work": ["Experience", "WORK EXPERIENCE", "Berufserfahrung", "Experiencia profesional"],
    "education": ["Education", "Ausbildung", "Formation"],
    "skills": ["Skills", "Compétences", "Technical Skills"],
    "other": ["Volunteer Stories", "Fun Facts"],
}


def _generated_cv(rng: random.Random) -> str:
    lines = [rng.choice(_NAMES), rng.choice(_TITLES)]
    contact = [f"{rng.choice(['ada', 'g.h', 'z_o'])}@example.com", "+44 20 7946 0958", rng.choice(_PLACES)]
    rng.shuffle(contact)
    lines.append(rng.choice([" | ", " • ", "  "]).join(contact))
    if rng.random() < 0.5:
        lines.append(f"linkedin.com/in/{rng.choice(['ada', 'grace-h'])}")
    for section in rng.sample(list(_HEADINGS), k=len(_HEADINGS)):
        lines += ["", rng.choice(_HEADINGS[section])]
        if section == "work":
            for _ in range(rng.randint(1, 3)):
                title, company, dates = rng.choice(_TITLES), rng.choice(_COMPANIES), rng.choice(_DATES)
                lines += rng.choice(
                    [
                        [f"{title}, {company}, {dates}"],
                        [f"{title} at {company}", dates],
                        [f"{company} | {title} | {rng.choice(_PLACES)} | {dates}"],
                        [dates, f"{title} — {company}"],
                    ]
                )
                bullet = rng.choice(_BULLETS)
                lines += [f"{bullet} {s}" for s in rng.sample(_SENTENCES, k=rng.randint(1, 3))]
        elif section == "education":
            lines.append(f"{rng.choice(['BSc', 'MSc', 'PhD'])} Physics, University of Vienna, {rng.choice(_DATES)}")
        elif section == "skills":
            lines.append(rng.choice(["Languages: Python, Go, SQL", "Python, Go, SQL", "Docker | Terraform"]))
        else:
            lines.append(rng.choice(_SENTENCES))
    return "\n".join(lines) + "\n"


_ALLOWED_TO_VANISH = re.compile(
    r"^(?:experience|work|berufserfahrung|experiencia|profesional|education|ausbildung|formation|skills|technical|"
    r"compétences|present|since|jan|sept|june|mai|aug|at|email|tel|\d+|\d+/\d+)$",
    re.I,
)


def _lost_words(text: str, resume: Resume) -> set[str]:
    kept = resume_to_text(resume) + " " + str(resume.model_dump(mode="json"))
    words = set(re.findall(r"[^\W_]+(?:[./][^\W_]+)*", text))
    return {w for w in words if w not in kept and not _ALLOWED_TO_VANISH.match(w)}


@pytest.mark.parametrize("seed", range(60))
def test_generated_cvs_invent_nothing_and_lose_nothing(seed: int) -> None:
    text = _generated_cv(random.Random(seed))
    resume = parse_resume_text(text)
    assert invented_strings(resume, text) == []
    assert _lost_words(text, resume) == set()
    assert resume.basics.name in _NAMES
    assert resume.work, text


@pytest.mark.parametrize(
    "name",
    [
        "rendercv-classic.pdf",
        "rendercv-harvard.pdf",
        "resumematcher-modern-two-column.pdf",
        "jsonresume-sample.resume.json",
    ],
)
def test_real_cv_texts_invent_nothing(name: str) -> None:
    text = corpus_document(name).text
    resume = parse_resume_text(text)
    assert invented_strings(resume, text) == []


def test_sample_markdown_text_invents_nothing() -> None:
    text = (SAMPLES / "jane-doe-cv.md").read_text()
    assert invented_strings(parse_resume_text(text), text) == []
