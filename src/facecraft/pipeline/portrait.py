"""The portrait pipeline: wires the stages in request order and times each one.

    bytes -> decode -> detect -> choose face -> face mesh (eye centres, face outline) -> level + crop (one warp)
          -> matte -> foreground colours -> photo enhancement -> face restoration -> resize + oval mask
          -> (encode, see encode.py)

No stage calls the next; this module is the only place that knows the order. Everything after detection
works on the working crop (at most the output size), so a 12 MP photo becomes a ~0.4 MP problem early.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facecraft.config import FacePolicy
from facecraft.errors import MultipleFacesError, NoFaceError
from facecraft.imaging.compose import oval_mask, resize_alpha, resize_rgb
from facecraft.imaging.decode import decode_image
from facecraft.imaging.enhance import enhance_photo
from facecraft.imaging.foreground import estimate_foreground
from facecraft.imaging.geometry import Box, CropPlan, compose_affine, invert_affine, plan_crop, warp_crop
from facecraft.imaging.trimap import Mask, polygon_mask
from facecraft.pipeline.detect import DetectedFace, FaceDetector
from facecraft.pipeline.framing import Framing, first_crop_margin, reframe
from facecraft.pipeline.landmarks import FACE_OVAL, EyeLocator, Landmarks, eye_centres
from facecraft.pipeline.matte import CONTEXT_MARGINS, ContextWindow, PersonMatter
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
    ) -> None:
        self.detector = detector
        self.eye_locator = eye_locator
        self.matter = matter
        self.restorer = restorer
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
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
        with watch.stage("decode"):
            image = decode_image(data, max_bytes=self.max_bytes, max_pixels=self.max_pixels)
        return self.process_rgb(image.rgb, options, watch)

    def process_rgb(
        self, rgb: npt.NDArray[np.uint8], options: PortraitOptions, watch: Stopwatch | None = None
    ) -> Portrait:
        watch = watch or Stopwatch()
        with watch.stage("detect"):
            faces = self.detector.detect(rgb)
            face = choose_face(faces, options.face_policy)
        with watch.stage("landmarks"):
            mesh = self.eye_locator.mesh(rgb, face.box)
            left_eye, right_eye = eye_centres(mesh) if mesh is not None else (face.left_eye, face.right_eye)
        document = get_document(options.document) if options.document else None
        with watch.stage("align_crop"):
            size = (options.width, options.height)
            if document is None:
                plan = plan_crop(face.box, left_eye, right_eye, options.face_margin, size)
            else:  # a generous first crop: the document framing cuts the final one after matting (framing.py)
                plan = plan_crop(face.box, left_eye, right_eye, first_crop_margin(), (2 * size[0], 2 * size[1]))
            crop, inside = warp_crop(rgb, plan)
        with watch.stage("matte"):
            face_region = _face_region(plan, mesh, face.box)
            context = self._context(rgb, plan) if self.matter.uses_isnet(options.matting) else None
            matte = self.matter.matte(crop, inside, face_region, options.matting, context)
            alpha = matte.alpha
        framing = None
        if document is not None:
            with watch.stage("frame"):
                # The mesh again on the levelled crop: on a tilted face the first one is less exact.
                level_mesh = self.eye_locator.face_mesh(crop, plan.map_box(face.box))
                if level_mesh is None:
                    raise NoFaceError("The face's landmarks could not be found; an ID photo needs a clear face.")
                framed = reframe(rgb, plan, alpha, inside, level_mesh, document, size)
                plan, crop, alpha, inside, framing = (
                    framed.plan,
                    framed.crop,
                    framed.alpha,
                    framed.inside,
                    framed.framing,
                )
        with watch.stage("foreground"):
            # The subject's own colour under every semi-transparent pixel, so no background colour (and no PNG
            # viewer) shows the old background through the edges.
            crop = self.foreground(crop, alpha)
        if options.enhance_photo:
            with watch.stage("enhance_photo"):
                crop = enhance_photo(crop, alpha)
        if options.enhance_face:
            with watch.stage("restore_face"):
                crop = self.restorer.restore(crop, plan.map_box(face.box), options.enhance_fidelity)
        with watch.stage("finish"):
            out_rgb = resize_rgb(crop, options.width, options.height)
            out_alpha = resize_alpha(alpha, options.width, options.height)
            if options.use_oval_mask:
                out_alpha = out_alpha * oval_mask(options.width, options.height)
        height, width = rgb.shape[:2]
        to_output = np.array([options.width / plan.size[0], options.height / plan.size[1]], dtype=np.float32)
        return Portrait(
            rgb=out_rgb,
            alpha=np.clip(out_alpha, 0.0, 1.0).astype(np.float32),
            face_count=len(faces),
            face_box=face.box,
            input_size=(width, height),
            roll_degrees=plan.roll,
            eyes_from="iris" if mesh is not None else "detector",
            matte_method=matte.method,
            timings=watch.timings,
            warnings=["face_cut_by_frame"] if _face_cut_by_frame(mesh, face.box, (width, height)) else [],
            landmarks=None if mesh is None else plan.map_points(mesh) * to_output,
            photo_mask=resize_alpha(inside, options.width, options.height),
            framing=framing,
        )

    def _context(self, rgb: npt.NDArray[np.uint8], plan: CropPlan) -> ContextWindow:
        """The wider window ISNet sees: the crop plus the torso below it, at ISNet's input size."""
        height, width = self.matter.isnet_size
        window_plan = plan.context(*CONTEXT_MARGINS, size=(width, height))
        window, _ = warp_crop(rgb, window_plan)
        return ContextWindow(window, compose_affine(plan.matrix, invert_affine(window_plan.matrix)))


def _face_region(plan: CropPlan, mesh: Landmarks | None, box: Box) -> Mask:
    """The face in the crop: the mesh's oval (eyes, mouth and teeth inside it), else an ellipse in the box."""
    shape = (plan.size[1], plan.size[0])
    if mesh is not None:
        return polygon_mask(shape, plan.map_points(mesh[list(FACE_OVAL)]))
    # Without a mesh, the detector's box (brows to chin) shrunk a little, so no background is forced opaque.
    cx, cy = box.center
    angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    ellipse = np.stack([cx + 0.4 * box.width * np.cos(angles), cy + 0.45 * box.height * np.sin(angles)], axis=1)
    return polygon_mask(shape, plan.map_points(ellipse.astype(np.float32)))


def _face_cut_by_frame(mesh: Landmarks | None, box: Box, size: tuple[int, int]) -> bool:
    """Whether the face crosses the photo's edge: the mesh's oval reaches beyond it (or, with no mesh, the
    detector's box, which is clipped to the photo, touches it)."""
    width, height = size
    if mesh is not None:
        oval = mesh[list(FACE_OVAL)]
        slack = 0.02 * float(np.ptp(oval[:, 1]))  # the mesh's own jitter at the chin and temples
        xs, ys = oval[:, 0], oval[:, 1]
        return bool(xs.min() < -slack or ys.min() < -slack or xs.max() > width + slack or ys.max() > height + slack)
    return box.x <= 0.5 or box.y <= 0.5 or box.x + box.width >= width - 0.5 or box.y + box.height >= height - 0.5
