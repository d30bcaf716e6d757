"""Every route of the OpenAPI schema that takes a resource id answers 404 to another user, whatever the method:
a new route cannot forget its ownership check without failing here."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.conftest import SAMPLES, Stack

# Valid bodies where the generic builder's minimum would be refused by the handler before it looks at the id.
BODIES: dict[str, dict[str, Any]] = {
    "create_improvement": {"position": "Senior Backend Engineer", "theme": "modern"},
    "render_improvement": {"theme": "modern", "paper": "A4"},
}
JOB = (SAMPLES / "job-senior-backend.txt").read_text()
ID_PARAM = re.compile(r"\{(\w+_id)\}")
METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def minimal_value(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """The smallest value the schema accepts: required properties only, first enum member, shortest string."""
    schema = _resolve(schema, spec)
    if "anyOf" in schema or "oneOf" in schema:
        options = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if s.get("type") != "null"]
        return minimal_value(options[0], spec) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_value(props[name], spec) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_value(schema.get("items", {}), spec) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * max(schema.get("minLength", 1), 1)
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    pytest.fail(f"no minimal value for schema {schema}")


def request_body(operation: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """httpx keyword arguments for the operation's body (JSON or multipart)."""
    if "requestBody" not in operation:
        return {}
    if operation["operationId"] in BODIES:
        return {"json": BODIES[operation["operationId"]]}
    content = operation["requestBody"]["content"]
    if "application/json" in content:
        return {"json": minimal_value(content["application/json"]["schema"], spec)}
    if "multipart/form-data" in content:
        return {"files": {"file": ("cv.md", b"# Jane Doe\n")}}
    pytest.fail(f"{operation['operationId']}: no body for {list(content)}")


async def test_another_user_gets_404_on_every_route_with_a_resource_id(stack: Stack) -> None:
    owner = await stack.user()
    cv = await stack.upload(owner, "cv.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    r = await stack.http.post(
        f"/cvs/{cv['id']}/improvements",
        headers=owner,
        json={
            "position": "Senior Backend Engineer",
            "job_description": (SAMPLES / "job-senior-backend.txt").read_text(),
        },
    )
    assert r.status_code == 202, r.text
    improvement_id = r.json()["improvement_id"]
    assert (await stack.wait_finished(owner, improvement_id))["stage"] == "completed"
    # Other path parameters get a value the owner has: version 1 of every CV exists.
    ids = {"cv_id": cv["id"], "improvement_id": improvement_id, "number": 1}

    intruder = await stack.user()
    spec = (await stack.http.get("/openapi.json")).json()
    checked = []
    for path, item in spec["paths"].items():
        params = ID_PARAM.findall(path)
        if not params:
            continue
        unknown = [p for p in params if p not in ids]
        assert not unknown, f"{path}: give the owner a resource for {unknown} in this test"
        url = path.format(**ids)
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            r = await asyncio.wait_for(
                stack.http.request(method.upper(), url, headers=intruder, **request_body(operation, spec)), timeout=15
            )
            assert r.status_code == 404, (
                f"{method.upper()} {path} ({operation['operationId']}): {r.status_code} {r.text}"
            )
            assert r.headers["content-type"].startswith("application/problem+json"), r.headers
            checked.append(f"{method.upper()} {path}")

    # The walk covered the routes known today, and the owner's resources survived the intruder's DELETEs.
    assert {"GET /cvs/{cv_id}", "DELETE /cvs/{cv_id}", "POST /improvements/{improvement_id}/render"} <= set(checked)
    assert len(checked) >= 10, checked
    assert (await stack.http.get(f"/cvs/{cv['id']}", headers=owner)).status_code == 200
    body = (await stack.http.get(f"/improvements/{improvement_id}", headers=owner)).json()
    assert body["stage"] == "completed"
    assert (await stack.http.get(f"/improvements/{improvement_id}/pdf", headers=owner)).status_code == 200
