"""Every workflow the worker runs: the worker, the replay tests and `cvimprover ops replay` use this one list."""

from __future__ import annotations

from workflows.account_deletion import AccountDeletionWorkflow
from workflows.cv_improvement import CvImprovementWorkflow
from workflows.cv_render import CvRenderWorkflow
from workflows.subscription import SubscriptionWorkflow

WORKFLOWS: tuple[type, ...] = (CvImprovementWorkflow, CvRenderWorkflow, AccountDeletionWorkflow, SubscriptionWorkflow)
