"""The sound library's error: a narrow subclass of the one exception root."""

from __future__ import annotations

from foleyflow.runtime.errors import FoleyFlowError


class LibraryError(FoleyFlowError):
    """A sound library, its CSV, one of its recordings or a source package cannot be used (the
    message names the file or the package, and the problem)."""

    exit_code = 2
