"""Logging for workflow scripts: everything, errors included, goes to the rule's log file."""

from __future__ import annotations

import logging
import sys
from types import TracebackType

__all__ = ["configure_logging"]


def configure_logging(log_path: str, *, level: int = logging.INFO, append: bool = False, prefix: str = "") -> logging.Logger:
    """Send log records to ``log_path`` and stderr; an uncaught error becomes one ERROR line.

    The file is emptied first unless ``append``, then written in append mode, so processes
    that share it (the ranks of a data-parallel training) never overwrite each other's
    lines; ``prefix`` (e.g. "rank 1: ") starts each of this process's lines.

    Errors that atomscope raises for bad input (ValueError, FileNotFoundError, TypeError)
    already name the file, the problem and the fix, so they are logged as that message
    alone; anything else is logged with its traceback, since it is a bug to report.
    """
    if not append:
        open(log_path, "w").close()
    handlers: list[logging.Handler] = [logging.FileHandler(log_path, mode="a"), logging.StreamHandler(sys.stderr)]
    form = f"%(asctime)s {prefix}%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=form, handlers=handlers, force=True)
    logger = logging.getLogger("atomscope")

    def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, (ValueError, FileNotFoundError, TypeError)):
            logger.error("%s", error)
        else:
            logger.error("unexpected failure, please report it", exc_info=(kind, error, tb))

    sys.excepthook = excepthook
    return logger
