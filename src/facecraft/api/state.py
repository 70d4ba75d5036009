"""What one running app holds: settings, the pipeline (once loaded), the pool, the store, counters.

The pipeline is built in a background thread at start-up so /health answers at once and /ready says
503 "models loading" until the models are verified, loaded and warmed up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from facecraft.api.metrics import ApiMetrics, ScaleCollector
from facecraft.config import Settings
from facecraft.errors import FacecraftError, ModelsLoadingError, ModelUnavailableError
from facecraft.jobs.runner import EmbeddedRunner, Runner
from facecraft.jobs.store import FileJobStore, JobStore
from facecraft.pipeline.portrait import PortraitPipeline
from facecraft.runtime.pool import WorkerPool

log = logging.getLogger(__name__)

PipelineFactory = Callable[[Settings], PortraitPipeline]


def default_pipeline_factory(settings: Settings) -> PortraitPipeline:
    from facecraft.pipeline.factory import build_pipeline  # noqa: PLC0415  (heavy imports: load lazily)

    return build_pipeline(settings)


def pipeline_providers(pipeline: PortraitPipeline | None) -> list[str]:
    """ONNX Runtime providers the pipeline really uses (empty when unknown or not loaded)."""
    return list(pipeline.providers) if pipeline is not None else []


class AppState:
    def __init__(self, settings: Settings, pipeline_factory: PipelineFactory | None) -> None:
        self.settings = settings
        self.pipeline_factory = pipeline_factory or default_pipeline_factory
        self.pipeline: PortraitPipeline | None = None
        self.load_error: FacecraftError | None = None
        self.started_at = time.time()
        self.ready_at: float | None = None
        self.metrics = ApiMetrics()
        self.store: JobStore = FileJobStore(settings.output_dir, settings.cleanup_age_hours * 3600)
        self.pool = WorkerPool(settings.max_concurrent_jobs, settings.max_queued_jobs)
        self.runner: Runner
        if settings.queue_url:  # queue mode: no models here, work goes to `facecraft worker` processes
            from facecraft.jobs.queue.producer import QueueRunner  # noqa: PLC0415  (queue mode only)

            queue_runner = QueueRunner(settings)
            self.store = queue_runner.store
            self.metrics.registry.register(ScaleCollector(lambda: queue_runner.snapshot))
            self.runner = queue_runner
        else:
            self.runner = EmbeddedRunner(settings, self.pool, self.store, self.require_pipeline)
        self._loader: threading.Thread | None = None

    def start_loading(self) -> None:
        if self.runner.remote:
            return
        self._loader = threading.Thread(target=self._load, name="facecraft-model-loader", daemon=True)
        self._loader.start()

    def _load(self) -> None:
        start = time.perf_counter()
        try:
            pipeline = self.pipeline_factory(self.settings)
            pipeline.warm_up()
        except FacecraftError as exc:
            self.load_error = exc
            log.error("models failed to load: %s", exc.message)
            return
        except Exception as exc:  # a broken install must show up in /ready, not kill the server
            self.load_error = ModelUnavailableError("The models could not be loaded; see the server log.")
            log.exception("models failed to load", exc_info=exc)
            return
        self.pipeline = pipeline
        self.ready_at = time.time()
        log.info("ready: models loaded and warmed up in %.1f s", time.perf_counter() - start)

    def require_pipeline(self) -> PortraitPipeline:
        if self.pipeline is not None:
            return self.pipeline
        if self.load_error is not None:
            raise ModelUnavailableError(self.load_error.message, retry_after=30)
        raise ModelsLoadingError("The models are still loading; retry shortly.", retry_after=5)
