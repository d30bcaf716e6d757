"""Fixtures for the PDF rendering tests."""

from __future__ import annotations

import pytest

from models.resume import Resume
from tests.rendering.sample_cvs import REALISTIC_CV


@pytest.fixture
def realistic_resume() -> Resume:
    """Four jobs and every section filled: two pages in every theme and paper size."""
    return Resume.model_validate(REALISTIC_CV)
