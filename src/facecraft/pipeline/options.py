"""The options of one portrait request, defined and merged in one place.

`OptionRequest` is what a client may send: the API's form fields and the CLI's flags are generated
from it, and `OptionRequest.resolve` is the one merge rule, the same for every front end:

    settings (FACECRAFT_DEFAULT_*) < the route's own default < preset < size < explicit fields

(`size` sets width and height, but an explicit width or height wins; `background` as '#RRGGBB' or
'r,g,b' wins over background_r/g/b, and single channels change only that channel of the colour the
preset or the settings give.) The result is `PortraitOptions`, what the pipeline reads.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from facecraft.config import FacePolicy, MattingMode, OutputFormat, Settings
from facecraft.errors import InvalidOptionError
from facecraft.imaging.compose import parse_color
from facecraft.standards.documents import DOCUMENT_IDS

RGB = tuple[int, int, int]


class ComplianceMode(StrEnum):
    REPORT = "report"
    STRICT = "strict"


class PortraitOptions(BaseModel):
    """Everything that shapes one output portrait."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    width: int = Field(648, ge=16, le=4096, description="Output width in pixels.")
    height: int = Field(648, ge=16, le=4096, description="Output height in pixels.")
    background: RGB = Field((240, 240, 240), description="Background colour (R, G, B), used for JPEG output.")
    transparent_background: bool = Field(
        True,
        description="PNG/WebP keep the background transparent; false fills it with the background colour.",
    )
    face_margin: float = Field(0.3, ge=0.0, le=1.0, description="Space around the face, extra on top.")
    use_oval_mask: bool = Field(True, description="Feathered oval around the head.")
    enhance_face: bool = Field(True, description="Restore detail in the face region.")
    enhance_fidelity: float = Field(0.7, ge=0.0, le=1.0, description="1 = closest to the input.")
    enhance_photo: bool = Field(True, description="Exposure, white balance, contrast, sharpening.")
    matting: MattingMode = Field(
        MattingMode.QUALITY,
        description=(
            "`quality`: ISNet decides the edge band (best in front of plain or textured backgrounds); `fast`: the "
            "person mask alone, about four times cheaper, and the one that errs less in front of a busy scene."
        ),
    )
    face_policy: FacePolicy = Field(FacePolicy.LARGEST, description="`largest` or `reject` with several faces.")
    output_format: OutputFormat = Field(OutputFormat.PNG, description="Main output format.")
    max_kb: int = Field(99, ge=5, le=10240, description="JPEG size cap in KB.")
    dpi: int = Field(300, ge=72, le=1200, description="Resolution written into PNG (pHYs) and JPEG (JFIF) files.")
    document: str | None = Field(
        None, description="ID document whose rules frame and check the photo (set by a document preset)."
    )
    compliance: ComplianceMode = Field(
        ComplianceMode.REPORT,
        description="With a document preset: `report` lists the checks; `strict` refuses a photo that fails one "
        "(422 not_compliant).",
    )

    @field_validator("document")
    @classmethod
    def _known_document(cls, value: str | None) -> str | None:
        if value is not None and value not in DOCUMENT_IDS:
            raise ValueError(f"unknown document; use one of: {', '.join(DOCUMENT_IDS)}")
        return value

    @classmethod
    def defaults_from(cls, settings: Settings) -> dict[str, object]:
        """The option defaults an operator configured through FACECRAFT_DEFAULT_* variables."""
        return {
            "width": settings.default_width,
            "height": settings.default_height,
            "background": (
                settings.default_background_r,
                settings.default_background_g,
                settings.default_background_b,
            ),
            "face_margin": settings.default_face_margin,
            "use_oval_mask": settings.default_oval_mask,
            "enhance_face": settings.default_enhance_face,
            "enhance_fidelity": settings.default_enhance_fidelity,
            "enhance_photo": settings.default_enhance_photo,
            "matting": settings.matting_mode,
            "face_policy": settings.face_policy,
            "output_format": settings.default_output_format,
            "max_kb": settings.default_max_kb,
        }

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> PortraitOptions:
        """Options with the operator's defaults, overridden by the request's explicit values."""
        values = cls.defaults_from(settings)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls.model_validate(values)


# Options passed through one by one; the background colour is assembled from its parts, the document comes
# from a preset.
SCALAR_OPTIONS: tuple[str, ...] = tuple(
    name for name in PortraitOptions.model_fields if name not in ("background", "document")
)


def _like(name: str) -> Any:
    """An optional field with the description and bounds of PortraitOptions' field `name`."""
    field = PortraitOptions.model_fields[name]
    bounds = {
        key: getattr(item, key)
        for item in field.metadata
        for key in ("ge", "le", "gt", "lt")
        if getattr(item, key, None) is not None
    }
    return Field(None, description=field.description, **bounds)


def _list_presets(schema: dict[str, Any]) -> None:
    from facecraft.pipeline.presets import PRESET_IDS  # noqa: PLC0415  (presets may come to import options)

    schema["enum"] = list(PRESET_IDS)


class OptionRequest(BaseModel):
    """Options as a client sends them; None = not sent (the preset or the settings decide)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    preset: str | None = Field(
        None,
        max_length=40,
        description="A named output preset (GET /api/v1/presets): sets width, height, background, oval, "
        "output_format, max_kb and face_margin; fields sent explicitly override it.",
        json_schema_extra=_list_presets,
    )
    width: int | None = _like("width")
    height: int | None = _like("height")
    size: int | None = Field(
        None, ge=16, le=4096, description="Square output: sets width and height (an explicit one wins)."
    )
    background: str | None = Field(
        None,
        max_length=40,
        description="Background colour as '#RRGGBB', '#RGB' or 'r,g,b' (wins over background_r/g/b).",
        examples=["#f0f0f0"],
    )
    background_r: int | None = Field(None, description="Background red, 0-255.", ge=0, le=255)
    background_g: int | None = Field(None, description="Background green, 0-255.", ge=0, le=255)
    background_b: int | None = Field(None, description="Background blue, 0-255.", ge=0, le=255)
    transparent_background: bool | None = _like("transparent_background")
    face_margin: float | None = _like("face_margin")
    use_oval_mask: bool | None = _like("use_oval_mask")
    enhance_face: bool | None = _like("enhance_face")
    enhance_fidelity: float | None = _like("enhance_fidelity")
    enhance_photo: bool | None = _like("enhance_photo")
    matting: MattingMode | None = _like("matting")
    face_policy: FacePolicy | None = _like("face_policy")
    output_format: OutputFormat | None = _like("output_format")
    max_kb: int | None = _like("max_kb")
    dpi: int | None = _like("dpi")
    compliance: ComplianceMode | None = _like("compliance")

    def resolve(self, settings: Settings, **route_defaults: object) -> PortraitOptions:
        """The merged options; any bad value is InvalidOptionError naming its field."""
        from facecraft.pipeline.presets import get_preset  # noqa: PLC0415

        values = PortraitOptions.defaults_from(settings) | route_defaults
        if self.preset is not None:
            values |= get_preset(self.preset).option_values()
        if self.size is not None:
            values["width"] = values["height"] = self.size
        values |= {name: getattr(self, name) for name in SCALAR_OPTIONS if getattr(self, name) is not None}
        if self.background is not None:
            try:
                values["background"] = parse_color(self.background)
            except InvalidOptionError as exc:
                raise InvalidOptionError(exc.message, field="background") from None
        elif (self.background_r, self.background_g, self.background_b) != (None, None, None):
            base: RGB = values["background"]  # type: ignore[assignment]
            r, g, b = base
            values["background"] = (
                r if self.background_r is None else self.background_r,
                g if self.background_g is None else self.background_g,
                b if self.background_b is None else self.background_b,
            )
        try:
            return PortraitOptions.model_validate(values)
        except ValidationError as exc:
            problem = exc.errors()[0]
            field = str(problem["loc"][0]) if problem["loc"] else "options"
            raise InvalidOptionError(f"Invalid value for '{field}': {problem['msg']}", field=field) from None
