"""Probes and introspection: /health, /ready, /status, /metrics.

/health never touches the pool or the disk, so it answers while every worker is busy. /ready
re-verifies the model files on each call; the hashes are cached by file size and mtime, so that is a
few stat() calls unless a file changed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from facecraft import __version__
from facecraft.api.deps import State
from facecraft.api.errors import error_body
from facecraft.api.schemas import HealthResponse, ReadyResponse
from facecraft.api.security import api_key_scheme
from facecraft.api.state import AppState, pipeline_providers
from facecraft.models.registry import MODELS
from facecraft.models.verify import ModelStatus, verify_models

router = APIRouter(tags=["health"])


async def _model_statuses(state: AppState) -> list[ModelStatus]:
    return await asyncio.to_thread(verify_models, state.settings.models_dir)


@router.get("/health", response_model=HealthResponse)
async def health() -> HealthResponse:
    """Liveness: the process is up and its event loop is free."""
    return HealthResponse()


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"description": "Models loading, missing, corrupt or failed to load.", "model": ReadyResponse}},
)
async def ready(state: State) -> Any:
    """Readiness: 200 only when every model is present, checksum-verified and loaded."""
    reason: str | None = None
    code = "model_unavailable"
    if state.runner.remote:  # queue mode: this replica has no models; it needs Redis
        problem = await state.runner.ready_reason()
        if problem is None:
            return ReadyResponse(ready=True, models_loaded=False)
        code, reason = problem
    elif state.pipeline is None:
        if state.load_error is None:
            reason, code = "models are loading", "models_loading"
        else:
            reason = state.load_error.message
    else:
        bad = [s for s in await _model_statuses(state) if not s.ok]
        if bad:
            reason = "; ".join(f"{s.name}: {'checksum mismatch' if s.present else 'missing'}" for s in bad)
    if reason is None:
        return ReadyResponse(ready=True, models_loaded=True)
    body = {
        "ready": False,
        "models_loaded": state.pipeline is not None,
        "reason": reason,
        **error_body(code, reason),
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


@router.get("/status", dependencies=[Depends(api_key_scheme)])
async def status(state: State) -> dict[str, Any]:
    """Version, device and providers in use, models, counters, latency percentiles, queue."""
    statuses = {s.name: s for s in await _model_statuses(state)}
    loaded = state.pipeline is not None
    providers = pipeline_providers(state.pipeline)
    # Only one of the two ISNet files is loaded: the one FACECRAFT_MATTING_PRECISION picked.
    in_use = getattr(state.pipeline, "isnet_model", None)
    unused = {"isnet", "isnet_int8"} - {in_use} if in_use else set()
    models = {
        spec.name: {
            "loaded": loaded and statuses[spec.name].ok and spec.name not in unused,
            "type": spec.purpose,
            "sha256": spec.sha256,
            "present": statuses[spec.name].present,
            "sha256_ok": statuses[spec.name].sha256_ok,
        }
        for spec in MODELS
    }
    metrics = state.metrics
    failed = sum(metrics.failed.values())
    total = metrics.processed + failed
    overall = "operational" if loaded and all(m["loaded"] or n in unused for n, m in models.items()) else "degraded"
    if not loaded and state.load_error is None:
        overall = "starting"
    scale = await state.runner.scale_status()
    if scale is not None:  # queue mode: the models live in the workers
        overall = "operational" if scale.get("redis") == "ok" and scale.get("workers_alive") else "degraded"
    return {
        "status": overall,
        "version": __version__,
        "uptime_seconds": int(time.time() - state.started_at),
        "ready_after_seconds": round(state.ready_at - state.started_at, 1) if state.ready_at else None,
        "device": {
            "type": "cuda" if providers[:1] == ["CUDAExecutionProvider"] else ("cpu" if providers else None),
            "requested": state.settings.device.value,
            "providers": providers,
        },
        "models": models,
        "statistics": {
            "total_processed": total,
            "succeeded": metrics.processed,
            "failed": dict(metrics.failed),
            "success_rate": round(metrics.processed / total, 4) if total else 0.0,
            "avg_processing_ms": metrics.mean_ms(),
            "latency_ms": metrics.percentiles(),
        },
        "queue": {
            "depth": state.pool.queued,
            "running": state.pool.running,
            "max_concurrent_jobs": state.pool.workers,
            "max_queued_jobs": state.pool.max_queued,
        },
        "scale": scale or {"mode": "embedded"},
    }


@router.get("/metrics", response_class=Response, dependencies=[Depends(api_key_scheme)])
async def metrics(state: State) -> Response:
    """Prometheus exposition format."""
    await state.runner.scale_status()  # queue mode: refresh the figures the scale collector reports
    return Response(state.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")
