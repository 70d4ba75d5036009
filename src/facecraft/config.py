"""All configuration in one pydantic-settings class.

Every field is read from an environment variable named FACECRAFT_<FIELD> (case-insensitive) or from a
`.env` file in the working directory. An invalid value stops start-up with a message naming the variable.
The environment table in docs/configuration.md is generated from this class (scripts/gen_readme_tables.py); a test
fails when the two disagree, so the `description` of each field is user documentation.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Device(StrEnum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


class MattingMode(StrEnum):
    QUALITY = "quality"  # ISNet on the person crop, limited to the selfie-segmentation person mask
    FAST = "fast"  # selfie-segmentation person mask refined with a guided filter


class Precision(StrEnum):
    AUTO = "auto"  # int8 on an x86-64 CPU, fp32 elsewhere (GPU, arm64: not measured in int8)
    INT8 = "int8"
    FP32 = "fp32"


class FacePolicy(StrEnum):
    LARGEST = "largest"
    REJECT = "reject"


class OutputFormat(StrEnum):
    PNG = "png"
    JPG = "jpg"
    WEBP = "webp"


class Role(StrEnum):
    ALL = "all"
    API = "api"
    WORKER = "worker"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    """Facecraft settings; see the README table for every variable."""

    model_config = SettingsConfigDict(
        env_prefix="FACECRAFT_",
        env_file=".env",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    # --- server -------------------------------------------------------------------------------
    host: str = Field("0.0.0.0", description="Address `facecraft serve` binds to.")  # noqa: S104
    port: int = Field(8000, ge=1, le=65535, description="Port `facecraft serve` listens on.")
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Uvicorn worker processes. Each loads its own models (~0.5 GB RAM each); "
        "prefer MAX_CONCURRENT_JOBS for parallelism inside one process.",
    )
    debug: bool = Field(False, description="Auto-reload on code changes (development only).")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    log_format: LogFormat = Field(LogFormat.TEXT, description="`text` for people, `json` for log shippers.")

    # --- models and device --------------------------------------------------------------------
    device: Device = Field(
        Device.AUTO,
        description="`auto` uses CUDA when ONNX Runtime can, else CPU (logged); `cpu`; `cuda` (fails start-up "
        "when CUDA is unavailable).",
    )
    models_dir: Path = Field(Path("models"), description="Where the bundled model files live (/app/models in images).")
    inference_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="Threads per ONNX Runtime inference; 0 = one per CPU core, shared by workers.",
    )
    matting_mode: MattingMode = Field(
        MattingMode.QUALITY,
        description="Default background removal: `quality` (ISNet limited to the person mask) or `fast` "
        "(person mask refined with a guided filter).",
    )
    matting_size: int = Field(
        448,
        ge=256,
        le=1024,
        multiple_of=32,
        description="ISNet input size for the person crop (multiple of 32); see docs/pipeline.md.",
    )
    matting_precision: Precision = Field(
        Precision.AUTO,
        description="ISNet's arithmetic: `int8` (about twice as fast on CPU, quantized at build time), `fp32`, or "
        "`auto` (int8 on an x86-64 CPU, fp32 on a GPU or arm64).",
    )
    restorer_path: Path | None = Field(
        None,
        description="Optional user-supplied ONNX face restorer (GFPGAN/CodeFormer-style, 1x3x512x512 in and "
        "out, RGB in [-1, 1]). Unset: the built-in non-neural restoration is used.",
    )
    codeformer_path: Path | None = Field(
        None,
        description="Original name kept for compatibility: used as RESTORER_PATH when that is unset. Must be an "
        ".onnx file (PyTorch .pth weights cannot run without torch).",
    )
    predictor_path: Path | None = Field(
        None,
        description="Original name kept for compatibility; ignored with a warning (the dlib 68-point predictor "
        "is replaced by the bundled MediaPipe face mesh).",
    )

    # --- processing defaults (used when a request leaves an option out) -----------------------
    default_width: int = Field(648, ge=16, le=4096, description="Output width in pixels.")
    default_height: int = Field(648, ge=16, le=4096, description="Output height in pixels.")
    default_background_r: int = Field(240, ge=0, le=255, description="Background red (0-255).")
    default_background_g: int = Field(240, ge=0, le=255, description="Background green (0-255).")
    default_background_b: int = Field(240, ge=0, le=255, description="Background blue (0-255).")
    default_face_margin: float = Field(
        0.3, ge=0.0, le=1.0, description="Space around the face as a fraction of its size, extra on top."
    )
    default_oval_mask: bool = Field(True, description="Apply the feathered oval mask.")
    default_enhance_face: bool = Field(True, description="Restore detail in the face region.")
    default_enhance_fidelity: float = Field(
        0.7, ge=0.0, le=1.0, description="0 = strongest restoration, 1 = closest to the input."
    )
    default_enhance_photo: bool = Field(
        True,
        description="Exposure, white balance, local contrast and sharpening, measured on the subject only.",
    )
    default_output_format: OutputFormat = Field(OutputFormat.PNG, description="`png`, `jpg` or `webp`.")
    default_max_kb: int = Field(
        99, ge=5, le=10240, description="JPEG size cap in KB (99 fits Active Directory thumbnailPhoto)."
    )
    face_policy: FacePolicy = Field(
        FacePolicy.LARGEST, description="With several faces: `largest` picks the biggest, `reject` fails."
    )

    # --- storage and limits -------------------------------------------------------------------
    upload_dir: Path = Field(Path("uploads"), description="Temporary uploads (/app/uploads in images).")
    output_dir: Path = Field(Path("processed"), description="Results kept for download (/app/processed in images).")
    max_upload_size_mb: float = Field(20, gt=0, le=1024, description="Largest accepted upload per file, in MB.")
    max_image_pixels: int = Field(
        50_000_000,
        ge=10_000,
        le=500_000_000,
        description="Largest accepted image in pixels (width x height); 50 million fits a 48 MP phone photo.",
    )
    cleanup_age_hours: float = Field(
        24, gt=0, le=24 * 365, description="Results older than this are deleted while the server runs."
    )
    cleanup_interval_minutes: float = Field(10, gt=0, le=1440, description="How often expired results are removed.")
    max_concurrent_jobs: int = Field(
        2, ge=1, le=64, description="Photos processed at once (worker threads). Default 2 suits a 2-core box."
    )
    max_queued_jobs: int = Field(
        8, ge=0, le=10_000, description="Photos allowed to wait for a worker; beyond this requests get 429."
    )
    batch_max_files: int = Field(50, ge=1, le=1000, description="Most files in one batch request.")

    # --- scale-out (queue mode) -----------------------------------------------------------------
    queue_url: str = Field(
        "",
        description="Empty: one process. A Redis URL (`redis://redis:6379/0`): API replicas and workers share "
        "jobs through a queue on that DB, data in the next one. See docs/scaling.md.",
    )
    role: Role = Field(
        Role.ALL,
        description="Queue mode only: `api` (HTTP only, no models), `worker` (`facecraft serve` runs the worker) "
        "or `all` (the API plus one worker process beside it).",
    )
    worker_concurrency: int = Field(
        1, ge=1, le=64, description="Jobs one `facecraft worker` process runs at once (one inference thread each)."
    )
    result_ttl_seconds: int = Field(
        3600,
        ge=1,
        le=30 * 86400,
        description="Queue mode: how long results and job status stay in Redis (uploads keep at most 15 min).",
    )
    queue_max_depth: int = Field(
        100, ge=1, le=1_000_000, description="Queue mode: jobs allowed to wait; beyond this requests get 429."
    )
    job_attempts: int = Field(
        3,
        ge=1,
        le=20,
        description="Queue mode: how often a job may start; a photo that kills its worker each time then fails "
        "with `worker_crashed`.",
    )
    job_timeout_seconds: float = Field(
        120, gt=0, le=3600, description="Queue mode: how long /process waits for a worker before 504 `job_timeout`."
    )
    queue_heartbeat_timeout_seconds: float = Field(
        15,
        ge=2,
        le=600,
        description="Queue mode: a worker silent this long is dead and its job is rerun by another worker.",
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated host names that `webhook_url` may point to; empty = webhooks off.",
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="Key for the `X-Facecraft-Signature: sha256=<hex>` HMAC of each webhook body; webhooks need it.",
    )
    webhook_allow_private: bool = Field(
        False, description="Allow webhooks to private, loopback and link-local addresses (tests, closed networks)."
    )

    # --- security -----------------------------------------------------------------------------
    api_key: SecretStr | None = Field(
        None, description="When set, every endpoint but /health and /ready needs header `X-API-Key`."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="Comma-separated allowed browser origins, or `*`. Credentials are never allowed with `*`.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("api_key", "webhook_secret", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("restorer_path", "codeformer_path", "predictor_path", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_size_mb * 1024 * 1024)

    @property
    def effective_restorer_path(self) -> Path | None:
        return self.restorer_path or self.codeformer_path


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
