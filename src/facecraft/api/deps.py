"""Small request helpers shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from facecraft.api.state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.facecraft
    return state


State = Annotated[AppState, Depends(get_state)]
"""The app's state as a route parameter: `async def route(state: State)`."""


def download_url(job_id: str, fmt: str, item: int | None = None) -> str:
    if item is None:
        return f"/api/v1/download/{job_id}/{fmt}"
    return f"/api/v1/download/{job_id}/{item}/{fmt}"


def result_urls(job_id: str, output_format: str, formats: list[str], item: int | None = None) -> dict[str, str | None]:
    """The URL fields every answer about a processed photo carries (sync, async, batch item)."""
    return {
        "download_url": download_url(job_id, output_format, item),
        **{f"{fmt}_url": download_url(job_id, fmt, item) if fmt in formats else None for fmt in ("png", "jpg", "webp")},
    }
