"""The None-refcount guard: on an affected PySide6 build, thousands of void Qt calls stay harmless."""

from __future__ import annotations

import subprocess
import sys

from foleyflow.ui import qtcompat


def test_guard_is_idempotent():
    first = qtcompat.guard()
    assert qtcompat.guard() == first


def test_many_void_calls_do_not_abort_the_interpreter():
    code = ("import foleyflow.ui.qtcompat\n"
            "from PySide6.QtCore import QObject\n"
            "o = QObject()\n"
            "for _ in range(20000): o.setObjectName('x')\n"
            "print('alive')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "alive" in out.stdout, out.stderr[-500:]
