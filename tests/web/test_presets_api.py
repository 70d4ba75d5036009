"""GET /api/v1/presets, the `preset` option on the three processing routes, and the page's serving rules."""

from __future__ import annotations

import http.client as http_client
import io
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image
from tests.api.conftest import LiveServer

from facecraft.pipeline.presets import PRESETS

Photo = Callable[[str], bytes]
KEY = "web-page-key"
STATIC = Path(__file__).resolve().parents[2] / "src" / "facecraft" / "api" / "static"


def corner(data: bytes) -> tuple[int, ...]:
    with Image.open(io.BytesIO(data)) as image:
        pixel = image.convert("RGB").getpixel((2, 2))
    assert isinstance(pixel, tuple)
    return pixel


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 6) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def raw_get(server: LiveServer, path: str) -> int:
    """GET with the path sent as written (httpx would resolve the dots first)."""
    connection = http_client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def readme_presets() -> dict[str, tuple[int, int, str, bool, str, int, float]]:
    """The README's preset table: id -> (width, height, background, oval, format, max_kb, face_margin)."""
    readme = (STATIC.parents[3] / "README.md").read_text(encoding="utf-8")
    row = re.compile(
        r"^\| `(\w+)` \| (\d+) × (\d+) \| `(#[0-9a-f]{6})` \| (yes|no) \| (\w+) \| (\d+) \| ([\d.]+) \|$", re.M
    )
    return {
        m[1]: (int(m[2]), int(m[3]), m[4], m[5] == "yes", m[6], int(m[7]), float(m[8])) for m in row.finditer(readme)
    }


def readme_documents() -> dict[str, tuple[int, int]]:
    """The README's Documents table: id -> (width, height) in px at 300 dpi, from its mm or inch sizes."""
    readme = (STATIC.parents[3] / "README.md").read_text(encoding="utf-8").split("### Documents", 1)[1]
    row = re.compile(r"^\| `(\w+)` \| ([\d.]+) × ([\d.]+) (mm|in) \|", re.M)
    per_unit = {"mm": 300 / 25.4, "in": 300.0}
    return {
        m[1]: (round(float(m[2]) * per_unit[m[4]]), round(float(m[3]) * per_unit[m[4]])) for m in row.finditer(readme)
    }


def test_presets_are_listed_with_their_sizes(client: httpx.Client) -> None:
    response = client.get("/api/v1/presets")
    assert response.status_code == 200
    listed = response.json()
    # Expected values come from the README's preset table (the documented contract), not from PRESETS.
    documented = readme_presets()
    documents = readme_documents()
    assert {"badge", "square", "avatar", "ad_thumbnail"} <= set(documented)
    assert {"passport", "uk_passport", "us_passport", "us_visa", "canada_passport"} <= set(documents)
    assert [p["id"] for p in listed] == list(documents) + list(documented)
    for item in listed:
        if item["id"] in documents:
            assert (item["width"], item["height"]) == documents[item["id"]], item["id"]
            assert item["rules"]["document"] == item["id"] and not item["oval"] and item["format"] == "jpg"
            continue
        width, height, background, oval, fmt, max_kb, margin = documented[item["id"]]
        assert (item["width"], item["height"], item["background"]) == (width, height, background), item["id"]
        assert (item["oval"], item["format"], item["max_kb"], item["face_margin"]) == (oval, fmt, max_kb, margin)
    keys = {"id", "label", "width", "height", "background", "oval", "format", "max_kb", "face_margin", "description"}
    keys |= {"dpi", "rules"}
    for item in listed:
        assert set(item) == keys
        assert re.fullmatch(r"#[0-9a-f]{6}", item["background"])
        assert item["format"] in {"png", "jpg", "webp"}
        assert 16 <= item["width"] <= 4096 and 16 <= item["height"] <= 4096
        assert f"{item['width']} × {item['height']}" in item["description"]
    by_id = {p["id"]: p for p in listed}
    # 35 × 45 mm at 300 dpi.
    assert (by_id["passport"]["width"], by_id["passport"]["height"]) == (413, 531)
    assert (by_id["ad_thumbnail"]["width"], by_id["ad_thumbnail"]["height"], by_id["ad_thumbnail"]["max_kb"]) == (
        96,
        96,
        99,
    )
    assert "presets" in client.get("/openapi.json").json()["paths"]["/api/v1/presets"]["get"]["tags"]
    rules = by_id["us_passport"]["rules"]
    assert rules["head_height_mm"] == [25.4, 34.9] and rules["eye_line_from_bottom_mm"] == [28.6, 34.9]
    assert rules["source"]["url"].startswith("https://") and rules["source"]["checked"]
    assert by_id["badge"]["rules"] is None


def test_preset_sets_size_format_and_background(client: httpx.Client, photo: Photo) -> None:
    response = client.post(
        "/api/v1/process", files={"file": ("a.jpg", photo("astronaut.jpg"))}, data={"preset": "passport"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"]["output_size"] == {"width": 413, "height": 531}
    assert body["result"]["output_format"] == "jpg"
    assert body["download_url"] == body["jpg_url"]
    jpeg = client.get(body["download_url"]).content
    assert len(jpeg) <= 500 * 1024
    with Image.open(io.BytesIO(jpeg)) as image:
        assert (image.format, image.size) == ("JPEG", (413, 531))
    assert near(corner(jpeg), (240, 240, 240))  # no oval: the corner is the preset's plain background


def test_explicit_fields_override_the_preset(client: httpx.Client, photo: Photo) -> None:
    response = client.post(
        "/api/v1/process",
        files={"file": ("a.jpg", photo("grace_hopper.jpg"))},
        data={"preset": "us_visa", "width": "300", "output_format": "png", "background_r": "0"},
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["output_size"] == {"width": 300, "height": 600}
    assert result["output_format"] == "png"
    # Unsent channels come from the preset's white, not from the server default grey.
    assert near(corner(client.get(response.json()["jpg_url"]).content), (0, 255, 255))


def test_quick_and_batch_take_presets(client: httpx.Client, photo: Photo) -> None:
    quick = client.post(
        "/api/v1/process/quick", files={"file": ("a.jpg", photo("astronaut.jpg"))}, data={"preset": "ad_thumbnail"}
    )
    assert quick.status_code == 200 and quick.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(quick.content)) as image:
        assert image.size == (96, 96)
    assert len(quick.content) <= 99 * 1024
    sized = client.post(
        "/api/v1/process/quick",
        files={"file": ("a.jpg", photo("astronaut.jpg"))},
        data={"preset": "ad_thumbnail", "size": "128"},
    )
    with Image.open(io.BytesIO(sized.content)) as image:
        assert (image.format, image.size) == ("JPEG", (128, 128))
    plain = client.post("/api/v1/process/quick", files={"file": ("a.jpg", photo("astronaut.jpg"))}, data={"size": "64"})
    assert plain.headers["content-type"] == "image/png"  # without a preset, quick keeps its PNG default

    batch = client.post(
        "/api/v1/process/batch",
        files=[("files", ("a.jpg", photo("astronaut.jpg"))), ("files", ("b.jpg", photo("grace_hopper.jpg")))],
        data={"preset": "badge"},
    )
    assert batch.status_code == 200, batch.text
    for item in batch.json()["results"]:
        assert item["success"], item
        assert item["download_url"] == item["jpg_url"]
        with Image.open(io.BytesIO(client.get(item["download_url"]).content)) as image:
            assert (image.format, image.size) == ("JPEG", (600, 800))


@pytest.mark.parametrize("path", ["/api/v1/process", "/api/v1/process/quick", "/api/v1/process/batch"])
def test_unknown_preset_is_invalid_option_naming_the_field(client: httpx.Client, photo: Photo, path: str) -> None:
    field = "files" if path.endswith("batch") else "file"
    response = client.post(path, files={field: ("a.jpg", photo("astronaut.jpg"))}, data={"preset": "selfie"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_option" and error["field"] == "preset"
    assert "passport" in error["message"]


def test_readme_lists_every_preset() -> None:
    """Plain presets in the preset table, document presets in the Documents table (both generated)."""
    readme = (STATIC.parents[3] / "README.md").read_text(encoding="utf-8")
    for p in PRESETS:
        if p.document is not None:
            assert f"| `{p.id}` | " in readme.split("### Documents", 1)[1], p.id
            continue
        oval = "yes" if p.oval else "no"
        row = f"| `{p.id}` | {p.width} × {p.height} | `{p.background}` | {oval} | {p.format.value} | "
        assert f"{row}{p.max_kb} | {p.face_margin} |" in readme, p.id


def test_page_is_served_at_root_with_its_files(server: LiveServer, client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"], name
        assert f"/static/{name}" in page.text
    assert client.get("/docs").status_code == 200
    for path in ("/static/../routes_web.py", "/static/%2e%2e/routes_web.py", "/static/../../config.py"):
        assert raw_get(server, path) == 404, path


def test_page_needs_no_cdn_and_ships_as_package_data() -> None:
    files = sorted(STATIC.iterdir())
    assert {p.name for p in files} >= {"index.html", "app.js", "app.css", "favicon.svg"}
    # pyproject's package-data pattern is "api/static/*": no subfolders, or they would not ship.
    assert all(p.is_file() for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace name, never fetched
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path.name


@pytest.fixture(scope="module")
def locked(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(api_key=KEY)


def test_page_is_open_but_the_api_needs_the_key(locked: LiveServer) -> None:
    with locked.client() as http:
        assert http.get("/").status_code == 200
        assert http.get("/static/app.js").status_code == 200
        refused = http.get("/api/v1/presets")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert http.get("/api/v1/presets", headers={"X-API-Key": KEY}).status_code == 200
    # The open /static/ prefix must not become a way round the key.
    for path in ("/static/../api/v1/presets", "/static/%2e%2e/api/v1/presets", "/static/..%2fapi/v1/presets"):
        assert raw_get(locked, path) == 404, path


def test_document_presets_report_compliance(client: httpx.Client, photo: Photo) -> None:
    """result.compliance on /process, the verdict header on /quick, and strict mode's 422 listing failures."""
    files = {"file": ("a.jpg", photo("astronaut.jpg"))}
    body = client.post("/api/v1/process", files=files, data={"preset": "us_visa"}).json()
    report = body["result"]["compliance"]
    assert report["standard"] == "us_visa" and report["passed"] is False
    assert {"head_height", "eye_line", "yaw", "file_size"} <= {check["id"] for check in report["checks"]}
    quick = client.post("/api/v1/process/quick", files=files, data={"preset": "passport"})
    assert quick.status_code == 200 and quick.headers["x-facecraft-compliance"] == "fail"
    with Image.open(io.BytesIO(quick.content)) as image:
        assert image.info["jfif_density"] == (300, 300)
    plain = client.post("/api/v1/process/quick", files=files, data={"preset": "badge"})
    assert "x-facecraft-compliance" not in plain.headers
    strict = client.post("/api/v1/process", files=files, data={"preset": "us_visa", "compliance": "strict"})
    assert strict.status_code == 422
    error = strict.json()["error"]
    assert error["code"] == "not_compliant"
    assert "mouth_closed" in error["message"]


def test_print_sheet(client: httpx.Client, photo: Photo) -> None:
    files = {"file": ("a.jpg", photo("grace_hopper.jpg"))}
    response = client.post("/api/v1/sheet", files=files, data={"preset": "passport", "paper": "4x6"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg" and response.headers["x-sheet-copies"] == "8"
    assert response.headers["x-facecraft-compliance"] in {"pass", "fail"}
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (1800, 1200) and image.info["jfif_density"] == (300, 300)
    two = client.post("/api/v1/sheet", files=files, data={"preset": "us_passport", "paper": "4x6", "copies": "1"})
    assert two.status_code == 200 and two.headers["x-sheet-copies"] == "1"
    bad = client.post("/api/v1/sheet", files=files, data={"preset": "passport", "paper": "legal"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "paper"
