"""Pipeline options as form fields, with the original API's names.

Every field is optional: an omitted field takes the operator's FACECRAFT_DEFAULT_* value (the
original ignored those settings and hard-coded its defaults in the route). Ranges are read from
PortraitOptions, so /docs shows the same bounds the pipeline enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form
from pydantic import ValidationError

from facecraft.config import FacePolicy, MattingMode, OutputFormat, Settings
from facecraft.errors import InvalidOptionError
from facecraft.imaging.compose import parse_color
from facecraft.pipeline.options import SCALAR_OPTIONS, PortraitOptions
from facecraft.pipeline.presets import PRESET_IDS, get_preset


def _bounds(name: str) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    for item in PortraitOptions.model_fields[name].metadata:
        for key in ("ge", "le", "gt", "lt"):
            if getattr(item, key, None) is not None:
                limits[key] = getattr(item, key)
    return limits


def _describe(name: str) -> str:
    return PortraitOptions.model_fields[name].description or ""


_CHANNEL = {"ge": 0, "le": 255}


@dataclass(frozen=True)
class OptionForm:
    width: int | None = None
    height: int | None = None
    background_r: int | None = None
    background_g: int | None = None
    background_b: int | None = None
    background: str | None = None
    face_margin: float | None = None
    use_oval_mask: bool | None = None
    enhance_face: bool | None = None
    enhance_fidelity: float | None = None
    enhance_photo: bool | None = None
    matting: MattingMode | None = None
    face_policy: FacePolicy | None = None
    output_format: OutputFormat | None = None
    max_kb: int | None = None
    transparent_background: bool | None = None
    return_base64: bool = False
    preset: str | None = None


def option_form(
    *,
    width: Annotated[int | None, Form(description=_describe("width"), **_bounds("width"))] = None,
    height: Annotated[int | None, Form(description=_describe("height"), **_bounds("height"))] = None,
    background_r: Annotated[int | None, Form(description="Background red, 0-255.", **_CHANNEL)] = None,
    background_g: Annotated[int | None, Form(description="Background green, 0-255.", **_CHANNEL)] = None,
    background_b: Annotated[int | None, Form(description="Background blue, 0-255.", **_CHANNEL)] = None,
    background: Annotated[
        str | None,
        Form(
            description="Background colour as '#RRGGBB', '#RGB' or 'r,g,b' (wins over background_r/g/b).",
            max_length=40,
            examples=["#f0f0f0"],
        ),
    ] = None,
    face_margin: Annotated[float | None, Form(description=_describe("face_margin"), **_bounds("face_margin"))] = None,
    use_oval_mask: Annotated[bool | None, Form(description=_describe("use_oval_mask"))] = None,
    enhance_face: Annotated[bool | None, Form(description=_describe("enhance_face"))] = None,
    enhance_fidelity: Annotated[
        float | None, Form(description=_describe("enhance_fidelity"), **_bounds("enhance_fidelity"))
    ] = None,
    enhance_photo: Annotated[bool | None, Form(description=_describe("enhance_photo"))] = None,
    matting: Annotated[MattingMode | None, Form(description=_describe("matting"))] = None,
    face_policy: Annotated[FacePolicy | None, Form(description=_describe("face_policy"))] = None,
    output_format: Annotated[OutputFormat | None, Form(description=_describe("output_format"))] = None,
    max_kb: Annotated[int | None, Form(description=_describe("max_kb"), **_bounds("max_kb"))] = None,
    transparent_background: Annotated[bool | None, Form(description=_describe("transparent_background"))] = None,
    return_base64: Annotated[bool, Form(description="Embed the results as base64 in the JSON answer.")] = False,
    preset: Annotated[
        str | None,
        Form(
            description="A named output preset (GET /api/v1/presets): sets width, height, background, oval, "
            "output_format, max_kb and face_margin; fields sent explicitly override it.",
            max_length=40,
            json_schema_extra={"enum": list(PRESET_IDS)},
        ),
    ] = None,
) -> OptionForm:
    return OptionForm(
        width,
        height,
        background_r,
        background_g,
        background_b,
        background,
        face_margin,
        use_oval_mask,
        enhance_face,
        enhance_fidelity,
        enhance_photo,
        matting,
        face_policy,
        output_format,
        max_kb,
        transparent_background,
        return_base64,
        preset,
    )


def build_options(settings: Settings, form: OptionForm, **overrides: object) -> PortraitOptions:
    """Merge the form over the preset (if any) over the settings' defaults.

    `overrides` are the route's own values (None: leave the field alone). Any bad value becomes
    invalid_option naming the field; an unknown preset names `preset`.
    """
    preset = get_preset(form.preset) if form.preset is not None else None
    base = preset.option_values() if preset is not None else {}
    r, g, b = (
        parse_color(preset.background)
        if preset is not None
        else (settings.default_background_r, settings.default_background_g, settings.default_background_b)
    )
    explicit: dict[str, object] = {name: getattr(form, name) for name in SCALAR_OPTIONS}
    values = {**base, **{key: value for key, value in explicit.items() if value is not None}}
    values.update({key: value for key, value in overrides.items() if value is not None})
    if form.background is not None:
        try:
            values["background"] = parse_color(form.background)
        except InvalidOptionError as exc:
            raise InvalidOptionError(exc.message, field="background") from None
    elif (form.background_r, form.background_g, form.background_b) != (None, None, None):
        values["background"] = (
            r if form.background_r is None else form.background_r,
            g if form.background_g is None else form.background_g,
            b if form.background_b is None else form.background_b,
        )
    try:
        return PortraitOptions.from_settings(settings, **values)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else "options"
        raise InvalidOptionError(f"Invalid value for '{field}': {problem['msg']}", field=field) from None
