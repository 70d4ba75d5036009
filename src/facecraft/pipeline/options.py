"""The options of one portrait request, validated in one place.

The API builds these from form fields and the CLI from flags; defaults come from the settings
(FACECRAFT_DEFAULT_*), so an operator can change the house style without touching clients.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from facecraft.config import FacePolicy, MattingMode, OutputFormat, Settings

RGB = tuple[int, int, int]


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
    matting: MattingMode = Field(MattingMode.QUALITY, description="`quality` (ISNet) or `fast`.")
    face_policy: FacePolicy = Field(FacePolicy.LARGEST, description="`largest` or `reject` with several faces.")
    output_format: OutputFormat = Field(OutputFormat.PNG, description="Main output format.")
    max_kb: int = Field(99, ge=5, le=10240, description="JPEG size cap in KB.")

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


# Options a front end passes through one by one; the background colour is assembled from its parts
# (r/g/b fields, a hex string, a preset) by each front end.
SCALAR_OPTIONS: tuple[str, ...] = tuple(name for name in PortraitOptions.model_fields if name != "background")
