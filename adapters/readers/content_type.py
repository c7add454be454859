"""Files that are not tables, recognised by their first bytes (magic numbers) before any parser
runs, so the job fails naming what the file is (errorCode NOT_A_TABLE) instead of reading an
image as a one-column CSV whose header lacks every mapped column (issue 16.1).

Only signatures that a text table cannot plausibly start with are used: each is either
binary (bytes below 0x20 or invalid as text) or a long, exact marker such as `%PDF-` or
`<!DOCTYPE html`.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from lading.domain.errors import SourceUnreadable

_EXPORT = ": export it as CSV"
_UNPACK = ": unpack it and upload the table inside"

# (signature at offset 0, what it is); checked in order, so longer signatures come first
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an ELF binary (a program or library)"),
    (b"\xfe\xed\xfa\xce", "a Mach-O binary (a program)"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O binary (a program)"),
    (b"\xce\xfa\xed\xfe", "a Mach-O binary (a program)"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O binary (a program)"),
    (b"\xca\xfe\xba\xbe", "a Java class or Mach-O universal binary"),
    (b"\x00asm", "a WebAssembly module"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive" + _UNPACK),
    (b"Rar!\x1a\x07", "a RAR archive" + _UNPACK),
    (b"\xfd7zXZ\x00", "an xz-compressed file" + _UNPACK),
    (b"\x28\xb5\x2f\xfd", "a Zstandard-compressed file" + _UNPACK),
    (b"\x1f\x8b", "a gzip file inside a gzip file: decompress it once"),
    (b"SQLite format 3\x00", "an SQLite database" + _EXPORT),
    (b"ARROW1", "an Arrow IPC file: write it as Parquet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Microsoft Office file (.xls, .doc or .ppt)"
                                          + _EXPORT),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"OggS\x00", "an Ogg audio or video file"),
    (b"fLaC\x00\x00\x00\x22", "a FLAC audio file"),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_WORKBOOK = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")
_ZIP_KINDS = (
    ("xl/", "an Excel workbook" + _EXPORT),
    ("word/", "a Word document"),
    ("ppt/", "a PowerPoint presentation"),
)
_ODF_SPREADSHEET = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


def check_is_table(head: bytes, path: Path, compressed: bool) -> None:
    """Raise NOT_A_TABLE when `head` (the file's first bytes, decompressed) says what else the
    file is; `path` is read further only for a ZIP archive, to tell a workbook from others."""
    what = recognise(head, None if compressed else path)
    if what is not None:
        raise SourceUnreadable(f"this is {what}, not a table (CSV, NDJSON or Parquet)",
                               "NOT_A_TABLE")


def recognise(head: bytes, path: Path | None = None) -> str | None:
    """What the file is when it is certainly not a table, else None."""
    if head.startswith(_ZIP):
        return _zip_kind(head, path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") and any(
            name in head for name in _OLE_WORKBOOK):
        return "a legacy Excel workbook (.xls)" + _EXPORT
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return what
    if _BZIP2.match(head):
        return "a bzip2-compressed file" + _UNPACK
    if head[4:8] == b"ftyp" and head[:4] < b"\x00\x01":  # ISO media: the box size comes first
        return "an MP4/QuickTime video or audio file"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file",
                b"AVI ": "an AVI video"}[head[8:12]]
    if head.startswith(b"MZ") and _is_windows_program(head):
        return "a Windows program (an .exe or .dll)"
    if head.startswith(b"ID3") and len(head) > 5 and head[3] < 10 and head[4] < 10:
        return "an MP3 audio file"
    text = head[:256].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "an HTML page (perhaps an error page saved instead of the file)"
    if text.startswith(b"<?xml"):
        return "an XML document"
    return None


def _zip_kind(head: bytes, path: Path | None) -> str:
    if _ODF_SPREADSHEET in head[:200]:
        return "an OpenDocument spreadsheet" + _EXPORT
    names: list[str] = []
    if path is not None:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            names = []
    for prefix, what in _ZIP_KINDS:
        if any(n.startswith(prefix) for n in names) or prefix.encode() in head:
            return what
    return "a ZIP archive" + _UNPACK


def _is_windows_program(head: bytes) -> bool:
    """MZ alone could start a text header; a program also has the PE header it points to."""
    if len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset:offset + 4] == b"PE\x00\x00"
