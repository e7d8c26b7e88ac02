from fractions import Fraction

import opentimelineio as otio
import pytest

from foleyflow.plugin.clips import video_clips
from foleyflow.plugin.media import (
    DISABLED,
    FOUND,
    GENERATOR,
    MISSING,
    MediaResolver,
    media_start,
    pure_path,
    reference_path,
    status_of,
)

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def ext(url: str, available: TR | None = None) -> otio.schema.ExternalReference:
    return otio.schema.ExternalReference(target_url=url, available_range=available)


def clip(name: str, ref: otio.core.MediaReference | None) -> otio.schema.Clip:
    c = otio.schema.Clip(name=name, source_range=TR(RT(0, 24), RT(10, 24)))
    if ref is not None:
        c.media_reference = ref
    return c


@pytest.mark.parametrize(("url", "path"), [
    ("file://localhost/D%3a/media/sc01%20x.mov", "D:/media/sc01 x.mov"),  # Premiere
    ("file:///Users/j/Demo%20Clips/a%23b.mov", "/Users/j/Demo Clips/a#b.mov"),  # encoded
    ("file:///Users/joshm/DemoClips/tech.fux (loop)-HD.mp4", "/Users/joshm/DemoClips/tech.fux (loop)-HD.mp4"),
    ("file://server/share/clip.mov", "//server/share/clip.mov"),  # UNC
    ("/Volumes/Media/IMG_0715.MOV", "/Volumes/Media/IMG_0715.MOV"),  # Resolve's plain path
    ("S:\\path\\to\\ZZ100_501.exr", "S:\\path\\to\\ZZ100_501.exr"),  # a Windows path, kept whole
    ("media/a b.mov", "media/a b.mov"),  # relative
])
def test_reference_path_url_forms(url, path):
    assert reference_path(ext(url)) == path


def test_missing_reference_remembers_its_file():
    resolve = otio.schema.MissingReference(metadata={"Resolve_OTIO": {"Media Url": "/Volumes/x/sh010.mp4"}})
    assert reference_path(resolve) == "/Volumes/x/sh010.mp4"
    otioz = otio.schema.MissingReference(metadata={"original_target_url": "file:///a/b%20c.mov"})
    assert reference_path(otioz) == "/a/b c.mov"


def test_reference_path_non_files():
    assert reference_path(ext("https://example.com/a.mov")) is None
    assert reference_path(otio.schema.MissingReference()) is None
    assert reference_path(otio.schema.GeneratorReference()) is None
    assert reference_path(None) is None


def test_windows_names_on_any_os():
    assert pure_path("S:\\path\\to\\ZZ.exr").name == "ZZ.exr"
    assert pure_path("D:/media/sc01.mov").parts[-2:] == ("media", "sc01.mov")
    assert pure_path("/a/b.mov").name == "b.mov"


def test_absolute_and_encoded_url_found(tmp_path):
    f = tmp_path / "Demo Clips" / "a#b.mov"
    f.parent.mkdir()
    f.write_bytes(b"x")
    res = MediaResolver(tmp_path / "t.otio").resolve_clip(clip("c", ext(f.as_uri())))
    assert res.path == f and res.method == "reference"


def test_relative_to_the_timeline_file(tmp_path):
    (tmp_path / "edit" / "media").mkdir(parents=True)
    f = tmp_path / "edit" / "media" / "a.mov"
    f.write_bytes(b"x")
    res = MediaResolver(tmp_path / "edit" / "cut.otio").resolve_clip(clip("c", ext("media/a.mov")))
    assert res.path == f and res.method == "relative"


def test_media_root_relative_tail_before_basename(tmp_path):
    root = tmp_path / "root"
    (root / "otio").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    tail = root / "otio" / "IMG_0715.MOV"
    tail.write_bytes(b"x")
    (root / "elsewhere" / "IMG_0715.MOV").write_bytes(b"y")
    res = MediaResolver(tmp_path / "t.xml", [root]).resolve_clip(clip("c", ext("file:///Volumes/Media/otio/IMG_0715.MOV")))
    assert res.path == tail and res.method == "media-root"
    assert str(root / "Volumes" / "Media" / "otio" / "IMG_0715.MOV") in res.looked_for


def test_premiere_windows_url_relinks_by_tail(tmp_path):
    (tmp_path / "media").mkdir()
    f = tmp_path / "media" / "sc01_sh010_anim.mov"
    f.write_bytes(b"x")
    res = MediaResolver(None, [tmp_path]).resolve_clip(clip("c", ext("file://localhost/D%3a/media/sc01_sh010_anim.mov")))
    assert res.path == f and res.method == "media-root"


def test_basename_anywhere_under_the_root_any_case(tmp_path):
    deep = tmp_path / "a" / "b" / "clip.MOV"
    deep.parent.mkdir(parents=True)
    deep.write_bytes(b"x")
    res = MediaResolver(None, [tmp_path]).resolve_clip(clip("c", ext("S:\\path\\to\\Clip.mov")))
    assert res.path == deep and res.method == "basename"


def test_clip_name_with_and_without_extension(tmp_path):
    (tmp_path / "sub").mkdir()
    a = tmp_path / "sub" / "ZZ100_501 (LAY3).mov"
    a.write_bytes(b"x")
    b = tmp_path / "shot2.mp4"
    b.write_bytes(b"x")
    resolver = MediaResolver(None, [tmp_path])
    assert resolver.resolve_clip(clip("ZZ100_501 (LAY3)", otio.schema.MissingReference())).path == a
    assert resolver.resolve_clip(clip("shot2.mp4", None)).path == b
    res = resolver.resolve_clip(clip("shot2", None))
    assert res.path == b and res.method == "clip-name"


def test_unsafe_clip_names_look_nowhere_outside_roots(tmp_path):
    res = MediaResolver(None, [tmp_path]).resolve_clip(clip("/", otio.schema.MissingReference()))
    assert res.path is None
    res = MediaResolver(None, [tmp_path]).resolve_clip(clip("..", otio.schema.MissingReference()))
    assert res.path is None


def test_missing_says_what_was_looked_for(tmp_path):
    res = MediaResolver(tmp_path / "t.otio", [tmp_path]).resolve_clip(clip("shot", ext("file:///nowhere/shot.mov")))
    assert res.path is None and not res.found
    assert "/nowhere/shot.mov" in res.looked_for
    assert any("shot.mov" in p and str(tmp_path) in p for p in res.looked_for)
    no_root = MediaResolver(tmp_path / "t.otio").resolve_clip(clip("shot", otio.schema.MissingReference()))
    assert "no --media-root" in no_root.note


def test_generator_is_not_looked_for():
    res = MediaResolver(None, []).resolve_clip(clip("bars", otio.schema.GeneratorReference(generator_kind="SMPTEBars")))
    assert res.path is None and "generator" in res.note and res.looked_for == ()


def test_status(tmp_path):
    f = tmp_path / "a.mov"
    f.write_bytes(b"x")
    tl = otio.schema.Timeline()
    track = otio.schema.Track()
    tl.tracks.append(track)
    track.extend([clip("found", ext(f.as_uri())), clip("missing", ext("/no/file.mov")),
                  clip("gen", otio.schema.GeneratorReference()), clip("off", ext(f.as_uri()))])
    track[3].enabled = False
    resolver = MediaResolver(None)
    got = [status_of(c, resolver.resolve_clip(c.clip)) for c in video_clips(tl, Fraction(24))]
    assert got == [FOUND, MISSING, GENERATOR, DISABLED]


def test_media_start_priority():
    with_range = ext("a.mov", TR(RT(86400, 24), RT(100, 24)))
    assert media_start(with_range, "02:00:00:00", Fraction(24)) == (Fraction(3600), "the reference's available range")
    start, origin = media_start(ext("a.mov"), "01:00:00:00", Fraction(24000, 1001))
    assert start == Fraction(86400 * 1001, 24000) and "timecode" in origin
    assert media_start(None, None, Fraction(25))[0] == 0


def test_unc_url_relinks_by_tail(tmp_path):
    (tmp_path / "share").mkdir()
    f = tmp_path / "share" / "clip.mov"
    f.write_bytes(b"x")
    res = MediaResolver(None, [tmp_path]).resolve_clip(clip("c", ext("file://server/share/clip.mov")))
    assert res.path == f and res.method == "media-root"
