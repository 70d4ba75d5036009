"""Hostile uploads against a real server process: a 4xx with a stable code, no crash, no leftover file.

Every case is sent to one `uvicorn` process with a private TMPDIR and a 2 MB upload limit. After each
answer the test checks that the process still answers /health, that no file appeared under the upload,
output or temp folders, and that the process holds no new open file (Starlette spools parts over 1 MB
to an unnamed temp file; an unclosed one shows up only in /proc/<pid>/fd). The code each input got
is written to tests/artifacts/hostile_codes.md (and .json) for the release notes.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.hostile.conftest import ARTIFACTS
from tests.hostile.inputs import BOUNDARY, CHEAP, Case, Part, all_cases, multipart, png, random_bytes, upload
from tests.hostile.serverproc import ServerProcess, files_under

from facecraft.api.errors import STATUS_BY_CODE

CASES = all_cases()
# Codes that may answer a hostile request, with their status (framework-level ones included).
STABLE = {**STATUS_BY_CODE, "bad_request": 400, "invalid_option": 422}
RESULTS: dict[str, dict[str, object]] = {}

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def hostile(spawn_server: Callable[..., ServerProcess]) -> Iterator[ServerProcess]:
    server = spawn_server(max_upload_size_mb=2, max_concurrent_jobs=2, max_queued_jobs=16)
    yield server
    _write_table()


def _write_table() -> None:
    if not RESULTS:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hostile_codes.json").write_text(json.dumps(RESULTS, indent=1, ensure_ascii=True))
    lines = ["| class | input | status | code |", "|---|---|---|---|"]
    for key, row in RESULTS.items():
        kind, _, name = key.partition(":")
        lines.append(f"| {kind} | {name.encode('unicode_escape').decode()} | {row['status']} | {row['code']} |")
    per_class: dict[str, Counter[str]] = {}
    for key, row in RESULTS.items():
        per_class.setdefault(key.partition(":")[0], Counter())[f"{row['status']} {row['code']}"] += 1
    lines += ["", f"{len(RESULTS)} inputs.", "", "| class | inputs | codes |", "|---|---|---|"]
    for kind, counts in per_class.items():
        lines.append(f"| {kind} | {sum(counts.values())} | {', '.join(f'{c} x{n}' for c, n in counts.items())} |")
    (ARTIFACTS / "hostile_codes.md").write_text("\n".join(lines) + "\n")


def _state(server: ServerProcess) -> tuple[set[str], list[str]]:
    return files_under(server.upload_dir, server.output_dir, server.tmp_dir), server.open_files()


def assert_nothing_leaked(server: ServerProcess, before: tuple[set[str], list[str]], timeout: float = 5) -> None:
    """The same files on disk and the same open files as before (a spooled part closes just after the answer)."""
    deadline = time.monotonic() + timeout
    while (now := _state(server)) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert now[0] == before[0], f"files left behind: {sorted(now[0] ^ before[0])}"
    assert now[1] == before[1], f"open files changed: {sorted(set(now[1]) ^ set(before[1]))}"


def assert_alive(server: ServerProcess) -> None:
    assert server.alive(), server.log_tail()
    start = time.monotonic()
    assert httpx.get(server.url + "/health", timeout=5).status_code == 200
    assert time.monotonic() - start < 1


def check_error(server: ServerProcess, key: str, response: httpx.Response, expect: frozenset[str]) -> str:
    """Record the answer, then demand a 4xx with a stable code from `expect` and no internals in the body."""
    try:
        code = str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        code = "<no error body>"
    RESULTS[key] = {"status": response.status_code, "code": code}
    assert response.status_code < 500, f"{key}: {response.status_code} {response.text[:300]}"
    assert 400 <= response.status_code < 500, f"{key}: {response.status_code}"
    assert code in expect, f"{key}: got {response.status_code} {code}, expected one of {sorted(expect)}"
    assert STABLE.get(code) == response.status_code, f"{key}: {code} came with {response.status_code}"
    assert "Traceback" not in response.text and str(server.root) not in response.text
    return code


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(hostile: ServerProcess, case: Case) -> None:
    request = case.build()
    before = _state(hostile)
    response = httpx.post(
        hostile.url + case.path,
        content=request.body,
        headers={"Content-Type": request.content_type, **request.headers},
        timeout=60,
    )
    check_error(hostile, case.id, response, case.expect)
    assert_alive(hostile)
    assert_nothing_leaked(hostile, before)


def _raw_request(server: ServerProcess, head: str, chunks: list[bytes], pause: float = 0.0) -> tuple[int, bytes]:
    """Send a request head and body chunks over a plain socket; return (status, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode())
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered early (a limit): read that before it closes on us
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            if pause:
                time.sleep(pause)
        sock.settimeout(30)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < _expected_length(answer):
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            answer += part
    assert answer.startswith(b"HTTP/1.1 "), f"no HTTP answer: {answer[:100]!r}"
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    return int(head_bytes.split(b" ", 2)[1]), body


def _expected_length(answer: bytes) -> int:
    head, sep, _ = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + len(sep) + int(line.split(b":")[1])
    return len(answer) + 1 if not sep else len(answer)


def _fake_response(status: int, body: bytes) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": "application/json"})


def test_declared_content_length_far_over_limit(hostile: ServerProcess) -> None:
    before = _state(hostile)
    head = (
        "POST /api/v1/process HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {10**12}\r\n\r\n"
    )
    start = time.monotonic()
    status, body = _raw_request(hostile, head, [])
    assert time.monotonic() - start < 2
    check_error(
        hostile, "transport:Content-Length 10^12", _fake_response(status, body), frozenset({"upload_too_large"})
    )
    assert_alive(hostile)
    assert_nothing_leaked(hostile, before)


def test_chunked_body_over_limit_is_cut_off(hostile: ServerProcess) -> None:
    """No Content-Length at all: the limit is counted as the bytes arrive."""
    before = _state(hostile)
    head = (
        "POST /api/v1/process HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
    )
    block = random_bytes(1 << 16)
    chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    prefix = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'.encode()
    first = f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n"
    status, body = _raw_request(hostile, head, [first] + [chunk] * 80)  # 5 MB against a 3 MB body limit
    check_error(hostile, "transport:chunked 5 MB", _fake_response(status, body), frozenset({"upload_too_large"}))
    assert_alive(hostile)
    assert_nothing_leaked(hostile, before)


def test_slow_upload_holds_no_worker(hostile: ServerProcess) -> None:
    """A 1.2 MB upload dribbled in over ~3 s: /health and other uploads are served meanwhile, the
    spooled temp file exists while it arrives and is gone afterwards."""
    before = _state(hostile)
    request = upload(random_bytes(1_200_000))
    head = (
        "POST /api/v1/process HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: {request.content_type}\r\nContent-Length: {len(request.body)}\r\n\r\n"
    )
    size = 40_000
    chunks = [request.body[i : i + size] for i in range(0, len(request.body), size)]
    outcome: dict[str, tuple[int, bytes]] = {}
    slow = threading.Thread(target=lambda: outcome.update(slow=_raw_request(hostile, head, chunks, pause=0.1)))
    slow.start()
    spooled = False
    served = 0
    try:
        with hostile.client(timeout=30) as http:
            while slow.is_alive():
                assert_alive(hostile)
                other = http.post("/api/v1/process", data=CHEAP, files={"file": ("a.png", png())})
                assert other.json()["error"]["code"] == "no_face"
                served += 1
                spooled = spooled or any(str(hostile.tmp_dir) in f for f in hostile.open_files())
                time.sleep(0.1)
    finally:
        slow.join(60)
    assert served >= 5, "other requests were not served while the slow upload arrived"
    assert not slow.is_alive()
    status, body = outcome["slow"]
    check_error(
        hostile, "transport:slow upload 1.2 MB in 3 s", _fake_response(status, body), frozenset({"unsupported_image"})
    )
    assert spooled, "the upload was never spooled to the private TMPDIR (the leak check would see nothing)"
    assert_nothing_leaked(hostile, before)


def test_abandoned_uploads_leave_nothing(hostile: ServerProcess) -> None:
    """Clients that send half a big body and vanish: the server drops the spooled parts."""
    before = _state(hostile)
    request = upload(random_bytes(1_500_000))
    head = (
        "POST /api/v1/process HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: {request.content_type}\r\nContent-Length: {len(request.body)}\r\n\r\n"
    )
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", hostile.port), timeout=10) as sock:
            sock.sendall(head.encode() + request.body[:1_300_000])
            time.sleep(0.3)
    RESULTS["transport:abandoned 1.3 of 1.5 MB x3"] = {"status": "-", "code": "(connection dropped by client)"}
    assert_alive(hostile)
    assert_nothing_leaked(hostile, before, timeout=10)


def test_hostile_batch_reports_each_item(hostile: ServerProcess) -> None:
    """A batch of hostile files: 200 with a stable code per item, safe ZIP names, nothing left once deleted."""
    before = _state(hostile)
    parts = [Part(k, v.encode()) for k, v in CHEAP.items()]
    bad = [b"", b"<svg/>", random_bytes(3000), png(1, 1), b"\x89PNG\r\n\x1a\n"]
    names = [b"../../etc/passwd", b"a\x00b.jpg", "😀.png".encode(), b"x" * 1000, b""]
    parts += [Part("files", data, name, "image/png") for data, name in zip(bad, names, strict=True)]
    response = httpx.post(
        hostile.url + "/api/v1/process/batch",
        content=multipart(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert body["successful"] == 0 and body["download_url"] is None
    codes = [item["error"] for item in body["results"]]
    RESULTS["batch:5 hostile files in one batch"] = {"status": 200, "code": ",".join(codes)}
    assert set(codes) <= {"unsupported_image", "no_face"}, codes
    for item in body["results"]:
        assert "/" not in item["filename"] and "\x00" not in item["filename"] and len(item["filename"]) <= 100
    assert httpx.delete(f"{hostile.url}/api/v1/jobs/{body['job_id']}").status_code == 200
    assert_alive(hostile)
    assert_nothing_leaked(hostile, before)


def test_summary_table(hostile: ServerProcess) -> None:
    """Runs last in this module: every input was recorded; the table lands in tests/artifacts/."""
    if len(RESULTS) < len(CASES):
        pytest.skip("only part of the module ran")
    assert len(RESULTS) >= 50
    _write_table()
    assert (Path(ARTIFACTS) / "hostile_codes.md").is_file()
