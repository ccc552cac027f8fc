"""Reading screenplays, plays and subtitles (.txt, .docx, .pdf, .fdx, .srt, .vtt) into numbered
lines and scenes for the analyzer. Pure: no AWS. See docs/NOTES.md, "Reading screenplays"."""
from chalicelib.reading.model import Document, Line, Scene, UnreadableDocument
from chalicelib.reading.reader import read

__all__ = ["Document", "Line", "Scene", "UnreadableDocument", "read"]
