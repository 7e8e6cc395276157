"""Result references on the wire and the ETag of a job whose body carries a signed link."""

from __future__ import annotations

from dataclasses import replace

from factories import new_job
from joblane.api.present_artifact import job_etag, result_body
from joblane.core.artifact import RESULT_NAME, Artifact, LinkPolicy, stored_reference
from joblane.core.job import Job, Progress
from joblane.core.states import JobState
from joblane.service.artifacts import LinkSigner

SIGNER = LinkSigner(b"k" * 32, LinkPolicy(ttl=3600))
ARTIFACT = Artifact("job_x", RESULT_NAME, 1, "p", 10, "cd" * 32, "application/json", 0.0)


def job(result: object, state: JobState = JobState.COMPLETED) -> Job:
    spec = new_job()
    return Job(
        id=spec.id,
        tenant_id=spec.tenant_id,
        type=spec.type,
        state=state,
        version=4,
        input={},
        metadata={},
        priority=0,
        attempt=1,
        max_attempts=3,
        timeout=60.0,
        progress=Progress(),
        result=result,
        error=None,
        batch_id=None,
        idempotency_key=None,
        callback_url=None,
        created_at=0.0,
        updated_at=0.0,
        scheduled_at=0.0,
    )


def test_an_inline_result_is_unchanged_and_its_etag_is_the_version() -> None:
    inline = job({"a": 1})
    assert result_body(inline.id, inline.result, SIGNER, 100.0) == {"a": 1}
    assert job_etag(inline, SIGNER, 100.0) == '"4"'


def test_a_reference_gets_a_link_and_the_etag_its_step() -> None:
    with_file = job(stored_reference(ARTIFACT, "{"))

    body = result_body(with_file.id, with_file.result, SIGNER, 1000.0)

    assert body["preview"] == "{"
    assert body["artifact"]["url"].startswith(f"/v1/artifacts/{with_file.id}/_result?attempt=1&")
    assert body["artifact"]["expires_at"] == "1970-01-01T01:30:00.000Z"  # step 1 ends at 1800
    assert job_etag(with_file, SIGNER, 1000.0) == job_etag(with_file, SIGNER, 1799.0) == '"4.1"'
    assert job_etag(with_file, SIGNER, 1800.0) == '"4.2"'
    assert result_body(with_file.id, with_file.result, SIGNER, 1799.0) == body


def test_without_a_signer_the_url_is_the_result_endpoint() -> None:
    with_file = job(stored_reference(ARTIFACT, ""))
    body = result_body(with_file.id, with_file.result, None, 0.0)
    assert body["artifact"]["url"] == f"/v1/jobs/{with_file.id}/result"
    assert body["artifact"]["expires_at"] is None
    assert job_etag(with_file, None, 0.0) == '"4"'
    assert job_etag(replace(with_file, state=JobState.FAILED), SIGNER, 0.0) == '"4"'
