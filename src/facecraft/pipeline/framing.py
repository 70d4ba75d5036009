"""Framing to a document's published rule: head height, eye line and centring from the matte and the mesh.

The ordinary headshot is framed from the face box (geometry.plan_crop). An ID photo is judged on the head
from chin to crown (the top of the hair) and on the eye line, so a document preset frames in three steps:

1. a generous levelled crop around the face (plan_crop with a wide margin) gives the face mesh (chin, eyes,
   face centre) and the person segmentation, whose top over the face is a first guess at the crown;
2. the document frame that guess implies, grown by a slack that covers the guess's error, is cut from the
   source photo and matted as usual (`plan_matte_frame`);
3. in that matte the crown is read again (the top of the person over the middle of the face, not the face
   box, which stops at the brow), and the final frame scales the head to the middle of its band, puts the
   eye line inside its band (or the crown at its margin, or a little more room below the chin than above
   the crown when the rule says nothing) and centres the face (`reframe`).

Why the matte is drawn on (about) the final frame and not on the wide first crop: the matte's decisions
depend on what it is shown. On a crop three face widths wide the person segmentation works at half the
resolution per face, its band is twice as wide in face units, and ISNet's window reaches beyond the photo
on tilted faces, where the photo's own rectangle becomes the salient object; the old background then
survived as a band beside and above the hair that the `square` framing of the same photo did not have.

The final frame is cut from the source photo again (one resampling of the pixels) and the matte follows it.
Where the frame reaches beyond the photo nothing is invented: that part stays transparent (background
colour in a JPEG), and `Framing` records how much of the frame the photo covers and whether the head touched
the photo's edge, for the compliance report to say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.imaging.geometry import CropPlan, Point, compose_affine, invert_affine, warp_crop
from facecraft.pipeline.landmarks import FaceMesh
from facecraft.standards.documents import Document

CHIN = 152
FACE_SIDES = (234, 454)  # the face oval's image-left and image-right extremes
FOREHEAD = 10
# When the rule gives no eye band and no crown margin, the space left over by the head is split 40 % above
# the crown and 60 % below the chin (the shoulders): the look of the rules' example photos.
_ABOVE_SHARE = 0.4
# Aim for the inner part of an eye or margin band, so the measurement's own uncertainty stays inside it.
_BAND_INSET = 0.25
_FIRST_MARGIN = 1.0  # face sizes around the face in the first crop: room for hair and shoulders
# Room the matte gets around the frame the person segmentation predicts, as shares of that frame's width
# (left, right) and height (top, bottom). The segmentation's crown lay 0 to 7 % of the head height below the
# matte's on the test photos (it cuts off light and loose hair); a higher crown makes the final frame larger
# and moves it up, so the top gets the most room (a quarter of the frame is about a third of the head).
MATTE_SLACK = (0.1, 0.25, 0.1, 0.1)


@dataclass(frozen=True)
class HeadGeometry:
    """Head landmarks in the coordinates of a levelled crop."""

    crown_y: float
    chin_y: float
    eye_y: float
    center_x: float
    crown_at_edge: bool  # the matte reaches the photo's top edge over the face: the real crown is cut off


@dataclass(frozen=True)
class Framing:
    """What the document framing did, in output pixels, for the compliance report."""

    document: str
    crown_y: float
    chin_y: float
    eye_y: float
    center_x: float
    crown_at_edge: bool
    coverage: float  # share of the output frame that the source photo covers (1.0: nothing beyond its edges)
    mesh_out: npt.NDArray[np.float64]  # face-mesh landmarks mapped to output pixels (x, y, z)
    mesh_source: npt.NDArray[np.float64]  # the same landmarks in source pixels
    source_size: tuple[int, int]  # width, height of the source photo


def first_crop_margin() -> float:
    return _FIRST_MARGIN


def measure_head(alpha: npt.NDArray[np.float32], inside: npt.NDArray[np.float32], mesh: FaceMesh) -> HeadGeometry:
    """Crown from the matte; chin, eyes and face centre from the mesh; all in the levelled crop's pixels
    (`mesh` was found on that crop: the mesh is more accurate on a level face than on a tilted one)."""
    pts = mesh.points
    chin_y = float(pts[CHIN, 1])
    left, right = pts[FACE_SIDES[0]], pts[FACE_SIDES[1]]
    center_x = float((left[0] + right[0]) / 2)
    face_width = abs(float(right[0] - left[0]))
    eyes = mesh.eyes
    eye_y = (eyes[0][1] + eyes[1][1]) / 2
    crown = crown_from_matte(alpha, inside, center_x, face_width, eye_y)
    if crown is None:
        # The matte does not cover the face (a matting failure): estimate the crown from the mesh, the
        # forehead's top plus the usual hair line, rather than frame on nothing.
        forehead_y = float(pts[FOREHEAD, 1])
        crown = (forehead_y - _HAIR_ABOVE_FOREHEAD * (chin_y - forehead_y), False)
    return HeadGeometry(crown_y=crown[0], chin_y=chin_y, eye_y=eye_y, center_x=center_x, crown_at_edge=crown[1])


# Crown above landmark 10 as a share of forehead-to-chin, for the rare photo whose matte misses the head.
_HAIR_ABOVE_FOREHEAD = 0.25


def crown_from_matte(
    alpha: npt.NDArray[np.float32],
    inside: npt.NDArray[np.float32] | None,
    center_x: float,
    face_width: float,
    eye_y: float,
) -> tuple[float, bool] | None:
    """The top of the person over the middle half of the face: in each column, walk up from the eye line
    while the matte says subject; the crown is a low percentile of where those walks end (the top of the
    head's curve, robust to a stray hair). Also whether the subject runs into the top of the photo.
    None when the matte does not cover the eye line at all."""
    height, width = alpha.shape
    x0 = max(0, round(center_x - face_width / 4))
    x1 = min(width, round(center_x + face_width / 4) + 1)
    row = int(np.clip(round(eye_y), 0, height - 1))
    if x1 <= x0:
        return None
    band = alpha[: row + 1, x0:x1] >= 0.5
    tops = []
    for col in range(band.shape[1]):
        column = band[::-1, col]  # from the eye line upwards
        if not column[0]:
            continue
        off = np.flatnonzero(~column)
        tops.append(row + 1 - int(off[0]) if off.size else 0)
    if len(tops) < max(3, band.shape[1] // 4):
        return None
    crown = float(np.percentile(tops, 5))
    at_edge = crown <= 1.0
    if inside is not None and not at_edge:
        crown_row = int(np.clip(round(crown) - 2, 0, height - 1))
        at_edge = float(inside[crown_row, x0:x1].mean()) < 0.5
    return crown, at_edge


def target_layout(document: Document, eye_rel: float) -> tuple[float, float]:
    """Head share and crown position (share of the height from the top) for a head whose eye line lies
    `eye_rel` of the way from crown to chin."""
    low, high = document.head_share
    head = (low + high) / 2
    margin = document.crown_margin_share
    if margin is not None:
        crown = _inset(margin)[0] + (_inset(margin)[1] - _inset(margin)[0]) / 2
    else:
        crown = _ABOVE_SHARE * (1 - head)
    eye_band = document.eye_share
    if eye_band is not None:
        top_low, top_high = _inset((1 - eye_band[1], 1 - eye_band[0]))  # band measured from the top
        eye = min(max(crown + eye_rel * head, top_low), top_high)
        crown = eye - eye_rel * head
    return head, crown


def _inset(band: tuple[float, float]) -> tuple[float, float]:
    low, high = band
    pad = (high - low) * _BAND_INSET
    return low + pad, high - pad


def plan_document_crop(
    first: CropPlan, head: HeadGeometry, document: Document, output_size: tuple[int, int], max_working_side: int = 1024
) -> tuple[CropPlan, npt.NDArray[np.float64]]:
    """The final crop plan (source -> working crop) and the matrix from the first crop to the working crop."""
    out_w, out_h = output_size
    head_px = max(1.0, head.chin_y - head.crown_y)
    eye_rel = (head.eye_y - head.crown_y) / head_px
    head_share, crown_share = target_layout(document, eye_rel)
    k = head_share * out_h / head_px  # output pixels per first-crop pixel
    x0 = head.center_x - 0.5 * out_w / k
    y0 = head.crown_y - crown_share * out_h / k
    first_scale = math.hypot(first.matrix[0, 0], first.matrix[0, 1])  # first-crop pixels per source pixel
    per_source = k * first_scale  # output pixels per source pixel
    # Never upscale in the warp (the final resize does it once) and keep the working crop bounded.
    f = min(1.0, 1.0 / per_source, max_working_side / max(out_w, out_h))
    to_work = np.array([[f * k, 0.0, -f * k * x0], [0.0, f * k, -f * k * y0]])
    matrix = to_work @ np.vstack([first.matrix, [0.0, 0.0, 1.0]])
    size = (max(1, round(out_w * f)), max(1, round(out_h * f)))
    return CropPlan(matrix=matrix, size=size, roll=first.roll), to_work


def plan_matte_frame(
    first: CropPlan,
    person: npt.NDArray[np.float32],
    inside: npt.NDArray[np.float32],
    mesh: FaceMesh,
    document: Document,
    output_size: tuple[int, int],
) -> tuple[CropPlan, FaceMesh]:
    """The crop to matte (source -> crop) and the mesh in its pixels: the document frame as the person mask
    `person` of the first crop places the crown, grown by MATTE_SLACK. `mesh` was found on the first crop."""
    guess = measure_head(person, inside, mesh)
    frame, _ = plan_document_crop(first, guess, document, output_size)
    left, top, right, bottom = MATTE_SLACK
    width, height = frame.size
    size = (max(1, round(width * (1 + left + right))), max(1, round(height * (1 + top + bottom))))
    plan = frame.context(left, top, right, bottom, size)
    return plan, map_mesh(mesh, compose_affine(plan.matrix, invert_affine(first.matrix)))


def map_mesh(mesh: FaceMesh, matrix: npt.NDArray[np.float64]) -> FaceMesh:
    """The mesh through a 2x3 similarity map (x and y mapped, depth scaled alike)."""
    points = mesh.points
    moved = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    scale = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))
    return FaceMesh(np.column_stack([moved, points[:, 2] * scale]))


def follow_matte(
    alpha: npt.NDArray[np.float32], to_work: npt.NDArray[np.float64], size: tuple[int, int]
) -> npt.NDArray[np.float32]:
    """The matted crop's matte in the final working crop. Beyond the matted crop the edge rows repeat (the
    body continues below, the background beside); beyond the photo the caller masks it out."""
    moved = cv2.warpAffine(alpha, to_work, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.clip(moved, 0.0, 1.0).astype(np.float32)


def framing_record(
    document: Document,
    plan: CropPlan,
    head: HeadGeometry,
    to_work: npt.NDArray[np.float64],
    inside: npt.NDArray[np.float32],
    mesh: FaceMesh,
    first: CropPlan,
    output_size: tuple[int, int],
    source_size: tuple[int, int],
) -> Framing:
    """Map the measured head and the mesh (first-crop pixels) into output pixels, and the mesh into the source."""
    out_w, _ = output_size
    to_out = out_w / plan.size[0]
    first_to_out = np.vstack([to_work * to_out, [0.0, 0.0, 1.0]])
    pts = mesh.points
    homogeneous = np.column_stack([pts[:, :2], np.ones(len(pts))])
    scale_out = math.hypot(first_to_out[0, 0], first_to_out[0, 1])
    mesh_out = np.column_stack([(homogeneous @ first_to_out.T)[:, :2], pts[:, 2] * scale_out])
    to_source = np.linalg.inv(np.vstack([first.matrix, [0.0, 0.0, 1.0]]))
    scale_source = math.hypot(to_source[0, 0], to_source[0, 1])
    mesh_source = np.column_stack([(homogeneous @ to_source.T)[:, :2], pts[:, 2] * scale_source])

    def out(x: float, y: float) -> Point:
        mapped = first_to_out @ np.array([x, y, 1.0])
        return float(mapped[0]), float(mapped[1])

    crown, chin, eye = out(head.center_x, head.crown_y), out(head.center_x, head.chin_y), out(head.center_x, head.eye_y)
    return Framing(
        document=document.id,
        crown_y=crown[1],
        chin_y=chin[1],
        eye_y=eye[1],
        center_x=crown[0],
        crown_at_edge=head.crown_at_edge,
        coverage=float(inside.mean()),
        mesh_out=mesh_out,
        mesh_source=mesh_source,
        source_size=source_size,
    )


@dataclass(frozen=True)
class Reframed:
    plan: CropPlan
    crop: npt.NDArray[np.uint8]
    alpha: npt.NDArray[np.float32]
    inside: npt.NDArray[np.float32]  # 1 where the final crop shows the photo
    framing: Framing


def reframe(
    rgb: npt.NDArray[np.uint8],
    first: CropPlan,
    alpha: npt.NDArray[np.float32],
    inside: npt.NDArray[np.float32],
    mesh: FaceMesh,
    document: Document,
    output_size: tuple[int, int],
) -> Reframed:
    """From the matted crop (`first`, see plan_matte_frame) to the document's frame: read the crown from its
    matte, cut again from the source, move the matte along. `mesh` is the face mesh in the matted crop's pixels."""
    head = measure_head(alpha, inside, mesh)
    plan, to_work = plan_document_crop(first, head, document, output_size)
    crop, final_inside = warp_crop(rgb, plan)
    final_alpha = follow_matte(alpha, to_work, plan.size) * final_inside
    height, width = rgb.shape[:2]
    record = framing_record(document, plan, head, to_work, final_inside, mesh, first, output_size, (width, height))
    return Reframed(plan, crop, final_alpha.astype(np.float32), final_inside, record)
