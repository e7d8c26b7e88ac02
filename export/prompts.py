"""Sound prompts in training: the vocabulary, each clip's category, the references, the modules.

Per training example the flow stage draws one of (``FlowConfig.prompt_category`` /
``prompt_reference`` / the rest)::

    none       auto: the flow hears only the picture (a learned "no prompt" state)
    category   the clip's category: its dominant class (world.events.dominant_class) mapped to the
               library category (UCS CatID) of the recordings that sound that class in the clip
    reference  ANOTHER recording of that category from the library's same split (CondFoleyGen-style:
               "sound like this", never the recording that sounds the clip), through the prompt
               encoder; a category with no other recording falls back to the category prompt

and ``FlowConfig.cond_dropout`` drops the video and the prompt together (classifier-free guidance).

Without a library (``DataConfig.library == ""``) the vocabulary is the world's class names (the
dominant classes of the training clips) and a reference is another training clip of the same class
(its audio from its first onset). A clip with no category (its dominant class sounded by synthesis
where a library voices the rest) trains without a prompt; a clip where nothing sounds (no events: the
quiet clips of ``DataConfig.quiet``) is prompted as often as the others, by any category of the
vocabulary, and its target stays the room tone: a prompt says what a contact sounds like, never that
there is one.

References are prepared as the runtime prepares a user's (:func:`foleyflow.runtime.prompt.prepare_reference`:
from the onset, cut or padded to ``prompt_seconds``, peak 1).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import torch

from foleyflow.runtime.prompt import prepare_reference

from .config import TrainConfig
from .dataset import ClipSet
from .models.encoders import AudioEncoder
from .models.prompt import CategoryTable, ConvLogMel, PromptEncoder

log = logging.getLogger(__name__)

NONE, CATEGORY, REFERENCE = 0, 1, 2  # prompt kinds of a training example


def prompt_samples(cfg: TrainConfig) -> int:
    """Samples of a reference: ``prompt_seconds`` rounded to whole audio tokens."""
    a = cfg.audio
    per_token = a.hop_length * a.frames_per_token
    return max(1, round(cfg.flow.prompt_seconds * a.sample_rate / per_token)) * per_token


def _event(e: dict):
    from foleyflow.world.events import Event

    return Event(float(e["time"]), str(e["kind"]), str(e["material"]), float(e["strength"]), 0, e.get("end"))


def dominant(events: list[dict]) -> str:
    """The dominant sound class of a clip's cached events ("" for none): world.events.dominant_class."""
    from foleyflow.world.events import dominant_class

    return dominant_class(_event(e) for e in events)


def _class_of(e: dict) -> str:
    from foleyflow.world.events import event_class

    return event_class(_event(e))


def world_classes() -> tuple[str, ...]:
    """Every sound class of the world, in its order (the Foley kinds' too, where the world has them)."""
    from foleyflow.world import events

    return tuple(getattr(events, "FOLEY_CLASSES", events.CLASSES))


@dataclass
class PromptData:
    """What the flow stage draws prompts from."""

    vocabulary: tuple[str, ...]
    category: np.ndarray  # int64 [N]: each training clip's category (index into vocabulary), -1: none
    references: list[list[int]]  # per category: the reference ids that may prompt it
    exclude: list[frozenset[int]]  # per clip: reference ids it may not be prompted by (its own sounds)
    samples: int  # of a prepared reference
    waves: np.ndarray | None = None  # float32 [R, samples]: the library's references; None: clips' audio
    sources: list[dict] = field(default_factory=list)  # provenance of the recordings (model.json sound_sources)
    features: np.ndarray | None = None  # float32 [R, N, dim]: the frozen encoder's tokens of ``waves``
    silent: np.ndarray | None = None  # bool [N]: clips with no event at all (data.quiet's): any prompt, silence

    def choose(self, rng: np.random.Generator, idx: np.ndarray, p_category: float,
               p_reference: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per example of ``idx``: (kind [B] NONE/CATEGORY/REFERENCE, category [B], reference id [B])."""
        b = len(idx)
        u = rng.random(b)
        pick = rng.random(b)
        kinds, cats, refs = np.zeros(b, np.int64), np.zeros(b, np.int64), np.full(b, -1, np.int64)
        silent = self.silent is not None and bool(self.silent[idx].any())
        anyone = rng.integers(0, len(self.vocabulary), b) if silent else None
        for i, clip in enumerate(idx):
            c = int(self.category[clip])
            if anyone is not None and self.silent is not None and self.silent[clip]:
                c = int(anyone[i])  # nothing sounds here: whatever the prompt asks for, the take stays silent
            if c < 0 or u[i] >= p_category + p_reference:
                continue
            kinds[i], cats[i] = CATEGORY, c
            if u[i] >= p_category:
                pool = [r for r in self.references[c] if r not in self.exclude[clip]]
                if pool:
                    kinds[i], refs[i] = REFERENCE, pool[min(len(pool) - 1, int(pick[i] * len(pool)))]
        return kinds, cats, refs

    def reference_waves(self, refs: np.ndarray, data: ClipSet, sample_rate: int) -> np.ndarray:
        """float32 [len(refs), samples]: the prepared references."""
        if self.waves is not None:
            return self.waves[refs]
        return np.stack([prepare_reference(data.audio[r].astype(np.float32), self.samples, sample_rate)
                         for r in refs])


def build_prompt_data(cfg: TrainConfig, data: ClipSet, library=None) -> PromptData:
    """The vocabulary, categories and references of the training set ``data`` (the train split)."""
    n = prompt_samples(cfg)
    classes = [dominant(ev) for ev in data.events]
    if not cfg.data.library and library is None:
        order = world_classes()
        vocab = tuple(c for c in order if c in set(classes)) + tuple(sorted(set(classes) - set(order) - {""}))
        category = np.array([vocab.index(c) if c else -1 for c in classes], np.int64)
        references = [[int(i) for i in np.flatnonzero(category == k)] for k in range(len(vocab))]
        exclude = [frozenset({i}) for i in range(len(data))]
        out = PromptData(vocab, category, references, exclude, n)
    else:
        out = _library_prompts(cfg, data, classes, n, library)
    if not out.vocabulary:
        raise ValueError("flow.prompts: no training clip has a category to prompt with (no events, or none "
                         "voiced by the library's recordings)")
    out.silent = np.array([not events for events in data.events], bool)
    counts = np.bincount(out.category[out.category >= 0], minlength=len(out.vocabulary))
    log.info("prompts: %d categories (%s), references per category %s", len(out.vocabulary),
             ", ".join(f"{v} {c}" for v, c in zip(out.vocabulary, counts, strict=True)),
             [len(r) for r in out.references])
    return out


def _library_prompts(cfg: TrainConfig, data: ClipSet, classes: list[str], n: int, library) -> PromptData:
    from foleyflow.library.audio import read_mono
    from foleyflow.library.errors import LibraryError

    from .dataset import open_library

    index = library if library is not None else open_library(cfg.data.library)
    by_path = {r.path: r for r in index.recordings}
    clip_cats: list[str] = []
    for cls, events in zip(classes, data.events, strict=True):
        cats = Counter(by_path[p].category for e in events if _class_of(e) == cls
                       for p in e.get("recordings", []) if p in by_path)
        clip_cats.append(min(cats, key=lambda c: (-cats[c], c)) if cats else "")
    vocab = tuple(sorted(set(clip_cats) - {""}))
    category = np.array([vocab.index(c) if c else -1 for c in clip_cats], np.int64)
    rate = cfg.audio.sample_rate
    waves, paths, references = [], [], []
    for cat in vocab:
        ids = []
        for rec in index.of(cat, "train"):
            try:
                x = read_mono(index.file(rec), rate, max_seconds=cfg.flow.prompt_seconds + 2.0)
            except LibraryError as exc:
                log.warning("reference left out: %s", exc)
                continue
            if float(np.max(np.abs(x))) <= 0.0:
                continue
            ids.append(len(waves))
            waves.append(prepare_reference(x, n, rate))
            paths.append(rec.path)
        references.append(ids)
    ref_of = {p: i for i, p in enumerate(paths)}
    exclude = [frozenset(ref_of[p] for e in events for p in e.get("recordings", []) if p in ref_of)
               for events in data.events]
    used = {p for events in data.events for e in events for p in e.get("recordings", [])} | set(paths)
    groups = Counter((by_path[p].source, by_path[p].license) for p in used if p in by_path)
    sources = [{"source": s or "unknown", "license": lic or "unknown", "recordings": k}
               for (s, lic), k in sorted(groups.items())]
    arr = np.stack(waves) if waves else np.zeros((0, n), np.float32)
    return PromptData(vocab, category, references, exclude, n, arr, sources)


@torch.no_grad()
def precompute_features(prompts: PromptData, encoder: PromptEncoder, batch: int = 32) -> None:
    """Fill ``prompts.features`` with the frozen reference encoder's tokens of every library reference
    (a training step then runs only the pooling and the projection); nothing to do when the encoder
    trains (``flow.prompt_train_encoder``) or the references are clips' audio (no library)."""
    if encoder.train_encoder or prompts.waves is None or not len(prompts.waves):
        return
    prompts.features = np.concatenate([encoder.features(torch.from_numpy(prompts.waves[i : i + batch])).numpy()
                                       for i in range(0, len(prompts.waves), batch)]).astype(np.float32)
    log.info("prompts: reference features of %d recordings computed once %s", len(prompts.waves),
             tuple(prompts.features.shape))


# -- modules -----------------------------------------------------------------------------------------
def prompt_encoder(cfg: TrainConfig, mel_stats: tuple[float, float], audio_state: dict | None = None) -> PromptEncoder:
    """The reference encoder a config describes, over the audio encoder ``audio_state`` (pretrained)."""
    a, e = cfg.audio, cfg.encoder
    enc = AudioEncoder(a.frames_per_token * a.n_mels, e.dim, e.audio_layers, e.heads)
    if audio_state is not None:
        enc.load_state_dict(audio_state)
    front = ConvLogMel(a.sample_rate, a.n_fft, a.hop_length, a.n_mels, a.fmin, a.fmax)
    return PromptEncoder(front, enc, mel_stats, a.frames_per_token, cfg.flow.prompt_dim,
                         train_encoder=cfg.flow.prompt_train_encoder)


def category_table(cfg: TrainConfig, n_categories: int) -> CategoryTable:
    return CategoryTable(n_categories, cfg.flow.prompt_dim)


def prompt_batch(prompts: PromptData, kinds: np.ndarray, cats: np.ndarray, refs: np.ndarray, data: ClipSet,
                 table: torch.nn.Module, encoder: torch.nn.Module, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(prompt [B, E], prompt_on [B]) of one batch's draws: table rows, encoded references, zeros.

    Both modules run at every step, whatever was drawn (a silent reference when none was), so that
    under DDP every rank runs every module's forward and backward."""
    is_cat = torch.from_numpy(kinds == CATEGORY)[:, None]  # [B, 1]
    vec = torch.where(is_cat, table(torch.from_numpy(cats)), torch.zeros(()))  # [B, E]
    rows = np.flatnonzero(kinds == REFERENCE)
    if prompts.features is not None:  # the frozen encoder's tokens, computed once (precompute_features)
        feats = prompts.features[refs[rows]] if len(rows) else np.zeros_like(prompts.features[:1])
        encoded = encoder(None, torch.from_numpy(feats))  # [R, E]
    else:
        waves = (prompts.reference_waves(refs[rows], data, cfg.audio.sample_rate) if len(rows)
                 else np.zeros((1, prompts.samples), np.float32))
        encoded = encoder(torch.from_numpy(waves))  # [R, E]
    if len(rows):
        vec = vec.index_put((torch.from_numpy(rows),), encoded)
    else:
        vec = vec + 0.0 * encoded.sum()
    return vec, torch.from_numpy((kinds != NONE).astype(np.float32))
