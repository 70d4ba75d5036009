"""ONNX Runtime sessions, generic: every ONNX model Facecraft runs is loaded here (models/isnet.py, restore.py).

An `ort.InferenceSession.run` is thread-safe, so one session serves every worker thread; a session
per thread would multiply the ~0.6 GB of ISNet activations instead.
"""

from __future__ import annotations

import logging
from pathlib import Path

import onnxruntime as ort

from facecraft.errors import ModelUnavailableError
from facecraft.runtime.device import session_device

log = logging.getLogger(__name__)


def create_session(
    path: Path,
    providers: list[str],
    threads: int = 0,
    fixed_hw: tuple[int, int] | None = None,
) -> ort.InferenceSession:
    """Load an ONNX model with the settings measured best (on ISNet, on CPU).

    `fixed_hw` pins the dynamic "height"/"width" dimensions at load, so ORT can plan memory and fold
    shapes once instead of per call; leave it None to accept any size (multiples of 32 for ISNet).
    `threads` = 0 lets ORT use one thread per physical core.
    """
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # ORT_PARALLEL measured 1.7x slower on ISNet; parallelism belongs inside each op.
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # ORT warns about every CUDA-less node placement otherwise
    if fixed_hw is not None:
        height, width = fixed_hw
        options.add_free_dimension_override_by_name("height", height)
        options.add_free_dimension_override_by_name("width", width)
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # ORT raises its own exception types for unreadable/invalid files
        raise ModelUnavailableError(f"could not load model {path.name}", reason=str(exc)) from exc
    used = session.get_providers()
    log.info("loaded %s on %s (providers %s)", path.name, session_device(used), used)
    return session
