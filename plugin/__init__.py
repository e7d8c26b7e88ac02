"""Timeline side of Foley-Flow: OTIO in and out, clip listing, media, decode, placement, CLI.

Imports opentimelineio, numpy, PyAV and soundfile; reaches ``foleyflow.runtime`` only
where audio is generated, and never imports torch or Qt.
"""
