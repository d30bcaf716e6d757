"""`cvimprover ops ...`: operator commands against the Temporal server and the database the settings name
(environment variables, as for the API and the worker). Readable tables by default, `--json` for scripts.
Exit code 0 when done, 1 when refused or incompatible (the message says why), 2 for a usage error.

Only Typer and Rich are imported here: `cvimprover improve` loads this module too, and the operator code (Temporal,
SQLAlchemy, the workflows) is imported when an ops command runs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from ops.admin import Ops, RunReport, RunsReport, SubscriptionReport

T = TypeVar("T")

app = typer.Typer(
    help="Operator commands: runs, steps, retries, quota, subscriptions, replay.",
    no_args_is_help=True,
    add_completion=False,
)
quota_app = typer.Typer(help="A user's monthly quota: show, grant extra units, reset.", no_args_is_help=True)
subscription_app = typer.Typer(help="A user's subscription: show, reconcile with Stripe.", no_args_is_help=True)
app.add_typer(quota_app, name="quota")
app.add_typer(subscription_app, name="subscription")


def _console(stderr: bool = False) -> Console:
    """Made per command, so it follows the terminal's width (COLUMNS) of the moment; lines never wrap."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def out_print(text: str) -> None:
    _console().print(text)


def err_print(text: str) -> None:
    _console(stderr=True).print(text)


User = Annotated[str, typer.Option("--user", "-u", help="The user's e-mail address or id")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]
RunId = Annotated[str | None, typer.Option("--run-id", help="A run of the workflow (default: the latest)")]


# --- plumbing -----------------------------------------------------------------------------------------------


def _run(work: Callable[[Ops], Awaitable[T]]) -> T:
    """Run one async operator call with fresh settings; a refusal or an unreachable server exits 1."""
    from temporalio.service import RPCError

    from models.settings import Settings
    from ops.admin import Refused, open_ops

    async def main() -> T:
        async with open_ops(Settings()) as ops:
            return await work(ops)

    try:
        return asyncio.run(main())
    except Refused as exc:
        err_print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    except (RPCError, RuntimeError, OSError) as exc:
        err_print(f"[red]Could not complete: {type(exc).__name__}: {escape(str(exc))}[/]")
        raise typer.Exit(1) from None


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses as objects, times as ISO 8601, ids as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, header: bool = True) -> None:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_header=header)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("-" if cell is None or cell == "" else escape(str(cell)) for cell in row))
    _console().print(table)


def _fields(title: str, rows: Sequence[tuple[str, Any]]) -> None:
    _table(title, ["field", "value"], rows, header=False)


# --- runs ---------------------------------------------------------------------------------------------------


@app.command()
def runs(
    user: User,
    limit: Annotated[int, typer.Option(help="At most this many workflow runs")] = 100,
    as_json: AsJson = False,
) -> None:
    """A user's workflows (every run, newest first) with status and stage, and their improvements."""
    from ops.admin import list_runs

    report: RunsReport = _run(lambda ops: list_runs(ops, user, limit))
    if as_json:
        _print_json(report)
        return
    _table(
        f"Workflows of {report.email or 'deleted user'} ({report.user_id})",
        ["type", "workflow id", "run id", "status", "stage", "started", "closed"],
        [
            (r.workflow_type, r.workflow_id, r.run_id, r.status, r.stage, _when(r.start_time), _when(r.close_time))
            for r in report.workflows
        ],
    )
    if report.improvements:
        _table(
            "Improvements",
            ["improvement id", "stage", "error", "created", "finished"],
            [
                (
                    i.id,
                    i.stage,
                    f"{i.error_code}: {i.error_message}" if i.error_code else None,
                    _when(i.created_at),
                    _when(i.finished_at),
                )
                for i in report.improvements
            ],
        )


@app.command()
def show(
    workflow_id: Annotated[str, typer.Argument(help="A workflow id, e.g. cv-improvement-<improvement id>")],
    run_id: RunId = None,
    as_json: AsJson = False,
) -> None:
    """A run's steps, current details, and result or failure.

    Steps come from the history: activities and local activities with summary, attempts and the last failure,
    timers, signals, updates, patches and failed workflow tasks."""
    from ops.admin import describe_run

    report: RunReport = _run(lambda ops: describe_run(ops, workflow_id, run_id))
    if as_json:
        _print_json(report)
        return
    _fields(
        f"{report.workflow_type} {report.workflow_id}",
        [
            ("run id", report.run_id),
            ("status", report.status),
            ("task queue", report.task_queue),
            ("started", _when(report.start_time)),
            ("closed", _when(report.close_time)),
            ("events", report.history_length),
            *((name, value) for name, value in report.search_attributes.items()),
            ("summary", report.static_summary),
            ("current details", report.current_details),
        ],
    )
    _table(
        "Steps",
        ["event", "kind", "name", "summary", "status", "attempts", "failure"],
        [(s.event_id, s.kind, s.name, s.summary, s.status, s.attempts, s.failure) for s in report.steps],
    )
    if report.failure:
        out_print(f"[red]Failure:[/] {escape(report.failure)}")
    elif report.continued_as:
        out_print(f"Continued as new: run {report.continued_as}")
    elif report.result is not None:
        out_print("Result: " + escape(json.dumps(_plain(report.result), ensure_ascii=False)))


@app.command()
def retry(
    target: Annotated[str, typer.Argument(help="An improvement id, or the id of a failed or terminated workflow")],
    as_json: AsJson = False,
) -> None:
    """Run a failed, terminated or timed-out workflow again.

    Same workflow id, input, task queue and search attributes. For an improvement the row goes back to queued and
    the new run reserves a quota unit like any run."""
    from ops.admin import retry as retry_run

    result = _run(lambda ops: retry_run(ops, target))
    if as_json:
        _print_json(result)
        return
    out_print(
        f"Started {result.workflow_type} {result.workflow_id} again: run {result.run_id} "
        f"(the previous run {result.previous_run_id} {result.previous_status})."
    )


@app.command()
def replay(
    workflow_id: Annotated[str, typer.Argument(help="The workflow id whose history to replay")],
    run_id: RunId = None,
    as_json: AsJson = False,
) -> None:
    """Replay a run's history against this checkout's workflow code.

    Exit 0 when compatible; 1 with the nondeterminism error when deploying this code would break the run."""
    from ops.admin import replay as replay_run

    outcome = _run(lambda ops: replay_run(ops, workflow_id, run_id))
    if as_json:
        _print_json({**_plain(outcome), "compatible": outcome.compatible})
    else:
        (out_print if outcome.compatible else err_print)(escape(outcome.describe()))
    if not outcome.compatible:
        raise typer.Exit(1)


# --- quota --------------------------------------------------------------------------------------------------


def _print_quota(title: str, report: Any, as_json: bool) -> None:
    user, quota = report
    if as_json:
        _print_json({"user_id": user.id, "email": user.email, **_plain(quota)})
        return
    status = quota.status
    _fields(
        f"{title} {user.email}",
        [
            ("plan", f"{status.plan_name} ({status.plan_code})"),
            ("used this month", f"{status.used} of {status.limit}"),
            ("granted this month", quota.granted),
            ("resets on", status.resets_on.isoformat()),
        ],
    )


@quota_app.command("show")
def quota_show(user: User, as_json: AsJson = False) -> None:
    """The plan, units used this month, units granted, and the reset date."""
    from ops.admin import quota

    _print_quota("Quota of", _run(lambda ops: quota(ops, user)), as_json)


@quota_app.command("grant")
def quota_grant(
    user: User,
    units: Annotated[int, typer.Option(min=1, help="Extra improvements for this month")],
    reason: Annotated[str, typer.Option(help="Why, kept with the grant")] = "",
    as_json: AsJson = False,
) -> None:
    """Give a user extra improvements for the current month (they end with the month)."""
    from ops.admin import grant_quota

    _print_quota(f"Granted {units} to", _run(lambda ops: grant_quota(ops, user, units, reason)), as_json)


@quota_app.command("reset")
def quota_reset(user: User, as_json: AsJson = False) -> None:
    """Refund every unit consumed this month (kept as refunded rows); running improvements keep theirs."""
    from ops.admin import reset_quota

    report = _run(lambda ops: reset_quota(ops, user))
    _print_quota(f"Refunded {report[1].changed} for", report, as_json)


# --- subscriptions ------------------------------------------------------------------------------------------


@subscription_app.command("show")
def subscription_show(user: User, as_json: AsJson = False) -> None:
    """The `subscriptions` row next to the running workflow's `state` query."""
    from ops.admin import subscription

    report: SubscriptionReport = _run(lambda ops: subscription(ops, user))
    if as_json:
        _print_json(report)
        return
    p, s = report.projection, report.state
    names = [
        ("status", "status"),
        ("plan", "plan"),
        ("interval", "interval"),
        ("entitled plan", "entitled_plan"),
        ("customer", "customer_id"),
        ("subscription", "subscription_id"),
        ("period ends", "current_period_end"),
        ("cancel at period end", "cancel_at_period_end"),
        ("grace until", "grace_until"),
        ("renewals", "renewals"),
        ("events applied", "events_applied"),
    ]

    def cell(source: Any, name: str) -> Any:
        value = getattr(source, name, None) if source is not None else None
        if isinstance(value, datetime):
            return _when(value)
        return value.value if isinstance(value, Enum) else value

    _table(
        f"Subscription of {report.user.email}: {report.workflow_id} {report.workflow_status or 'never started'}",
        ["", "projection (PostgreSQL)", "workflow state"],
        [(label, cell(p, name), cell(s, name)) for label, name in names],
    )


@subscription_app.command("reconcile")
def subscription_reconcile(user: User, as_json: AsJson = False) -> None:
    """Make the user's SubscriptionWorkflow read the subscription at Stripe now and apply it."""
    from ops.admin import reconcile_subscription

    who, state = _run(lambda ops: reconcile_subscription(ops, user))
    if as_json:
        _print_json({"user_id": who.id, "email": who.email, "state": state})
        return
    out_print(
        f"Reconciled {who.email} with Stripe: {state.status.value}, plan {state.plan or 'free'}, entitled to "
        f"{state.entitled_plan}, period ends {_when(state.current_period_end)}, {state.renewals} renewal(s)."
    )
