"""Scratch folders for model files that are written once and then moved into place.

Each writer works in ``<name>.tmp<pid>`` beside the final path, so two processes never share one. A folder
left by a process killed mid-write (235-470 MB of weights) is removed by the next writer.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path


def scratch_folder(parent: Path, name: str) -> Path:
    """A fresh, empty ``name.tmp<pid>`` folder in ``parent``, after removing those of processes no longer running."""
    for old in parent.glob(f"{glob.escape(name)}.tmp*"):
        pid = old.name.rpartition(".tmp")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    tmp = parent / f"{name}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def running(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
