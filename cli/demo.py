"""`make demo`: improve the sample CV end to end on the dev stack (reused if running, else started)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cli.client import ApiError, CvImproverClient
from cli.main import console, default_position, improve_cv
from devstack.demo_stack import DevStackUnavailableError, dev_stack

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CV = ROOT / "samples" / "jane-doe-cv.md"
SAMPLE_JOB = ROOT / "samples" / "job-senior-backend.txt"
OUT = ROOT / "out" / "demo-cv.pdf"


def main() -> int:
    try:
        with dev_stack(ROOT) as stack:
            OUT.parent.mkdir(exist_ok=True)
            job = SAMPLE_JOB.read_text(encoding="utf-8")
            # A new demo user each time, so the Free plan's monthly quota never stops a demo.
            email = f"demo-{time.strftime('%Y%m%d%H%M%S')}@example.com"
            console.print(f"Demo user {email} on {stack.api_url}; improving {SAMPLE_CV.name} for {SAMPLE_JOB.name}")
            with CvImproverClient(stack.api_url) as client:
                client.sign_in(email, "demo-password-1234", register=True)
                improve_cv(
                    client,
                    SAMPLE_CV,
                    job,
                    default_position(job),
                    "modern",
                    "A4",
                    "en",
                    OUT,
                    stack.temporal_ui_url or "http://localhost:8233",
                )
    except (ApiError, DevStackUnavailableError) as exc:
        console.print(f"[red]Demo failed: {exc}[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
