"""The optional user-supplied ONNX face restorer, tested with tiny ONNX models this test builds itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from facecraft.config import Settings
from facecraft.errors import ModelUnavailableError
from facecraft.imaging.geometry import Box
from facecraft.pipeline.factory import build_pipeline
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.restore import BuiltinRestorer, OnnxFaceRestorer


def _negating_restorer(path: Path, side: int = 512) -> Path:
    """A 'restorer' whose output is the negated input: easy to recognise in the result."""
    shape = [1, 3, side, side]
    graph = helper.make_graph(
        [helper.make_node("Neg", ["input"], ["output"])],
        "negate",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.fixture
def negating_model(tmp_path: Path) -> Path:
    return _negating_restorer(tmp_path / "restorer.onnx")


def _load(path: Path) -> OnnxFaceRestorer:
    return OnnxFaceRestorer(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]))


def test_restorer_output_replaces_the_face_by_fidelity(negating_model: Path) -> None:
    rgb = np.full((400, 400, 3), 200, np.uint8)
    face = Box(150, 150, 100, 100)
    restorer = _load(negating_model)
    strongest = restorer.restore(rgb, face, fidelity=0.0)
    # Neg maps 200 (0.57 in [-1, 1]) to -0.57, i.e. 55: the face centre takes the restorer's output.
    assert abs(int(strongest[200, 200, 0]) - 55) <= 2
    assert strongest[5, 5, 0] == 200, "pixels far from the face are untouched"
    assert np.array_equal(restorer.restore(rgb, face, fidelity=1.0), rgb)
    halfway = restorer.restore(rgb, face, fidelity=0.5)
    assert 120 <= int(halfway[200, 200, 0]) <= 135


def test_restorer_with_wrong_input_shape_is_refused(tmp_path: Path) -> None:
    path = _negating_restorer(tmp_path / "small.onnx", side=256)
    with pytest.raises(ModelUnavailableError):
        _load(path)


def test_pytorch_weights_and_missing_files_are_refused(tmp_path: Path) -> None:
    weights = tmp_path / "codeformer.pth"
    weights.write_bytes(b"not onnx")
    with pytest.raises(ModelUnavailableError, match="onnx"):
        OnnxFaceRestorer.load(weights, ["CPUExecutionProvider"])
    with pytest.raises(ModelUnavailableError):
        OnnxFaceRestorer.load(tmp_path / "absent.onnx", ["CPUExecutionProvider"])


def test_pipeline_uses_the_configured_restorer(settings: Settings, negating_model: Path, photo) -> None:
    configured = build_pipeline(settings.model_copy(update={"restorer_path": negating_model}))
    assert isinstance(configured.restorer, OnnxFaceRestorer)
    # The original's variable name is honoured as a fallback.
    legacy = build_pipeline(settings.model_copy(update={"codeformer_path": negating_model}))
    assert isinstance(legacy.restorer, OnnxFaceRestorer)
    options = PortraitOptions(enhance_fidelity=0.0, enhance_photo=False, use_oval_mask=False)
    restored = configured.process(photo("astronaut.jpg"), options)
    plain = build_pipeline(settings).process(photo("astronaut.jpg"), options)
    assert isinstance(build_pipeline(settings).restorer, BuiltinRestorer)
    centre = (slice(300, 340), slice(304, 344))
    # The negating restorer darkens the bright face; the built-in chain keeps its brightness.
    assert restored.rgb[centre].mean() < plain.rgb[centre].mean() - 60
