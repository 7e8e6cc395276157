"""The bundled example job types that `joblane serve` runs when given no app.

Each module holds one job type: its input/output models, its handler and the resolution
hints of its error codes. They are registered here so the modules never import the app.
"""

from __future__ import annotations

from joblane.app import Joblane
from joblane.examples import analytics, enrichment, extraction, json_format, sleep

app = Joblane("examples")

app.job_type(
    "enrichment",
    input=enrichment.EnrichmentInput,
    output=enrichment.EnrichmentOutput,
    max_attempts=3,
    timeout=600.0,
)(enrichment.enrichment)

app.job_type(
    "extraction",
    input=extraction.ExtractionInput,
    output=extraction.ExtractionOutput,
    max_attempts=2,
    timeout=60.0,
    resolutions=extraction.RESOLUTIONS,
)(extraction.extraction)

app.job_type(
    "json_format",
    input=json_format.JsonFormatInput,
    output=json_format.JsonFormatOutput,
    max_attempts=2,
    timeout=60.0,
    resolutions=json_format.RESOLUTIONS,
)(json_format.json_format)

app.job_type(
    "analytics_query",
    input=analytics.AnalyticsQueryInput,
    output=analytics.AnalyticsQueryOutput,
    max_attempts=2,
    timeout=300.0,
    resolutions=analytics.RESOLUTIONS,
)(analytics.analytics_query)

app.job_type(
    "sleep",
    input=sleep.SleepInput,
    output=sleep.SleepOutput,
    max_attempts=3,
    timeout=3660.0,  # the longest allowed sleep plus a minute
    resolutions=sleep.RESOLUTIONS,
)(sleep.sleep)

__all__ = ["app"]
