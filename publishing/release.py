"""One publication is one release: every file of `published/` comes from one run and is switched
in with one atomic step (DESIGN section 9).

    published/
      releases/<release id>/            a whole release: codi.duckdb, parquet/, geo/, reports/,
                                        docs/, manifest.json (listing every file, size and sha256)
      releases/<build key>.building/    a release being built by a run; renamed when whole
      current -> releases/<release id>  the one switch: a symlink replaced by a rename
      codi.duckdb -> current/codi.duckdb, parquet -> current/parquet, ...   the stable paths BI
                                        tools and people configure; made once, never changed

A run builds aside, in its own `.building` folder: each publishing step writes its part there and
records the files it wrote (`.parts/<part>.json`). `finish` verifies the release is whole (every
part there, every file present with the size and digest its part recorded), writes the manifest,
renames the folder and replaces `current`. A reader resolves a stable path once, when it opens a
file: it gets the old release or the new one, never a mix, and keeps its open file when the
release is switched or even deleted (the last few releases are kept for readers still open).
A run killed or failed anywhere before the switch leaves `current` as it was; the next one
removes its building folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from publishing import atomic

RELEASES_DIR = "releases"
CURRENT = "current"
BUILDING = ".building"
PARTS_DIR = ".parts"
LOCK_FILE = ".lock"
MANIFEST_FILE = "manifest.json"
DEFAULT_KEEP = 3
BANGKOK = ZoneInfo("Asia/Bangkok")
# Names of `published/` that are not a release's entries.
RESERVED = frozenset({RELEASES_DIR, CURRENT})
# What `published/` held as plain files and folders before releases: replaced by links, or
# removed when the current release has no such entry (they would be from another run).
LEGACY_ENTRIES = frozenset({"codi.duckdb", "parquet", "geo", "reports", "docs", MANIFEST_FILE})


class ReleaseIncomplete(RuntimeError):
    """The release is not whole: it is not switched in, and the current one stays."""


def releases_dir(publish_dir: Path) -> Path:
    return Path(publish_dir) / RELEASES_DIR


def building_dir(publish_dir: Path, key: str) -> Path:
    """Where the run (or the runs re-executing it) identified by `key` builds its release."""
    return releases_dir(publish_dir) / f"{key}{BUILDING}"


def current_dir(publish_dir: Path) -> Path | None:
    """The folder of the current release, or None before the first one."""
    link = Path(publish_dir) / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def current_release(publish_dir: Path) -> str | None:
    folder = current_dir(publish_dir)
    return folder.name if folder is not None else None


def current_manifest(publish_dir: Path) -> dict | None:
    folder = current_dir(publish_dir)
    if folder is None or not (folder / MANIFEST_FILE).is_file():
        return None
    return json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))


def releases(publish_dir: Path) -> list[Path]:
    """The whole releases, oldest first (by the time each was switched in)."""
    root = releases_dir(publish_dir)
    if not root.is_dir():
        return []
    found = [d for d in root.iterdir()
             if d.is_dir() and not d.is_symlink() and not d.name.startswith(".") and not d.name.endswith(BUILDING)]

    def released_at(folder: Path) -> str:
        try:
            return json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))["released_at"]
        except (OSError, ValueError, KeyError):
            return datetime.fromtimestamp(folder.stat().st_mtime, BANGKOK).isoformat()
    return sorted(found, key=lambda d: (released_at(d), d.name))


@contextlib.contextmanager
def _locked(publish_dir: Path) -> Iterator[None]:
    """One switch or clean-up at a time (a scheduled run and `make run` may overlap)."""
    root = releases_dir(publish_dir)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _symlink(target: str, link: Path) -> None:
    """Point `link` at `target` in one rename: a reader finds the old link or the new one."""
    tmp = atomic.temp_sibling(link)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    finally:
        if tmp.is_symlink():
            tmp.unlink()


# -- building -------------------------------------------------------------------------------------

def open_building(publish_dir: Path, key: str, is_live: Callable[[str], bool] | None = None,
                  say: Callable[[str], None] | None = None) -> Path:
    """A fresh, empty building folder for `key`, after removing what killed builds left."""
    with _locked(publish_dir):
        _remove_leftovers(publish_dir, is_live, keep_key=key, say=say)
        folder = building_dir(publish_dir, key)
        if folder.exists():  # an earlier attempt of the same build: start again, whole
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    return folder


def fresh_part_dir(folder: Path) -> Path:
    """An empty folder for a part. Emptied rather than replaced, so that it may be a mount point."""
    folder.mkdir(parents=True, exist_ok=True)
    for child in folder.iterdir():
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    return folder


def _describe(path: Path) -> dict:
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return {"bytes": path.stat().st_size, "sha256": digest}


def _files_under(building: Path, paths: Iterable[Path]) -> list[Path]:
    out = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink())
        else:
            out.append(path)
    return out


def record_part(building: Path, name: str, paths: Iterable[Path]) -> dict[str, dict]:
    """Record the files a part wrote (each file, or every file under each folder): path within the
    release, size and sha256. Called by each publishing step once its files are whole."""
    building = Path(building)
    files = {p.relative_to(building).as_posix(): _describe(p) for p in _files_under(building, paths)}
    if not files:
        raise ReleaseIncomplete(f"part {name} wrote no file in {building}")
    (building / PARTS_DIR).mkdir(exist_ok=True)
    atomic.write_text(building / PARTS_DIR / f"{name}.json",
                      json.dumps({"part": name, "files": files}, ensure_ascii=False, indent=1))
    return files


def _fsync_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(folder))


def finish(publish_dir: Path, key: str, release_id: str, required: Iterable[str],
           keep: int = DEFAULT_KEEP, is_live: Callable[[str], bool] | None = None,
           say: Callable[[str], None] | None = None) -> dict:
    """Verify the release built under `key`, write its manifest, switch `current` to it, keep the
    last `keep` releases. Returns the manifest. Raises ReleaseIncomplete (nothing switched) when
    a part is missing or a file is not as its part recorded it."""
    say = say or (lambda message: None)
    publish_dir = Path(publish_dir)
    building = building_dir(publish_dir, key)
    if not building.is_dir():
        raise ReleaseIncomplete(
            f"no release is being built for run {key} ({building} does not exist): materialise the "
            f"whole `published` group in one run")
    parts = {}
    for path in sorted((building / PARTS_DIR).glob("*.json")):
        parts[path.stem] = json.loads(path.read_text(encoding="utf-8"))["files"]
    missing = sorted(set(required) - set(parts))
    if missing:
        raise ReleaseIncomplete(f"release {release_id} is missing part(s) {', '.join(missing)}: their "
                                f"step did not finish in this run; the current release stays")
    files = {rel: spec for part in parts.values() for rel, spec in part.items()}
    say(f"verifying release {release_id}: {len(files)} files of {len(parts)} parts")
    problems = []
    for rel, spec in sorted(files.items()):
        path = building / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif _describe(path) != spec:
            problems.append(f"{rel} changed after its part recorded it")
    listed = set(files) | {MANIFEST_FILE}
    for path in _files_under(building, [p for p in building.iterdir() if p.name != PARTS_DIR]):
        rel = path.relative_to(building).as_posix()
        if rel not in listed:
            problems.append(f"{rel} is not recorded by any part")
    if problems:
        raise ReleaseIncomplete(f"release {release_id} is not whole: " + "; ".join(problems[:20])
                                + ("" if len(problems) <= 20 else f"; and {len(problems) - 20} more"))

    # The database part's manifest (run, time, DuckDB version, tables) plus the release's files.
    base = {}
    if (building / MANIFEST_FILE).is_file():
        base = json.loads((building / MANIFEST_FILE).read_text(encoding="utf-8"))
    released_at = datetime.now(BANGKOK).replace(microsecond=0).isoformat()
    manifest = {**base, "release": release_id, "build": key, "released_at": released_at,
                "parts": sorted(parts), "files": dict(sorted(files.items()))}
    atomic.write_text(building / MANIFEST_FILE, json.dumps(manifest, ensure_ascii=False, indent=2))
    shutil.rmtree(building / PARTS_DIR)
    _fsync_tree(building)   # on disk before anyone can be pointed at it

    with _locked(publish_dir):
        final = releases_dir(publish_dir) / release_id
        if final.exists():
            if final == current_dir(publish_dir):
                raise ReleaseIncomplete(f"release {release_id} is already current")
            shutil.rmtree(final)   # a whole release of an earlier attempt that never went live
        os.rename(building, final)
        _fsync_dir(final.parent)
        say(f"switch {CURRENT} -> {RELEASES_DIR}/{release_id}")
        _symlink(f"{RELEASES_DIR}/{release_id}", publish_dir / CURRENT)
        _fsync_dir(publish_dir)
        ensure_links(publish_dir, say=say)
        _prune(publish_dir, keep, is_live, say=say)
    return manifest


# -- stable paths and clean-up -------------------------------------------------------------------

def ensure_links(publish_dir: Path, say: Callable[[str], None] | None = None) -> list[str]:
    """`published/<entry> -> current/<entry>` for every entry of the current release. Made once
    (they go through `current`, so a switch never touches them); a file or folder of the layout
    before releases is replaced by its link. Returns the entries linked now."""
    say = say or (lambda message: None)
    publish_dir = Path(publish_dir)
    folder = current_dir(publish_dir)
    if folder is None:
        return []
    entries = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    made = []
    for name in entries:
        if name in RESERVED:
            continue
        link, target = publish_dir / name, f"{CURRENT}/{name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_dir() and not link.is_symlink():
            # A folder published before releases: set aside, then the link takes its name.
            aside = atomic.temp_sibling(link)
            os.replace(link, aside)
            _symlink(target, link)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            _symlink(target, link)
        made.append(name)
        say(f"{link} -> {target}")
    for link in publish_dir.iterdir():
        if link.name in entries:
            continue
        if link.is_symlink() and os.readlink(link).startswith(f"{CURRENT}/"):
            link.unlink()   # an entry the current release does not have: its link would dangle
        elif link.name in LEGACY_ENTRIES and not link.is_symlink():
            say(f"removed {link}, published before releases")
            shutil.rmtree(link) if link.is_dir() else link.unlink()
    return made


def clean_up(publish_dir: Path, is_live: Callable[[str], bool] | None = None,
             keep: int | None = None, say: Callable[[str], None] | None = None) -> list[Path]:
    """Remove the leftovers of killed builds and, with `keep`, the releases beyond the last
    `keep`. What `make run` does first, and each publishing run."""
    if not releases_dir(publish_dir).is_dir() and not Path(publish_dir).is_dir():
        return []
    with _locked(publish_dir):
        if keep is None:
            return _remove_leftovers(publish_dir, is_live, say=say)
        return _prune(publish_dir, keep, is_live, say=say)


def _remove_leftovers(publish_dir: Path, is_live: Callable[[str], bool] | None = None,
                     keep_key: str | None = None, say: Callable[[str], None] | None = None) -> list[Path]:
    """Remove what killed builds left: building folders whose writer is no longer alive (without
    `is_live`, only temporary files are judged, by their writer's pid)."""
    say = say or (lambda message: None)
    publish_dir = Path(publish_dir)
    removed = atomic.remove_stale_temps(publish_dir)
    root = releases_dir(publish_dir)
    if root.is_dir():
        removed += atomic.remove_stale_temps(root)
        if is_live is not None:
            for folder in sorted(root.glob(f"*{BUILDING}")):
                key = folder.name[: -len(BUILDING)]
                if key != keep_key and not is_live(key):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
    for path in removed:
        say(f"removed {path}, left by a publish that did not finish")
    return removed


def _prune(publish_dir: Path, keep: int = DEFAULT_KEEP, is_live: Callable[[str], bool] | None = None,
           say: Callable[[str], None] | None = None) -> list[Path]:
    """Keep the newest `keep` releases (the current one always), for readers still open; delete
    the older ones and the leftovers of killed builds. A reader that has a deleted release's file
    open keeps reading it: the file goes when the last reader closes it."""
    say = say or (lambda message: None)
    removed = _remove_leftovers(publish_dir, is_live, say=say)
    current = current_dir(publish_dir)
    whole = releases(publish_dir)
    keep_set = {current} | set(whole[-max(keep, 1):])
    for folder in whole:
        if folder not in keep_set:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            say(f"removed release {folder.name} (keeping the last {keep})")
    return removed
