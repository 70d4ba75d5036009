"""The compliance report of a finished portrait: the document's checks on the photo and on its encoded file."""

from __future__ import annotations

from facecraft.errors import NotCompliantError
from facecraft.imaging.compose import composite_over_color
from facecraft.pipeline.encode import EncodedImage
from facecraft.pipeline.options import ComplianceMode, PortraitOptions
from facecraft.pipeline.portrait import Portrait
from facecraft.standards.compliance import PhotoFacts, failures, file_checks, photo_checks, report
from facecraft.standards.documents import get_document


def compliance_report(portrait: Portrait, image: EncodedImage, options: PortraitOptions) -> dict[str, object] | None:
    """The report for a photo made with a document preset (None otherwise)."""
    framing = portrait.framing
    document = get_document(framing.document) if framing is not None else None
    if framing is None or document is None:
        return None
    facts = PhotoFacts(
        flat=composite_over_color(portrait.rgb, portrait.alpha, options.background),
        crown_y=framing.crown_y,
        chin_y=framing.chin_y,
        eye_y=framing.eye_y,
        center_x=framing.center_x,
        crown_at_edge=framing.crown_at_edge,
        coverage=framing.coverage,
        mesh_out=framing.mesh_out,
        mesh_source=framing.mesh_source,
        source_size=framing.source_size,
    )
    height, width = portrait.rgb.shape[:2]
    checks = photo_checks(document, facts) + file_checks(document, image.data, image.format.value, (width, height))
    frame = {
        "crown": framing.crown_y / height,
        "chin": framing.chin_y / height,
        "eye": framing.eye_y / height,
        "center_x": framing.center_x / width,
    }
    return report(document, checks, frame)


def enforce(report_data: dict[str, object] | None, options: PortraitOptions) -> None:
    """compliance=strict: refuse a photo that fails a check, naming every failed check."""
    if report_data is None or options.compliance is not ComplianceMode.STRICT or report_data["passed"]:
        return
    failed = failures(report_data)
    names = ", ".join(str(check["id"]) for check in failed)
    raise NotCompliantError(
        f"The photo does not meet the {report_data['standard']} rules: {names}.",
        standard=report_data["standard"],
        failures=failed,
    )
