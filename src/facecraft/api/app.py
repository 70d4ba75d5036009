"""The FastAPI app factory: `uvicorn facecraft.api.app:create_app --factory`.

Start-up builds the pipeline in a background thread (so /health answers at once and /ready is 503
until it is loaded), removes leftovers of a previous run, and starts the periodic cleanup of expired
results. Shutdown waits for the jobs already accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from facecraft import __version__
from facecraft.api import routes_async, routes_health, routes_jobs, routes_process, routes_sheet, routes_web
from facecraft.api.errors import install_error_handlers
from facecraft.api.logs import RequestLogMiddleware
from facecraft.api.security import install_security
from facecraft.api.state import AppState, PipelineFactory
from facecraft.api.uploads import BodyLimitMiddleware
from facecraft.config import Settings, get_settings
from facecraft.jobs.cleanup import remove_expired, remove_leftovers, run_periodically
from facecraft.logs import configure_logging, quiet_native_logs

log = logging.getLogger(__name__)

DESCRIPTION = """Portrait processing: send a photo of a person, get a centred, levelled headshot with the
background removed, as PNG (alpha), size-capped JPEG or WebP.

Errors have the shape `{"error": {"code", "message"}, "detail"}`; `code` is stable.
When the server sets FACECRAFT_API_KEY, send it in header `X-API-Key` (all but /health and /ready;
the docs, this schema and the web page at / stay readable without it).
Presets (GET /api/v1/presets) name common ID-photo sizes: send `preset=passport` and the like."""


def create_app(settings: Settings | None = None, pipeline_factory: PipelineFactory | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    quiet_native_logs(settings.log_level)
    state = AppState(settings, pipeline_factory)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        removed = await asyncio.to_thread(remove_leftovers, settings.upload_dir, settings.output_dir)
        removed += await asyncio.to_thread(remove_expired, state.store)
        if removed:
            log.info("start-up cleanup removed %d leftover files or expired jobs", removed)
        state.start_loading()
        cleaner = asyncio.create_task(run_periodically(state.store, settings.cleanup_interval_minutes * 60))
        try:
            yield
        finally:
            cleaner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cleaner
            await state.runner.aclose()
            await asyncio.to_thread(state.pool.shutdown)

    app = FastAPI(
        title="Facecraft API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
        # No 307 from /api/v1/jobs/<junk>/ to POST-only /api/v1/jobs: odd paths get a plain 404.
        redirect_slashes=False,
    )
    app.state.facecraft = state
    install_error_handlers(app)
    app.include_router(routes_health.router)
    app.include_router(routes_process.router)
    app.include_router(routes_sheet.router)
    app.include_router(routes_async.router)
    app.include_router(routes_jobs.router)
    routes_web.install_web(app)  # the page at / (and /static), GET /api/v1/presets

    # Added innermost first (after install_error_handlers' UnexpectedErrorMiddleware): body limit, then
    # key check, then CORS, then the request log outermost.
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    install_security(app, settings)
    app.add_middleware(RequestLogMiddleware, metrics=state.metrics)
    return app
