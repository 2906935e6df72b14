"""Logging for workflow scripts: everything, errors included, goes to the rule's log file."""

from __future__ import annotations

import logging
import sys
from types import TracebackType

__all__ = ["configure_logging"]


def configure_logging(log_path: str, *, level: int = logging.INFO) -> logging.Logger:
    """Send log records to ``log_path`` and stderr; an uncaught error becomes one ERROR line.

    Errors that atomscope raises for bad input (ValueError, FileNotFoundError, TypeError)
    already name the file, the problem and the fix, so they are logged as that message
    alone; anything else is logged with its traceback, since it is a bug to report.
    """
    handlers: list[logging.Handler] = [logging.FileHandler(log_path, mode="w"), logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    logger = logging.getLogger("atomscope")

    def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, (ValueError, FileNotFoundError, TypeError)):
            logger.error("%s", error)
        else:
            logger.error("unexpected failure, please report it", exc_info=(kind, error, tb))

    sys.excepthook = excepthook
    return logger
