"""The enrichment app: `joblane serve examples.enrichment.app:app --profile walkerst`.

The bundled `enrichment` logic, one transaction at a time, with the job's progress counting
transactions (`total` received, `processed` so far, `failed` unusable) and an optional pause per
transaction so that a demo can watch a job being processed."""

from __future__ import annotations

import asyncio

from pydantic import Field

from joblane import JobContext, Joblane
from joblane.examples.enrichment import (
    EnrichedTransaction,
    EnrichmentInput,
    EnrichmentOutput,
    FailedTransaction,
    enrich_one,
    summarise,
)

app = Joblane("enrichment")


class PacedEnrichmentInput(EnrichmentInput):
    pace_ms: int = Field(0, ge=0, le=1000, description="milliseconds to wait per transaction")


@app.job_type("enrichment", input=PacedEnrichmentInput, output=EnrichmentOutput, timeout=600.0)
async def enrichment(inp: PacedEnrichmentInput, ctx: JobContext) -> EnrichmentOutput:
    """Categorise bank transactions and name their merchants, counting them as it goes."""
    total = len(inp.transactions)
    enriched: list[EnrichedTransaction] = []
    failed: list[FailedTransaction] = []
    ctx.progress(processed=0, total=total, failed=0, message=f"received {total} transactions")
    for index, transaction in enumerate(inp.transactions, start=1):
        ctx.check_cancelled()
        outcome = enrich_one(transaction)
        if isinstance(outcome, FailedTransaction):
            failed.append(outcome)
        else:
            enriched.append(outcome)
        ctx.progress(processed=index, failed=len(failed))
        if inp.pace_ms:
            await asyncio.sleep(inp.pace_ms / 1000)
    summary = summarise(enriched, total)
    ctx.progress(message=f"categorised {summary.categorised} of {total} transactions")
    return EnrichmentOutput(transactions=enriched, failed=failed, summary=summary)


__all__ = ["app"]
