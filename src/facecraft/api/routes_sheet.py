"""POST /api/v1/sheet: copies of one ID photo on photo paper at their true size, with cut marks."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from facecraft.api.deps import State
from facecraft.api.options_form import Options
from facecraft.api.routes_process import _ERRORS, Upload, _run
from facecraft.api.security import api_key_scheme
from facecraft.api.uploads import read_upload
from facecraft.config import OutputFormat
from facecraft.errors import InvalidOptionError
from facecraft.imaging.sheet import PAPER_IDS, get_paper, sheet_jpeg

router = APIRouter(prefix="/api/v1", tags=["processing"], dependencies=[Depends(api_key_scheme)])


@router.post(
    "/sheet",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The print sheet."}, **_ERRORS},
    summary="Lay out copies of one photo on a print sheet",
)
async def make_print_sheet(
    request: Request,
    state: State,
    file: Upload,
    form: Options,
    paper: Annotated[
        str, Form(description="Paper: 4x6, 5x7, a4 or letter.", json_schema_extra={"enum": list(PAPER_IDS)})
    ] = "4x6",
    copies: Annotated[int | None, Form(ge=1, le=100, description="Copies (default: as many as fit).")] = None,
) -> Response:
    """The photo is made as with /process (send a document `preset`), then copied onto the paper at its
    physical size (the preset's mm, or width × height at `dpi`), 300 dpi, thin grey cut lines between copies.
    Print at 100 % ("actual size"), not "fit to page"."""
    if get_paper(paper) is None:
        raise InvalidOptionError(f"Unknown paper '{paper[:20]}'; use one of: {', '.join(PAPER_IDS)}.", field="paper")
    options = form.resolve(state.settings).model_copy(
        update={"output_format": OutputFormat.PNG, "transparent_background": False}
    )
    state.runner.require_ready()
    data = await read_upload(file, state.settings.max_upload_bytes)
    outcome = await _run(state, request, state.runner.process_image(data, options, [OutputFormat.PNG]))
    sheet, placed = await asyncio.to_thread(
        sheet_jpeg, outcome.images[OutputFormat.PNG].data, options.dpi, paper, copies
    )
    headers = {"X-Sheet-Copies": str(placed), "Content-Disposition": 'inline; filename="sheet.jpg"'}
    if outcome.result.compliance is not None:
        headers["X-Facecraft-Compliance"] = "pass" if outcome.result.compliance["passed"] else "fail"
    return Response(sheet, media_type="image/jpeg", headers=headers)
