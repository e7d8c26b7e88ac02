"""UCS names: the CatID that starts a file name, and the table of CatIDs."""

import pytest

from foleyflow.library import ucs


@pytest.mark.parametrize("name, catid", [
    ("FEETHmn_Walk Gravel_JD_LIB01.wav", "FEETHmn"),
    ("FEETHmn-Gravel_Walk_JD_LIB01.wav", "FEETHmn"),  # CatID-UserCategory
    ("DOORWood_Close Slam_AB_SRC.flac", "DOORWood"),
    ("GLASBrk.wav", "GLASBrk"),
    ("SWSH_Fast_JD_X.wav", "SWSH"),  # a category with no subcategory
    ("UIClick_Button_JD_X.wav", "UIClick"),
    ("sub/dir/WEAPSwrd_Clash_JD_X.ogg", "WEAPSwrd"),
    ("sub\\dir\\METLImpt_Hit_JD_X.wav", "METLImpt"),
])
def test_catid_of_a_ucs_name(name, catid):
    assert ucs.catid_of(name) == catid


@pytest.mark.parametrize("name", [
    "door_open.wav", "DOOR_open.wav",  # DOOR alone is a category, not a CatID
    "FEETHuman_walk.wav",  # not a CatID of the table
    "feethmn_walk.wav", "Footstep_01.ogg", "", "_FEETHmn.wav", "FEETHmnWalk.wav",
])
def test_no_catid_is_guessed(name):
    assert ucs.catid_of(name) is None


def test_table_holds_the_categories_a_foley_session_uses():
    assert ucs.CATIDS["FEETHmn"] == ucs.CatInfo("FOOTSTEPS", "HUMAN")
    assert ucs.CATIDS["DOORHydr"] == ucs.CatInfo("DOORS", "HYDRAULIC & PNEUMATIC")
    assert ucs.CATIDS["DIRTCrsh"].subcategory == "CRASH & DEBRIS"
    for catid in ("FEETHors", "DOORMetl", "DOORGlas", "GLASImpt", "DIRTMvmt", "WEAPArro", "WOODImpt",
                  "ROCKImpt", "SNOWImpt", "METLImpt", "PLASImpt", "CERMImpt"):
        assert catid in ucs.CATIDS
    # every CatID is its category's short name + a subcategory id, and reads back as itself
    for catid in ucs.CATIDS:
        assert ucs.catid_of(f"{catid}_x_y_z.wav") == catid


def test_music_speech_ui_and_ambience_are_not_foley():
    assert {"MUSCPerc", "VOXMale", "UIClick", "AMBRoom"} <= ucs.NOT_FOLEY
    assert not {"FEETHmn", "DOORWood", "GLASBrk"} & ucs.NOT_FOLEY


def test_describe():
    assert ucs.describe("FEETHmn") == "FOOTSTEPS / HUMAN"
    assert ucs.describe("MyOwnCat") == "MyOwnCat"
