"""Logging for every entry point (server, worker, CLI), and silence for the native libraries' chatter.

`configure_logging` attaches one handler to the `facecraft` logger from FACECRAFT_LOG_LEVEL and
FACECRAFT_LOG_FORMAT (`json`: one JSON object per line, for log shippers).

`quiet_native_logs`: MediaPipe's C++ core (absl / glog / TensorFlow Lite) writes straight to file
descriptor 2 from its own threads: "INFO: Created TensorFlow Lite XNNPACK delegate", "WARNING: All log
messages before absl::InitializeLog() ...", "W0000 ... inference_feedback_manager.cc ...]". No setting of
mediapipe 0.10.21 turns that off (GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL and ABSL_MIN_LOG_LEVEL were
tried), so fd 2 is routed through a pipe whose reader drops exactly those lines (absl's I and W levels;
its errors still show) and passes everything else through in order. At DEBUG everything shows.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import sys
import threading
from typing import Any

from facecraft.config import LogFormat, Settings

_HANDLER_MARK = "_facecraft_handler"
# absl/glog "I0000 00:00:1795982407.409486   29947 file.cc:114] ..." and TensorFlow Lite's start-up lines.
NATIVE_CHATTER = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] "
    rb"|INFO: Created TensorFlow Lite|WARNING: All log messages before absl::InitializeLog\(\))"
)
_quiet_lock = threading.Lock()
_quiet_installed = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(settings: Settings) -> None:
    """Attach one handler to the `facecraft` logger (idempotent: several apps in one process share it)."""
    logger = logging.getLogger("facecraft")
    logger.setLevel(settings.log_level)
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler()
    setattr(handler, _HANDLER_MARK, True)
    if settings.log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False


def quiet_native_logs(level: str = "INFO") -> None:
    """Drop the native libraries' I/W lines from stderr for the rest of the process (once; not at DEBUG)."""
    global _quiet_installed  # noqa: PLW0603  (one filter per process)
    with _quiet_lock:
        if _quiet_installed or level.upper() == "DEBUG":
            return
        _quiet_installed = True
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        original = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        reader = threading.Thread(target=_filter, args=(read_end, original), name="facecraft-stderr", daemon=True)
        reader.start()

    def restore() -> None:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last writer in this process is gone: the reader sees EOF
        reader.join(timeout=2)

    atexit.register(restore)


def _filter(read_end: int, original: int) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        pending = b""
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not NATIVE_CHATTER.match(line))
            if kept:
                _write_all(original, kept)
        if pending and not NATIVE_CHATTER.match(pending):
            _write_all(original, pending)


def _write_all(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data) :]
