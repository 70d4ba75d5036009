"""The portrait pipeline: wires the stages in request order and times each one.

    bytes -> decode -> detect -> choose face -> face mesh (eye centres, face outline) -> level + crop (one warp)
          -> matte -> foreground colours -> photo enhancement -> face restoration -> resize + oval mask
          -> (encode, see encode.py)

No stage calls the next; this module is the only place that knows the order. Everything after detection
works on the working crop (at most the output size), so a 12 MP photo becomes a ~0.4 MP problem early.

Decode only what the crop needs: a JPEG is first decoded with DCT scaling to about the detector's size
(a 12 MP photo at 1/2, 48 MP at 1/4). The crop is planned in full-resolution pixels; when the reduced
decode already holds as many pixels as the crop will keep, the crop comes from it, otherwise the photo
is decoded again, just fine enough. The decoded photo is dropped as soon as the crop (and ISNet's context
window; with a document preset, the final framing) exist, and no full-size float copy is ever made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facecraft.config import FacePolicy
from facecraft.errors import MultipleFacesError, NoFaceError
from facecraft.imaging.compose import oval_mask, resize_alpha, resize_rgb
from facecraft.imaging.decode import DecodedImage, decode_image
from facecraft.imaging.enhance import enhance_photo
from facecraft.imaging.foreground import estimate_foreground
from facecraft.imaging.geometry import (
    Box,
    CropPlan,
    Point,
    affine_points,
    compose_affine,
    inside_mask,
    invert_affine,
    plan_crop,
    warp_crop,
)
from facecraft.imaging.trimap import Mask, keep_connected, polygon_mask
from facecraft.pipeline.detect import DETECTION_MAX_SIDE, DetectedFace, FaceDetector
from facecraft.pipeline.framing import Framing, first_crop_margin, plan_matte_frame, reframe
from facecraft.pipeline.landmarks import FACE_OVAL, EyeLocator, Landmarks, eye_centres, face_surface
from facecraft.pipeline.matte import CONTEXT_MARGINS, ContextWindow, PersonMatter
from facecraft.pipeline.neighbours import neighbour_mask
from facecraft.pipeline.options import PortraitOptions
from facecraft.pipeline.restore import FaceRestorer
from facecraft.standards.documents import get_document


@dataclass
class Portrait:
    """A finished headshot at the output size, before encoding."""

    rgb: npt.NDArray[np.uint8]
    alpha: npt.NDArray[np.float32]
    face_count: int
    face_box: Box  # chosen face, input-image pixels (after EXIF orientation)
    input_size: tuple[int, int]
    roll_degrees: float  # how far the photo was turned to level the eyes
    eyes_from: str  # "iris" or "detector"
    matte_method: str  # how the matte was actually made (see pipeline/matte.py)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    warnings: list[str] = field(default_factory=list)  # e.g. "face_cut_by_frame"
    landmarks: Landmarks | None = None  # face-mesh points in output pixels, when the mesh found the face
    photo_mask: npt.NDArray[np.float32] | None = None  # 1 where the output shows the photo, 0 beyond its edge
    framing: Framing | None = None  # with a document preset: the head as framed, for the compliance report
    turn_degrees: int = 0  # turn (counter-clockwise) the detector needed to find the face: 0, 90, 180, 270, +-30
    face_detector: str = "full_range"  # the detection model that found the face: "full_range" or "short_range"
    to_output: npt.NDArray[np.float64] | None = None  # 2x3 affine map from input pixels to output pixels

    @property
    def matting(self) -> str:
        """The earlier name of `matte_method`."""
        return self.matte_method


class Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


def choose_face(faces: list[DetectedFace], policy: FacePolicy) -> DetectedFace:
    if not faces:
        raise NoFaceError("No face was found in the image.")
    if len(faces) > 1 and policy is FacePolicy.REJECT:
        raise MultipleFacesError(
            f"{len(faces)} faces were found; send a photo of one person or use face_policy=largest.",
            face_count=len(faces),
        )
    return faces[0]  # the detector sorts largest first


class PortraitPipeline:
    def __init__(
        self,
        detector: FaceDetector,
        eye_locator: EyeLocator,
        matter: PersonMatter,
        restorer: FaceRestorer,
        *,
        max_bytes: int,
        max_pixels: int,
        providers: tuple[str, ...] = (),
        isnet_model: str = "isnet",
    ) -> None:
        self.detector = detector
        self.eye_locator = eye_locator
        self.matter = matter
        self.restorer = restorer
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.isnet_model = isnet_model  # the registry name of the ISNet file loaded (isnet or isnet_int8)
        # Foreground colour estimation (imaging/foreground.py); benchmarks swap in others to compare.
        self.foreground: Callable[[npt.NDArray[np.uint8], npt.NDArray[np.float32]], npt.NDArray[np.uint8]] = (
            estimate_foreground
        )
        self._providers = providers

    @property
    def providers(self) -> tuple[str, ...]:
        """ONNX Runtime providers the models really run on, best first (for /status); empty when unknown."""
        return self._providers

    def warm_up(self) -> None:
        """One small synthetic run, so the first real request does not pay for lazy initialisation."""
        grey = np.full((256, 256, 3), 128, np.uint8)
        options = PortraitOptions(width=64, height=64)
        # A blank image has no face: detection and landmarks run, then the matting stage is run directly.
        with contextlib.suppress(NoFaceError):
            self.process_rgb(grey, options)
        self.matter.matte(grey, np.ones((256, 256), np.float32), np.zeros((256, 256), bool), options.matting)

    def process(self, data: bytes, options: PortraitOptions) -> Portrait:
        watch = Stopwatch()

        def decode(min_side: int | None) -> DecodedImage:
            with watch.stage("decode"):
                return decode_image(data, max_bytes=self.max_bytes, max_pixels=self.max_pixels, min_side=min_side)

        return self._process(decode, options, watch)

    def process_rgb(
        self, rgb: npt.NDArray[np.uint8], options: PortraitOptions, watch: Stopwatch | None = None
    ) -> Portrait:
        image = DecodedImage(rgb=rgb, source_format="RGB", original_size=(rgb.shape[1], rgb.shape[0]))
        return self._process(lambda _: image, options, watch or Stopwatch())

    def _process(
        self, decode: Callable[[int | None], DecodedImage], options: PortraitOptions, watch: Stopwatch
    ) -> Portrait:
        image = decode(DETECTION_MAX_SIDE)
        with watch.stage("detect"):
            found = self.detector.find_faces(image.rgb)
            chosen = choose_face(found.faces, options.face_policy)
            face = found.face_in_source(chosen)
        with watch.stage("landmarks"):
            if found.turn == 0:
                mesh = self.eye_locator.mesh(image.rgb, face.box)
            else:
                # The face mesh, like the detector, wants the face upright: look in the detector's turned view.
                in_view = self.eye_locator.mesh(found.view, chosen.box)
                mesh = None if in_view is None else affine_points(in_view, found.to_source)
            left_eye, right_eye = eye_centres(mesh) if mesh is not None else (face.left_eye, face.right_eye)
            if math.dist(left_eye, face.left_eye) > math.dist(right_eye, face.left_eye):
                # The mesh orders the eyes by image x; keep the detector's order, which follows the face's own
                # up (they differ when the face was only seen upside down or sideways).
                left_eye, right_eye = right_eye, left_eye
        # From here on, full-resolution pixels: the crop plan does not depend on how the photo was decoded.
        to_full = 1.0 / image.scale
        face_box = _scaled_box(face.box, to_full)
        others = [found.face_in_source(other).box for other in found.faces if other is not chosen]
        other_boxes = [_scaled_box(box, to_full) for box in others]
        left_eye, right_eye = _scaled_point(left_eye, to_full), _scaled_point(right_eye, to_full)
        if mesh is not None and image.scale != 1.0:
            mesh = np.asarray(mesh * to_full, dtype=np.float32)
        document = get_document(options.document) if options.document else None
        with watch.stage("align_crop"):
            size = (options.width, options.height)
            if document is None:
                plan = plan_crop(face_box, left_eye, right_eye, options.face_margin, size)
            else:  # a generous first crop: the document framing plans the matted one from it (framing.py)
                plan = plan_crop(face_box, left_eye, right_eye, first_crop_margin(), (2 * size[0], 2 * size[1]))
        kept = math.hypot(plan.matrix[0, 0], plan.matrix[0, 1])  # crop pixels per full-resolution pixel
        if image.scale < kept * _RESOLUTION_SLACK:
            # The reduced decode is too coarse for this crop (a small face in a big photo): decode again,
            # just fine enough. Dropping the coarse copy first keeps one photo-sized array at a time.
            longer = max(image.original_size)
            del image
            image = decode(min(longer, math.ceil(longer * kept)))
        with watch.stage("align_crop"):
            decoded_plan = _from_decoded(plan, image.scale)
            crop, inside = warp_crop(image.rgb, decoded_plan)
        level_mesh = None
        if document is not None:
            with watch.stage("frame"):
                # The mesh again on the levelled crop: on a tilted face the first one is less exact. With the
                # person mask it places the frame, and the matte is drawn on that frame (framing.py says why).
                level_mesh = self.eye_locator.face_mesh(crop, plan.map_box(face_box))
                if level_mesh is None:
                    raise NoFaceError("The face's landmarks could not be found; an ID photo needs a clear face.")
                person = self.matter.person_mask(crop)
                decoded_plan, level_mesh = plan_matte_frame(decoded_plan, person, inside, level_mesh, document, size)
                plan = _to_full(decoded_plan, image.scale)
                crop, inside = warp_crop(image.rgb, decoded_plan)
        with watch.stage("matte"):
            context = self._context(image.rgb, decoded_plan) if self.matter.uses_isnet(options.matting) else None
            face_region = _face_region(plan, mesh, face_box)
        neighbours = None
        if other_boxes:
            with watch.stage("neighbours"):
                neighbours = neighbour_mask(
                    image.rgb, decoded_plan, plan, face_box, other_boxes, face_region, self.matter.person_mask
                )
        input_size, scale = image.original_size, image.scale
        face_count, turn, face_detector = len(found.faces), found.turn, found.model
        # Only the document framing cuts from the photo again; otherwise it goes now, before the matte runs.
        kept_photo = image if document is not None else None
        del image, found
        with watch.stage("matte"):
            matte = self.matter.matte(crop, inside, face_region, options.matting, context, neighbours)
            alpha = matte.alpha
        del context
        framing = None
        if document is not None and kept_photo is not None and level_mesh is not None:
            with watch.stage("frame"):
                # The decode and its plan, consistent with each other (the record's sizes are the decode's).
                framed = reframe(kept_photo.rgb, decoded_plan, alpha, inside, level_mesh, document, size)
                plan, crop, alpha, inside = _to_full(framed.plan, scale), framed.crop, framed.alpha, framed.inside
                # The report's source measures (ICAO's 90 px between the eyes) are in the photo's own pixels.
                framing = dataclasses.replace(
                    framed.framing, mesh_source=framed.framing.mesh_source / scale, source_size=input_size
                )
        del kept_photo
        with watch.stage("foreground"):
            # The subject's own colour under every semi-transparent pixel, so no background colour (and no PNG
            # viewer) shows the old background through the edges.
            crop = self.foreground(crop, alpha)
        if options.enhance_photo:
            with watch.stage("enhance_photo"):
                crop = enhance_photo(crop, alpha)
        if options.enhance_face:
            with watch.stage("restore_face"):
                crop = self.restorer.restore(crop, plan.map_box(face_box), options.enhance_fidelity)
        to_output = np.array([options.width / plan.size[0], options.height / plan.size[1]], dtype=np.float32)
        with watch.stage("finish"):
            out_rgb = resize_rgb(crop, options.width, options.height)
            out_alpha = resize_alpha(alpha, options.width, options.height)
            photo_mask = resize_alpha(inside, options.width, options.height)
            # Resampling can break a one-pixel bridge into a detached speck; one subject holds at the output too.
            seed = out_alpha > 0.99
            if mesh is not None:
                face_pixels = face_surface((options.height, options.width), plan.map_points(mesh) * to_output)
                # The face is opaque at the output's resolution too: a small photo's crop is enlarged, and the
                # enlargement spreads the face's edge over several output pixels, some inside it below 0.5.
                # As opaque as the photo covers it: a face cut by the frame keeps its edge's anti-aliasing.
                np.maximum(out_alpha, photo_mask, out=out_alpha, where=face_pixels)
                seed = face_pixels & seed
            out_alpha, _ = keep_connected(out_alpha, seed)
            if options.use_oval_mask:
                out_alpha = out_alpha * oval_mask(options.width, options.height)
        return Portrait(
            rgb=out_rgb,
            alpha=np.clip(out_alpha, 0.0, 1.0).astype(np.float32),
            face_count=face_count,
            face_box=face_box,
            input_size=input_size,
            roll_degrees=plan.roll,
            eyes_from="iris" if mesh is not None else "detector",
            matte_method=matte.method,
            timings=watch.timings,
            warnings=["face_cut_by_frame"] if _face_cut_by_frame(mesh, face_box, input_size) else [],
            landmarks=None if mesh is None else plan.map_points(mesh) * to_output,
            photo_mask=photo_mask,
            framing=framing,
            turn_degrees=turn,
            face_detector=face_detector,
            to_output=np.diag([*to_output.astype(np.float64), 1.0])[:2, :2] @ plan.matrix,
        )

    def _context(self, rgb: npt.NDArray[np.uint8], plan: CropPlan) -> ContextWindow:
        """The wider window ISNet sees: the crop plus the torso below it, at ISNet's input size.

        ISNet should not see what lies beyond the photo: next to a flat fill the photo's own rectangle looks like
        the salient object, and ISNet then calls the whole background foreground. The levelled window is first
        trimmed to the photo; on a level face that leaves no fill. On a tilted face that reaches beyond the photo
        (a document preset's wide crop, a phone photo held askew) fill remains in the corners, and the old
        background stayed as a band around the hair; then ISNet gets the upright window that covers the levelled
        one, cut at the photo's edges, and the map back into the crop turns its answer. A sliver of fill (under
        _WINDOW_FILL_SLIVER of the window) is no rectangle to ISNet, and the levelled view suits the body better.
        """
        height, width = self.matter.isnet_size
        window_plan = plan.context(*CONTEXT_MARGINS, size=(width, height))
        inside = inside_mask(window_plan, (rgb.shape[1], rgb.shape[0]))
        rows, cols = np.flatnonzero(inside.max(axis=1) > 0.5), np.flatnonzero(inside.max(axis=0) > 0.5)
        if len(rows) and len(cols) and (len(rows) < height or len(cols) < width):
            x0, x1, y0, y1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
            trim = np.array(
                [[width / (x1 - x0), 0, -x0 * width / (x1 - x0)], [0, height / (y1 - y0), -y0 * height / (y1 - y0)]]
            )
            window_plan = CropPlan(compose_affine(trim, window_plan.matrix), window_plan.size, window_plan.roll)
            inside = inside_mask(window_plan, (rgb.shape[1], rgb.shape[0]))
        if float(np.mean(inside < 0.5)) > _WINDOW_FILL_SLIVER:
            corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], dtype=np.float32)
            in_photo = affine_points(corners, invert_affine(window_plan.matrix))
            left, top = np.maximum(in_photo.min(axis=0), 0.0)
            right, bottom = np.minimum(in_photo.max(axis=0), (rgb.shape[1], rgb.shape[0]))
            sx, sy = width / max(1.0, right - left), height / max(1.0, bottom - top)
            window_plan = CropPlan(np.array([[sx, 0.0, -sx * left], [0.0, sy, -sy * top]]), (width, height), 0.0)
        window, _ = warp_crop(rgb, window_plan)
        return ContextWindow(window, compose_affine(plan.matrix, invert_affine(window_plan.matrix)))


def _face_region(plan: CropPlan, mesh: Landmarks | None, box: Box) -> Mask:
    """The face in the crop: the mesh's triangles (eyes, nose, mouth and teeth), else an ellipse in the box."""
    shape = (plan.size[1], plan.size[0])
    if mesh is not None:
        return face_surface(shape, plan.map_points(mesh))
    # Without a mesh, the detector's box (brows to chin) shrunk a little, so no background is forced opaque.
    cx, cy = box.center
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    ellipse = np.stack([cx + 0.4 * box.width * np.cos(angles), cy + 0.45 * box.height * np.sin(angles)], axis=1)
    return polygon_mask(shape, plan.map_points(ellipse.astype(np.float32)))


def _face_cut_by_frame(mesh: Landmarks | None, box: Box, size: tuple[int, int]) -> bool:
    """Whether the face crosses the photo's edge: the detector's box, which is clipped to the photo, touches it,
    or the mesh's oval reaches beyond it.

    Either alone misses some. On a face cut by a fifth of its width the mesh often fits the face inside the
    photo (its oval stopped 0.5-5 % of a face height short of the edge on three test photos), while the box
    touched the edge; the mesh extrapolates the faces cut deepest. Uncut faces' boxes kept a quarter of a face
    height or more from every edge. The box may come from a reduced decode, so "touches" allows half a percent.
    """
    width, height = size
    touch = max(0.5, 0.005 * max(width, height))
    if box.x <= touch or box.y <= touch or box.x + box.width >= width - touch or box.y + box.height >= height - touch:
        return True
    if mesh is None:
        return False
    oval = mesh[list(FACE_OVAL)]
    slack = 0.02 * float(np.ptp(oval[:, 1]))  # the mesh's own jitter at the chin and temples
    xs, ys = oval[:, 0], oval[:, 1]
    return bool(xs.min() < -slack or ys.min() < -slack or xs.max() > width + slack or ys.max() > height + slack)


# Share of ISNet's window that may show fill beyond the photo before the window is made upright (see _context):
# a corner sliver (0.2 % on a tilted group crop) leaves ISNet's answer alone. Tilted test photos whose window reaches
# beyond the photo showed 2.5 to 12 % fill at the face-box framing and 6 to 46 % at the document presets.
_WINDOW_FILL_SLIVER = 0.01

# A reduced decode may be upsampled by up to ~10% in the warp rather than decoding the photo again
# (a second, finer JPEG decode costs more than it shows at this scale).
_RESOLUTION_SLACK = 0.9


def _scaled_point(point: Point, factor: float) -> Point:
    return (point[0] * factor, point[1] * factor)


def _scaled_box(box: Box, factor: float) -> Box:
    return Box(box.x * factor, box.y * factor, box.width * factor, box.height * factor)


def _from_decoded(plan: CropPlan, scale: float) -> CropPlan:
    """The same crop, taken from a decode that is `scale` times the full resolution."""
    if scale == 1.0:
        return plan
    to_full = np.array([[1.0 / scale, 0.0, 0.0], [0.0, 1.0 / scale, 0.0], [0.0, 0.0, 1.0]])
    return dataclasses.replace(plan, matrix=plan.matrix @ to_full)


def _to_full(plan: CropPlan, scale: float) -> CropPlan:
    """The inverse of _from_decoded: a plan on the decode, in full-resolution pixels."""
    if scale == 1.0:
        return plan
    to_decoded = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0], [0.0, 0.0, 1.0]])
    return dataclasses.replace(plan, matrix=plan.matrix @ to_decoded)
