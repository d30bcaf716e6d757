"""JSON Resume uploads: validated against the official v1.0.0 schema, then taken as they are."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from pydantic import ValidationError

from activities.documents.errors import InvalidJsonResume
from models.resume import Resume

_TYPE_NAMES = {
    "array": "a list",
    "object": "an object",
    "string": "a text value",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


@cache
def _validator() -> Draft7Validator:
    schema = json.loads(resources.files("activities.documents").joinpath("jsonresume-schema.json").read_text("utf-8"))
    return Draft7Validator(schema)


def read_json_resume(text: str) -> Resume:
    """The Resume a JSON Resume document describes. Raises InvalidJsonResume naming the first problem."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise InvalidJsonResume("This JSON Resume is nested too deeply to be read.") from None
    except json.JSONDecodeError as exc:
        raise InvalidJsonResume(
            f"This file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg.lower()})."
        ) from None
    if not isinstance(document, dict):
        raise InvalidJsonResume("A JSON Resume document must be a JSON object.")
    error = best_match(_validator().iter_errors(document))
    if error is not None:
        raise InvalidJsonResume(
            f"This JSON Resume does not follow the JSON Resume schema: {json_path(error.absolute_path)} "
            f"{_reason(error)}."
        )
    try:
        return Resume.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidJsonResume(
            f"This JSON Resume cannot be read: {json_path(first['loc'])} {first['msg'].lower()}."
        ) from None


def json_path(parts: Iterable[Any]) -> str:
    """`$.work[0].startDate` for ("work", 0, "startDate")."""
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _reason(error: SchemaError) -> str:
    """Why a value fails, without quoting the value: it may be a piece of the CV."""
    rule = error.validator
    expected = error.validator_value
    if rule == "type":
        names = expected if isinstance(expected, list) else [expected]
        return "must be " + " or ".join(_TYPE_NAMES.get(str(n), str(n)) for n in names)
    if rule == "pattern" and "[1-2][0-9]{3}" in str(expected):
        return "must be a date written 2020, 2020-06 or 2020-06-29"
    if rule == "pattern":
        return "does not have the expected form"
    if rule == "required":
        fields = expected if isinstance(expected, list) else [expected]
        return f"is missing a required field ({', '.join(str(f) for f in fields)})"
    if rule == "additionalProperties":
        return "has fields the schema does not allow"
    if rule == "enum":
        return "is not one of the allowed values"
    if rule == "format":
        return f"is not a valid {expected}"
    return f"breaks the schema's '{rule}' rule"
