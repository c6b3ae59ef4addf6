"""Cut sections into passages that fit the model's token budget, never across headings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kb.markdown import Block, Document, Section


@dataclass(frozen=True)
class Chunk:
    """One passage of one section: what is stored, searched and cited."""

    path: str
    heading: str
    heading_path: tuple[str, ...]
    text: str
    start_line: int
    end_line: int

    def embed_text(self, title: str) -> str:
        """The text the model sees: document title and heading path, then the passage."""
        trail = list(self.heading_path)
        if title and (not trail or trail[0] != title):
            trail.insert(0, title)
        return " > ".join(trail) + "\n" + self.text


@dataclass(frozen=True)
class _Unit:
    text: str
    start_line: int
    end_line: int
    tokens: int
    block: int
    joiner: str = "\n"
    lead: str = ""


def _units(index: int, block: Block, count: Callable[[str], int], room: int) -> list[_Unit]:
    whole = count(block.text)
    if whole <= room or len(block.parts) <= 1:
        return [_Unit(block.text, block.start_line, block.end_line, whole, index)]
    joiner = " " if block.kind == "paragraph" else "\n"
    lead_cost = count(block.lead) if block.lead else 0
    return [
        _Unit(text, a, b, count(text) + lead_cost, index, joiner, block.lead) for text, a, b in block.parts
    ]


def _hard_split(unit: _Unit, count: Callable[[str], int], room: int) -> list[_Unit]:
    """A single unit over budget (a giant sentence or line) is cut between words."""
    out: list[_Unit] = []
    piece: list[str] = []
    for word in unit.text.split(" "):
        piece.append(word)
        if len(piece) % 8 == 0 and count(" ".join(piece)) > room:
            piece.pop()
            out.append(_Unit(" ".join(piece), unit.start_line, unit.end_line, room, unit.block, " ", unit.lead))
            piece = [word]
    if piece:
        text = " ".join(piece)
        out.append(_Unit(text, unit.start_line, unit.end_line, count(text), unit.block, " ", unit.lead))
    return out


def _join(group: list[_Unit]) -> str:
    text = ""
    for i, unit in enumerate(group):
        same_block = i > 0 and group[i - 1].block == unit.block
        if same_block:
            text += unit.joiner
        elif i > 0:
            text += "\n\n"
        if unit.lead and not same_block:
            text += unit.lead + "\n"
        text += unit.text
    return text


def chunk_section(
    path: str, section: Section, count: Callable[[str], int], budget: int, overlap: int
) -> list[Chunk]:
    """Greedily pack a section's blocks (or their parts) into passages of at most ``budget`` tokens.

    A passage that follows a cut starts with the last unit of the previous one when that unit is
    at most ``overlap`` tokens, so a fact on the boundary is found from either side.
    """
    heading_cost = count(" > ".join(section.heading_path)) + 4
    room = max(budget - heading_cost, 32)
    units: list[_Unit] = []
    for index, block in enumerate(section.blocks):
        for unit in _units(index, block, count, room):
            units.extend(_hard_split(unit, count, room) if unit.tokens > room else [unit])
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    for unit in units:
        if current and size + unit.tokens > room:
            groups.append(current)
            tail = current[-1]
            keep = tail.tokens <= overlap and tail.tokens + unit.tokens <= room
            current, size = ([tail], tail.tokens) if keep else ([], 0)
        current.append(unit)
        size += unit.tokens
    if current:
        groups.append(current)
    single = len(groups) == 1
    return [
        Chunk(
            path=path,
            heading=section.heading,
            heading_path=section.heading_path,
            text=_join(group),
            start_line=section.start_line if single else min(u.start_line for u in group),
            end_line=max(u.end_line for u in group),
        )
        for group in groups
    ]


def chunk_document(doc: Document, count: Callable[[str], int], budget: int, overlap: int = 64) -> list[Chunk]:
    """Every passage of a document, in order."""
    return [c for s in doc.sections for c in chunk_section(doc.path, s, count, budget, overlap)]
