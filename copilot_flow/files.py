"""Files the CLI writes (exports, reports): the target validated before any work, written atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from resources.validation import InvalidInput


def out_path(out: str | None) -> Path:
    """``--out`` as a path to a file in an existing directory (InvalidInput naming what is wrong)."""
    if not out or not out.strip():
        raise InvalidInput("--out is empty")
    path = Path(out).expanduser()
    if path.exists() and path.is_dir():
        raise InvalidInput(f"--out {out!r} is a directory; name a file")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInput(f"output directory {str(parent)!r} does not exist")
    return path


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """``write(tmp)`` fills a temp file in the target directory, which then replaces ``path`` in one step: a
    failure never leaves a half-written file, and an existing file is only replaced by a complete one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.",
                               suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
