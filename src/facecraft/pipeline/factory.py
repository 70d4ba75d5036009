"""Build a ready PortraitPipeline from the settings: verify every model, then load it once."""

from __future__ import annotations

import logging
import platform

from facecraft.config import Precision, Settings
from facecraft.models.isnet import IsnetMatter
from facecraft.models.registry import get_model, model_path
from facecraft.models.verify import require_models
from facecraft.pipeline.detect import FaceDetector
from facecraft.pipeline.landmarks import EyeLocator
from facecraft.pipeline.matte import PersonMatter
from facecraft.pipeline.portrait import PortraitPipeline
from facecraft.pipeline.restore import BuiltinRestorer, FaceRestorer, OnnxFaceRestorer
from facecraft.runtime.device import confirm_device, resolve_providers

log = logging.getLogger(__name__)


def build_pipeline(settings: Settings) -> PortraitPipeline:
    """Raises ModelUnavailableError when a model is missing, altered or cannot be loaded."""
    if settings.predictor_path is not None:
        log.warning("FACECRAFT_PREDICTOR_PATH is ignored: eyes come from the bundled MediaPipe face mesh")
    require_models(settings.models_dir)
    providers, expected_device = resolve_providers(settings.device)
    isnet_name = isnet_model_name(settings.matting_precision, expected_device)
    isnet_file = model_path(get_model(isnet_name), settings.models_dir)
    assert isnet_file is not None  # a models-dir model always has a path
    isnet = IsnetMatter(isnet_file, providers, settings.matting_size, settings.inference_threads)
    confirm_device(settings.device, expected_device, isnet.device)
    log.info("background removal: %s (FACECRAFT_MATTING_PRECISION=%s)", isnet_file.name, settings.matting_precision)
    restorer: FaceRestorer = BuiltinRestorer()
    if settings.effective_restorer_path is not None:
        restorer = OnnxFaceRestorer.load(settings.effective_restorer_path, providers)
        log.info("face restoration: user-supplied ONNX restorer")
    pipeline = PortraitPipeline(
        FaceDetector(),
        EyeLocator(),
        PersonMatter(isnet, isnet.size),
        restorer,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        providers=tuple(isnet.providers_in_use),
        isnet_model=isnet_name,
    )
    return pipeline


def isnet_model_name(precision: Precision, device: str, machine: str | None = None) -> str:
    """The registry name of the ISNet file to load: int8 is measured on x86-64 CPUs only (models/isnet_int8.py)."""
    if precision is Precision.AUTO:
        x86 = (machine or platform.machine()).lower() in ("x86_64", "amd64")
        precision = Precision.INT8 if device == "cpu" and x86 else Precision.FP32
    return "isnet_int8" if precision is Precision.INT8 else "isnet"
