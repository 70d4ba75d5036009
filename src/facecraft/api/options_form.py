"""The processing routes' form: the options model (pipeline/options.py) plus the answer's own switch.

Every field is optional: an omitted field takes the preset's value or the operator's FACECRAFT_DEFAULT_*
value. Names, ranges and descriptions come from `OptionRequest`, so /docs shows the bounds the pipeline
enforces and the CLI offers the same options.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from pydantic import Field

from facecraft.pipeline.options import OptionRequest


class OptionForm(OptionRequest):
    return_base64: bool = Field(False, description="Embed the results as base64 in the JSON answer.")


Options = Annotated[OptionForm, Form()]
