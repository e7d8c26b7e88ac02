"""The sound library: a folder of recordings with categories, as sound editors keep theirs.

A recording's category is the UCS CatID that starts its file name
(``CatID(-UserCategory)_FXName_CreatorID_SourceID.wav``, :mod:`.ucs`) or a row of a CSV beside the
folder (:mod:`.index`). The default training library is built from the free-licensed effects that
Debian game-data packages ship, fetched by package name (:mod:`.sources`), never committed.

Torch-free and Qt-free (numpy and soundfile); the world voices its scenes with it, the timeline
side indexes a user's library and reads sound prompts with it. It imports ``foleyflow.runtime``
(the exception root) only.
"""
