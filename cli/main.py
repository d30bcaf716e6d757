"""`cvimprover`: improve a CV against a running CV Improver API from the command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.client import ApiError, CvImproverClient, run_improvement
from ops.cli import app as ops_app

app = typer.Typer(help="CV Improver: a better CV for the job you want.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Keep `improve` a named subcommand, with room for more."""


# Operators' commands; they load Temporal and the database code only when one of them runs.
app.add_typer(ops_app, name="ops")


def default_position(job_description: str) -> str:
    """The first non-empty line of a job description is usually its title."""
    for line in job_description.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()[:200]
    return "the target role"


def improve_cv(
    client: CvImproverClient,
    file: Path,
    job_text: str,
    position: str,
    theme: str,
    paper: str,
    language: str | None,
    out: Path,
    temporal_ui: str,
) -> dict[str, Any]:
    target: dict[str, Any] = {
        "position": position,
        "job_description": job_text,
        "theme": theme,
        "paper": paper,
    }
    if language:  # unset, the API uses the CV's own language
        target["output_language"] = language
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("queued", total=100)
        accepted, result = run_improvement(
            client, file, target, lambda p: bar.update(task, completed=p.percent, description=p.stage)
        )
    workflow_url = f"{temporal_ui.rstrip('/')}/namespaces/default/workflows/{accepted['workflow_id']}"
    if result["stage"] != "completed":
        error = result.get("error") or {}
        console.print(f"[red]Improvement {result['stage']}:[/] {error.get('message', '')}")
        console.print(f"Temporal UI: {workflow_url}")
        raise typer.Exit(1)
    out.write_bytes(client.pdf(str(accepted["improvement_id"])))
    scores = result.get("scores") or {}
    before, after = scores.get("before", {}).get("score", 0), scores.get("after", {}).get("score", 0)
    console.print(
        f"[green]Done[/] with engine {result['engine']}: {len(result['changes'])} changes, "
        f"{len(result['warnings'])} reverted by the fact check, keyword score {before:.0f} → {after:.0f}."
    )
    console.print(f"PDF: {out.resolve()}")
    console.print(f"Temporal UI: {workflow_url}")
    return result


@app.command()
def improve(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The CV: PDF, DOCX, TXT, MD or JSON Resume")
    ],
    job: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Text file with the job description")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF")] = Path("improved-cv.pdf"),
    theme: Annotated[str, typer.Option(help="PDF theme (GET /themes lists them)")] = "classic",
    position: Annotated[str | None, typer.Option(help="Target job title (default: first line of --job)")] = None,
    paper: Annotated[str, typer.Option(help="A4 or Letter")] = "A4",
    language: Annotated[
        str | None, typer.Option(help="Output language (ISO 639-1); default: the CV's own language")
    ] = None,
    api_url: Annotated[str, typer.Option(envvar="CVIMPROVER_API_URL")] = "http://127.0.0.1:8000",
    email: Annotated[str | None, typer.Option(envvar="CVIMPROVER_EMAIL")] = None,
    password: Annotated[str | None, typer.Option(envvar="CVIMPROVER_PASSWORD")] = None,
    register: Annotated[bool, typer.Option(help="Create the account if it does not exist")] = False,
    temporal_ui: Annotated[str, typer.Option(envvar="TEMPORAL_UI_URL")] = "http://localhost:8233",
) -> None:
    """Upload FILE, improve it for the job in --job, and write the PDF to --out."""
    if not email or not password:
        console.print("[red]Give --email and --password (or CVIMPROVER_EMAIL / CVIMPROVER_PASSWORD).[/]")
        raise typer.Exit(2)
    job_text = job.read_text(encoding="utf-8")
    try:
        with CvImproverClient(api_url) as client:
            client.sign_in(email, password, register=register)
            improve_cv(
                client, file, job_text, position or default_position(job_text), theme, paper, language, out, temporal_ui
            )
    except ApiError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(app())


if __name__ == "__main__":
    main()
