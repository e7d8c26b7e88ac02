"""A guard against a binding bug: PySide6 6.12 on CPython < 3.12 drops a reference to None per void call.

Each call of a Qt method that returns nothing (``setPen``, ``setObjectName``,
``QModelIndex.data`` returning an empty QVariant, ...) hands back ``None``
without taking a reference, so None's reference count falls by one per call;
after a few thousand calls CPython aborts with "none_dealloc: deallocating None".
CPython 3.12 made None immortal (PEP 683), which hides the bug there. On an
affected interpreter and binding (detected, not assumed) :func:`guard` gives None
an immortal-sized reference count, as 3.12 does; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sys

log = logging.getLogger(__name__)

_IMMORTAL = 1 << 40  # references: more void calls than a session can make
_done = False


def drops_none_references() -> bool:
    """Whether a void Qt call lowers None's reference count (the bug), measured on 64 calls."""
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        obj.setObjectName("probe")
    dropped = before - sys.getrefcount(None)
    if dropped > 0:  # give back what the probe itself took
        ctypes.pythonapi.Py_IncRef.argtypes = [ctypes.py_object]
        for _ in range(dropped):
            ctypes.pythonapi.Py_IncRef(None)
    return dropped >= 32


def guard() -> bool:
    """Make None's reference count immortal-sized if this interpreter and binding need it; True if done."""
    global _done
    if _done:
        return True
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    if not drops_none_references():
        return False
    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt: the first field of every CPython object
    refcnt.value += _IMMORTAL
    _done = True
    log.info("PySide6 drops references to None on void calls under Python %s; None made immortal as in 3.12",
             platform.python_version())
    return True


guard()
