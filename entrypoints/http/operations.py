"""Operational endpoints beside /healthz: readiness (`/readyz`) and Prometheus metrics
(`/metrics`). Neither needs a key: probes and scrapers run inside the cluster's network."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from litestar import Request, get
from litestar.datastructures import State
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH
from lading.entrypoints.http.envelope import Envelope, Wire, ok
from lading.entrypoints.http.errors import ApiError, error_responses, status_for
from lading.entrypoints.http.services import Svc, blocking

JOB_METRICS = "job_metrics"  # the app-state key of the registry with the read-model gauges


class NotReady(ApiError):
    code = "NOT_READY"


class ReadinessReport(Wire):
    status: str
    checks: dict[str, str]


@get("/readyz", operation_id="readiness", opt={EXCLUDE_FROM_AUTH: True}, tags=["health"],
     security=[{}], responses={503: error_responses(503, keyed=False)[503]},
     summary="Readiness: the event store, destination and blob storage answer (503 names the failed)")
async def readiness(request: Request, services: Svc) -> Envelope[ReadinessReport]:
    checks = await blocking(services.lading.readiness.report)
    failed = sorted(name for name, answer in checks.items() if answer != "ok")
    if failed:
        raise NotReady(f"not ready: {', '.join(failed)} unreachable", details={"checks": checks})
    return ok(request, ReadinessReport(status="ready", checks=checks))


class JobMetrics:
    """Prometheus gauges computed from the job read models when scraped: the cluster's state as
    every node sees it (the read models are shared), not counts kept by one process."""

    def __init__(self, read_models: Any) -> None:
        self.read_models = read_models

    def collect(self) -> Iterator[GaugeMetricFamily]:
        totals = self.read_models.state_totals()
        jobs = GaugeMetricFamily("lading_jobs", "Import jobs by state", labels=["state"])
        rows = GaugeMetricFamily("lading_job_rows", "Rows of the existing jobs: read (validated),"
                                 " valid, invalid (rejected) and merged", labels=["kind"])
        sums = {"read": 0, "valid": 0, "invalid": 0, "merged": 0}
        by_state = {state: count for state, count, *_ in totals}
        for state, count, read, valid, invalid, merged in totals:
            jobs.add_metric([state], count)
            for kind, value in zip(sums, (read, valid, invalid, merged)):
                sums[kind] += value
        for kind, value in sums.items():
            rows.add_metric([kind], value)
        yield jobs
        yield rows
        yield GaugeMetricFamily("lading_queue_depth", "Jobs queued, waiting for a worker",
                                value=by_state.get("queued", 0))
        yield GaugeMetricFamily("lading_jobs_active", "Jobs queued or running",
                                value=by_state.get("queued", 0) + by_state.get("running", 0))


def job_metrics_registry(read_models: Any) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobMetrics(read_models))  # type: ignore[arg-type]
    return registry


class RequestMetricsMiddleware(PrometheusMiddleware):
    """Litestar's request metrics, also right for refusals raised by the middleware inside it
    (401 from authentication, 429 from the rate limit): those exceptions leave this middleware
    before the app's exception handler answers, so Litestar's would count them as 200."""

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app, config)
        inner = self.app

        async def recording_refusals(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await inner(scope, receive, send)
            except Exception as exc:
                span = getattr(send, "request_span", None)
                if span is not None:
                    span["status_code"] = status_for(exc)
                    span["duration"] = time.perf_counter() - span["start_time"]
                raise

        self.app = recording_refusals

    def _get_wrapped_send(self, send: Send, request_span: dict[str, float]) -> Callable:
        wrapped = super()._get_wrapped_send(send, request_span)
        wrapped.request_span = request_span  # type: ignore[attr-defined]
        return wrapped


def prometheus_config() -> PrometheusConfig:
    """Request count and latency per route template (not per job id), method and status."""
    return PrometheusConfig(app_name="lading", prefix="lading_http", group_path=True,
                            exclude=["^/metrics$"], middleware_class=RequestMetricsMiddleware)


class MetricsController(PrometheusController):
    path = "/metrics"
    tags = ["health"]

    @get(operation_id="metrics", opt={EXCLUDE_FROM_AUTH: True}, security=[{}], media_type="text/plain",
         summary="Prometheus metrics: request latency, jobs by state, rows, queue depth")
    async def get(self, state: State) -> Response:  # type: ignore[override]
        process = generate_latest(REGISTRY)  # request latency and the process's own metrics
        jobs = await blocking(generate_latest, state[JOB_METRICS])
        return Response(process + jobs, status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
