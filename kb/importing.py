"""Turn the documents a team already has (DOCX, PDF, HTML, plain text, e-mail) into Markdown documents of the
knowledge base: front matter (title, type, client, owner, ``source:``, ``imported:``), headings, lists and tables
kept.

What a file is comes from its bytes, never from its name: a ".docx" that is not a Word document, a ZIP that is
not one (archives are not unpacked), an encrypted or text-less PDF, an empty or oversized file is refused with
the reason, and nothing is written. Libraries: mammoth (DOCX → HTML, keeping headings, lists and tables, and
dropping Word's styling), markdownify (HTML → Markdown), pypdf (a PDF's text layer), and Python's own ``email``
(an .eml thread).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import re
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import PurePosixPath

import mammoth
from markdownify import markdownify
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from kb.authoring import slug, yaml_scalar
from kb.errors import BadInput
from kb.markdown import DOC_TYPES

DOCX, PDF, HTML, TEXT, EML = "docx", "pdf", "html", "text", "eml"
_EXTENSIONS = {".docx": DOCX, ".pdf": PDF, ".html": HTML, ".htm": HTML, ".txt": TEXT, ".md": TEXT, ".eml": EML}
_HTML_START = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body|<meta|<div|<p[ >]|<h[1-6])", re.IGNORECASE)
_HEADER = re.compile(r"^(?:from|to|subject|date|message-id|mime-version|received|return-path):", re.IGNORECASE)


class ImportRefused(BadInput):
    """The file cannot be imported: the reason says why; nothing was written."""


@dataclass(frozen=True)
class Imported:
    """A file turned into a Markdown document, and where it goes in the content folder."""

    path: str
    title: str
    kind: str
    markdown: str

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "title": self.title, "format": self.kind, "markdown": self.markdown}


def sniff(data: bytes, name: str) -> str:
    """What the bytes are (docx, pdf, html, eml or text); a name whose extension says otherwise is refused."""
    if not data.strip():
        raise ImportRefused(f"{name}: the file is empty")
    if data.startswith(b"%PDF-"):
        found = PDF
    elif data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile as exc:
            raise ImportRefused(f"{name}: a damaged ZIP container ({exc})") from exc
        if "word/document.xml" not in names:
            raise ImportRefused(f"{name}: a ZIP archive, not a Word document (archives are not unpacked)")
        found = DOCX
    else:
        text = _decode(data, name)
        head = text.lstrip()[:2000]
        lines = [line for line in head.splitlines()[:20] if line.strip()]
        if _HTML_START.match(data[:2000]):
            found = HTML
        elif lines and sum(1 for line in lines[:8] if _HEADER.match(line)) >= 2:
            found = EML
        else:
            found = TEXT
    claimed = _EXTENSIONS.get(PurePosixPath(name.lower()).suffix)
    if claimed and claimed != found and not (claimed == TEXT and found in (TEXT, HTML)):
        raise ImportRefused(f"{name}: named .{PurePosixPath(name).suffix.lstrip('.')} but its content is "
                            f"{_SAID[found]}")
    return found


_SAID = {DOCX: "a Word document", PDF: "a PDF", HTML: "HTML", TEXT: "plain text", EML: "an e-mail"}


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096]:
        raise ImportRefused(f"{name}: a binary file kb cannot read (DOCX, PDF, HTML, text and .eml are)")
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(f"{name}: text in an unknown encoding")


def _tidy(markdown: str) -> str:
    """Markdown as kb writes it: no trailing spaces, at most one blank line in a row, a final newline."""
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text + "\n" if text else ""


_EMPTY_HEADER = re.compile(r"^(\|(?:\s*\|)+)\n(\|(?:\s*:?-{3,}:?\s*\|)+)\n(\|.*\|)$", re.MULTILINE)


def _from_html(html: str) -> str:
    """HTML as Markdown; a table whose header row is empty (Word tables have none) takes its first row as one."""
    markdown = markdownify(html, heading_style="ATX", bullets="-", strip=["script", "style", "img"])
    return _tidy(_EMPTY_HEADER.sub(lambda m: f"{m.group(3)}\n{m.group(2)}", markdown))


def docx_markdown(data: bytes, name: str) -> str:
    try:
        result = mammoth.convert_to_html(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ImportRefused(f"{name}: a damaged Word document ({type(exc).__name__})") from exc
    return _from_html(result.value)


def pdf_markdown(data: bytes, name: str) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ImportRefused(f"{name}: the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ImportRefused(f"{name}: a damaged PDF ({type(exc).__name__})") from exc
    paragraphs = []
    for page in pages:
        for block in re.split(r"\n\s*\n", page):
            text = " ".join(block.split())
            if text:
                paragraphs.append(text)
    return _tidy("\n\n".join(paragraphs))


def eml_markdown(data: bytes, name: str) -> tuple[str, str]:
    """The thread's subject and its messages as Markdown: a section per message, newest as written."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        raise ImportRefused(f"{name}: not an e-mail message")
    subject = str(message.get("subject", "") or "").strip()
    parts = [message] if not message.is_multipart() else list(message.walk())
    body = ""
    for part in parts:
        if part.get_content_maintype() == "multipart" or part.get_content_disposition() == "attachment":
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            continue
        if not isinstance(content, str):
            continue
        if part.get_content_type() == "text/plain":
            body = content
            break
        if part.get_content_type() == "text/html" and not body:
            body = _from_html(content)
    sender = str(message.get("from", "") or "").strip()
    date = str(message.get("date", "") or "").strip()
    heading = " — ".join(x for x in (date, sender) if x) or "Письмо"
    return subject, _tidy(f"## {heading}\n\n{body}")


def _title(markdown: str, fallback: str) -> tuple[str, str]:
    """The document's title (its first heading, else ``fallback``) and the body without that heading."""
    m = re.match(r"\s*#\s+(.+)\n", markdown)
    if m:
        return m.group(1).strip().strip("#").strip(), markdown[m.end():]
    return fallback, markdown


def convert(data: bytes, name: str, *, doc_type: str = "", client: str = "", owner: str, today: dt.date,
            max_bytes: int) -> Imported:
    """``data`` (a file called ``name``) as a Markdown document of the knowledge base, not yet written."""
    name = PurePosixPath(name.replace("\\", "/")).name or "document"
    if len(data) > max_bytes:
        raise ImportRefused(f"{name}: {len(data) // 1024} KB is over the limit of {max_bytes // 1024} KB")
    owner = " ".join(owner.split())
    if not owner:
        raise ImportRefused("say who owns the imported document (--owner)")
    doc_type = doc_type or ("faq" if client else "policy")
    if doc_type not in DOC_TYPES:
        raise ImportRefused(f"unknown document type {doc_type!r} (expected one of {', '.join(DOC_TYPES)})")
    kind = sniff(data, name)
    stem = PurePosixPath(name).stem
    if kind == DOCX:
        body = docx_markdown(data, name)
    elif kind == PDF:
        body = pdf_markdown(data, name)
    elif kind == HTML:
        html = _decode(data, name)
        found = re.search(r"<title[^>]*>(.*?)</title>", html, re.IGNORECASE | re.DOTALL)
        stem = " ".join(found.group(1).split()) if found and found.group(1).strip() else stem
        body = _from_html(re.sub(r"<head.*?</head>", "", html, flags=re.IGNORECASE | re.DOTALL))
    elif kind == EML:
        subject, body = eml_markdown(data, name)
        stem = subject or stem
    else:
        body = _tidy(_decode(data, name))
    if not re.search(r"\w", body):
        raise ImportRefused(f"{name}: no text to import" + (" (a scanned PDF without a text layer?)"
                                                             if kind == PDF else ""))
    title, body = _title(body, stem)
    # Headings below the title start at level 2: kb's sections hang under the document's one H1.
    body = re.sub(r"^#(?=\s)", "##", body, flags=re.MULTILINE)
    front = [("title", title), ("type", doc_type)]
    if client:
        front.append(("client", client))
    front += [("owner", owner), ("verified", today.isoformat()), ("source", name), ("imported", today.isoformat())]
    head = "".join(f"{k}: {yaml_scalar(v)}\n" for k, v in front)
    markdown = f"---\n{head}---\n\n# {title}\n\n{body}"
    folder = "clients" if client else "imported"
    base = slug(f"{client}-{title}" if client else title) or slug(stem) or "document"
    return Imported(f"{folder}/{base}.md", title, kind, _tidy(markdown))
