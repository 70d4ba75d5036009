"""Model registry (data), build-time fetch, verification and loading helpers.

Importing this package is cheap: onnx, npm and mediapipe are only touched by the functions that need them.
"""

from facecraft.models.registry import MODELS, Location, ModelSpec, Upstream, get_model, model_path
from facecraft.models.verify import ModelStatus, load_check, require_models, verify_models

__all__ = [
    "MODELS",
    "Location",
    "ModelSpec",
    "ModelStatus",
    "Upstream",
    "get_model",
    "load_check",
    "model_path",
    "require_models",
    "verify_models",
]
