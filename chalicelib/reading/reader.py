"""``read(data, filename, content_type)``: a screenplay's bytes → ``Document``."""
from __future__ import annotations

from chalicelib.gcpause import without_cycle_collection
from chalicelib.reading import formats
from chalicelib.reading.classify import classify
from chalicelib.reading.model import Document, UnreadableDocument
from chalicelib.reading.scenes import build

MAX_BYTES = 50 * 1024 * 1024   # of source

EXTENSIONS = {"txt": "txt", "text": "txt", "fountain": "txt", "docx": "docx", "pdf": "pdf", "fdx": "fdx",
              "srt": "srt", "vtt": "vtt"}
UNSUPPORTED = {"doc", "rtf", "odt", "pages", "celtx", "wps", "fadein", "mmsw", "xml", "html", "htm"}
CONTENT_TYPES = {"text/plain": "txt", "application/pdf": "pdf",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
                 "application/x-subrip": "srt", "text/srt": "srt", "text/vtt": "vtt",
                 "application/x-final-draft": "fdx"}


def detect_format(data: bytes, filename: str, content_type: str | None = None) -> str:
    """The file's extension decides; without a known one its content type, then its first bytes."""
    name = (filename or "").rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if ext in UNSUPPORTED:
        raise UnreadableDocument(f"the .{ext} format is not read: save the script as .docx, .pdf, .fdx or .txt")
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in CONTENT_TYPES:
        return CONTENT_TYPES[ctype]
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"<") and b"<FinalDraft" in data[:4096]:
        return "fdx"
    if head.startswith(b"WEBVTT"):
        return "vtt"
    if formats.looks_like_srt(head):
        return "srt"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableDocument("the file is binary and not a format we read (.txt, .docx, .pdf, .fdx, .srt, .vtt)")
    return "txt"


@without_cycle_collection
def read(data: bytes, filename: str, content_type: str | None = None) -> Document:
    """Read a screenplay, play or subtitles file into numbered lines and scenes.

    Raises ``UnreadableDocument`` for an empty file, one over ``MAX_BYTES`` or (as text) over
    ``formats.MAX_CHARS`` characters, a zip bomb, an XML entity attack, a broken or text-less PDF,
    or a format it does not read."""
    if not data:
        raise UnreadableDocument("the file is empty")
    if len(data) > MAX_BYTES:
        raise UnreadableDocument(f"the file is larger than {MAX_BYTES // 2**20} MiB")
    fmt = detect_format(data, filename, content_type)
    if fmt == "txt":
        raws, encoding, typed = formats.read_txt(data)
    elif fmt == "docx":
        raws, encoding, typed = formats.read_docx(data)
    elif fmt == "pdf":
        raws, encoding, typed = formats.read_pdf(data)
    elif fmt == "fdx":
        raws, encoding, typed = formats.read_fdx(data)
    else:
        raws, encoding, typed = formats.read_subtitles(data, fmt)
    if not any(raw.text for raw in raws):
        raise UnreadableDocument("the file holds no text")
    if not typed:
        classify(raws)
    return build(raws, fmt, encoding)
