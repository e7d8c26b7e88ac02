"""Training configuration: one commented dataclass per stage (nanoGPT style).

Every stage reads the whole TrainConfig so that the constants that end up in
model.json (audio front end, video rate and size, segment length) are decided once.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class AudioConfig:
    sample_rate: int = 16000  # Hz of the model's audio; the runtime resamples to 48 kHz
    n_fft: int = 640  # 40 ms STFT window: short, so impacts stay sharp
    hop_length: int = 160  # 10 ms per mel frame
    n_mels: int = 64
    fmin: float = 0.0
    fmax: float = 8000.0
    frames_per_token: int = 4  # 4 mel frames = 40 ms per audio token = one video frame at 25 fps


@dataclass
class DataConfig:
    n_train: int = 2000  # synthetic clips rendered for training
    n_val: int = 64
    duration: float = 4.0  # seconds per training clip = one segment window
    render_size: int = 64  # rendered at this size, area-downsampled to frame_size
    frame_size: int = 32  # what the video encoder sees
    fps: int = 25  # model video rate == token rate (sample_rate / (hop * frames_per_token))
    world: str = "impacts"  # "impacts" (the first world: impacts only), "full" (every sound class) or
    # "recorded" (impacts and the Foley kinds a sound library has recordings of; the recorded recipe's)
    library: str = ""  # a sound library (folder, or its foleyflow-index.csv): its recordings voice the
    # world's events, split by file like the clips (train clips hear train recordings only); "": synthesis
    quiet: float = 0.0  # > 0: this share of n_train more training clips with nothing sounding (the world's
    # world.distractor_config: things drift and swing, nothing touches; the audio is the room tone), the
    # negatives that teach motion without contact to stay silent (cache/train_quiet.npz)
    augment: float = 0.0  # share of each training batch's clips seen through another camera and palette
    # (export.augment: colour remap, zoom, pan, handheld shake): domain randomisation for looks never trained on
    augment_texture: float = 0.0  # > 0: half the augmented clips get a surface texture of up to this strength


@dataclass
class EncoderConfig:
    dim: int = 128  # width of both encoders and of the video features
    video_layers: int = 2
    audio_layers: int = 3
    heads: int = 4
    video_pool: str = "attention"  # adds a position-free pooled branch to the video stem; "flat": without it


@dataclass
class StageConfig:
    steps: int = 500
    batch_size: int = 16
    lr: float = 1e-3
    warmup: int = 50
    weight_decay: float = 0.01
    log_every: int = 50
    ckpt_every: int = 200


@dataclass
class AlignConfig(StageConfig):
    method: str = "masked"  # "masked" (Foley-Flow), "contrastive" (InfoNCE baseline) or "none" (MAE only)
    mask_ratio: float = 0.8  # share of audio tokens hidden, in contiguous spans
    span: int = 4  # tokens per masked span (160 ms)
    hide_all: float = 0.25  # share of clips whose audio is hidden entirely: the video alone must say what
    # sounds (with 20 % of the audio visible, the visible audio already gives away the material)
    decoder_layers: int = 2


@dataclass
class FlowConfig(StageConfig):
    dim: int = 160
    layers: int = 4
    heads: int = 4
    dynamic: bool = True  # per-token video condition; False = global-only baseline
    finetune_video: bool = True  # train the aligned video encoder on with the flow (False: frozen features)
    video_lr_scale: float = 1.0  # its learning rate relative to the flow's
    cond_dropout: float = 0.15  # for classifier-free guidance
    prefix_prob: float = 0.5  # share of batches trained with a known prefix (streaming infill)
    context_tokens: int = 25  # at run time: 1 s of the previous segment as context
    default_steps: int = 8  # chosen on the val split: F1 equal to 16 steps
    guidance: float = 4.5  # chosen on the val split (F1 flat from 3 to 8; offsets smallest near here)
    prompt_guidance: float | None = None  # prompted takes: the prompt's own scale (runtime.stream); None: guidance
    cluster_weight: float = 0.0  # > 0: the video features also predict k-means clusters of the audio (export.clusters)
    clusters: int = 16  # k of those clusters
    cluster_span: int = 6  # tokens of sound (from each token on) a cluster describes
    cluster_onset: float = 0.0  # > 0: label only the tokens where a sound starts (spectral-flux peak above
    # this, normalised log-mel units; clusters.onset_tokens), with the cluster of the sound that starts there
    # sound prompts (export.prompts): per example none (auto), a category or a reference recording
    prompts: bool = False  # train the flow with sound prompts (the package gains prompt graphs and a vocabulary)
    prompt_dim: int = 128  # E of a prompt vector
    prompt_category: float = 0.35  # share of examples prompted by their category (the clip's dominant one)
    prompt_reference: float = 0.35  # ... by another recording of that category (the rest: no prompt)
    prompt_seconds: float = 2.0  # of a reference, from its onset (cut or zero-padded)
    prompt_train_encoder: bool = False  # train the prompt's audio encoder too (else frozen: pool + projection)
    # the loudness envelope (export.models.flow): a head reads each token's loudness from the video feature
    # and conditions the flow on it. "" (none), "joint" (the head trains with the flow) or "stage" (the
    # envelope stage trains the video encoder and the head first; the flow starts from both)
    envelope: str = ""
    envelope_weight: float = 1.0  # of the head's squared error against the true loudness, beside the flow's loss
    envelope_teacher: float = 0.5  # share of conditioned examples whose flow is given the true envelope


@dataclass
class EnvelopeConfig(StageConfig):
    """The envelope stage (flow.envelope="stage"): the aligned video encoder and a loudness head learn, from
    the video alone, each token's loudness (export.models.flow.LoudnessHead; squared error against the
    true one), the audio's k-means clusters beside it (``cluster_weight``, as the flow's cluster term)."""

    cluster_weight: float = 0.1
    clusters: int = 16
    cluster_span: int = 1


@dataclass
class DistillConfig(StageConfig):
    """The distill stage (export.distill): a guided few-step student of the flow."""

    teacher_steps: int = 8  # the teacher's sampler (its default steps): the student's smallest step is 1 / this
    student_steps: int = 4  # the student's default steps in the package (1, 2, 4 ... up to teacher_steps)
    teacher_share: float = 0.5  # share of training steps on the teacher's level (the rest: shortcut levels)
    guidance_min: float = 1.0  # the guidance scales a student learns, uniformly
    guidance_max: float = 8.0
    prompt_guidance_share: float = 0.5  # share of prompted rows with a prompt scale of their own (else g)
    prompt_guidance_max: float = 28.0  # ... drawn from [guidance_min, this]: past the recorded recipe's 20 (a
    # student distilled with 12 lost the prompt at 20: class accuracy 0.33 against the teacher's 0.52)


@dataclass
class VocoderConfig(StageConfig):
    dim: int = 128
    layers: int = 4
    crop_frames: int = 100  # 1 s crops


# Keys added after checkpoints already existed whose default then changed: what a config saved
# before the key existed was trained with (its checkpoints only load into that architecture).
_BEFORE_THE_KEY: dict[str, dict[str, Any]] = {"encoder": {"video_pool": "flat"}}


@dataclass
class TrainConfig:
    audio: AudioConfig = field(default_factory=AudioConfig)
    data: DataConfig = field(default_factory=DataConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    # the recipe of the shipped default model (README: "Training the default model")
    audio_mae: StageConfig = field(default_factory=lambda: StageConfig(steps=200, batch_size=32))
    video_mae: StageConfig = field(default_factory=lambda: StageConfig(steps=400, batch_size=8))
    align: AlignConfig = field(default_factory=lambda: AlignConfig(steps=1000, batch_size=16, lr=5e-4))
    # recipe 4: 10000 flow steps (recipe 3 had 5000); on 400 val clips onset F1 0.845 vs 0.809, class 0.64 vs 0.60
    flow: FlowConfig = field(default_factory=lambda: FlowConfig(steps=10000, batch_size=16, lr=8e-4, warmup=100,
                                                                ckpt_every=100, cluster_weight=0.1,
                                                                cluster_span=1))
    envelope: EnvelopeConfig = field(default_factory=lambda: EnvelopeConfig(steps=2000, batch_size=16, lr=5e-4))
    vocoder: VocoderConfig = field(default_factory=lambda: VocoderConfig(steps=2000, batch_size=8, lr=1e-3,
                                                                         ckpt_every=100))
    distill: DistillConfig = field(default_factory=lambda: DistillConfig(steps=2000, batch_size=16, lr=2e-4,
                                                                         warmup=50, ckpt_every=100))
    seed: int = 0
    recipe: str = "default"  # the recipe the config started from (RECIPES)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        cfg = cls()
        for f in fields(cls):
            if f.name not in d:
                continue
            cur = getattr(cfg, f.name)
            if hasattr(cur, "__dataclass_fields__"):
                known = {k.name for k in fields(cur)}  # keys of older configs that no longer exist are dropped
                values = {k: v for k, v in d[f.name].items() if k in known}
                for key, before in _BEFORE_THE_KEY.get(f.name, {}).items():
                    values.setdefault(key, before)  # a config older than the key was trained without it
                setattr(cfg, f.name, type(cur)(**values))
            else:
                setattr(cfg, f.name, d[f.name])
        return cfg

    def override(self, assignments: list[str]) -> TrainConfig:
        """Apply ``section.key=value`` strings (from the command line)."""
        for a in assignments:
            key, _, raw = a.partition("=")
            section, _, name = key.partition(".")
            target = getattr(self, section) if name else self
            name = name or section
            cur = getattr(target, name)
            if isinstance(cur, bool):
                val: Any = raw.lower() in ("1", "true", "yes")
            elif cur is None or getattr(type(target)(), name) is None:  # an optional number (None: unset)
                val = None if raw.lower() in ("", "none", "null") else float(raw)
            else:
                val = type(cur)(raw)
            setattr(target, name, val)
        return self

    def token_rate(self) -> float:
        a = self.audio
        return a.sample_rate / (a.hop_length * a.frames_per_token)


# -- recipes -------------------------------------------------------------------------------------------
def default_library() -> str:
    """The default training library: ``$FOLEYFLOW_CACHE/library`` (else ``~/.cache/foleyflow/library``),
    where ``foleyflow library fetch`` puts it."""
    try:
        from foleyflow.library.sources import default_cache
    except ImportError:  # pragma: no cover - a library package without its sources module
        env = os.environ.get("FOLEYFLOW_CACHE")
        return str((Path(env).expanduser() if env else Path.home() / ".cache" / "foleyflow") / "library")
    return str(default_cache() / "library")


def full_band_audio() -> AudioConfig:
    """48 kHz: the whole band a recording carries (no resampling at run time), at the 16 kHz recipe's
    time resolution: 10 ms hop and 40 ms window (480 / 1920 samples), 4 frames per token, so 25 tokens/s
    as before. 128 mel bands to 24 kHz (the full-band vocoders' usual choice: BigVGAN's 44/48 kHz models)
    keep the bands below 8 kHz a little finer than 64 bands to 8 kHz did (31 vs 44 mel each) and give the
    octaves above 8 kHz, which recordings carry and the 16 kHz model cut, 37 bands of their own."""
    return AudioConfig(sample_rate=48000, n_fft=1920, hop_length=480, n_mels=128, fmin=0.0, fmax=24000.0)


def recorded_recipe(library: str | None = None) -> TrainConfig:
    """The recorded model's recipe: 48 kHz full band (:func:`full_band_audio`), the world "recorded"
    (events voiced by a sound library's recordings), the library ``library`` (default
    :func:`default_library`), and sound prompts on (category and reference, trained with the
    library's recordings). Everything else is the default recipe's."""
    cfg = TrainConfig(recipe="recorded")
    cfg.audio = full_band_audio()
    cfg.data.world = "recorded"
    cfg.data.library = library if library is not None else default_library()
    cfg.flow.prompts = True
    # Sized to train from an empty cache within issue 18's 2.5 hours on this machine's two cores with
    # the 48 kHz data: with the flow on frozen features (below) a flow step runs at 4-5 steps/s, so 6000
    # of them take 23 min; the whole recipe from an empty cache took 81 min (2026-12-04, docs/RESULTS.md,
    # with tests sharing the cores for part of it). Fewer vocoder steps than the 16 kHz recipe's 2000.
    cfg.flow.steps = 6000
    cfg.vocoder.steps = 1500
    # Timing (issues 18 and 19, docs/RESULTS.md "precision from quiet clips and the envelope stage"): quiet
    # training clips (silent motion) and the camera/colour augmentation; the envelope stage reads each
    # token's loudness from the video, and the flow learns on its frozen features (3.7 flow steps/s here
    # against 1.3 with the encoder trained on). On 100 test clips per look: onset F1 0.59 / 0.47 (A / B),
    # 4.2 / 17.6 onsets per 10 s where nothing touches, against 0.47 / 0.39 and 32 / 33 without them.
    cfg.data.quiet = 0.25
    cfg.data.augment = 0.5
    cfg.flow.envelope = "stage"
    cfg.flow.finetune_video = False
    cfg.flow.cluster_weight = 0.0
    # Prompted takes guide the prompt on its own scale (runtime.stream.make_velocity): chosen on 100 val
    # clips of that run (class accuracy with the category prompt 0.36 / 0.43 / 0.48 / 0.46 / 0.45 at
    # 4.5 / 9 / 14 / 20 / 28, the share above 8 kHz 11.3 / 8.2 / 6.0 / 4.0 / 3.0 dB off the real
    # recordings'; onset F1 unchanged), written into model.json.
    cfg.flow.prompt_guidance = 20.0
    return cfg


RECIPES = {"default": TrainConfig, "recorded": recorded_recipe}
