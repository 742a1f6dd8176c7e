"""Output that never destroys what we did not write.

Every folder we write holds a marker file, `.constriction.json`, naming its kind
("run", "compare", "fit", "study"). A folder is replaced only when it is recognisably
ours: it carries the marker of the same kind and holds nothing but the files that kind
writes. Anything else at the path (a user's file, a folder with other files in it, the
working folder, a study where a run would go) is refused with an `OutputError` before
any computing starts. A file output (a lookup table) never replaces an existing file
that is not ours.

Folders are written whole or not at all: into a hidden `.NAME.partial-XXXX` folder beside
the target, renamed into place at the end. A kill halfway leaves that hidden folder; the
next write to the same target removes it (it holds our marker, so it is ours).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

MARKER = ".constriction.json"
PARTIAL, OLD = ".partial-", ".old-"


class OutputError(ValueError):
    """An output path we must not or cannot write; the message says which and why."""


class ResultError(ValueError):
    """A result folder whose data files are missing or damaged."""


def check_folder(path: str | Path, kind: str, ours: Callable[[str], bool]) -> Path:
    """Refuse `path` as an output folder of `kind` unless it is absent, empty, or ours.

    `ours(name)` says whether a file name is one that `kind` writes. Also checks that
    the folder can be created and written. Returns the path, resolved."""
    path = Path(path).expanduser().resolve()
    cwd = Path.cwd().resolve()
    if path == cwd or path in cwd.parents:
        raise OutputError(f"{path}: is the working folder or one of its parents; give a new folder for the output")
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a folder; it is left alone (choose another --out)")
    if path.is_dir() and any(path.iterdir()):
        marker = _marker(path)
        if marker is None:
            raise OutputError(f"{path}: holds files that constriction did not write; it is left alone "
                              f"(choose another --out, or empty it yourself)")
        if marker.get("kind") != kind:
            raise OutputError(f"{path}: holds a constriction {marker.get('kind')} output, not a {kind}; "
                              f"it is left alone (choose another --out)")
        foreign = sorted(p.name for p in path.iterdir() if p.name != MARKER and not ours(p.name))
        if foreign:
            raise OutputError(f"{path}: also holds {', '.join(foreign[:3])}"
                              f"{' ...' if len(foreign) > 3 else ''}, which constriction did not write; "
                              f"it is left alone (move those files, or choose another --out)")
    _check_writable(path.parent)
    return path


def check_file(path: str | Path, ours: Callable[[Path], bool] = lambda p: False) -> Path:
    """Refuse `path` as an output file if something is there that `ours` does not claim."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if path.exists() and not ours(path):
        raise OutputError(f"{path}: exists and constriction did not write it; it is left alone "
                          f"(choose another name)")
    _check_writable(path.parent)
    return path


def write_folder(path: str | Path, kind: str, ours: Callable[[str], bool], fill: Callable[[Path], None]) -> Path:
    """Write a whole folder: `fill(tmp)` writes the files into a hidden folder beside
    `path`, which then replaces `path` (checked with `check_folder` first, and again
    just before the swap). Nothing is left behind if `fill` fails."""
    path = check_folder(path, kind, ours)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{PARTIAL}", dir=path.parent))
    try:
        mark(tmp, kind)
        fill(tmp)
        readable_by_others(tmp)
        check_folder(path, kind, ours)  # nobody put anything there while we computed
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}{OLD}", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def write_file(path: str | Path, write: Callable[[Path], None], ours: Callable[[Path], bool] = lambda p: False) -> Path:
    """Write one file atomically: `write(tmp)` fills a hidden file beside `path`, which
    is then renamed over it. An existing file is replaced only if `ours(path)`."""
    path = check_file(path, ours)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}{PARTIAL}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        readable_by_others(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def readable_by_others(path: Path) -> None:
    """Give `path` (and everything under a folder) the modes a plain mkdir or open would
    have given it (0777 / 0666 less the umask: usually 0755 / 0644), not the private 0700 /
    0600 of the temporary names it was written under."""
    mask = _umask()
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        p.chmod((0o777 if p.is_dir() else 0o666) & ~mask)


def _umask() -> int:
    """This process's umask, read without changing it (Linux: /proc; else 0o022)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file of ours atomically (replacing the previous one)."""
    return write_file(path, lambda tmp: tmp.write_text(text), ours=lambda p: True)


def mark(folder: Path, kind: str) -> None:
    """Write the marker that makes `folder` recognisably ours."""
    from constriction import __version__
    (folder / MARKER).write_text(json.dumps({"kind": kind, "version": __version__}) + "\n")


def is_ours(folder: Path, kind: str) -> bool:
    marker = _marker(folder)
    return marker is not None and marker.get("kind") == kind


def default_folder(path: Path) -> Path:
    """`path` as a default output folder: refused (OutputError) where it would land inside
    a folder we wrote (a result, a comparison, a study: run from inside one)."""
    for parent in path.resolve().parents:
        if _marker(parent) is not None:
            raise OutputError(f"{path}: the default output folder would be inside {parent}, which constriction "
                              f"wrote; run from another folder or give --out")
    return path


def remove_leftovers(path: Path) -> None:
    """Remove hidden partial or old copies of `path` that a killed write left behind
    (partial files by their name; folders only when they carry our marker)."""
    for left in path.parent.glob(f".{path.name}{PARTIAL}*"):
        if left.is_file():
            left.unlink(missing_ok=True)
        elif _marker(left) is not None or not any(left.iterdir()):
            shutil.rmtree(left, ignore_errors=True)
    for left in path.parent.glob(f".{path.name}{OLD}*"):
        if left.is_dir() and all(_marker(p) is not None for p in left.iterdir()):
            shutil.rmtree(left, ignore_errors=True)


def _marker(folder: Path) -> dict | None:
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _check_writable(folder: Path) -> None:
    """The nearest existing ancestor of `folder` must let us create files."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{existing}: is a file, so no folder can be made under it")
    try:
        fd, name = tempfile.mkstemp(prefix=".constriction-write-test-", dir=existing)
        os.close(fd)
        os.unlink(name)
    except OSError as err:
        raise OutputError(f"{existing}: cannot write there ({err.strerror})") from None
