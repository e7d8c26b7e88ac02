"""The one exception root of Foley-Flow and its narrow subclasses.

Every error a user can see derives from :class:`FoleyFlowError`, names the file it
is about (``path``) and says what is wrong in plain words. The plugin adds its own
subclasses (timeline, media, output) on top of this root.
"""

from __future__ import annotations

from pathlib import Path


class FoleyFlowError(Exception):
    """Root of every Foley-Flow error.

    ``path`` is the file or folder the problem is about (``None`` when there is no
    file); ``str(error)`` always starts with it so that a message is never anonymous.
    """

    exit_code = 2  # the CLI's exit code for bad input

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class ModelPackageError(FoleyFlowError):
    """A model package is missing, malformed or of an unknown schema version."""


class ChecksumError(ModelPackageError):
    """A file of a model package does not match the sha256 that model.json gives."""


class GraphShapeError(ModelPackageError):
    """A graph's inputs or outputs do not match what model.json declares."""


class ProviderError(FoleyFlowError):
    """An execution provider was asked for and cannot run here."""


class CancelledError(FoleyFlowError):
    """The caller cancelled a generation between two segments."""

    exit_code = 130


class PromptError(FoleyFlowError):
    """A sound prompt the model cannot take: a category outside its vocabulary, a model that takes no
    prompts, or a reference recording that is empty, silent or not finite."""
