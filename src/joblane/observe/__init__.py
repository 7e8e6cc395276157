"""Observability: metrics (Prometheus), structured logs with request and job context, a job's
own log lines, and optional tracing (OpenTelemetry). docs/observability.md is the design."""
