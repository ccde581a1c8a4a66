"""Swap files and folders into place whole, so that a reader (a BI tool, a browser, a copy job)
only ever sees the old version or the new one, never a half-written one."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

TMP_SUFFIX = ".tmp"


def temp_sibling(target: Path) -> Path:
    """A fresh hidden name in the target's own folder (so the final rename never crosses a file
    system). The pid lets a later publish tell a killed writer's leftovers from a live one's."""
    return target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target` in one rename."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(target: Path, text: str) -> Path:
    with replacing(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


@contextlib.contextmanager
def replacing_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it takes the target folder's place.

    Two renames (old aside, new in): a reader may find the folder missing for that instant,
    but never finds a mix of two builds or a half-built page."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    tmp.mkdir()
    old = None
    try:
        yield tmp
        if target.exists():
            old = temp_sibling(target)
            os.replace(target, old)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover)


# `.name.<pid>.<8 hex>.tmp`, plus anything a writer hangs on it (DuckDB's `.wal`).
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp(\..*)?$")


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temporary files left by writers that no longer run (e.g. a killed publish)."""
    removed = []
    if not folder.exists():
        return removed
    for path in folder.glob(".*.tmp*"):
        match = _TEMP_NAME.match(path.name)
        if not match:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or process_alive(pid):
            continue  # a live writer's (or our own) file: it cleans up after itself
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:   # a file, or a link (a release switch's temporary `current`)
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    """Whether the process runs; a killed one that nobody has reaped yet (a zombie) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
