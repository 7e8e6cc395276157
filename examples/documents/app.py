"""The documents app: `joblane serve examples.documents.app:app --profile wickson`."""

from __future__ import annotations

from examples.documents.processing import (
    RESOLUTIONS,
    DocumentInput,
    DocumentOutput,
    process_document,
)
from joblane import Joblane

app = Joblane("documents")

app.job_type(
    "document",
    input=DocumentInput,
    output=DocumentOutput,
    max_attempts=2,
    timeout=120.0,
    resolutions=RESOLUTIONS,
)(process_document)

__all__ = ["app"]
