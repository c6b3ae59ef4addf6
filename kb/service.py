"""Use cases shared by the CLI and the web app: asking, with gaps recorded."""

from __future__ import annotations

from dataclasses import dataclass

from kb.answer import CONFIDENT_FROM, Answer, answer
from kb.datastore import DataStore
from kb.search import Filters, Index
from kb.settings import Settings


@dataclass(frozen=True)
class AskResult:
    """An answer, how sure kb is in words, and the gap it opened when it refused."""

    answer: Answer
    verdict: str
    gap_id: int | None = None


def verdict(a: Answer) -> str:
    if not a.answered:
        return "not in the knowledge base"
    return "confident" if a.confidence >= CONFIDENT_FROM else "check the source"


def ask(index: Index, settings: Settings, question: str, filters: Filters | None = None) -> AskResult:
    """Answer ``question``; a refusal is recorded as a knowledge gap in the data store."""
    filters = filters or Filters()
    a = answer(index, question, filters)
    gap_id = None
    if not a.answered:
        gap_id = DataStore(settings.data_dir).record_gap(question, "refused", filters.client, a.owner)
    return AskResult(a, verdict(a), gap_id)
