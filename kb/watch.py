"""Follow the content folder while serving: any change triggers an incremental reindex."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from watchfiles import watch

log = logging.getLogger(__name__)


class ContentWatcher:
    """A daemon thread that calls ``on_change`` after files under ``root`` change (debounced)."""

    def __init__(self, root: str, on_change: Callable[[], object], debounce_ms: int = 500) -> None:
        self._root = root
        self._on_change = on_change
        self._debounce = debounce_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        for changes in watch(self._root, stop_event=self._stop, debounce=self._debounce, step=100,
                             rust_timeout=1000, yield_on_timeout=False, raise_interrupt=False):
            log.info("content changed (%d paths); reindexing", len(changes))
            try:
                self._on_change()
            except Exception:  # a bad reindex must not stop the watcher; the old index keeps serving
                log.exception("reindex after a content change failed")
