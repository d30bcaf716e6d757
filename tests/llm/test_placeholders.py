"""Contact details become placeholders before an LLM call and come back after."""

from __future__ import annotations

import json

import pytest

from activities.llm.placeholders import (
    PlaceholderTable,
    mask_contacts,
    mask_text,
    restore_contacts,
    restore_text,
)
from activities.verification import find_contacts
from models.resume import Resume
from tests.fakes.corpus import sample_resume


def test_every_contact_field_of_the_sample_is_masked_and_restored() -> None:
    original = sample_resume()
    masked = mask_contacts(original)
    dumped = masked.resume.model_dump_json()
    for value in [
        "richard.hendriks@mail.com",
        "(912) 555-4321",
        "http://richardhendricks.example.com",
        "2712 Broadway St",
        "CA 94115",
        "neutralthoughts",
        "https://soundcloud.example.com/dandymusicnl",
        "http://piedpiper.example.com",
    ]:
        assert value not in dumped
        assert value in masked.placeholders.values()
    basics = masked.resume.basics
    assert (basics.email, basics.phone, basics.url) == ("{{EMAIL_1}}", "{{PHONE_1}}", "{{URL_1}}")
    assert basics.location is not None and basics.location.address == "{{ADDRESS_1}}"
    assert basics.location.postalCode == "{{POSTCODE_1}}"
    assert basics.location.city == "San Francisco"  # the city is not a contact detail
    assert basics.profiles[0].username == "{{USERNAME_1}}"
    assert basics.name == "Richard Hendriks"
    assert restore_contacts(masked.resume, masked.placeholders) == original


def test_contact_details_written_in_free_text_are_masked() -> None:
    resume = Resume.model_validate(
        {
            "basics": {"summary": "Reach me at ada@example.com or +44 20 7946 0958; portfolio github.com/ada."},
            "work": [{"name": "Globex", "highlights": ["Wrote https://blog.example.org/posts/1 (2,000 readers)"]}],
        }
    )
    masked = mask_contacts(resume)
    assert masked.resume.basics.summary == "Reach me at {{EMAIL_1}} or {{PHONE_1}}; portfolio {{URL_1}}."
    assert masked.resume.work[0].highlights == ["Wrote {{URL_2}} (2,000 readers)"]
    assert restore_contacts(masked.resume, masked.placeholders) == resume


def test_the_same_value_gets_the_same_placeholder() -> None:
    resume = Resume.model_validate(
        {
            "basics": {"email": "ada@example.com", "summary": "Mail ada@example.com"},
        }
    )
    masked = mask_contacts(resume)
    assert masked.resume.basics.email == "{{EMAIL_1}}"
    assert masked.resume.basics.summary == "Mail {{EMAIL_1}}"
    assert masked.placeholders == {"{{EMAIL_1}}": "ada@example.com"}


def test_masking_is_deterministic() -> None:
    assert mask_contacts(sample_resume()) == mask_contacts(sample_resume())


@pytest.mark.parametrize(
    "text",
    [
        "From 2013-12-01 to 2014-12-01",
        "2012 - 2013, 2014",
        "Grew revenue to 1,000,000 users",
        "Scored 4.0 GPA, top 5%",
        "Built with Node.js and ASP.NET",
        "Won award at AIHacks 2016",
        "DB1101 - Basic SQL",
    ],
)
def test_dates_numbers_and_tech_names_are_not_contacts(text: str) -> None:
    assert find_contacts(text) == []
    table = PlaceholderTable()
    assert mask_text(text, table) == text
    assert table.values == {}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ada.lovelace+cv@mail.example.co.uk", "EMAIL"),
        ("(912) 555-4321", "PHONE"),
        ("+44 20 7946 0958", "PHONE"),
        ("+1-415-555-2671", "PHONE"),
        ("0171 123 4567", "PHONE"),
        ("https://example.com/path?q=1", "URL"),
        ("www.example.com", "URL"),
        ("linkedin.com/in/ada", "URL"),
    ],
)
def test_contact_kinds_are_recognised(text: str, kind: str) -> None:
    (span,) = find_contacts(f"Contact: {text}.")
    assert (span.kind, span.text) == (kind, text)


def test_restore_leaves_unknown_placeholders_for_the_fact_check() -> None:
    assert restore_text("{{EMAIL_1}} and {{EMAIL_7}}", {"{{EMAIL_1}}": "a@b.co"}) == "a@b.co and {{EMAIL_7}}"


def test_a_restored_rewrite_carries_edits_and_contacts() -> None:
    original = sample_resume()
    masked = mask_contacts(original)
    data = json.loads(masked.resume.model_dump_json())
    data["basics"]["summary"] = "Contact {{EMAIL_1}} for details."
    restored = restore_contacts(Resume.model_validate(data), masked.placeholders)
    assert restored.basics.summary == "Contact richard.hendriks@mail.com for details."
    assert restored.basics.email == original.basics.email
