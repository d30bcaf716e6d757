"""Custom search attributes operators filter on in the Temporal UI (registered by the dev launcher/compose)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

from models.workflow_io import SA_CV_PLAN, SA_CV_STAGE, SA_CV_SUBSCRIPTION_STATUS, SA_CV_USER_ID

CV_USER_ID = SearchAttributeKey.for_keyword(SA_CV_USER_ID)
CV_STAGE = SearchAttributeKey.for_keyword(SA_CV_STAGE)
CV_PLAN = SearchAttributeKey.for_keyword(SA_CV_PLAN)
CV_SUBSCRIPTION_STATUS = SearchAttributeKey.for_keyword(SA_CV_SUBSCRIPTION_STATUS)
