"""One reader per format: bytes in, lines (``Raw``) out. Heavy parsers (python-docx, pypdf) are
imported inside the function that needs them, so nothing that merely imports this package pays
for them."""
from __future__ import annotations

import html
import io
import re
import zipfile

from chalicelib.reading.classify import cue, heading, speaker_name
from chalicelib.reading.model import UnreadableDocument
from chalicelib.reading.text import Raw, clean, decode_text, is_noise, raws_from_pages, split_pages

MAX_CHARS = 10_000_000          # characters of extracted text
MAX_ZIP_ENTRIES = 2_000
MAX_UNZIPPED = 128 * 1024 * 1024  # declared uncompressed size of a .docx, all entries together
MAX_PDF_PAGES = 3_000


def _bound_text(size: int) -> None:
    if size > MAX_CHARS:
        raise UnreadableDocument(f"the text is longer than {MAX_CHARS:,} characters")


def protected(text: str) -> int:
    """2 for a scene heading, 1 for a character cue, 0 for anything else (see raws_from_pages)."""
    return 2 if heading(text) else 1 if cue(text) else 0


def read_txt(data: bytes) -> tuple[list[Raw], str | None, bool]:
    text, encoding = decode_text(data)
    _bound_text(len(text))
    return raws_from_pages(split_pages(text), join_hyphens=True, keep=protected), encoding, False


# ---- .docx ---------------------------------------------------------------------------------------

_DOCX_STYLES = {"scene heading": "heading", "sceneheading": "heading", "action": "action", "character": "character",
                "dialogue": "dialogue", "parenthetical": "parenthetical", "transition": "transition",
                "shot": "action"}


def check_zip(data: bytes) -> None:
    """A zip bomb is refused before any part is parsed: entry count and declared uncompressed size
    are bounded (zipfile stops at the declared size and fails the CRC past it, so the declaration
    cannot lie upwards unnoticed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise UnreadableDocument("the .docx is not a valid zip archive") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UnreadableDocument(f"the .docx has more than {MAX_ZIP_ENTRIES} parts")
    if sum(info.file_size for info in infos) > MAX_UNZIPPED:
        raise UnreadableDocument(f"the .docx unpacks to more than {MAX_UNZIPPED // 2**20} MiB")


def read_docx(data: bytes) -> tuple[list[Raw], str | None, bool]:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableDocument("this is a legacy Word .doc file; save it as .docx")
    check_zip(data)
    import docx  # noqa: PLC0415 - heavy, only when a .docx is read

    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = list(_docx_paragraphs(document))
    except UnreadableDocument:
        raise
    except Exception as exc:  # python-docx and lxml raise many kinds for broken packages
        raise UnreadableDocument(f"the .docx could not be read ({type(exc).__name__})") from exc

    styled = {kind for _, kind, _ in paragraphs}
    typed = "heading" in styled and "character" in styled   # a screenplay template's styles
    raws: list[Raw] = []
    size = 0
    for text, kind, indent in paragraphs:
        size += len(text) + 1
        _bound_text(size)
        for part in split_pages(text.replace("\x0b", "\n")):
            for piece in part:
                line, _ = clean(piece)
                if line and is_noise(line):
                    continue
                raws.append(Raw(line, indent, (kind or "action") if typed else None))
    if typed:
        fill_speakers(raws)
    return raws, None, typed


def _docx_paragraphs(document):  # noqa: ANN001, ANN202 - python-docx types, imported late
    """(text, kind from the style or None, left indent in points or None) per paragraph, in body
    order; table cells' paragraphs in reading order, merged cells once."""
    from docx.table import Table  # noqa: PLC0415

    def one(paragraph):  # noqa: ANN001, ANN202
        style = paragraph.style
        name = (style.name or "").strip().lower() if style is not None else ""
        indent = paragraph.paragraph_format.left_indent
        while indent is None and style is not None:
            indent = style.paragraph_format.left_indent
            style = style.base_style
        return paragraph.text, _DOCX_STYLES.get(name), (indent.pt if indent is not None else 0.0)

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            seen = set()
            for row in block.rows:
                for cell in row.cells:
                    if id(cell._tc) in seen:  # noqa: SLF001 - merged cells repeat
                        continue
                    seen.add(id(cell._tc))  # noqa: SLF001
                    for paragraph in cell.paragraphs:
                        yield one(paragraph)
        else:
            yield one(block)


def fill_speakers(raws: list[Raw]) -> None:
    """Typed paragraphs (FDX, a screenplay template's docx styles): dialogue and parentheticals are
    spoken by the last character cue; headings get their scene number from their text."""
    speaker = None
    for raw in raws:
        if not raw.text:
            continue
        if raw.kind == "character":
            speaker = raw.speaker = speaker_name(raw.text)
        elif raw.kind in ("dialogue", "parenthetical"):
            raw.speaker = speaker
        else:
            speaker = None
        if raw.kind == "heading":
            raw.level = raw.level or "scene"
            found = heading(raw.text)
            if raw.label is None and found:
                raw.label = found[1]


# ---- .pdf ----------------------------------------------------------------------------------------

def read_pdf(data: bytes) -> tuple[list[Raw], str | None, bool]:
    from pypdf import PdfReader  # noqa: PLC0415 - heavy, only when a .pdf is read

    pages: list[str] = []
    size = 0
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("the PDF is password-protected")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise UnreadableDocument(f"the PDF has more than {MAX_PDF_PAGES} pages")
        for page in reader.pages:
            text = page.extract_text(extraction_mode="layout") or ""
            size += len(text)
            _bound_text(size)
            pages.append(text)
    except UnreadableDocument:
        raise
    except Exception as exc:  # pypdf raises many kinds for broken files
        raise UnreadableDocument(f"the PDF could not be parsed ({type(exc).__name__})") from exc
    if not any(p.strip() for p in pages):
        raise UnreadableDocument("the PDF has no text layer (a scan needs OCR first)")
    page_lines = [lines for page in pages for lines in split_pages(page)]
    return raws_from_pages(page_lines, join_hyphens=True, keep=protected), None, False


# ---- .fdx (Final Draft XML) ----------------------------------------------------------------------

_FDX_TYPES = {"Scene Heading": "heading", "Action": "action", "Character": "character", "Dialogue": "dialogue",
              "Parenthetical": "parenthetical", "Transition": "transition", "Shot": "action", "New Act": "heading"}


def read_fdx(data: bytes) -> tuple[list[Raw], str | None, bool]:
    from defusedxml import DefusedXmlException  # noqa: PLC0415
    from defusedxml.ElementTree import ParseError, fromstring  # noqa: PLC0415

    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnreadableDocument("the .fdx declares a DTD or entities, which Final Draft files never do") from exc
    except (ParseError, ValueError) as exc:
        raise UnreadableDocument("the .fdx is not well-formed XML") from exc
    content = root.find("Content") if root.tag == "FinalDraft" else None
    if content is None:
        raise UnreadableDocument("the .fdx is not a Final Draft document (no FinalDraft/Content)")
    raws: list[Raw] = []
    size = 0
    for paragraph in content.iter("Paragraph"):
        texts = paragraph.findall("Text")
        if not texts:
            continue
        text = "".join(t.text or "" for t in texts)
        size += len(text) + 1
        _bound_text(size)
        kind = _FDX_TYPES.get(paragraph.get("Type", ""), "other")
        if kind in ("heading", "character", "transition") or (kind == "action" and raws and raws[-1].kind != "action"):
            raws.append(Raw(""))
        label = ((paragraph.get("Number") or "").strip() or None) if kind == "heading" else None
        level = "act" if paragraph.get("Type") == "New Act" else None
        for piece in text.split("\n"):
            line, _ = clean(piece)
            raws.append(Raw(line, None, kind, None, label, level))
    fill_speakers(raws)
    return raws, None, True


# ---- subtitles: .srt and .vtt ----------------------------------------------------------------------

_TIMING = re.compile(r"^((?:\d{1,3}:)?\d{1,2}:\d{2}[,.]\d{1,3})\s*-->\s*((?:\d{1,3}:)?\d{1,2}:\d{2}[,.]\d{1,3})")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_SUB_SPEAKER = re.compile(r"^(?:-\s*)?([A-ZА-ЯЁ][A-ZА-ЯЁ .'-]{0,30}):\s+(\S.*)$")


def read_subtitles(data: bytes, fmt: str) -> tuple[list[Raw], str | None, bool]:
    """Each cue is a scene: its heading line is the cue's timing (``00:01:02,000 --> …``), its
    label the cue's number (SRT) or identifier (VTT), else its order; its text lines are dialogue,
    spoken by a ``<v Name>`` voice or a ``NAME:`` prefix where the file shows one."""
    text, encoding = decode_text(data)
    _bound_text(len(text))
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip("\n\ufeff"))
    raws: list[Raw] = []
    for block in blocks:
        lines = block.split("\n")
        at = next((i for i, line in enumerate(lines) if _TIMING.match(line.strip())), None)
        if at is None:
            continue        # WEBVTT header, NOTE, STYLE, REGION blocks, stray text
        ident = clean(lines[at - 1])[0] if at > 0 else ""
        timing = _TIMING.match(lines[at].strip())
        raws.append(Raw(""))
        raws.append(Raw(f"{timing.group(1)} --> {timing.group(2)}", None, "heading", None, ident or None, "scene"))
        for cue_line in lines[at + 1:]:
            voice = _VOICE.search(cue_line)
            line, _ = clean(html.unescape(_TAG.sub("", cue_line)))
            if not line:
                continue
            speaker = speaker_name(voice.group(1)) if voice else None
            said = _SUB_SPEAKER.match(line)
            if speaker is None and said:
                speaker = said.group(1).strip()
            raws.append(Raw(line, None, "dialogue", speaker))
    if not raws:
        raise UnreadableDocument(f"no subtitle cues found in the .{fmt}")
    return raws, encoding, True


def looks_like_srt(head: bytes) -> bool:
    return any(_TIMING.match(line.strip()) for line in head.decode("utf-8", errors="replace").splitlines()[:5])
