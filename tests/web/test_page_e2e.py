"""The web page in a real browser: headless Chromium driven by playwright-core, against a live server.

Needs Debian's chromium and playwright-core in .cache/e2e: `scripts/browser-deps.sh` installs both (CI runs
it). Skipped only when no Chromium is installed. Screenshots go to tests/artifacts/web/ for review.
The browser steps live in tests/web/e2e/driver.mjs; each scenario prints what it saw as JSON, and the
files it downloaded are checked here.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.api.conftest import LiveServer

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "tests" / "web" / "e2e" / "driver.mjs"
PLAYWRIGHT = REPO / ".cache" / "e2e" / "node_modules" / "playwright-core"
ARTIFACTS = REPO / "tests" / "artifacts" / "web"
CHROMIUM = os.environ.get("FACECRAFT_E2E_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
KEY = "browser-test-key"

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed; run scripts/browser-deps.sh"),
    pytest.mark.slow,
]


def drive(scenario: str, server: LiveServer, data_dir: Path, **env: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (PLAYWRIGHT / "package.json").is_file():
        pytest.fail("Chromium is installed but node or playwright-core is missing: run scripts/browser-deps.sh")
    assert CHROMIUM is not None
    out = ARTIFACTS
    out.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "FACECRAFT_E2E_PLAYWRIGHT": str(PLAYWRIGHT),
        "FACECRAFT_E2E_CHROMIUM": CHROMIUM,
        "FACECRAFT_E2E_DATA": str(data_dir),
        **env,
    }
    run = subprocess.run(
        [node, str(DRIVER), scenario, server.url, str(out)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else None
    assert run.returncode == 0 and report is not None, (
        f"browser scenario {scenario!r} failed (screenshots in {out}):\n"
        f"{report['failure'] if report else ''}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    )
    assert report["ok"]
    # No script errors. The browser's own "Failed to load resource" lines are the error answers the
    # scenarios provoke on purpose (401, 413, 415, 422, 429).
    errors = [e for e in report["consoleErrors"] if not e.startswith("Failed to load resource: the server responded")]
    assert errors == [], errors
    result: dict[str, Any] = report["result"]
    return result


def test_single_photo_result_download_and_messages(server: LiveServer, data_dir: Path) -> None:
    seen = drive("single", server, data_dir)
    assert seen["unlabelled"] == [], "every control needs a label"
    assert seen["live"] >= 1
    assert seen["fields"] == {"width": "413", "height": "531", "format": "jpg"}
    assert seen["done"].startswith("Done in") and "413 × 531" in seen["done"]
    assert (seen["natural"]["width"], seen["natural"]["height"]) == (413, 531)
    saved = Path(seen["download"]["path"])
    assert seen["download"]["suggested"] == "astronaut-passport.jpg"
    with Image.open(saved) as image:
        assert (image.format, image.size) == ("JPEG", (413, 531))
    assert saved.stat().st_size <= 500 * 1024
    assert seen["noFace"].startswith("No face was found in this photo.")
    assert "not an image Facecraft can read" in seen["unsupported"]


def test_document_checklist_bands_and_print_sheet(server: LiveServer, data_dir: Path) -> None:
    seen = drive("document", server, data_dir)
    checks = {check["name"]: check for check in seen["checks"]}
    assert {check["mark"] for check in seen["checks"]} <= {"✔", "✘"}
    head = checks["Head height (chin to crown)"]
    assert head["mark"] == "✔" and "mm" in head["value"] and "allowed 25.4–34.9" in head["value"]
    assert checks["Mouth closed"]["mark"] == "✘"  # she smiles with open lips
    assert "checks failed for us_passport" in seen["summary"]
    bands = seen["bands"]
    assert not bands["hidden"] and seen["hiddenAfterToggle"]
    image = bands["image"]
    # The crown line lies inside the picture, the chin inside the shaded head band.
    assert image["top"] < bands["crown"]["top"] < image["top"] + image["height"] / 3
    assert bands["head"]["top"] <= bands["chin"]["top"] <= bands["head"]["top"] + bands["head"]["height"] + 1
    assert bands["eye"]["height"] > 0
    assert "copies at 300 dpi" in seen["sheetStatus"]
    with Image.open(seen["sheet"]["path"]) as sheet:
        assert (sheet.format, sheet.size, sheet.info["jfif_density"]) == ("JPEG", (1800, 1200), (300, 300))


def test_batch_progress_and_zip(server: LiveServer, data_dir: Path) -> None:
    seen = drive("batch", server, data_dir)
    assert seen["label"] == "Make 3 headshots"
    assert seen["progress"]["max"] == 3
    assert {1, 2, 3} <= set(seen["progress"]["values"]), seen["progress"]
    assert seen["progress"]["count"] == "3 of 3 done, 1 failed"
    assert seen["rows"][0] == "Done" and seen["rows"][2] == "Done"
    assert seen["rows"][1].startswith("No face was found")
    assert seen["summary"].startswith("Finished: 2 of 3 photos processed, 1 failed")
    with zipfile.ZipFile(seen["zip"]["path"]) as archive:
        assert archive.testzip() is None  # every CRC matches
        assert archive.namelist() == ["astronaut-avatar.png", "grace_hopper-avatar.png"]
        for name in archive.namelist():
            with Image.open(io.BytesIO(archive.read(name))) as image:
                assert (image.format, image.size, image.mode) == ("PNG", (256, 256), "RGBA")


def test_api_key_field_when_the_server_needs_one(start_server: Callable[..., LiveServer], data_dir: Path) -> None:
    locked = start_server(api_key=KEY)
    seen = drive("key", locked, data_dir, FACECRAFT_E2E_KEY=KEY)
    assert seen["asked"] == "This server needs an API key. Enter it to continue."
    assert seen["focused"] == "api-key"
    assert seen["refused"].startswith("The API key was not accepted")
    assert seen["accepted"].startswith("Key accepted")
    assert (seen["natural"]["width"], seen["natural"]["height"]) == (96, 96)
    assert seen["storage"] == {"session": ["facecraft.apiKey"], "local": []}


def test_busy_too_large_invalid_and_keyboard(server: LiveServer, data_dir: Path) -> None:
    seen = drive("errors", server, data_dir)
    ids = [step["id"] for step in seen["order"]]
    # Skip link, docs link, then the settings in reading order, then the file input.
    for wanted in ("preset", "width", "height", "background", "transparent", "oval", "margin", "format", "max-kb"):
        assert wanted in ids, ids
    assert ids.index("preset") < ids.index("width") < ids.index("format") < ids.index("files")
    for step in seen["order"]:
        if step["id"] != "BODY":  # past the last control focus leaves the page, then wraps round
            assert step["outline"] != "none" and step["width"] != "0px", step
    assert seen["presetAfterKey"] != "square"
    assert seen["calls"] == 4  # the first try and three retries after Retry-After
    assert "retrying" in seen["waiting"].lower() or "trying again" in seen["waiting"].lower()
    assert seen["busy"].startswith("The server is busy")
    assert seen["tooLarge"] == "This file is too large to upload. The upload is larger than the 20 MB limit."
    assert seen["invalid"] == "Width (px): enter a whole number from 16 to 4096."
    assert seen["invalidMarked"] == "true"
