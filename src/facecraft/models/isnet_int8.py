"""ISNet quantized to 8-bit integers for CPUs: built from the rewritten fp32 graph at build time, never at run time.

Why: on a 2-core AMD EPYC (AVX2, no VNNI) one ISNet inference at the pipeline's 448x448 took 0.28 s in int8
against 0.53 s in fp32, and ISNet is most of a photo's cost. The matte invariants in tests/pipeline/test_matte.py
hold on it; `benchmarks/matte_bench.py --precision int8|fp32` prints both against a known alpha.

How: ONNX Runtime's static quantizer in QDQ form (QuantizeLinear/DequantizeLinear pairs that ORT's CPU provider
fuses into integer kernels), weights int8 per output channel, activations uint8 per tensor. Activation ranges
come from a calibration run over real ISNet inputs; they are committed (isnet_int8_ranges.json beside this module,
written by scripts/calibrate_isnet_int8.py), so the build never runs a calibration. That makes the quantized file
a pure function of the fp32 file and the pinned onnx, onnxruntime and numpy versions, and its SHA-256 is pinned in
the registry like every other model. Two places stay fp32: the convolution that reads the photo
(see `_kept_fp32`), and the matte head (the last convolution and the Resize to full size that feed the sigmoid),
which sets the matte's soft edge that 256 levels of logit would band.

Needs `onnx` (a build-time tool, dev.lock): only `fetch` and the calibration script import this module.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.calibrate import TensorsData, load_tensors_data, save_tensors_data

RANGES_FILE = Path(__file__).with_name("isnet_int8_ranges.json")
INPUT_NAME = "input"
# The op types worth integer kernels; Resize and MaxPool pass quantized tensors through, so no DequantizeLinear
# sits between two convolutions. Shape arithmetic (Shape, Slice, Mul, Div on int64) is left alone.
QUANTIZED_OPS = ["Conv", "Relu", "Concat", "MaxPool", "Resize", "Add"]


def _settings(fp32_model: Path) -> dict[str, object]:
    return {
        "quant_format": QuantFormat.QDQ,
        "activation_type": QuantType.QUInt8,
        "weight_type": QuantType.QInt8,
        "per_channel": True,
        "calibrate_method": CalibrationMethod.MinMax,
        "op_types_to_quantize": QUANTIZED_OPS,
        "nodes_to_exclude": _kept_fp32(fp32_model),
    }


def _kept_fp32(fp32_model: Path) -> list[str]:
    """The convolution that reads the photo, and the matte head (last convolution, Resize to full size, sigmoid).

    Measured on 34 ISNet inputs kept out of the calibration (held-out group photos, composites over new
    backgrounds), mean squared difference to the fp32 matte: 0.62e-3 with every convolution in int8, 0.10e-3 with
    the first one in fp32 (its 3-channel input and weights lose most to 8 bits), and no slower.
    """
    graph = onnx.load(str(fp32_model), load_external_data=False).graph
    producers = {output: node for node in graph.node for output in node.output}
    first = next(node for node in graph.node if node.op_type == "Conv" and INPUT_NAME in node.input)
    kept = [str(first.name)]
    node = next(node for node in graph.node if node.op_type == "Sigmoid")
    while node.op_type != "Conv":
        node = producers[node.input[0]]
        if node.op_type not in ("Conv", "Resize"):
            raise ValueError(f"ISNet's matte head holds a {node.op_type}: the graph is not the expected one")
        kept.append(str(node.name))
    return kept


def quantize_isnet(fp32_model: Path, target: Path, ranges: Path = RANGES_FILE) -> None:
    """Write the int8 graph for `fp32_model` to `target`, using the committed activation ranges."""
    measured = {
        name: (np.array([low], np.float32), np.array([high], np.float32))
        for name, (low, high) in json.loads(ranges.read_text()).items()
    }
    with tempfile.TemporaryDirectory(prefix="facecraft-int8-") as tmp:
        # ORT takes fixed ranges as its own calibration cache; it is written from ours for this call only.
        cache = Path(tmp) / "ranges.json"
        save_tensors_data(TensorsData(CalibrationMethod.MinMax, measured), cache)
        quantize_static(str(fp32_model), str(target), calibration_cache_path=str(cache), **_settings(fp32_model))


class _Inputs(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime ships no type hints
    def __init__(self, tensors: Iterable[npt.NDArray[np.float32]]) -> None:
        self._tensors: Iterator[npt.NDArray[np.float32]] = iter(tensors)

    def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
        tensor = next(self._tensors, None)
        return None if tensor is None else {INPUT_NAME: tensor}


def calibrate(fp32_model: Path, tensors: Iterable[npt.NDArray[np.float32]], ranges: Path = RANGES_FILE) -> None:
    """Measure activation ranges on ISNet inputs (1x3xHxW, as models.isnet.isnet_input makes them) into `ranges`."""
    with tempfile.TemporaryDirectory(prefix="facecraft-calibrate-") as tmp:
        cache, scratch = Path(tmp) / "ranges.json", Path(tmp) / "quantized.onnx"
        quantize_static(
            str(fp32_model), str(scratch), _Inputs(tensors), calibration_cache_path=str(cache), **_settings(fp32_model)
        )
        measured = load_tensors_data(cache)
    # {tensor: [lowest, highest]}, one tensor a line: a re-calibration reads as a diff. A float32 written by json
    # reads back as the same float32.
    lines = [
        f"{json.dumps(name)}: [{float(measured[name].lowest[0])!r}, {float(measured[name].highest[0])!r}]"
        for name in sorted(measured)
    ]
    ranges.write_text("{\n" + ",\n".join(lines) + "\n}\n")
