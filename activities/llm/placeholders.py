"""Contact details out, placeholders in: what an LLM sees of a CV, and the way back.

Every contact field (e-mail, phone, URLs, street address, postal code, profile user names) and every e-mail
address, phone number or URL written in free text becomes a placeholder such as `{{EMAIL_1}}` before the CV
leaves the process; the same value always gets the same placeholder. `restore_contacts` puts the values
back. Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from activities.verification import PLACEHOLDER_RE, find_contacts
from models.resume import Resume

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"

# Keys whose whole value is a contact detail, wherever they appear in the document.
_CONTACT_KEYS: dict[str, str] = {
    "email": "EMAIL",
    "phone": "PHONE",
    "url": "URL",
    "image": "URL",
    "address": "ADDRESS",
    "postalCode": "POSTCODE",
    "username": "USERNAME",
}


@dataclass
class PlaceholderTable:
    """Placeholder -> original value, filled while masking; one placeholder per distinct value and kind."""

    values: dict[str, str] = field(default_factory=dict)
    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def placeholder_for(self, kind: str, value: str) -> str:
        existing = self._by_value.get((kind, value))
        if existing:
            return existing
        self._counts[kind] = self._counts.get(kind, 0) + 1
        token = f"{{{{{kind}_{self._counts[kind]}}}}}"
        self._by_value[(kind, value)] = token
        self.values[token] = value
        return token


def mask_text(text: str, table: PlaceholderTable) -> str:
    """Text with each e-mail address, URL and phone number replaced by its placeholder."""
    out: list[str] = []
    pos = 0
    for span in find_contacts(text):
        out += [text[pos : span.start], table.placeholder_for(span.kind, span.text)]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def restore_text(text: str, placeholders: Mapping[str, str]) -> str:
    """Text with known placeholders replaced by their values; unknown ones are left for the fact check."""
    return PLACEHOLDER_RE.sub(lambda m: placeholders.get(m.group(0), m.group(0)), text)


def _mask_value(value: JsonValue, key: str | None, table: PlaceholderTable) -> JsonValue:
    if isinstance(value, str):
        if key in _CONTACT_KEYS and value.strip():
            return table.placeholder_for(_CONTACT_KEYS[key], value)
        return mask_text(value, table)
    if isinstance(value, list):
        # A list under a contact key (rare) is masked item by item under the same key.
        return [_mask_value(v, key, table) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v, k, table) for k, v in value.items()}
    return value


def _restore_value(value: JsonValue, placeholders: Mapping[str, str]) -> JsonValue:
    if isinstance(value, str):
        return restore_text(value, placeholders)
    if isinstance(value, list):
        return [_restore_value(v, placeholders) for v in value]
    if isinstance(value, dict):
        return {k: _restore_value(v, placeholders) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class MaskedResume:
    resume: Resume
    placeholders: dict[str, str]


def _dump(resume: Resume) -> dict[str, JsonValue]:
    data: dict[str, JsonValue] = resume.model_dump(mode="json")
    return data


def mask_contacts(resume: Resume) -> MaskedResume:
    """The CV with contact details replaced by placeholders, and the table to restore them."""
    table = PlaceholderTable()
    masked = _mask_value(_dump(resume), None, table)
    return MaskedResume(Resume.model_validate(masked), dict(table.values))


def restore_contacts(resume: Resume, placeholders: Mapping[str, str]) -> Resume:
    """The CV with every known placeholder replaced by the original value."""
    return Resume.model_validate(_restore_value(_dump(resume), placeholders))
