"""Structured logs: one JSON object per line."""

from __future__ import annotations

import json
import logging
import sys
import time


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if message.startswith("{") and message.endswith("}"):
            try:
                payload = json.loads(message)
            except ValueError:
                payload = {"msg": message}
        else:
            payload = {"msg": message}
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)), "level": record.levelname.lower(),
                 "logger": record.name, **payload}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") else "INFO")
    for noisy in ("hypercorn.access", "alembic", "quart.serving"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
