"""Foley-Flow: Foley for the clips of an editor's timeline.

Subpackages: ``foleyflow.runtime`` (ONNX Runtime inference, no torch),
``foleyflow.plugin`` (timelines, media, placement, CLI), ``foleyflow.ui`` (the Qt
panel) and ``foleyflow.export`` (training and ONNX export, needs torch).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("foley-flow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
