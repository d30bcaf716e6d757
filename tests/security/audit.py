"""Dependency audit: pip-audit over the installed environment (`make test` runs it when CI=true).

Fails on any known vulnerability not listed in IGNORED below. pip-audit reads each pinned version's advisories
from PyPI's per-release JSON; where that cannot be read (a mirror that serves only project pages, no network), it
skips the package, and a plain `pip-audit` then says "No known vulnerabilities found". For a skipped package whose
installed version is the newest release, this script reads the advisories from PyPI's project page instead (its
`vulnerabilities` are those of the newest release). What still cannot be audited is named, and fails the audit
only when PIP_AUDIT_REQUIRED=1.

    python -m tests.security.audit
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

# Advisory id -> why it is accepted for now. Empty: no known vulnerable pin is accepted.
IGNORED: dict[str, str] = {}


def _newest_release_advisories(dependency: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The advisories of the installed version when it is the newest release on PyPI, else None (unknown)."""
    try:
        answer = httpx.get(f"https://pypi.org/pypi/{dependency['name']}/json", timeout=15, follow_redirects=True)
        project = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    try:
        installed = dependency.get("version") or metadata.version(dependency["name"])
    except metadata.PackageNotFoundError:
        return None
    if not project or project["info"]["version"] != installed:
        return None
    return [
        {"id": v["id"], "fix_versions": v.get("fixed_in") or []}
        for v in project.get("vulnerabilities") or []
        if not v.get("withdrawn")
    ]


def main() -> int:
    executable = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        command = [str(executable), "--progress-spinner", "off", "--skip-editable", "-f", "json", "-o", str(report)]
        for advisory in IGNORED:
            command += ["--ignore-vuln", advisory]
        run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if not report.exists():
            print(f"pip-audit did not run: {run.stderr.strip()[-2000:]}")
            return 1
        dependencies = json.loads(report.read_text())["dependencies"]
    # The project itself (installed editable) is not a dependency to audit.
    dependencies = [d for d in dependencies if d["name"] != "cvimprover"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    with ThreadPoolExecutor(max_workers=16) as pool:
        fallbacks = dict(zip([d["name"] for d in skipped], pool.map(_newest_release_advisories, skipped), strict=True))
    for dependency in skipped:
        advisories = fallbacks[dependency["name"]]
        if advisories is not None:
            del dependency["skip_reason"]
            dependency["vulns"] = [a for a in advisories if a["id"] not in IGNORED]
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        return 1
    audited = len(dependencies) - len(skipped)
    if skipped:
        names = ", ".join(d["name"] for d in skipped[:10]) + (" ..." if len(skipped) > 10 else "")
        print(
            f"pip-audit could not read advisories for {len(skipped)} of {len(dependencies)} packages ({names}): "
            "PyPI's per-release JSON API is not reachable from here and they are not the newest release, so those "
            "packages were NOT audited."
        )
        if os.environ.get("PIP_AUDIT_REQUIRED") == "1":
            return 1
    print(f"pip-audit: {audited} packages audited, no known vulnerability.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
