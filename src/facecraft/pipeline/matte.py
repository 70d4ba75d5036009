"""Background removal on the working crop: which pixels belong to the person.

Two models with complementary failures are combined. MediaPipe's selfie segmentation knows what a person
is but its 256x256 mask has soft, blobby edges. ISNet (DIS) draws crisp edges and hair, but segments the
salient object, so it keeps a tripod or a flag, and on tight crops it sometimes loses the body. The
quality mode keeps ISNet's edges only where the (slightly grown) person mask agrees, and falls back to the
refined person mask when ISNet kept too little of the person. The fast mode skips ISNet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.config import MattingMode
from facecraft.imaging.guided_filter import guided_filter
from facecraft.models.mediapipe_loader import import_mediapipe

FloatMask = npt.NDArray[np.float32]
IsnetPredict = Callable[[npt.NDArray[np.uint8]], FloatMask]

# ISNet must keep at least this share of the person mask, or it is judged to have lost the subject.
_MIN_ISNET_COVERAGE = 0.3


class PersonMatter:
    def __init__(self, isnet_predict: IsnetPredict | None) -> None:
        self._isnet_predict = isnet_predict
        self._local = threading.local()

    def _selfie(self) -> Any:
        solution = getattr(self._local, "solution", None)
        if solution is None:
            solution = import_mediapipe().selfie_segmentation.SelfieSegmentation(model_selection=0)
            self._local.solution = solution
        return solution

    def person_mask(self, rgb: npt.NDArray[np.uint8]) -> FloatMask:
        result = self._selfie().process(np.ascontiguousarray(rgb))
        return np.clip(np.asarray(result.segmentation_mask, dtype=np.float32), 0.0, 1.0)

    def matte(self, rgb: npt.NDArray[np.uint8], mode: MattingMode) -> tuple[FloatMask, str]:
        """Alpha in [0, 1] at the crop's size, and the method actually used."""
        person = self.person_mask(rgb)
        refined = _refine(rgb, person)
        if mode is MattingMode.FAST or self._isnet_predict is None:
            return refined, "person_mask"
        salient = self._isnet_predict(rgb)
        person_area = float(np.count_nonzero(person > 0.5))
        kept = float(np.count_nonzero((salient > 0.5) & (person > 0.5)))
        if person_area == 0 or kept < _MIN_ISNET_COVERAGE * person_area:
            return refined, "person_mask_fallback"
        return np.minimum(salient, _grown(person)), "isnet"


def _refine(rgb: npt.NDArray[np.uint8], mask: FloatMask) -> FloatMask:
    """Snap the soft person mask to the photo's edges with a guided filter."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    radius = max(2, round(min(rgb.shape[:2]) * 0.012))
    refined = guided_filter(gray, mask, radius, 1e-3)
    # Sharpen the transition a little around 0.5: the guided filter leaves wide grey ramps.
    return np.clip((refined - 0.5) * 1.6 + 0.5, 0.0, 1.0).astype(np.float32)


def _grown(mask: FloatMask) -> FloatMask:
    """The person mask grown by ~3 % of the crop and softened, so it bounds ISNet without cutting hair."""
    side = min(mask.shape[:2])
    radius = max(1, round(side * 0.03))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = cv2.dilate((mask > 0.4).astype(np.float32), kernel)
    blur = 2 * max(1, round(side * 0.015)) + 1
    return np.asarray(cv2.GaussianBlur(grown, (blur, blur), 0), dtype=np.float32)
