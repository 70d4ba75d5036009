"""Deterministic rewrite of imgly's ISNet "medium" graph into the file Facecraft ships.

The published graph (PyTorch export, fp16 weights) is awkward to serve:

* every Resize node has its target size baked in as a constant (32..1024 for a 1024² input), so any
  other input size fails inside a Concat. Each constant becomes ``input H/W * target / 1024``, which
  makes the graph run at every multiple of 32 and stay identical at 1024;
* weights are fp16 and ORT on x86 wraps every op in Cast nodes (~4 % slower); they become fp32;
* besides the matte it returns five side outputs and six decoder feature maps (~90 MB per run at
  1024², one of them 64x512x512); only ``output`` is kept and the nodes feeding nothing else are pruned;
* nodes are not topologically sorted, so ``onnx.checker`` rejects it; they are sorted here.

The result is a pure function of the input bytes and the pinned ``onnx`` version, so its SHA-256 is
pinned in the registry. Needs the ``onnx`` package, a build-time tool: only `fetch` imports this
module, and the runtime image only ever loads the rewritten file.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

REFERENCE_SIZE = 1024  # the square input size the published graph was exported at
SIZE_MULTIPLE = 32  # the rewritten graph runs at H and W that are multiples of this
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def rewrite_isnet(model_bytes: bytes, *, source_sha256: str = "") -> bytes:
    """Return the fp32, single-output, dynamic-H/W graph for the published ISNet bytes."""
    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    _drop_casts_and_fp16(graph)
    _keep_only_output(graph, OUTPUT_NAME)
    _dynamic_resize_targets(graph)
    _dynamic_io(graph)
    _topological_sort(graph)
    del graph.value_info[:]  # shapes recorded for 1024² would now be wrong
    if source_sha256:
        entry = model.metadata_props.add()
        entry.key, entry.value = "facecraft.derived_from_sha256", source_sha256
    onnx.checker.check_model(model, full_check=True)
    data: bytes = model.SerializeToString()
    return data


def _drop_casts_and_fp16(graph: Any) -> None:
    outputs = {o.name for o in graph.output}
    rename: dict[str, str] = {}
    for node in graph.node:
        if node.op_type != "Cast":
            continue
        src, dst = node.input[0], node.output[0]
        # A graph output keeps its public name; the tensor feeding its Cast takes that name instead.
        if dst in outputs:
            rename[src] = dst
        else:
            rename[dst] = src

    def resolve(name: str) -> str:
        while name in rename:
            name = rename[name]
        return name

    kept = [n for n in graph.node if n.op_type != "Cast"]
    for node in kept:
        for i, name in enumerate(node.input):
            node.input[i] = resolve(name) if name else name
        for i, name in enumerate(node.output):
            node.output[i] = resolve(name)
    del graph.node[:]
    graph.node.extend(kept)

    for init in graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT16:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float32), init.name))


def _keep_only_output(graph: Any, name: str) -> None:
    producer = {out: i for i, n in enumerate(graph.node) for out in n.output}
    needed: set[int] = set()
    stack = [name]
    seen: set[str] = set()
    while stack:
        tensor = stack.pop()
        if tensor in seen or tensor not in producer:
            continue
        seen.add(tensor)
        index = producer[tensor]
        needed.add(index)
        stack.extend(i for i in graph.node[index].input if i)
    kept = [n for i, n in enumerate(graph.node) if i in needed]
    del graph.node[:]
    graph.node.extend(kept)
    keep_out = [o for o in graph.output if o.name == name]
    del graph.output[:]
    graph.output.extend(keep_out)
    used = {i for n in kept for i in n.input}
    inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def _dynamic_resize_targets(graph: Any) -> None:
    """Replace each Resize's constant [h, w] target with ``input_hw * [h, w] / 1024``."""
    producer = {out: n for n in graph.node for out in n.output}
    prefix = "facecraft_isnet"
    head = [
        helper.make_node("Shape", [INPUT_NAME], [f"{prefix}_in_shape"], name=f"{prefix}_Shape"),
        helper.make_node(
            "Slice",
            [f"{prefix}_in_shape", f"{prefix}_2", f"{prefix}_4"],
            [f"{prefix}_in_hw"],
            name=f"{prefix}_Slice",
        ),
    ]
    inits = {
        f"{prefix}_2": np.array([2], np.int64),
        f"{prefix}_4": np.array([4], np.int64),
        f"{prefix}_ref": np.array([REFERENCE_SIZE, REFERENCE_SIZE], np.int64),
    }
    targets: dict[tuple[int, int], str] = {}
    for node in graph.node:
        if node.op_type != "Resize" or len(node.input) < 4 or not node.input[3]:
            continue
        concat = producer[node.input[3]]
        constant = producer.get(concat.input[1])
        if concat.op_type != "Concat" or constant is None or constant.op_type != "Constant":
            raise ValueError(f"unexpected Resize target structure at {node.name}")
        h, w = (int(v) for v in numpy_helper.to_array(constant.attribute[0].t))
        if (h, w) not in targets:
            tag = f"{prefix}_{h}x{w}"
            inits[f"{tag}_scale"] = np.array([h, w], np.int64)
            # Mul before Div keeps the integer arithmetic exact: 1024 * h / 1024 == h.
            head.append(helper.make_node("Mul", [f"{prefix}_in_hw", f"{tag}_scale"], [f"{tag}_mul"]))
            head.append(helper.make_node("Div", [f"{tag}_mul", f"{prefix}_ref"], [f"{tag}_hw"]))
            targets[(h, w)] = f"{tag}_hw"
        concat.input[1] = targets[(h, w)]

    used = {i for n in graph.node for i in n.input}
    kept = [n for n in graph.node if n.op_type != "Constant" or any(o in used for o in n.output)]
    del graph.node[:]
    graph.node.extend(head + kept)
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in inits.items())


def _dynamic_io(graph: Any) -> None:
    for value in (*graph.input, *graph.output):
        dims = value.type.tensor_type.shape.dim
        if value.name == INPUT_NAME and dims[2].dim_value != REFERENCE_SIZE:
            raise ValueError(f"expected a {REFERENCE_SIZE}² input, got {dims}")
        dims[2].dim_param = "height"
        dims[3].dim_param = "width"


def _topological_sort(graph: Any) -> None:
    """Kahn's algorithm, ties broken by original position so the result is deterministic."""
    nodes = list(graph.node)
    available = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    producer = {out: i for i, n in enumerate(nodes) for out in n.output}
    waiting = [sum(1 for x in set(n.input) if x not in available) for n in nodes]
    consumers: dict[int, list[int]] = {}
    for i, n in enumerate(nodes):
        for x in set(n.input):
            if x not in available:
                consumers.setdefault(producer[x], []).append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in consumers.get(i, []):
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(order) != len(nodes):
        raise ValueError("ISNet graph has a cycle or a dangling input")
    del graph.node[:]
    graph.node.extend(nodes[i] for i in order)
