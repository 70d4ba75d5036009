"""The web page at / (plain HTML, CSS and JavaScript from facecraft/api/static/) and GET /api/v1/presets.

The page and its files are served without the API key, so a browser can always load it and ask for the
key; every API call the page makes carries X-API-Key when the server needs one. No CDN, no build step:
the files in static/ are what the browser runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from facecraft.api.schemas import ErrorResponse
from facecraft.api.security import api_key_scheme
from facecraft.pipeline.presets import PRESETS

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static"

# The page loads only its own files and talks only to this server; result images are blob: URLs.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class PresetInfo(BaseModel):
    id: str = Field(examples=["passport"])
    label: str = Field(examples=["Passport / ID, 35 × 45 mm"])
    width: int = Field(examples=[413])
    height: int = Field(examples=[531])
    background: str = Field(description="Background colour '#rrggbb'.", examples=["#f0f0f0"])
    oval: bool = Field(description="Feathered oval mask (use_oval_mask).")
    format: str = Field(description="output_format: png, jpg or webp.", examples=["jpg"])
    max_kb: int = Field(description="JPEG size cap in KB.")
    face_margin: float
    description: str
    dpi: int = Field(300, description="Resolution written into the files.")
    rules: dict[str, Any] | None = Field(
        None,
        description="Document presets: the published rules (size in mm and px, head and eye bands, background, "
        "file limits, source with the date it was checked). None for plain size presets.",
    )


pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["presets"], dependencies=[Depends(api_key_scheme)])


@pages.get("/")
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@api.get(
    "/presets",
    response_model=list[PresetInfo],
    responses={401: {"model": ErrorResponse, "description": "Missing or wrong X-API-Key."}},
    summary="List the output presets",
)
async def list_presets() -> list[PresetInfo]:
    """Named sizes for ID photos and profile pictures. Send `preset=<id>` to /process, /process/quick or
    /process/batch; any option sent explicitly overrides the preset's value."""
    return [
        PresetInfo(
            id=p.id,
            label=p.label,
            width=p.width,
            height=p.height,
            background=p.background,
            oval=p.oval,
            format=p.format.value,
            max_kb=p.max_kb,
            face_margin=p.face_margin,
            description=p.description,
            dpi=p.dpi,
            rules=p.rules(),
        )
        for p in PRESETS
    ]


def install_web(app: FastAPI) -> None:
    """The page at /, its files under /static, and the presets endpoint."""
    app.include_router(pages)
    app.include_router(api)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
