"""Sound prompts on the timeline side: parsing, what a take records and keys, checks before any run."""

import json

import numpy as np
import pytest
import soundfile as sf

from foleyflow.plugin.errors import SelectionError
from foleyflow.plugin.prompts import AUTO, SoundChoice, SoundPlan, check_clip_ids, parse_sound_args


def test_one_sound_for_every_clip_and_per_clip_ones(tmp_path):
    plan = parse_sound_args(["FEETHmn", "V1:3=DOORWood", "V2:1.2=GLASBrk"], ["V1:4=ref.wav"], base=tmp_path)
    assert plan.default == SoundChoice(category="FEETHmn")
    assert plan.for_clip("V1:3") == SoundChoice(category="DOORWood")
    assert plan.for_clip("V2:1.2") == SoundChoice(category="GLASBrk")
    assert plan.for_clip("V1:4") == SoundChoice(reference=str(tmp_path / "ref.wav"))
    assert plan.for_clip("V9:9") == plan.default
    assert plan.any


def test_no_sound_is_auto():
    plan = parse_sound_args([], [])
    assert plan == SoundPlan() and not plan.any and plan.for_clip("V1:1") is AUTO
    assert AUTO.mode == "auto" and AUTO.key() is None and AUTO.label() == "auto"


@pytest.mark.parametrize("sounds, likes, message", [
    (["FEETHmn", "DOORWood"], [], "two sounds for every clip"),
    (["FEETHmn"], ["ref.wav"], "two sounds for every clip"),
    (["V1:3=FEETHmn", "V1:3=DOORWood"], [], "clip V1:3 is given a sound twice"),
    (["V1:3="], [], "no value"),
    ([""], [], "no value"),
])
def test_ambiguous_sounds_are_refused(sounds, likes, message):
    with pytest.raises(SelectionError, match=message):
        parse_sound_args(sounds, likes)


def test_a_path_with_an_equals_sign_is_a_path(tmp_path):
    plan = parse_sound_args([], ["take=2.wav"], base=tmp_path)
    assert plan.default.reference == str(tmp_path / "take=2.wav")


def test_per_clip_sounds_must_name_clips_of_the_timeline():
    plan = parse_sound_args(["V1:3=FEETHmn", "V7:1=DOORWood"], [])
    with pytest.raises(SelectionError, match="V7:1, which the timeline does not hold"):
        check_clip_ids(plan, ["V1:3", "V1:4"])
    check_clip_ids(parse_sound_args(["V1:3=FEETHmn"], []), ["V1:3"])


def test_the_take_records_its_choice_and_reads_it_back(tmp_path):
    ref = tmp_path / "ref.wav"
    sf.write(ref, np.zeros(480), 48000)
    for choice in (SoundChoice(category="FEETHmn"), SoundChoice(reference=str(ref)), AUTO):
        meta = json.loads(json.dumps(choice.metadata()))  # what lands in OTIO metadata
        assert SoundChoice.from_metadata(meta) == choice
    assert SoundChoice(reference=str(ref)).metadata()["reference_sha256"] == SoundChoice(
        reference=str(ref)).key().split(":")[1]
    assert SoundChoice.from_metadata({"mode": "category"}) == AUTO
    assert SoundChoice.from_metadata("junk") == AUTO


def test_the_key_follows_the_reference_content_not_its_name(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(a, np.zeros(480), 48000)
    sf.write(b, np.zeros(480), 48000)
    assert SoundChoice(reference=str(a)).key() == SoundChoice(reference=str(b)).key()
    sf.write(b, np.ones(480) * 0.1, 48000)
    assert SoundChoice(reference=str(a)).key() != SoundChoice(reference=str(b)).key()
    assert SoundChoice(category="FEETHmn").key() != SoundChoice(category="DOORWood").key()


def test_a_plan_round_trips_through_a_job_list_dict(tmp_path):
    plan = parse_sound_args(["FEETHmn", "V1:3=DOORWood"], ["V1:4=x.wav"], base=tmp_path)
    assert SoundPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert SoundPlan.from_dict(None) == SoundPlan()


def test_a_choice_is_one_thing():
    with pytest.raises(ValueError):
        SoundChoice(category="FEETHmn", reference="/x.wav")
    assert SoundPlan().with_clip("V1:1", SoundChoice(category="X")).for_clip("V1:1").category == "X"


# -- through the application service (a fake model with a vocabulary) --------------------------------
import opentimelineio as otio  # noqa: E402

from foleyflow.plugin import service  # noqa: E402
from foleyflow.plugin.generate import GenerateOptions  # noqa: E402
from foleyflow.runtime.errors import PromptError  # noqa: E402
from foleyflow.runtime.prompt import CategoryPrompt, ReferencePrompt  # noqa: E402

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


@pytest.fixture
def cut(tmp_path, video_24):
    tl = otio.schema.Timeline(name="prompts")
    track = otio.schema.Track()
    tl.tracks.append(track)
    for name, start in (("a", 0), ("b", 20)):
        ref = otio.schema.ExternalReference(target_url=video_24.resolve().as_uri())
        track.append(otio.schema.Clip(name=name, media_reference=ref, source_range=TR(RT(start, 24), RT(12, 24))))
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


@pytest.fixture
def prompt_engine(fake_engine):
    from dataclasses import replace

    fake_engine.model.spec = replace(fake_engine.model.spec, prompt_dim=8, vocabulary=("FEETHmn", "DOORWood"))
    return fake_engine


def run(cut, tmp_path, engine, sounds):
    req = service.GenerateRequest(cut, tmp_path / "out.otio", options=GenerateOptions(sounds=sounds))
    return service.execute(service.plan(req), engine)


def foley_meta(path):
    """The foleyflow metadata of every Foley take of a saved timeline, as plain dicts."""
    tl = otio.adapters.read_from_file(str(path))
    return [json.loads(otio.core.serialize_json_to_string(c.metadata))["foleyflow"]
            for t in tl.audio_tracks() for c in t if isinstance(c, otio.schema.Clip)]


def test_each_clip_gets_its_prompt_and_the_take_records_it(cut, tmp_path, prompt_engine):
    ref = tmp_path / "ref.wav"
    sf.write(ref, np.sin(np.arange(8000) * 0.3) * 0.5, 44100)
    sounds = parse_sound_args(["DOORWood"], ["V1:1=ref.wav"], base=tmp_path)
    out = run(cut, tmp_path, prompt_engine, sounds)
    calls = prompt_engine.model.calls
    assert calls[0]["prompt"] == CategoryPrompt("DOORWood")
    assert isinstance(calls[1]["prompt"], ReferencePrompt)
    assert len(calls[1]["prompt"].wave) == round(8000 * 16000 / 44100)  # read at the model's rate
    metas = [m["sound"] for m in foley_meta(out.written)]
    assert metas[0] == {"mode": "category", "category": "DOORWood"}
    assert metas[1]["mode"] == "reference" and metas[1]["reference"] == str(ref)


def test_a_prompt_guidance_reaches_the_prompted_clips_their_keys_and_metadata(cut, tmp_path, prompt_engine):
    from foleyflow.plugin import takekey

    sounds = parse_sound_args(["V1:0=DOORWood"], [], base=tmp_path)
    req = service.GenerateRequest(cut, tmp_path / "out.otio", options=GenerateOptions(sounds=sounds,
                                                                                     prompt_guidance=7.0))
    out = service.execute(service.plan(req), prompt_engine)
    calls = prompt_engine.model.calls
    assert calls[0]["prompt"] == CategoryPrompt("DOORWood") and calls[0]["prompt_guidance"] == 7.0
    assert calls[1]["prompt"] is None and "prompt_guidance" not in calls[1]  # auto: nothing to guide
    metas = foley_meta(out.written)
    assert metas[0]["prompt_guidance"] == 7.0 and "prompt_guidance" not in metas[1]
    ident = takekey.ModelIdentity.of_engine(prompt_engine)
    job = service.plan(req).runnable[0]
    plain = takekey.key_fields(job, GenerateOptions(sounds=sounds), ident)
    assert "prompt_guidance" not in plain  # keys without one are as before
    assert takekey.key_fields(job, GenerateOptions(sounds=sounds, prompt_guidance=7.0), ident)["prompt_guidance"] == 7.0


def test_auto_passes_no_prompt_and_records_none(cut, tmp_path, prompt_engine):
    out = run(cut, tmp_path, prompt_engine, SoundPlan())
    assert [c["prompt"] for c in prompt_engine.model.calls] == [None, None]
    assert all("sound" not in m for m in foley_meta(out.written))


@pytest.mark.parametrize("sounds, likes, message", [
    (["GLASBrk"], [], "unknown sound category 'GLASBrk' for model fake; its vocabulary: FEETHmn, DOORWood"),
    (["feethmn"], [], "did you mean FEETHmn"),
    ([], ["missing.wav"], "missing.wav: cannot read"),
    ([], ["silent.wav"], "silent.wav: as a sound reference: the sound reference is silent"),
])
def test_bad_prompts_fail_clearly_and_write_nothing(cut, tmp_path, prompt_engine, sounds, likes, message):
    sf.write(tmp_path / "silent.wav", np.zeros(4800), 48000)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(Exception, match=message) as err:
        run(cut, tmp_path, prompt_engine, parse_sound_args(sounds, likes, base=tmp_path))
    assert err.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no timeline, no WAV folder
    assert prompt_engine.model.calls == []


def test_a_model_without_prompts_refuses_one(cut, tmp_path, fake_engine):
    with pytest.raises(PromptError, match="model fake takes no sound prompts"):
        run(cut, tmp_path, fake_engine, parse_sound_args(["FEETHmn"], []))


def test_a_changed_prompt_makes_the_take_again_and_the_same_reuses_it(cut, tmp_path, prompt_engine):
    run(cut, tmp_path, prompt_engine, parse_sound_args(["FEETHmn"], []))
    assert len(prompt_engine.model.calls) == 2
    run(cut, tmp_path, prompt_engine, parse_sound_args(["FEETHmn"], []))
    assert len(prompt_engine.model.calls) == 2  # same key: reused
    run(cut, tmp_path, prompt_engine, parse_sound_args(["FEETHmn", "V1:1=DOORWood"], []))
    assert len(prompt_engine.model.calls) == 3  # only V1:1 changed
    assert prompt_engine.model.calls[-1]["prompt"] == CategoryPrompt("DOORWood")
