"""The same requests to both backends get the same answers: one processing layer under both.

Where the two modes must differ, the difference is the deployment's, not the photo's: overload is
`busy` (the local pool) or `queue_full` (FACECRAFT_QUEUE_MAX_DEPTH), /ready reports models_loaded only
where models are loaded, and /status has a `scale` section in queue mode. Those are tested in
test_security.py, test_probes.py and tests/scale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from tests.api.conftest import LiveServer

Photo = Callable[[str], bytes]
SMALL = {"width": "160", "height": "160", "enhance_face": "false"}
# Big enough that no JPEG of it fits 5 KB; the fast matte and no enhancement keep it quick.
BIG = {"width": "800", "height": "800", "matting": "fast", "enhance_face": "false", "enhance_photo": "false"}
# (photo, form, expected status): the companion-JPEG case is the one the two modes used to disagree on.
REQUESTS: list[tuple[str, dict[str, str], int]] = [
    ("astronaut.jpg", SMALL, 200),
    ("grace_hopper.jpg", {**BIG, "max_kb": "5"}, 200),
    ("grace_hopper.jpg", {**BIG, "max_kb": "5", "output_format": "jpg"}, 422),
    ("grace_hopper.jpg", {**SMALL, "output_format": "webp", "preset": "avatar"}, 200),
    ("coffee.jpg", SMALL, 422),
    ("two_faces.jpg", {**SMALL, "face_policy": "reject"}, 422),
    ("not_an_image.txt", SMALL, 415),
]
URL_FIELDS = ("download_url", "png_url", "jpg_url", "webp_url")


def _shape(response: httpx.Response) -> dict[str, Any]:
    """What must agree between the modes: status, error code, result keys, which URLs exist."""
    body = response.json()
    if response.status_code != 200:
        return {"status": response.status_code, "code": body["error"]["code"]}
    return {
        "status": 200,
        "result": sorted(body["result"]),
        "face_count": body["result"]["face_count"],
        "output_size": body["result"]["output_size"],
        "urls": {field: body[field] is not None for field in URL_FIELDS},
    }


def test_same_requests_same_answers(server: LiveServer, queue_server: LiveServer, photo: Photo) -> None:
    answers: dict[str, list[dict[str, Any]]] = {}
    for name, live in (("embedded", server), ("queue", queue_server)):
        with live.client() as http:
            answers[name] = [
                _shape(http.post("/api/v1/process", files={"file": (photo_name, photo(photo_name))}, data=form))
                for photo_name, form, _ in REQUESTS
            ]
    assert [a["status"] for a in answers["embedded"]] == [status for _, _, status in REQUESTS]
    assert answers["queue"] == answers["embedded"]
    companion = answers["embedded"][1]
    assert companion["urls"] == {"download_url": True, "png_url": True, "jpg_url": False, "webp_url": False}


def test_async_job_status_carries_the_sync_answer(backend_client: httpx.Client, photo: Photo) -> None:
    """GET /api/v1/jobs/{id} of a finished async job has the same `result` and URL fields as /process."""
    files = {"file": ("g.jpg", photo("grace_hopper.jpg"))}
    sync = backend_client.post("/api/v1/process", files=files, data=SMALL).json()
    accepted = backend_client.post("/api/v1/jobs", files=files, data=SMALL)
    assert accepted.status_code == 202, accepted.text
    status_url = accepted.json()["status_url"]
    deadline = time.monotonic() + 60
    while (job := backend_client.get(status_url).json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["status"] == "done", job
    assert sorted(job["result"]) == sorted(sync["result"])
    assert job["result"]["face_position"] == sync["result"]["face_position"]
    assert job["result"]["output_size"] == {"width": 160, "height": 160}
    for field in URL_FIELDS:
        assert (job[field] is None) == (sync[field] is None), field
    assert job["download_url"] == job["png_url"] == job["urls"]["png"]
    png = backend_client.get(job["png_url"])
    assert png.status_code == 200 and len(png.content) == job["result"]["file_size_bytes"]


def _finished(client: httpx.Client, form: dict[str, str], photo: Photo) -> dict[str, Any]:
    accepted = client.post("/api/v1/jobs", files={"file": ("a.jpg", photo("astronaut.jpg"))}, data=form)
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 90
    while (job := client.get(accepted.json()["status_url"]).json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


def test_async_document_jobs_carry_the_compliance_report(backend_client: httpx.Client, photo: Photo) -> None:
    """An async job made with a document preset reports its checks; with compliance=strict it fails not_compliant."""
    form = {"preset": "us_visa", "enhance_face": "false"}
    job = _finished(backend_client, form, photo)
    assert job["status"] == "done", job
    report = job["result"]["compliance"]
    assert report["standard"] == "us_visa" and {"head_height", "eye_line"} <= {c["id"] for c in report["checks"]}
    strict = _finished(backend_client, {**form, "compliance": "strict"}, photo)
    assert strict["status"] == "failed" and strict["error"]["code"] == "not_compliant", strict
