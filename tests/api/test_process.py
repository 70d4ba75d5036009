"""POST /api/v1/process, /quick, /batch, downloads and jobs, over HTTP on real photos."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image
from tests import phone_photos
from tests.api.conftest import LiveServer

Photo = Callable[[str], bytes]


def _post(client: httpx.Client, photo: Photo, name: str, path: str = "/api/v1/process", **data: Any) -> httpx.Response:
    return client.post(
        path, files={"file": (name, photo(name), "image/jpeg")}, data={k: str(v) for k, v in data.items()}
    )


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["detail"] == body["error"]["message"]
    assert "/tmp" not in response.text and "Traceback" not in response.text
    return body


def test_process_returns_measured_result_and_working_downloads(backend_client: httpx.Client, photo: Photo) -> None:
    response = _post(backend_client, photo, "astronaut.jpg", width=320, height=400, return_base64="true", max_kb=40)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and len(body["job_id"]) == 32
    result = body["result"]
    assert result["face_detected"] is True and result["face_count"] == 1
    assert result["output_size"] == {"width": 320, "height": 400}
    assert result["matte_method"] and result["warnings"] == []
    box = result["face_position"]
    assert 100 < box["x"] < 300 and box["width"] > 50  # astronaut.jpg is 512x512, face upper middle
    png = backend_client.get(body["png_url"])
    assert png.headers["content-type"] == "image/png"
    assert "attachment" in png.headers["content-disposition"]
    assert Image.open(io.BytesIO(png.content)).size == (320, 400)
    assert result["file_size_bytes"] == len(png.content)
    jpg = backend_client.get(body["jpg_url"])
    assert jpg.headers["content-type"] == "image/jpeg" and len(jpg.content) <= 40 * 1024
    assert base64.b64decode(body["jpg_base64"]) == jpg.content
    assert body["webp_url"] is None and backend_client.get(body["png_url"].replace("png", "webp")).status_code == 404


def test_webp_is_stored_when_asked(backend_client: httpx.Client, photo: Photo) -> None:
    body = _post(
        backend_client, photo, "grace_hopper.jpg", output_format="webp", background="#ff0000", use_oval_mask="false"
    ).json()
    webp = backend_client.get(body["webp_url"])
    assert webp.status_code == 200 and webp.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(webp.content)) as image:
        image.load()  # decodes whole
        # WebP keeps the background transparent by default; the red is what the JPEG companion is filled with.
        assert (image.format, image.size, image.mode) == ("WEBP", (648, 648), "RGBA")
        assert image.getpixel((2, 2))[3] == 0  # type: ignore[index]
    with Image.open(io.BytesIO(backend_client.get(body["jpg_url"]).content)) as jpeg:
        red, green, blue = jpeg.convert("RGB").getpixel((2, 2))  # type: ignore[misc]
        assert red > 235 and green < 20 and blue < 20, "the requested red background"
    assert body["download_url"] == body["webp_url"]
    job = backend_client.get(f"/api/v1/jobs/{body['job_id']}").json()
    assert job["formats"] == ["jpg", "png", "webp"] and job["expires_at"] > job["created_at"]
    # The job repeats the answer it was made with (embedded: job.json; queue mode: the worker's record).
    assert job["status"] == "completed" and job["result"] == body["result"]
    assert {key: job[key] for key in ("download_url", "png_url", "jpg_url", "webp_url")} == {
        key: body[key] for key in ("download_url", "png_url", "jpg_url", "webp_url")
    }


def test_omitted_fields_take_the_operator_defaults(start_server: Callable[..., LiveServer], photo: Photo) -> None:
    server = start_server(default_width=200, default_height=240, default_oval_mask=False)
    with server.client() as http:
        body = _post(http, photo, "astronaut.jpg").json()
    assert body["result"]["output_size"] == {"width": 200, "height": 240}


def test_quick_returns_the_image(backend_client: httpx.Client, photo: Photo) -> None:
    response = _post(backend_client, photo, "astronaut.jpg", "/api/v1/process/quick", size=256)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)
    jpg = _post(
        backend_client, photo, "astronaut.jpg", "/api/v1/process/quick", size=128, output_format="jpg", max_kb=8
    )
    assert jpg.status_code == 200 and jpg.headers["content-type"] == "image/jpeg"
    assert len(jpg.content) <= 8 * 1024
    with Image.open(io.BytesIO(jpg.content)) as image:
        assert (image.format, image.size) == ("JPEG", (128, 128))


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("coffee.jpg", {}, 422, "no_face"),
        ("two_faces.jpg", {"face_policy": "reject"}, 422, "multiple_faces"),
        ("not_an_image.txt", {}, 415, "unsupported_image"),
        ("truncated.jpg", {}, 415, "unsupported_image"),
        ("bomb.png", {}, 413, "image_too_large"),
        ("astronaut.jpg", {"width": 5}, 422, "invalid_option"),
        ("astronaut.jpg", {"background_r": 300}, 422, "invalid_option"),
        ("astronaut.jpg", {"face_margin": -1}, 422, "invalid_option"),
        ("astronaut.jpg", {"matting": "magic"}, 422, "invalid_option"),
        ("astronaut.jpg", {"background": "not-a-colour"}, 422, "invalid_option"),
        ("astronaut.jpg", {"use_oval_mask": "maybe"}, 422, "invalid_option"),
    ],
)
def test_errors_have_stable_codes(
    backend_client: httpx.Client, photo: Photo, name: str, data: dict[str, Any], status: int, code: str
) -> None:
    for path in ("/api/v1/process", "/api/v1/process/quick"):
        body = _error(_post(backend_client, photo, name, path, **data), status, code)
        if code == "invalid_option":
            assert body["error"]["field"] == next(iter(data))


def test_output_too_large(client: httpx.Client, photo: Photo) -> None:
    _error(
        _post(
            client,
            photo,
            "astronaut.jpg",
            width=2048,
            height=2048,
            max_kb=5,
            enhance_photo="false",
            output_format="jpg",
        ),
        422,
        "output_too_large",
    )


def test_true_face_count_with_largest_policy(backend_client: httpx.Client, photo: Photo) -> None:
    body = _post(backend_client, photo, "two_faces.jpg", face_policy="largest").json()
    assert body["result"]["face_count"] == 2


def test_missing_file_is_invalid_option(client: httpx.Client) -> None:
    _error(client.post("/api/v1/process", data={"width": "300"}), 422, "invalid_option")


def test_batch_items_zip_and_same_names(backend_client: httpx.Client, photo: Photo) -> None:
    files = [
        ("files", ("../../etc/passwd.jpg", photo("astronaut.jpg"), "image/jpeg")),
        ("files", ("same.jpg", photo("grace_hopper.jpg"), "image/jpeg")),
        ("files", ("same.jpg", photo("astronaut.jpg"), "image/jpeg")),
        ("files", ("coffee.jpg", photo("coffee.jpg"), "image/jpeg")),
        ("files", ("notes.txt", photo("not_an_image.txt"), "text/plain")),
    ]
    response = backend_client.post("/api/v1/process/batch", files=files, data={"width": "256", "height": "256"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["successful"], body["failed"]) == (5, 3, 2)
    items = body["results"]
    assert items[0]["filename"] == "passwd.jpg"
    assert [i["error"] for i in items[3:]] == ["no_face", "unsupported_image"]
    first, second = (backend_client.get(items[i]["png_url"]).content for i in (1, 2))
    assert first != second, "same file names must not overwrite each other"
    assert backend_client.get(items[0]["jpg_url"]).headers["content-type"] == "image/jpeg"
    archive = zipfile.ZipFile(io.BytesIO(backend_client.get(body["download_url"]).content))
    names = sorted(archive.namelist())
    assert names == sorted(f"{stem}.{ext}" for stem in ("001_passwd", "002_same", "003_same") for ext in ("png", "jpg"))
    assert archive.read("002_same.png") == first
    job = backend_client.get(f"/api/v1/jobs/{body['job_id']}").json()
    assert job["kind"] == "batch" and job["formats"] == ["zip"] and job["items"]["3"] == []


def test_jobs_delete_then_404(backend_client: httpx.Client, photo: Photo) -> None:
    body = _post(backend_client, photo, "astronaut.jpg", width=128, height=128).json()
    job = f"/api/v1/jobs/{body['job_id']}"
    assert backend_client.get(job).status_code == 200
    assert backend_client.delete(job).status_code == 200
    _error(backend_client.delete(job), 404, "not_found")
    _error(backend_client.get(job), 404, "not_found")
    _error(backend_client.get(body["png_url"]), 404, "not_found")


def test_unknown_format_and_ids(client: httpx.Client) -> None:
    _error(client.get(f"/api/v1/download/{'a' * 32}/gif"), 422, "invalid_option")
    _error(client.get(f"/api/v1/download/{'a' * 32}/png"), 404, "not_found")
    _error(client.get("/api/v1/download/abc/png"), 404, "not_found")
    _error(client.get("/nope"), 404, "not_found")


def test_large_png_is_not_refused_because_its_jpeg_cannot_fit(backend_client: httpx.Client, photo: Photo) -> None:
    """The JPEG companion is best-effort; only the requested format may fail the request. One rule in both
    modes (jobs/processing.py): the queue used to answer 422 here while the embedded server answered 200."""
    response = backend_client.post(
        "/api/v1/process",
        files={"file": ("a.jpg", photo("grace_hopper.jpg"), "image/jpeg")},
        data={"width": "800", "height": "800", "max_kb": "5", "enhance_face": "false", "matting": "fast"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["jpg_url"] is None
    assert backend_client.get(body["png_url"]).status_code == 200
    asked_jpg = backend_client.post(
        "/api/v1/process",
        files={"file": ("a.jpg", photo("grace_hopper.jpg"), "image/jpeg")},
        data={"width": "800", "height": "800", "max_kb": "5", "output_format": "jpg", "matting": "fast"},
    )
    assert asked_jpg.status_code == 422
    assert asked_jpg.json()["error"]["code"] == "output_too_large"


@pytest.mark.parametrize(
    ("name", "make", "turn"),
    [
        ("p.heic", lambda data: phone_photos.heic(data, orientation=6), 0),
        ("p.avif", phone_photos.avif, 0),
        ("p.jpg", lambda data: phone_photos.turned(data, 180), 180),
        ("p.jpg", lambda data: phone_photos.upscaled(data, 12), 0),
    ],
    ids=["heic", "avif", "upside-down", "12mp"],
)
def test_phone_photos_are_processed(
    client: httpx.Client, photo: Photo, name: str, make: Callable[[bytes], bytes], turn: int
) -> None:
    data = make(photo("grace_hopper.jpg"))
    response = client.post("/api/v1/process", files={"file": (name, data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["face_count"] == 1 and result["turn_degrees"] == turn
    assert result["output_size"] == {"width": 648, "height": 648}
