"""`facecraft worker` with faults a test can aim at one photo; run as `python -m tests.fault_worker`.

The shipped package has no test switches: this module wraps `JobWorker.process` before the worker starts.
FAULT_CRASH_ON=<sha256 hex prefix>: SIGKILL the worker when the upload matches (a photo that crashes native
code). FAULT_SLOW_ON=<prefix>:<seconds>: sleep that long before processing a matching upload, so a test can
kill the worker mid-job. Uploads that match neither are processed as usual.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import sys
import time

from facecraft.cli.main import main
from facecraft.config import OutputFormat
from facecraft.jobs.processing import Outcome
from facecraft.jobs.queue.worker import JobWorker
from facecraft.pipeline.options import PortraitOptions

log = logging.getLogger("facecraft.tests.faults")
_process = JobWorker.process


def _matches(data: bytes, prefix: str) -> bool:
    return bool(prefix) and hashlib.sha256(data).hexdigest().startswith(prefix.lower())


def process_with_faults(
    self: JobWorker, upload: bytes, options: PortraitOptions, formats: list[OutputFormat]
) -> Outcome:
    if _matches(upload, os.environ.get("FAULT_CRASH_ON", "")):
        log.warning("FAULT_CRASH_ON matched: killing this worker")
        os.kill(os.getpid(), signal.SIGKILL)
    slow_on, _, seconds = os.environ.get("FAULT_SLOW_ON", "").partition(":")
    if _matches(upload, slow_on):
        time.sleep(float(seconds or 5))
    return _process(self, upload, options, formats)


if __name__ == "__main__":
    JobWorker.process = process_with_faults  # type: ignore[method-assign]
    sys.exit(main(["worker", *sys.argv[1:]]))
