"""Log lines on stderr: one line per event, as text or as JSON.

Log messages name files, runs, counts and ids; they never carry patient data (names,
member ids, account numbers), which stays in the database and, where allowed, in the
workbook.
"""

from __future__ import annotations

import json
import logging
import sys

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(*, level: str = "info", json_lines: bool = False) -> None:
    """Send ``reconcile`` logs to stderr at ``level``, as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter(_TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("reconcile", "jobs"):
        logging.getLogger(name).setLevel(level.upper())
    # APScheduler's own lines are useful at info when the scheduler runs.
    logging.getLogger("apscheduler").setLevel(
        "WARNING" if level.upper() in ("WARNING", "ERROR") else "INFO"
    )
