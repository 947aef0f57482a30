"""Where an import reads from: one file, several files, a folder or a zip archive.

Everything is presented as a ``Bundle`` of ``Member`` files. A member is opened only when a
format needs it, and only its first ``HEAD_BYTES`` are read to recognise it, so a huge file
of garbage is refused after reading 64 KiB, not after reading all of it.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError

HEAD_BYTES = 65536
MAX_MEMBER_BYTES = 2 * 1024 ** 3  # refuse zip members that claim more (zip bombs)
MAX_FOLDER_FILES = 2000
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
# what reading a damaged file or zip member can raise
READ_ERRORS = (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
               zlib.error, lzma.LZMAError)


@dataclass
class Member:
    """One file of a bundle: on disk (``path``) or inside a zip archive (``zip_name``)."""

    name: str  # shown in messages, e.g. "export.zip:Accelerometer.csv"
    inner: str  # path inside the bundle ("meta/device.csv", "Accelerometer.csv")
    size: int
    path: Path | None = None
    archive: zipfile.ZipFile | None = None
    zip_name: str | None = None
    data: bytes | None = field(default=None, repr=False)  # an in-memory part of another file
    _head: bytes | None = field(default=None, repr=False)

    @property
    def basename(self) -> str:
        return self.inner.replace("\\", "/").rsplit("/", 1)[-1]

    def open_binary(self) -> BinaryIO:
        try:
            if self.data is not None:
                return io.BytesIO(self.data)
            if self.archive is not None:
                return self.archive.open(self.zip_name)
            return open(self.path, "rb")
        except READ_ERRORS as exc:
            raise InputError(f"{self.name}: cannot be read ({exc})") from None

    def head(self) -> bytes:
        """The first ``HEAD_BYTES`` bytes (cached)."""
        if self._head is None:
            with self.open_binary() as fh:
                try:
                    self._head = fh.read(HEAD_BYTES)
                except READ_ERRORS as exc:
                    raise InputError(f"{self.name}: cannot be read ({exc})") from None
        return self._head

    def read_all(self) -> bytes:
        with self.open_binary() as fh:
            try:
                return fh.read()
            except READ_ERRORS as exc:
                raise InputError(f"{self.name}: cannot be read ({exc})") from None


def split_member(member: Member, starts: list[int], data: bytes) -> list[Member]:
    """In-memory members for the byte ranges beginning at ``starts`` (sections of one file)."""
    bounds = list(starts) + [len(data)]
    return [Member(name=f"{member.name} (part {k + 1})", inner=member.inner, size=b - a,
                   data=data[a:b]) for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]


@dataclass
class Bundle:
    """The files one import can use. ``primary`` is the file the user named, if one."""

    label: str
    kind: str  # "file", "files", "folder" or "zip"
    members: list[Member]
    primary: Member | None = None
    paths: list[Path] = field(default_factory=list)

    def find(self, pattern: str) -> list[Member]:
        """Members whose base name matches the regular expression (case-insensitive)."""
        rx = re.compile(pattern, re.IGNORECASE)
        return [m for m in self.members if rx.search(m.basename)]

    def text_members(self) -> list[Member]:
        """Files that may hold tables: named by the user, or ending in .csv/.txt/.tsv."""
        if self.kind == "files":
            return list(self.members)
        return [m for m in self.members
                if m is self.primary or m.basename.lower().endswith(TEXT_SUFFIXES)]

    def candidates(self) -> list[Member]:
        """Members to look at when recognising the format: the named file, else all text files."""
        return [self.primary] if self.primary is not None else self.text_members()

    def close(self) -> None:
        seen = set()
        for m in self.members:
            if m.archive is not None and id(m.archive) not in seen:
                seen.add(id(m.archive))
                m.archive.close()


def open_source(sources: list[str | os.PathLike]) -> Bundle:
    """Open what the user named. Raises ``InputError`` for missing, empty or unreadable input."""
    paths = [Path(s) for s in sources]
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
    if len(paths) > 1:
        for p in paths:
            if p.is_dir():
                raise InputError(f"{p}: is a folder; give one folder alone, or files only")
            _check_not_empty(p)
        members = [_file_member(p, p.name) for p in paths]
        return Bundle(label=", ".join(str(p) for p in paths), kind="files", members=members,
                      paths=paths)
    path = paths[0]
    if path.is_dir():
        return _folder_bundle(path)
    _check_not_empty(path)
    if _looks_like_zip(path):
        return _zip_bundle(path)
    primary = _file_member(path, path.name)
    members = [primary]
    # Siblings: the partner file of a pair (e.g. ..._Gyroscope.csv beside ..._Accelerometer.csv)
    try:
        siblings = sorted(q for q in path.parent.iterdir()
                          if q.is_file() and q != path and q.suffix.lower() in TEXT_SUFFIXES)
    except OSError:
        siblings = []
    members += [_file_member(q, q.name) for q in siblings[:MAX_FOLDER_FILES]]
    return Bundle(label=str(path), kind="file", members=members, primary=primary, paths=[path])


def _check_not_empty(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if size == 0:
        raise InputError(f"{path}: the file is empty")


def _file_member(path: Path, inner: str) -> Member:
    return Member(name=str(path), inner=inner, size=path.stat().st_size, path=path)


def _looks_like_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def _folder_bundle(folder: Path) -> Bundle:
    members = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        depth = len(Path(root).relative_to(folder).parts)
        if depth > 3:
            dirs[:] = []
            continue
        for f in sorted(files):
            if f.startswith("."):
                continue
            p = Path(root) / f
            members.append(_file_member(p, p.relative_to(folder).as_posix()))
            if len(members) > MAX_FOLDER_FILES:
                raise InputError(f"{folder}: holds more than {MAX_FOLDER_FILES} files;"
                                 " point to the export folder itself")
    if not members:
        raise InputError(f"{folder}: the folder is empty")
    return Bundle(label=str(folder), kind="folder", members=members, paths=[folder])


def _zip_bundle(path: Path) -> Bundle:
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (*READ_ERRORS, zipfile.LargeZipFile) as exc:
        raise InputError(f"{path}: not a readable zip archive ({exc})") from None
    members = []
    for info in infos:
        inner = info.filename
        if info.is_dir() or inner.startswith("__MACOSX/") or inner.rsplit("/", 1)[-1].startswith("."):
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            archive.close()
            raise InputError(f"{path}: {inner} unpacks to {info.file_size / 1e9:.1f} GB;"
                             " too large to import")
        members.append(Member(name=f"{path}:{inner}", inner=inner, size=info.file_size,
                              archive=archive, zip_name=info.filename))
    if not members:
        archive.close()
        raise InputError(f"{path}: the zip archive holds no files")
    return Bundle(label=str(path), kind="zip", members=members, paths=[path])


def bytes_stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
