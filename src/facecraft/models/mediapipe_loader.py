"""Import mediapipe's legacy `solutions` (0.10.21; 0.10.18 on aarch64) without matplotlib and without log noise."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from facecraft.errors import ModelUnavailableError

_lock = threading.Lock()


def _stand_in_for_matplotlib() -> None:
    # mediapipe/python/solutions/__init__.py imports drawing_utils, which does
    # `import matplotlib.pyplot as plt` at module level, only to plot landmarks in 3-D. We install
    # mediapipe with --no-deps and leave matplotlib (+ its deps, ~40 MB) out of the image, so the
    # import would fail although detection, face mesh and segmentation never touch it. Empty modules
    # satisfy the import; a real matplotlib, when present, is always preferred.
    if "matplotlib" in sys.modules or importlib.util.find_spec("matplotlib") is not None:
        return
    modules = {}
    for name in ("matplotlib", "matplotlib.pyplot"):
        module = types.ModuleType(name, "Empty stand-in inserted by facecraft for mediapipe's drawing_utils.")
        # A spec keeps importlib.util.find_spec("matplotlib") working for anyone who asks later.
        module.__spec__ = importlib.machinery.ModuleSpec(name, loader=None, is_package=name == "matplotlib")
        modules[name] = module
    modules["matplotlib"].__path__ = []
    modules["matplotlib"].pyplot = modules["matplotlib.pyplot"]  # type: ignore[attr-defined]
    for name, module in modules.items():
        sys.modules.setdefault(name, module)


def import_mediapipe() -> Any:
    """Return the `mediapipe.solutions` module (FaceDetection, FaceMesh, SelfieSegmentation, ...).

    Building a solution prints a few harmless lines to stderr ("Created TensorFlow Lite XNNPACK
    delegate", "Feedback manager requires a model with a single signature"). They come from absl's C++
    logging before absl::InitializeLog(); in 0.10.21 no environment variable (GLOG_minloglevel,
    TF_CPP_MIN_LOG_LEVEL, ABSL_MIN_LOG_LEVEL were tried) changes that, and redirecting fd 2 around the
    constructor would also hide real errors and the server's own logs, so they are left alone.
    """
    with _lock:
        _stand_in_for_matplotlib()
        try:
            solutions = importlib.import_module("mediapipe.python.solutions")
        except ImportError as exc:
            raise ModelUnavailableError(
                "mediapipe is not installed (0.10.21; 0.10.18 on aarch64: see requirements/mediapipe.lock)",
                reason=str(exc),
            ) from exc
        return solutions


T = TypeVar("T")


class PerThread(Generic[T]):
    """One MediaPipe solution per thread, built on first use: solution objects keep per-graph state and
    are not safe to share between the pool's threads (a few MB each)."""

    def __init__(self, build: Callable[[Any], T]) -> None:
        self._build = build  # called with the `mediapipe.solutions` module
        self._local = threading.local()

    def get(self) -> T:
        solution: T | None = getattr(self._local, "solution", None)
        if solution is None:
            solution = self._build(import_mediapipe())
            self._local.solution = solution
        return solution
