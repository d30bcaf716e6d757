"""Logs: JSON lines in production (ENV=production or LOG_FORMAT=json), readable lines in development.

structlog renders every record of the standard `logging` module (ours, Temporal's, uvicorn's) and of structlog's
own loggers. Each line carries the request, user, workflow, run and activity it is about (from `ops.context` and
from the `extra` Temporal's workflow and activity loggers add), and the trace id when the work is traced."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import IO, Any

import opentelemetry.trace
import structlog
import temporalio.activity
import temporalio.workflow
from structlog.typing import EventDict, Processor, WrappedLogger

from models.settings import Environment, Settings
from ops.context import current_context

_configured = False


def use_json(settings: Settings) -> bool:
    if settings.log_format is not None:
        return settings.log_format == "json"
    return settings.env is Environment.PRODUCTION


def context_fields(record: logging.LogRecord | None = None) -> dict[str, str]:
    """request_id, user_id, workflow_id, run_id, activity and trace_id, for a record logged now."""
    context = current_context()
    fields = context.fields() if context else {}
    # Temporal's loggers know their workflow and activity even where no interceptor bound them.
    workflow = getattr(record, "temporal_workflow", None)
    if isinstance(workflow, Mapping):
        fields.update(_known(workflow_id=workflow.get("workflow_id"), run_id=workflow.get("run_id")))
    activity = getattr(record, "temporal_activity", None)
    if isinstance(activity, Mapping):
        fields.update(
            _known(
                workflow_id=activity.get("workflow_id"),
                run_id=activity.get("workflow_run_id"),
                activity=activity.get("activity_type"),
            )
        )
    span = opentelemetry.trace.get_current_span().get_span_context()
    if span.is_valid:
        fields["trace_id"] = opentelemetry.trace.format_trace_id(span.trace_id)
    return fields


def _known(**values: Any) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value}


class ContextFilter(logging.Filter):
    """Sets the context fields as attributes of each record a handler emits (never overwriting an `extra`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in context_fields(record).items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


def _add_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    record = event_dict.get("_record")
    for name, value in context_fields(record if isinstance(record, logging.LogRecord) else None).items():
        event_dict.setdefault(name, value)
    return event_dict


_TIMESTAMP = structlog.processors.TimeStamper(fmt="iso", utc=True)
# What a record of the standard library gets before rendering; structlog's own loggers run the same steps.
_FOREIGN_PRE_CHAIN: list[Processor] = [structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, _TIMESTAMP]


def formatter(*, json_format: bool, colors: bool = False) -> structlog.stdlib.ProcessorFormatter:
    rendering: list[Processor]
    if json_format:
        rendering = [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ]
    else:
        # Plain tracebacks: structlog's default rich formatter prints every frame's local variables, keys included.
        rendering = [structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_FOREIGN_PRE_CHAIN,
        processors=[_add_context, structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time, like logging's last-resort handler."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        pass


def log_handler(*, json_format: bool, stream: IO[str] | None = None) -> logging.Handler:
    """A handler rendering records as configured here; to stderr unless a stream is given."""
    handler: logging.Handler
    if stream is None:
        handler = _StderrHandler()
        colors = sys.stderr.isatty()
    else:
        handler = logging.StreamHandler(stream)
        colors = False
    handler.setFormatter(formatter(json_format=json_format, colors=colors and not json_format))
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(settings: Settings) -> None:
    """Once per process (API, worker): the root logger writes through structlog to stderr, replacing its handlers."""
    global _configured
    if _configured:
        return
    json_format = use_json(settings)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    handler = log_handler(json_format=json_format)
    # On the handler too: loggers given a level of their own (`cvimprover`) still obey LOG_LEVEL.
    handler.setLevel(settings.log_level)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn's own lines go through the same rendering; its access line is replaced by ours, which has the ids.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # The ids are fields of the line: no need to repeat them as a dict at the end of every message.
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_FOREIGN_PRE_CHAIN,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _configured = True
