"""Small request helpers shared by the routers."""

from __future__ import annotations

from fastapi import Request

from facecraft.api.state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.facecraft
    return state


def download_url(job_id: str, fmt: str, item: int | None = None) -> str:
    if item is None:
        return f"/api/v1/download/{job_id}/{fmt}"
    return f"/api/v1/download/{job_id}/{item}/{fmt}"
