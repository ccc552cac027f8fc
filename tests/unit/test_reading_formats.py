"""Reading .docx, .pdf and .fdx screenplays, each made here, and refusing hostile ones.

The PDFs are written by hand (one Type 1 standard font, text placed line by line). Their Cyrillic
uses the font's /Differences encoding with the Adobe glyph names (afii10017 = А, …), which text
extraction maps back to Unicode: viewers would show empty boxes (Courier has no Cyrillic glyphs),
but the text layer the reader sees is the same as a real Russian PDF's."""
from __future__ import annotations

import io
import zipfile

import pytest

from chalicelib.reading import Document, UnreadableDocument, read
from tests.helpers import zip_archive
from tests.unit.test_reading import consistent, speech


def glyph(ch: str) -> str | None:
    o = ord(ch)
    if ch == "—":
        return "emdash"
    if ch in "Ёё":
        return "afii10023" if ch == "Ё" else "afii10071"
    if 0x410 <= o <= 0x44F:
        base, off = (10017, o - 0x410) if o < 0x430 else (10065, o - 0x430)
        return f"afii{base + off + (off >= 6)}"       # Ё sits after Е in the afii numbering
    return None


def make_pdf(pages: list[list[tuple[int, int, str]]]) -> bytes:
    """A PDF whose pages hold (x, y, text) lines in Courier 12."""
    extra = sorted({c for page in pages for _, _, t in page for c in t if glyph(c)})
    code = {c: 128 + i for i, c in enumerate(extra)}
    differences = "[128 " + " ".join("/" + glyph(c) for c in extra) + "]"

    def encode(text: str) -> bytes:
        out = bytearray()
        for c in text:
            if c in code:
                out.append(code[c])
            else:
                out += (b"\\" if c in "()\\" else b"") + c.encode("ascii")
        return bytes(out)

    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
               (f"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding << /Type /Encoding "
                f"/BaseEncoding /WinAnsiEncoding /Differences {differences} >> >>").encode()]
    kids = []
    for page in pages:
        stream = b"BT /F1 12 Tf " + b" ".join(b"1 0 0 1 %d %d Tm (%s) Tj" % (x, y, encode(t)) for x, y, t in page) + b" ET"
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents %d 0 R >>" % len(objects))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def screenplay_pages(russian: bool) -> list[list[tuple[int, int, str]]]:
    """Three pages as a screenplay PDF lays them out: running header, page number, scene numbers at
    both margins, cues at 3.7", dialogue at 2.5", (MORE)/(CONT'D) across a page break, hyphenation."""
    if russian:
        header, heads = "ТИХИЙ ДВОР — синий черновик", ["ИНТ. КУХНЯ — НОЧЬ", "НАТ. ДВОР — УТРО", "ИНТ. ПОДЪЕЗД — ДЕНЬ"]
        action, hyph, rest = "Лёша сидит за столом.", "Он долго смотрит на кон-", "верт под магнитом."
        names, speech1, speech2, more, contd = ("МАМА", "ЛЁША"), "Ты поел?", "Угу. Поел.", "(ДАЛЕЕ)", "ЛЁША (ПРОД.)"
    else:
        header, heads = "QUIET YARD - blue draft", ["INT. KITCHEN - NIGHT", "EXT. YARD - MORNING", "INT. STAIRWELL - DAY"]
        action, hyph, rest = "Alex sits at the table.", "He stares at the enve-", "lope under the magnet."
        names, speech1, speech2, more, contd = ("MOM", "ALEX"), "Did you eat?", "Yeah. I ate.", "(MORE)", "ALEX (CONT'D)"
    pages = []
    for n in range(3):
        lines = [(72, 760, header), (520, 760, f"{n + 1}."), (40, 720, f"{n + 1}"), (108, 720, heads[n]),
                 (540, 720, f"{n + 1}"), (108, 690, action), (108, 670, hyph), (108, 655, rest),
                 (266, 625, names[0]), (180, 610, speech1), (266, 580, names[1]), (180, 565, f"{speech2} {'abc'[n]}")]
        if n < 2:
            lines += [(266, 550, more)]
        if n > 0:
            lines += [(266, 700, contd), (180, 685, f"{speech2} {'abc'[n - 1]}+")]
            lines = [ln for ln in lines if ln[1] != 690]
        pages.append(lines)
    return pages


@pytest.mark.parametrize("russian", [True, False])
def test_a_pdf_screenplay(russian: bool) -> None:
    doc = read(make_pdf(screenplay_pages(russian)), "script.pdf")
    consistent(doc)
    assert doc.source_format == "pdf" and doc.encoding is None
    assert [s.label for s in doc.scenes] == ["1", "2", "3"]
    assert doc.scenes[0].heading == ("1 ИНТ. КУХНЯ — НОЧЬ 1" if russian else "1 INT. KITCHEN - NIGHT 1")
    texts = [x.text for s in doc.scenes for x in s.lines]
    assert not [t for t in texts if "черновик" in t or "draft" in t or t in ("(MORE)", "(ДАЛЕЕ)") or t.rstrip(".").isdigit()]
    joined = "Он долго смотрит на конверт под магнитом." if russian else "He stares at the envelope under the magnet."
    assert texts.count(joined) == 3
    mom, kid = ("МАМА", "ЛЁША") if russian else ("MOM", "ALEX")
    said = speech(doc)
    assert (mom, "dialogue", "Ты поел?" if russian else "Did you eat?") in said
    assert [(s, t[-2:]) for s, _, t in said if t.startswith("Угу. Поел." if russian else "Yeah. I ate.")] == [
        (kid, " a"), (kid, "a+"), (kid, " b"), (kid, "b+"), (kid, " c")]
    action = [x for x in doc.scenes[0].lines if x.kind == "action"]
    assert [x.text for x in action] == ["Лёша сидит за столом." if russian else "Alex sits at the table.", joined]


def test_a_broken_pdf_is_unreadable() -> None:
    data = make_pdf(screenplay_pages(False))
    for broken in (data[: len(data) // 3], b"%PDF-1.4\n" + b"\x00garbage" * 50, b"%PDF-1.4\n"):
        with pytest.raises(UnreadableDocument, match="PDF"):
            read(broken, "broken.pdf")


def test_a_pdf_without_text_is_unreadable() -> None:
    with pytest.raises(UnreadableDocument, match="no text layer"):
        read(make_pdf([[]]), "scan.pdf")


def make_docx(paragraphs: list[tuple[str, str | None, float | None]]) -> bytes:
    """(text, style name or None, left indent in inches or None) per paragraph."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Inches

    document = docx.Document()
    for text, style, indent in paragraphs:
        if style and style not in [s.name for s in document.styles]:
            document.styles.add_style(style, WD_STYLE_TYPE.PARAGRAPH)
        paragraph = document.add_paragraph(text, style=style)
        if indent is not None:
            paragraph.paragraph_format.left_indent = Inches(indent)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_plain_docx_screenplay_uses_indentation() -> None:
    data = make_docx([
        ("ТИХИЙ ДВОР", None, 2.5), ("12. ИНТ. КУХНЯ — НОЧЬ", None, None), ("Лёша сидит за столом.", None, None),
        ("МАМА", None, 2.2), ("Ты поел?\nДеньги на холодильнике.", None, 1.0), ("(уходя)", None, 1.6),
        ("Это на продукты.", None, 1.0), ("Хлопает дверь. Лёша смотрит на конверт.", None, 0.0),
        ("12А НАТ. ДВОР — УТРО", None, None), ("ЛЁША (ЗК)", None, 2.2), ("Я всё понял.", None, 1.0),
    ])
    doc = read(data, "script.docx")
    consistent(doc)
    assert doc.source_format == "docx"
    assert [(s.label, s.heading) for s in doc.scenes] == [
        ("1", ""), ("12", "12. ИНТ. КУХНЯ — НОЧЬ"), ("12А", "12А НАТ. ДВОР — УТРО")]
    assert speech(doc) == [("МАМА", "dialogue", "Ты поел?"), ("МАМА", "dialogue", "Деньги на холодильнике."),
                           ("МАМА", "parenthetical", "(уходя)"), ("МАМА", "dialogue", "Это на продукты."),
                           ("ЛЁША", "dialogue", "Я всё понял.")]
    kinds = {x.text: x.kind for s in doc.scenes for x in s.lines}
    assert kinds["Хлопает дверь. Лёша смотрит на конверт."] == "action"      # less indented: the speech ended


def test_a_docx_with_screenplay_styles_is_read_by_style() -> None:
    data = make_docx([
        ("Int. кухня — ночь", "Scene Heading", None), ("Лёша сидит за столом.", "Action", None),
        ("Мама", "Character", None), ("Ты поел?", "Dialogue", None), ("(тихо)", "Parenthetical", None),
        ("Ну и ладно.", "Dialogue", None), ("Смена кадра", "Transition", None),
    ])
    doc = read(data, "styled.docx")
    consistent(doc)
    assert len(doc.scenes) == 1 and doc.scenes[0].heading == "Int. кухня — ночь"
    assert [(x.kind, x.speaker) for x in doc.scenes[0].lines] == [
        ("heading", None), ("action", None), ("character", "Мама"), ("dialogue", "Мама"),
        ("parenthetical", "Мама"), ("dialogue", "Мама"), ("transition", None)]


def test_a_zip_bomb_docx_is_refused_before_parsing() -> None:
    bomb = zip_archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\x00" * (200 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(UnreadableDocument, match="unpacks to more than"):
        read(bomb, "bomb.docx")
    many = zip_archive({f"f{i}.xml": b"" for i in range(2001)})
    with pytest.raises(UnreadableDocument, match="parts"):
        read(many, "many.docx")


def test_broken_docx_files_are_unreadable() -> None:
    for data, reason in ((b"PK\x03\x04 not really", "zip"), (zip_archive({"hello.txt": b"hi"}), "could not be read"),
                         (b"\xd0\xcf\x11\xe0" + b"\x00" * 600, ".doc")):
        with pytest.raises(UnreadableDocument, match=reason):
            read(data, "x.docx")


def test_a_docx_with_entities_is_not_expanded() -> None:
    good = make_docx([("ИНТ. КУХНЯ — НОЧЬ", None, None), ("Текст.", None, None)])
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    body = entries["word/document.xml"].decode()
    laughs = ('<!DOCTYPE w:document [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
              '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>')
    start = body.index("<w:document")
    entries["word/document.xml"] = (body[:start] + laughs + body[start:]).replace("Текст.", "&f;").encode()
    with pytest.raises(UnreadableDocument, match="could not be read"):
        read(zip_archive(entries), "laughs.docx")        # libxml2 stops at its amplification limit
    entries["word/document.xml"] = entries["word/document.xml"].replace(b"&f;", b"&b;")
    doc = read(zip_archive(entries), "laughs.docx")      # a small one: python-docx's parser resolves no entity
    assert doc.text == "ИНТ. КУХНЯ — НОЧЬ" and "lol" not in doc.text


def fdx(paragraphs: str, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n{prolog}'
            f'<FinalDraft DocumentType="Script" Template="No" Version="5"><Content>{paragraphs}</Content>'
            f'<TitlePage><Content><Paragraph Type="Action"><Text>Title page</Text></Paragraph></Content></TitlePage>'
            f'</FinalDraft>').encode()


def p(kind: str, *texts: str, number: str | None = None) -> str:
    attr = f' Number="{number}"' if number else ""
    return f'<Paragraph{attr} Type="{kind}">' + "".join(f"<Text>{t}</Text>" for t in texts) + "</Paragraph>"


def test_an_fdx_screenplay_reads_its_typed_paragraphs() -> None:
    data = fdx(p("Scene Heading", "ИНТ. КУХНЯ — НОЧЬ", number="7") + p("Action", "Лёша ", "сидит за столом.")
               + p("Character", "МАМА (ЗК)") + p("Dialogue", "Ты поел?") + p("Parenthetical", "(тихо)")
               + p("Dialogue", "Деньги на холодильнике.") + p("Transition", "СМЕНА КАДРА:")
               + p("Scene Heading", "8A EXT. YARD - DAY 8A") + p("Action", "Alex runs.")
               + '<Paragraph Type="Action"><DualDialogue>' + p("Character", "ALEX") + p("Dialogue", "Wait!")
               + p("Character", "MOM") + p("Dialogue", "Stop!") + "</DualDialogue></Paragraph>"
               + p("General", "THE END"))
    doc = read(data, "script.fdx")
    consistent(doc)
    assert doc.source_format == "fdx"
    assert [(s.label, s.heading) for s in doc.scenes] == [("7", "ИНТ. КУХНЯ — НОЧЬ"), ("8A", "8A EXT. YARD - DAY 8A")]
    assert [(x.kind, x.speaker, x.text) for x in doc.scenes[0].lines] == [
        ("heading", None, "ИНТ. КУХНЯ — НОЧЬ"), ("action", None, "Лёша сидит за столом."),
        ("character", "МАМА", "МАМА (ЗК)"), ("dialogue", "МАМА", "Ты поел?"), ("parenthetical", "МАМА", "(тихо)"),
        ("dialogue", "МАМА", "Деньги на холодильнике."), ("transition", None, "СМЕНА КАДРА:")]
    assert speech(doc)[-2:] == [("ALEX", "dialogue", "Wait!"), ("MOM", "dialogue", "Stop!")]
    assert doc.scenes[-1].lines[-1].kind == "other" and "Title page" not in doc.text


def test_hostile_fdx_files_are_unreadable() -> None:
    laughs = ('<!DOCTYPE FinalDraft [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n')
    external = '<!DOCTYPE FinalDraft [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    cases = [(fdx(p("Action", "&d;"), laughs), "DTD"), (fdx(p("Action", "&x;"), external), "DTD"),
             (b"<FinalDraft><Content><Paragraph", "well-formed"), (b"<Other/>", "not a Final Draft"),
             (fdx("")[:-5], "well-formed")]
    for data, reason in cases:
        with pytest.raises(UnreadableDocument, match=reason):
            read(data, "x.fdx")


def test_format_sniffing_of_binary_files() -> None:
    docx_bytes = make_docx([("INT. HOUSE - DAY", None, None), ("Text.", None, None)])
    assert read(docx_bytes, "upload", None).source_format == "docx"
    assert read(make_pdf(screenplay_pages(False)), "upload.bin").source_format == "pdf"
    assert read(fdx(p("Scene Heading", "INT. HOUSE - DAY")), "noext").source_format == "fdx"


def test_documents_are_plain_values() -> None:
    doc = read(fdx(p("Scene Heading", "INT. HOUSE - DAY") + p("Action", "Text.")), "x.fdx")
    assert isinstance(doc, Document) and doc == read(fdx(p("Scene Heading", "INT. HOUSE - DAY") + p("Action", "Text.")), "x.fdx")
    with pytest.raises(AttributeError):
        doc.text = "changed"  # type: ignore[misc]
