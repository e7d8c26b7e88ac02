"""Model packages shipped with Foley-Flow (``default/`` is the embedded default).

Installed as ``foleyflow.models`` so that a wheel carries them as package data.
"""
