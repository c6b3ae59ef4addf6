"""What changed in the content since kb last looked: documents and sections added, changed or removed.

kb keeps a digest per section of every indexed document in the data store; after each ingest the
index is compared with it. The first look only records the state, so nothing counts as changed.
"""

from __future__ import annotations

import hashlib
import json
import time

from kb.datastore import Change, DataStore, SeenDocument
from kb.store import Store


def _key(heading_path: tuple[str, ...]) -> str:
    return json.dumps(list(heading_path), ensure_ascii=False)


def section_digests(passages: list[tuple[tuple[str, ...], str]]) -> dict[str, str]:
    """One digest per heading path over the text of its passages."""
    texts: dict[str, list[str]] = {}
    for heading_path, text in passages:
        texts.setdefault(_key(heading_path), []).append(text)
    return {k: hashlib.sha256("\0".join(v).encode()).hexdigest()[:16] for k, v in texts.items()}


def diff(path: str, old: dict[str, str], new: dict[str, str], at: float) -> list[Change]:
    """Sections added, changed and removed between two digests of one document, in the new order."""
    out = [Change(path, tuple(json.loads(k)), "added" if k not in old else "changed", at)
           for k, v in new.items() if old.get(k) != v]
    out += [Change(path, tuple(json.loads(k)), "removed", at) for k in old if k not in new]
    return out


def track(store: Store, data: DataStore, now: float | None = None) -> list[Change]:
    """Compare the index with what the data store last saw, record the changes and the new state."""
    now = time.time() if now is None else now
    seen = data.seen_documents()
    first_look = not seen
    changes: list[Change] = []
    states: list[SeenDocument] = []
    current = store.documents()
    for doc in current:
        old = seen.get(doc.path)
        if old is not None and old.hash == doc.hash:
            continue
        sections = section_digests(store.section_texts(doc.id))
        if old is None:
            if not first_look:
                changes.append(Change(doc.path, (), "added", now))
        else:
            changes += diff(doc.path, old.sections, sections, now)
            if old.verified != doc.verified and doc.verified:
                changes.append(Change(doc.path, (), "verified", now))
        states.append(SeenDocument(doc.path, doc.hash, doc.verified, sections))
    gone = sorted(set(seen) - {d.path for d in current})
    changes += [Change(path, (), "removed", now) for path in gone]
    if states or gone:
        data.record_changes(states, gone, changes)
    return changes
