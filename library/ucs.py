"""UCS names: the CatID that starts a Universal Category System file name, and the CatIDs we know.

A UCS file name is ``CatID(-UserCategory)_(VendorCategory-)FXName_CreatorID_SourceID(_UserData)``;
its CatID (``FEETHmn``: FOOTSTEPS / HUMAN, ``DOORWood``: DOORS / WOOD) is the recording's category,
the way Soundminer, BaseHead and REAPER's UCS scripts read it. :data:`CATIDS` holds the UCS
categories a Foley session uses (the whole of each category below, from the UCS list), plus the
music, voice, user-interface and ambience CatIDs, so that a library's files of those kinds are
recognised too, and left out of training (:data:`NOT_FOLEY`). A CatID outside this table is not
guessed at: such a file needs a row in the library's CSV (:mod:`.index`).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class CatInfo(NamedTuple):
    category: str  # the UCS Category, e.g. "FOOTSTEPS"
    subcategory: str  # the UCS SubCategory, e.g. "HUMAN"


# UCS Category -> (its short name, "SubId:SUBCATEGORY" ...); CatID = short name + SubId.
_TABLE: dict[str, tuple[str, str]] = {
    "AMBIENCE": ("AMB", "Room:ROOM TONE"),
    "ANIMALS": ("ANML", "Misc:MISC Cat:CAT DOMESTIC Dog:DOG Farm:FARM Hors:HORSE Wild:WILD"),
    "BELLS": ("BELL", "Misc:MISC Anml:ANIMAL Door:DOORBELL Gong:GONG Hand:HANDBELL Lrg:LARGE"),
    "BULLETS": ("BLLT", "Misc:MISC By:BY Impt:IMPACT Shel:SHELL Rico:RICOCHET"),
    "CERAMICS": ("CERM", "Misc:MISC Brk:BREAK Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT "
                 "Mvmt:MOVEMENT Tonl:TONAL"),
    "CHAINS": ("CHAIN", "Misc:MISC Brk:BREAK Impt:IMPACT Mvmt:MOVEMENT"),
    "CLOTH": ("CLOTH", "Misc:MISC Flp:FLAP Mvmt:MOVEMENT Rip:RIP"),
    "DESTRUCTION": ("DESTR", "Misc:MISC Crsh:CRASH & DEBRIS Clpse:COLLAPSE"),
    "DIRT & SAND": ("DIRT", "Misc:MISC Crsh:CRASH & DEBRIS Dust:DUST Impt:IMPACT Mvmt:MOVEMENT"),
    "DOORS": ("DOOR", "Misc:MISC Antq:ANTIQUE Appl:APPLIANCE Cab:CABINET Dungn:DUNGEON Elec:ELECTRIC "
              "Gate:GATE Glas:GLASS Hdwr:HARDWARE Tech:HITECH Hydr:HYDRAULIC & PNEUMATIC Knck:KNOCK "
              "Metl:METAL Plas:PLASTIC Prisn:PRISON Revl:REVOLVING Slid:SLIDING Ston:STONE "
              "Swng:SWINGING Wood:WOOD"),
    "DRAWERS": ("DRWR", "Misc:MISC Metl:METAL Plas:PLASTIC Wood:WOOD"),
    "EXPLOSIONS": ("EXPL", "Misc:MISC Real:REAL Dsgn:DESIGNED"),
    "FIGHT": ("FGHT", "Misc:MISC Bf:BODYFALL Clth:CLOTH Grab:GRAB Impt:IMPACT"),
    "FIRE": ("FIRE", "Misc:MISC Burn:BURNING Brst:BURST Crkl:CRACKLE Ign:IGNITE Gas:GAS Sizz:SIZZLE "
             "Trch:TORCH Whsh:WHOOSH"),
    "FOLEY": ("FOLY", "Misc:MISC Clth:CLOTH Feet:FEET Hand:HANDS Prop:PROP"),
    "FOOTSTEPS": ("FEET", "Misc:MISC Anml:ANIMAL Crea:CREATURE Hors:HORSE Hmn:HUMAN"),
    "GLASS": ("GLAS", "Misc:MISC Brk:BREAK Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT "
              "Mvmt:MOVEMENT Tonl:TONAL"),
    "GORE": ("GORE", "Misc:MISC Blood:BLOOD Bone:BONE Flsh:FLESH Splt:SPLAT Sqsh:SQUISH Stab:STAB"),
    "ICE": ("ICE", "Misc:MISC Brk:BREAK Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT Mvmt:MOVEMENT "
            "Tonl:TONAL"),
    "LEATHER": ("LETHR", "Misc:MISC Creak:CREAK Impt:IMPACT Mvmt:MOVEMENT"),
    "LIQUID & MUD": ("LIQ", "Misc:MISC Bubl:BUBBLES Impt:IMPACT Mvmt:MOVEMENT Suct:SUCTION"),
    "MECHANICAL": ("MECH", "Misc:MISC Clik:CLICK Gear:GEARS Hydr:HYDRAULIC & PNEUMATIC Ltch:LATCH "
                   "Lvr:LEVER Lock:LOCK Puly:PULLEY Rtch:RATCHET Relay:RELAY Rolr:ROLLER Swtch:SWITCH"),
    "METAL": ("METL", "Misc:MISC Brk:BREAK Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT "
              "Mvmt:MOVEMENT Tonl:TONAL"),
    "MOVEMENT": ("MOVE", "Misc:MISC Actv:ACTIVITY Anml:ANIMAL Crea:CREATURE Crwd:CROWD Insc:INSECT "
                 "Pres:PRESENCE"),
    "MUSICAL": ("MUSC", "Misc:MISC Brass:BRASS Chim:CHIME Chor:CHORAL Inst:INSTRUMENT Loop:LOOP "
                "Perc:PERCUSSION Smpl:SAMPLE Song:SONG & PHRASE Stngr:STINGER Str:STRINGED "
                "Wind:WOODWIND Toy:TOY"),
    "OBJECTS": ("OBJ", "Misc:MISC Bag:BAG Coin:COIN Furn:FURNITURE Hsehld:HOUSEHOLD Jewl:JEWELRY "
                "Lug:LUGGAGE Key:KEYS Med:MEDICAL Pack:PACKAGING Tape:TAPE Umbr:UMBRELLA "
                "Whled:WHEELED Write:WRITING Zipr:ZIPPER"),
    "PAPER": ("PAPR", "Misc:MISC Fltr:FLUTTER Hndl:HANDLE Rip:RIP"),
    "PLASTIC": ("PLAS", "Misc:MISC Brk:BREAK Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT "
                "Mvmt:MOVEMENT"),
    "ROCKS": ("ROCK", "Misc:MISC Brk:BREAK Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT "
              "Mvmt:MOVEMENT Tonl:TONAL"),
    "ROPE": ("ROPE", "Misc:MISC Creak:CREAK Mvmt:MOVEMENT"),
    "RUBBER": ("RUBR", "Misc:MISC Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT Mvmt:MOVEMENT"),
    "SNOW": ("SNOW", "Misc:MISC Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT Mvmt:MOVEMENT"),
    "SWOOSHES": ("SWSH", ":SWISH"),
    "WHOOSHES": ("WHSH", ":WHOOSH"),
    "TOOLS": ("TOOL", "Misc:MISC Hand:HAND Pneu:PNEUMATIC Powr:POWER"),
    "USER INTERFACE": ("UI", "Misc:MISC Alert:ALERT Beep:BEEP Click:CLICK Data:DATA Glitch:GLITCH "
                       "Mvmt:MOTION"),
    "VEGETATION": ("VEGE", "Misc:MISC Gras:GRASS Leaf:LEAVES Tree:TREE"),
    "VOICES": ("VOX", "Misc:MISC Alien:ALIEN Baby:BABY Cheer:CHEER Chld:CHILD Cry:CRYING "
               "Efrt:EFFORTS Fem:FEMALE Futz:FUTZED Hist:HISTORICAL Laff:LAUGH Male:MALE "
               "Reac:REACTION Scrm:SCREAM Sing:SINGING"),
    "WATER": ("WATR", "Misc:MISC Bubl:BUBBLES Drip:DRIP Flow:FLOW Impt:IMPACT Mvmt:MOVEMENT "
              "Pour:POUR Splsh:SPLASH Spray:SPRAY"),
    "WEAPONS": ("WEAP", "Misc:MISC Armr:ARMOR Arro:ARROW Blnt:BLUNT Bow:BOW Knif:KNIFE Pole:POLEARM "
                "Siege:SIEGE Swrd:SWORD Whip:WHIP"),
    "WINDOWS": ("WNDW", "Misc:MISC Cover:COVERING Hdwr:HARDWARE Knck:KNOCK Metl:METAL Plas:PLASTIC "
                "Wood:WOOD"),
    "WOOD": ("WOOD", "Misc:MISC Brk:BREAK Crsh:CRASH & DEBRIS Fric:FRICTION Impt:IMPACT "
             "Mvmt:MOVEMENT Tonl:TONAL"),
}


def _build() -> dict[str, CatInfo]:
    out: dict[str, CatInfo] = {}
    for category, (short, subs) in _TABLE.items():
        for sub in re.findall(r"(\w*):([A-Z][A-Z &]*?)(?= \w*:|$)", subs):
            out[short + sub[0]] = CatInfo(category, sub[1])
    return out


CATIDS: dict[str, CatInfo] = _build()
"""CatID -> (UCS Category, SubCategory), for the categories above."""

NOT_FOLEY = frozenset(c for c, info in CATIDS.items()
                      if info.category in {"MUSICAL", "VOICES", "USER INTERFACE", "AMBIENCE"})
"""Music, speech, user-interface sounds and ambiences: recognised, never training material for Foley
(room tone is laid under a scene, not generated)."""

_CATID = re.compile(r"^(?P<catid>[A-Z]{2,5}(?:[A-Z][a-z]+)?)(?:-(?P<user>[^_]+))?(?:_|$)")


def catid_of(filename: str) -> str | None:
    """The CatID that starts a UCS file name (``FEETHmn-Gravel_Walk_JD_LIB01.wav`` -> ``FEETHmn``),
    or None where the name starts with no CatID of :data:`CATIDS`."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1]
    m = _CATID.match(stem.rsplit(".", 1)[0] if "." in stem else stem)
    if m is None:
        return None
    catid = m.group("catid")
    return catid if catid in CATIDS else None


def describe(catid: str) -> str:
    """``FEETHmn`` -> ``FOOTSTEPS / HUMAN``; a category outside the table is given back as it is."""
    info = CATIDS.get(catid)
    return f"{info.category} / {info.subcategory}" if info else catid
