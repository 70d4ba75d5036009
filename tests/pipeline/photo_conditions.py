"""The test photos as phones, scanners and messengers deliver them: conditions made at test time, nothing committed.

Each condition is a plain function of an RGB photo, deterministic (the noise is seeded), used by
tests/pipeline/test_matte.py and benchmarks/robustness_bench.py. They stand in for the real photos the service
will see and the tests never do: dim rooms, harsh light, sensor noise, messenger recompression, soft focus,
thumbnails, black-and-white scans, haze, tungsten light, a tilted phone, an upscaled export, lens vignetting.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

Photo = npt.NDArray[np.uint8]


def _tone(photo: Photo, gamma: float, gain: float = 1.0) -> Photo:
    table = np.clip(255.0 * gain * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)
    return np.asarray(cv2.LUT(photo, table), dtype=np.uint8)


def dim(photo: Photo) -> Photo:
    """A dim room: mid-tones pushed down (gamma 2.2) and 60 % of the light."""
    return _tone(photo, 2.2, 0.6)


def harsh(photo: Photo) -> Photo:
    """Harsh light or a bright exposure: gamma 0.45, highlights clipped."""
    return _tone(photo, 0.45)


def noisy(photo: Photo) -> Photo:
    """Sensor noise of a small phone camera at high ISO: Gaussian, sigma 18 of 255."""
    noise = np.random.default_rng(0).normal(0.0, 18.0, photo.shape)
    return np.clip(photo + noise, 0, 255).astype(np.uint8)


def recompressed(photo: Photo, quality: int = 25) -> Photo:
    """A photo passed through a messenger: JPEG at quality 25."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB), dtype=np.uint8)


def soft(photo: Photo) -> Photo:
    """Missed focus or camera shake: Gaussian blur, sigma 2.5 px."""
    return np.asarray(cv2.GaussianBlur(photo, (0, 0), 2.5), dtype=np.uint8)


def thumbnail(photo: Photo) -> Photo:
    """A third of the size, as a staff directory's thumbnail: the crop is enlarged for the output."""
    height, width = photo.shape[:2]
    return np.asarray(cv2.resize(photo, (width // 3, height // 3), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def mirrored(photo: Photo) -> Photo:
    """A selfie camera's mirror image."""
    return np.ascontiguousarray(photo[:, ::-1])


def greyscale(photo: Photo) -> Photo:
    """A black-and-white scan, still three channels."""
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB), dtype=np.uint8)


def hazy(photo: Photo) -> Photo:
    """Low contrast (haze, a smeared lens, a photo of a print): half the contrast around a light grey."""
    return np.asarray(photo * 0.5 + 110, dtype=np.uint8)


def tungsten(photo: Photo) -> Photo:
    """Indoor light the camera did not correct: red up 25 %, blue down 30 %."""
    return np.asarray(np.clip(photo * np.array([1.25, 1.0, 0.7]), 0, 255), dtype=np.uint8)


def tilted(photo: Photo) -> Photo:
    """A phone held 12 degrees off level, the corners filled by reflection as a camera's crop would hold scene."""
    height, width = photo.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 12, 1.0)
    return np.asarray(cv2.warpAffine(photo, matrix, (width, height), borderMode=cv2.BORDER_REFLECT), dtype=np.uint8)


def enlarged(photo: Photo) -> Photo:
    """An export upscaled to twice the size (bicubic): soft at the pixel level."""
    height, width = photo.shape[:2]
    return np.asarray(cv2.resize(photo, (width * 2, height * 2), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def vignetted(photo: Photo) -> Photo:
    """Lens vignetting: up to 60 % darker towards the corners."""
    height, width = photo.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width]
    distance = ((rows / height - 0.5) ** 2 + (cols / width - 0.5) ** 2) * 2.5
    return np.asarray(photo * (1.0 - 0.6 * np.clip(distance, 0.0, 1.0))[:, :, None], dtype=np.uint8)


CONDITIONS: dict[str, Callable[[Photo], Photo]] = {
    "dim": dim,
    "harsh": harsh,
    "noisy": noisy,
    "recompressed": recompressed,
    "soft": soft,
    "thumbnail": thumbnail,
    "mirrored": mirrored,
    "greyscale": greyscale,
    "hazy": hazy,
    "tungsten": tungsten,
    "tilted": tilted,
    "enlarged": enlarged,
    "vignetted": vignetted,
}
