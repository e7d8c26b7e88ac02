"""`foleyflow train | export | eval` (reached lazily from the ``foleyflow`` dispatcher; needs torch)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

DEFAULT_ORDER = ("data", "audio_mae", "video_mae", "align", "envelope", "flow", "vocoder")


def _train(args: argparse.Namespace) -> int:
    import torch

    from .config import RECIPES, TrainConfig
    from .distill import stage_distill
    from .onnx_export import export_package
    from .train import STAGES, flow_name

    torch.set_num_threads(args.threads) if args.threads else None
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cfg_path = workdir / "config.json"
    if cfg_path.exists():
        cfg = TrainConfig.from_dict(json.loads(cfg_path.read_text()))
        if args.recipe and args.recipe != cfg.recipe:
            logging.error("%s was started with the %s recipe, not %s (use another --workdir)", workdir, cfg.recipe,
                          args.recipe)
            return 2
    else:
        cfg = RECIPES[args.recipe or "default"]()
    cfg.override(args.set or [])
    if args.align:
        cfg.align.method = args.align
    if args.align == "none" and not any(a.startswith("flow.cluster_weight=") for a in args.set or []):
        # the cluster term teaches the video encoder audio clusters: a cross-modal alignment of its own
        cfg.flow.cluster_weight = 0.0
        logging.info("--align none: flow.cluster_weight set to 0 (MAE encoders only)")
    if args.global_only:
        cfg.flow.dynamic = False
    cfg_path.write_text(json.dumps(cfg.to_dict(), indent=2))
    stages = DEFAULT_ORDER if args.stage == "all" else tuple(args.stage.split(","))
    by_name = {**STAGES, "distill": stage_distill}
    unknown = [st for st in stages if st not in by_name]
    if unknown:
        logging.error("--stage %s: no stage %s (expected all or some of %s)", args.stage, ", ".join(unknown),
                      ", ".join(by_name))
        return 2
    for st in stages:
        t0 = time.time()
        logging.info("stage %s", st)
        by_name[st](cfg, workdir)
        logging.info("stage %s done in %.1f s", st, time.time() - t0)
    if args.stage == "all" or args.package:
        out = Path(args.package or workdir / "package")
        export_package(workdir, out, flow_name(cfg.align.method, cfg.flow.dynamic),
                       name="foleyflow-default" if cfg.recipe == "default" else f"foleyflow-{cfg.recipe}")
        logging.info("model package written to %s", out)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .onnx_export import export_package

    spec = export_package(args.checkpoints, args.output, args.flow, args.name, args.version, args.steps,
                          args.guidance, args.prompt_guidance, student=not args.no_student, sampler=args.sampler,
                          student_steps=args.student_steps)
    print(json.dumps(spec.training.get("parity_max_abs_diff", {}), indent=2))
    return 0


def _eval(args: argparse.Namespace) -> int:
    if args.videos is not None:
        return _eval_videos(args)
    if args.recorded:
        return _eval_recorded(args)
    from .evaluate import main as eval_main

    return eval_main(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="foleyflow", description="Train, export and evaluate Foley-Flow models.")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train the stages of the method (resumable)")
    t.add_argument("--workdir", default="out/train", help="checkpoints, cache and config live here")
    t.add_argument("--recipe", choices=("default", "recorded"),
                   help="the config a new workdir starts from: default (16 kHz, synthesized world) or recorded "
                        "(48 kHz full band, the world voiced by the sound library in $FOLEYFLOW_CACHE/library "
                        "unless --set data.library=DIR, sound prompts on); a workdir keeps its recipe")
    t.add_argument("--stage", default="all", help=f"all, or comma-separated of {', '.join(DEFAULT_ORDER)}, "
                   "distill (a guided few-step student of the flow, export.distill; not in all yet)")
    t.add_argument("--align", choices=("masked", "contrastive", "none"),
                   help="alignment method (default masked); none (MAE encoders only) also sets "
                        "flow.cluster_weight=0 unless --set gives it")
    t.add_argument("--global-only", action="store_true", help="train the global-condition baseline flow")
    t.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a config value")
    t.add_argument("--package", help="export a model package here when done")
    t.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    t.set_defaults(fn=_train)
    e = sub.add_parser("export", help="turn checkpoints into a model package and validate it")
    e.add_argument("checkpoints", help="training folder with align_*.pt, flow_*.pt, vocoder.pt")
    e.add_argument("-o", "--output", required=True, help="package folder to write")
    e.add_argument("--flow", default="flow_masked_dynamic", help="flow checkpoint name")
    e.add_argument("--name", default="foleyflow-default")
    e.add_argument("--version", default="0.1.0")
    e.add_argument("--steps", type=int, help="default sampler steps written into model.json")
    e.add_argument("--guidance", type=float, help="default guidance written into model.json")
    e.add_argument("--prompt-guidance", type=float,
                   help="a model with sound prompts: the prompt's own default guidance scale (model.json)")
    e.add_argument("--no-student", action="store_true",
                   help="leave out the distill stage's student (graph student) even where the folder has one")
    e.add_argument("--student-steps", type=int, help="the student's default steps (default: distill.student_steps)")
    e.add_argument("--sampler", choices=("teacher", "student"),
                   help="the package's default sampler (default: the student where there is one)")
    e.set_defaults(fn=_export)
    v = sub.add_parser("eval", help="evaluate model packages on held-out synthetic clips")
    v.add_argument("packages", nargs="+", help="model package folders")
    v.add_argument("--split", default="test", help="val, test, ood, or several comma-separated (test,ood)")
    v.add_argument("-n", "--clips", type=int, default=20)
    v.add_argument("--steps", type=int)
    v.add_argument("--guidance", type=float)
    v.add_argument("--json", help="write the results here as JSON")
    v.add_argument("--markdown", help="write the tables here as Markdown (e.g. docs/RESULTS.md)")
    v.add_argument("--classifier", help="audio classifier checkpoint for class accuracy and Frechet distance")
    v.add_argument("--names", help="comma-separated row names for the packages (default: their folder names)")
    v.add_argument("--recorded", action="store_true",
                   help="the recorded world (clips voiced by the library's recordings of the split): auto, "
                        "category-prompt and reference-prompt rows beside the real recordings and the vocoder")
    v.add_argument("--library", help="with --recorded: the sound library (default: $FOLEYFLOW_CACHE/library)")
    v.add_argument("--sound-classifier", help="with --recorded: a checkpoint of export.eval.sound_classifier "
                   "(trained on the library's training recordings only) for class accuracy and Frechet distance")
    v.add_argument("--prompt-guidance", metavar="G[,G...]",
                   help="with --recorded: the prompt rows' own guidance scale (default the package's, else "
                        "--guidance); several, comma-separated, score a pair of prompt rows each")
    v.add_argument("--look", default="a",
                   help="with --recorded: how the clips are drawn, a (the look trained on), b (perspective, "
                        "shaded, a moving camera: never trained on) or both (a,b); default a")
    g = v.add_argument_group("videos with their own sound (--videos DIR, instead of synthetic clips)")
    g.add_argument("--videos", metavar="DIR",
                   help="score each package's take for every video in DIR (.mp4 .mov .mkv .avi .webm .m4v) against "
                        "the onsets the evaluation's detector finds in the video's own sound; --json, --markdown, "
                        "--names, --steps and --guidance apply, --split, -n and --recorded do not")
    g.add_argument("--max-seconds", type=float, default=60.0, metavar="S",
                   help="with --videos: score a longer video on its first S seconds (default 60)")
    g.add_argument("--seed", type=int, default=0, help="with --videos: the takes' seed (default 0)")
    v.set_defaults(fn=_eval)
    return p


def _eval_recorded(args: argparse.Namespace) -> int:
    from .config import default_library
    from .eval.recorded import evaluate_recorded, format_recorded

    library = Path(args.library or default_library())
    clf = Path(args.sound_classifier) if args.sound_classifier else None
    looks = [x.strip() for x in args.look.split(",") if x.strip()]
    bad = [x for x in looks if x not in ("a", "b")]
    if bad or not looks:
        print(f"foleyflow: error: --look {args.look!r}: expected a, b or a,b", file=sys.stderr)
        return 2
    try:
        scales: list[float | None] = [float(g) for g in args.prompt_guidance.split(",")] \
            if args.prompt_guidance else [None]
    except ValueError:
        print(f"foleyflow: error: --prompt-guidance {args.prompt_guidance!r}: expected numbers, comma-separated",
              file=sys.stderr)
        return 2
    if any(g is not None and g < 0 for g in scales):
        print(f"foleyflow: error: --prompt-guidance {args.prompt_guidance!r}: a scale is 0 or more", file=sys.stderr)
        return 2
    results = []
    for package in args.packages:
        for split in args.split.split(","):
            for look in looks:
                results.append(evaluate_recorded(Path(package), library, clf, split, args.clips, args.steps,
                                                 args.guidance, look=look, prompt_guidance=scales))
                print(format_recorded(results[-1]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float))
    return 0


def _eval_videos(args: argparse.Namespace) -> int:
    import shlex

    from foleyflow.runtime.errors import FoleyFlowError

    from .eval.videos import SCORED, evaluate_videos, format_videos, markdown_page

    if args.recorded:
        print("foleyflow: error: --videos and --recorded are two modes of eval; give one", file=sys.stderr)
        return 2
    names = args.names.split(",") if args.names else None
    try:
        result = evaluate_videos(args.packages, args.videos, names=names, max_seconds=args.max_seconds,
                                 steps=args.steps, guidance=args.guidance, seed=args.seed)
        print(format_videos(result))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
        if args.markdown:
            cmd = "foleyflow eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])
            Path(args.markdown).write_text(markdown_page(result, cmd), encoding="utf-8")
    except FoleyFlowError as exc:
        print(f"foleyflow: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0 if any(v["status"] == SCORED for v in result["videos"]) else 3


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("onnx_ir", "onnxscript", "torch.onnx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
