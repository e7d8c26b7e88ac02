"""Pre-rendered training data: synthetic clips cached as arrays (rendering on the fly costs a third of training).

The cache (one .npz per split) holds, per clip of ``duration`` seconds at the model's rate:
frames uint8 [N, T, S, S, 3], audio float16 [N, samples], log-mel float16 [N, F, n_mels]
(not normalised), and the ground-truth events as JSON.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .models.mel import LogMel

log = logging.getLogger(__name__)


def downsample(frames: np.ndarray, size: int) -> np.ndarray:
    """Area-downsample uint8 [T, H, W, 3] to [T, size, size, 3] (H, W multiples of size)."""
    t, h, w, c = frames.shape
    fh, fw = h // size, w // size
    x = frames[:, : fh * size, : fw * size].reshape(t, size, fh, size, fw, c).astype(np.float32)
    return np.clip(x.mean(axis=(2, 4)) + 0.5, 0, 255).astype(np.uint8)


@dataclass
class ClipSet:
    frames: np.ndarray  # uint8 [N, T, S, S, 3]
    audio: np.ndarray  # float16 [N, samples]
    mel: np.ndarray  # float16 [N, F, n_mels], natural-log mel power
    events: list[list[dict]]
    seeds: list[int]

    def __len__(self) -> int:
        return len(self.seeds)


def log_mel(cfg: TrainConfig) -> LogMel:
    a = cfg.audio
    return LogMel(a.sample_rate, a.n_fft, a.hop_length, a.n_mels, a.fmin, a.fmax)


def world_config(name: str):
    """The world's parameter ranges by name: "impacts" (the first world), "full", "recorded" (the world
    a sound library voices, ``world.world_config.recorded_config``; the impacts world where that preset
    does not exist yet), and the out-of-distribution ranges "impacts_ood" and "ood". A name ending in
    "_look_b" is that world drawn in look B (world.look_b: perspective, shading, camera motion; never
    trained on: the cross-look test), e.g. "recorded_look_b"."""
    from foleyflow.world import world

    if name.endswith("_look_b"):
        from foleyflow.world.world_config import look_b_config

        return look_b_config(world_config(name[: -len("_look_b")]))

    if name == "impacts":
        return world.impacts_config() if hasattr(world, "impacts_config") else None
    if name == "full":
        return world.WorldConfig()
    if name == "recorded":
        from foleyflow.world import world_config as presets

        recorded = getattr(presets, "recorded_config", None) or getattr(world, "recorded_config", None)
        if recorded is None:
            log.warning("world preset recorded_config is not there yet: the recorded world is the impacts world")
            return world.impacts_config()
        return recorded()
    if name == "ood":
        return world.ood_config()
    if name == "impacts_ood":
        return world.impacts_ood_config()
    raise ValueError(f"unknown world {name!r} (impacts, full, recorded, ood, impacts_ood, each with _look_b)")


def open_library(spec: str):
    """The sound library a DataConfig names: a folder (indexed now) or an index CSV written by
    ``foleyflow library index``."""
    from foleyflow.library.index import index_library, read_index

    path = Path(spec).expanduser()
    return read_index(path) if path.is_file() else index_library(path)


def voicer_for(cfg: TrainConfig, split: str, library=None):
    """A Voicer over the library's recordings of the split that matches a world split (the world's
    "ood" and "test" clips hear the library's test recordings), or None without a library."""
    if not cfg.data.library and library is None:
        return None
    lib = library if library is not None else open_library(cfg.data.library)
    return library_voicer(lib, "train" if split == "train" else "val" if split == "val" else "test",
                          cfg.audio.sample_rate)


def library_voicer(index, split: str, sample_rate: int):
    """The world's Voicer over ``index``'s ``split`` recordings, cutting each recording to one hit with
    the evaluation's onset detector (world.voicing: the truth's transients are its events). Training,
    ``foleyflow eval --recorded`` and the sound classifier's world clips all voice through this."""
    from foleyflow.world.voicing import Voicer

    from .eval.onsets import detect_onsets

    return Voicer(index, split, sample_rate, onsets=detect_onsets)  # type: ignore[arg-type]


def render_set(cfg: TrainConfig, seeds: list[int], world_cfg=None, split: str = "train", voicer=None) -> ClipSet:
    """Render the clips of ``seeds``; with ``cfg.data.library`` (or a ``voicer``) their impacts are voiced
    by recordings of the library's ``split`` (recordings split by file: no test sound is heard in training)."""
    from foleyflow.world.world import render_clip

    d, a = cfg.data, cfg.audio
    world_cfg = world_cfg if world_cfg is not None else world_config(d.world)
    voicer = voicer if voicer is not None else voicer_for(cfg, split)
    frames, audio, events = [], [], []
    for i, seed in enumerate(seeds):
        clip = render_clip(seed, d.duration, Fraction(d.fps), d.render_size, a.sample_rate, world_cfg, voicer=voicer)
        frames.append(downsample(clip.frames, d.frame_size))
        audio.append(clip.audio.astype(np.float32))
        events.append([{"time": e.time, "kind": e.kind, "material": e.material, "strength": e.strength,
                        "end": getattr(e, "end", None),
                        **({"recordings": list(clip.sources[k])} if k in clip.sources else {})}
                       for k, e in enumerate(clip.events)])
        if (i + 1) % 200 == 0:
            log.info("rendered %d/%d clips", i + 1, len(seeds))
    return make_set(cfg, frames, audio, events, list(seeds))


MEL_CHUNK = 256  # clips per log-mel batch: the STFT of 8000 four-second clips at once needs over 24 GB


def make_set(cfg: TrainConfig, frames: list[np.ndarray], audio: list[np.ndarray], events: list[list[dict]],
             seeds: list[int], chunk: int = MEL_CHUNK) -> ClipSet:
    """A ClipSet of equal-length clips, with their log-mel computed by the training front end
    ``chunk`` clips at a time (memory bounded by the chunk, not by the set)."""
    audio_arr = np.stack(audio).astype(np.float32)
    front = log_mel(cfg)
    with torch.no_grad():
        mel = np.concatenate([front(torch.from_numpy(audio_arr[i : i + chunk])).numpy().astype(np.float16)
                              for i in range(0, len(audio_arr), chunk)])
    return ClipSet(np.stack(frames), audio_arr.astype(np.float16), mel, events, seeds)


def save_set(path: Path, s: ClipSet) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, frames=s.frames, audio=s.audio, mel=s.mel, seeds=np.array(s.seeds),
             events=np.array(json.dumps(s.events)))
    tmp.replace(path)


def load_set(path: Path) -> ClipSet:
    with np.load(path) as z:
        return ClipSet(z["frames"], z["audio"], z["mel"], json.loads(str(z["events"])), z["seeds"].tolist())


def quiet_count(cfg: TrainConfig) -> int:
    """Training clips with nothing sounding (``DataConfig.quiet`` of ``n_train``)."""
    if not 0.0 <= cfg.data.quiet <= 1.0:
        raise ValueError(f"data.quiet={cfg.data.quiet}: expected a share of n_train in 0..1")
    return round(cfg.data.quiet * cfg.data.n_train)


def build_cache(cfg: TrainConfig, workdir: Path) -> dict[str, Path]:
    """Render (or reuse) the train and val sets, and with ``data.quiet`` the quiet training clips
    ("quiet": seeds after the train set's, drawn by ``world.distractor_config`` of the data's world);
    returns their paths. A quiet set of another size than the config asks for is rendered again."""
    from foleyflow.world.world import split_seeds

    out = {}
    for split, n in (("train", cfg.data.n_train), ("val", cfg.data.n_val)):
        path = workdir / "cache" / f"{split}.npz"
        if path.exists():
            log.info("reusing %s", path)
        else:
            log.info("rendering %d %s clips", n, split)
            save_set(path, render_set(cfg, split_seeds(split, n), split=split))
        out[split] = path
    n_quiet = quiet_count(cfg)
    if n_quiet:
        path = workdir / "cache" / "train_quiet.npz"
        if path.exists() and _clips_in(path) == n_quiet:
            log.info("reusing %s", path)
        else:
            from foleyflow.world.world_config import distractor_config

            log.info("rendering %d quiet training clips (nothing sounding)", n_quiet)
            seeds = split_seeds("train", cfg.data.n_train + n_quiet)[cfg.data.n_train :]
            base = world_config(cfg.data.world)
            save_set(path, render_set(cfg, seeds, distractor_config(base) if base is not None else distractor_config(),
                                      split="train"))
        out["quiet"] = path
    return out


def _clips_in(path: Path) -> int:
    with np.load(path) as z:
        return int(z["seeds"].shape[0])


def concat_sets(a: ClipSet, b: ClipSet) -> ClipSet:
    """``a`` then ``b`` as one set (same clip length and front end)."""
    return ClipSet(np.concatenate([a.frames, b.frames]), np.concatenate([a.audio, b.audio]),
                   np.concatenate([a.mel, b.mel]), a.events + b.events, a.seeds + b.seeds)


def load_train(cfg: TrainConfig, workdir: Path) -> ClipSet:
    """The training set every stage learns from: the train clips, and the quiet ones with ``data.quiet``."""
    paths = build_cache(cfg, workdir)
    data = load_set(paths["train"])
    return concat_sets(data, load_set(paths["quiet"])) if "quiet" in paths else data


def mel_stats(mel: np.ndarray) -> tuple[float, float]:
    m = mel.astype(np.float32)
    return float(m.mean()), float(m.std())


def to_tokens(mel: torch.Tensor, frames_per_token: int) -> torch.Tensor:
    """[B, F, M] -> [B, F / k, k * M] (k mel frames per token, time-major within a token)."""
    b, f, m = mel.shape
    return mel.reshape(b, f // frames_per_token, frames_per_token * m)


def from_tokens(tokens: torch.Tensor, n_mels: int) -> torch.Tensor:
    b, n, p = tokens.shape
    return tokens.reshape(b, n * (p // n_mels), n_mels)
