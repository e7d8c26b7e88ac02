"""The printed report: a few lines per section (:func:`format_section`) and the whole run
(:func:`format_report`), from the figures the sections return (the JSON of ``--json``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .config import SECTIONS

Lines = list[str]


def fmt(x: Any, spec: str = ".2f") -> str:
    """A figure for the report: ``-`` for None, ``nan``/``inf`` for non-finite floats."""
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else "inf"
    return format(x, spec) if isinstance(x, (int, float)) else str(x)


def velocity_lines(r: dict[str, Any]) -> Lines:
    L = [f"velocity step (batch {r['batch']}, {r['tokens']} tokens), median of the calls, same threads on both sides:"]
    for label, th in (("", r["threads"]), ("_1thread", 1)):
        if f"onnxruntime{label}" not in r:
            continue
        pt = r[f"pytorch{label}"]["median_ms"] if r[f"pytorch{label}"] else None
        L.append(f"  {th} thread{'s' if th > 1 else ''}: onnxruntime {fmt(r[f'onnxruntime{label}']['median_ms'])} ms | "
                 f"pytorch eager {fmt(pt)} ms | onnxruntime is {fmt(r[f'speedup{label}'])}x faster")
    if "max_abs_diff" in r:
        L.append(f"  max |onnxruntime - pytorch| {r['max_abs_diff']:.1e}")
    return L


def flops_lines(r: dict[str, Any]) -> Lines:
    return [f"velocity step: {fmt(r['velocity_gflop'], '.3f')} GFLOP -> {fmt(r['velocity_gflops'], '.1f')} GFLOP/s; "
            f"{r['matmul']['n']}^2 fp32 matmul: numpy {fmt(r['matmul']['numpy_gflops'], '.1f')}, onnxruntime "
            f"{fmt(r['matmul']['onnxruntime_gflops'], '.1f')} GFLOP/s; the step reaches {fmt(100 * r['fraction_of_matmul'], '.0f')} %",
            "  work per minute of audio at the default settings (GFLOP): "
            + ", ".join(f"{k} {v:.0f}" for k, v in r["per_minute_gflop"].items())
            + f" ({r['segments_per_minute']} segments)"]


def e2e_lines(r: dict[str, Any]) -> Lines:
    b = r["breakdown_seconds"]
    return [f"end to end ({r['audio_seconds']:.0f} s of {r['video']}, {r['steps']} {r['solver']} steps, guidance "
            f"{r['guidance']}, {r['segments']} segments, {r['provider']}):",
            f"  {fmt(r['wall_seconds'])} s = {fmt(r['x_real_time'], '.1f')}x real time; first segment after "
            f"{fmt(r['first_segment_seconds'])} s; model load {fmt(r['load_seconds'])} s (not counted)",
            "  where: " + ", ".join(f"{k} {v:.2f} s" for k, v in b.items())]


def rss_lines(r: dict[str, Any]) -> Lines:
    L = [f"peak RSS, fresh process per clip ({r['steps'] or 'default'} steps; memory does not depend on steps):"]
    for k, v in r["rows"].items():
        L.append(f"  {k:>5} s: VmHWM {fmt((v['vmhwm_kb'] or 0) / 1024, '.0f')} MiB (after model load "
                 f"{v['after_load_kb'] / 1024:.0f} MiB), ru_maxrss {v['ru_maxrss_kb'] / 1024:.0f} MiB, "
                 f"{v['wall_seconds']:.1f} s")
    L.append(f"  {r['longest']} s / {r['shortest']} s = {r['ratio_longest_to_shortest']:.3f} by {r['measure']} "
             f"(target <= {r['target']})")
    return L


def decode_lines(r: dict[str, Any]) -> Lines:
    L = [f"decode alone (the plugin's FrameReader, {r['clip_seconds']:g} s at {r['fps']} -> model frames):"]
    for k, v in r["rows"].items():
        L.append(f"  {k:>9}: {v['ms_per_source_frame']:.2f} ms per source frame = {v['seconds_per_minute']:.2f} s "
                 "per minute of video")
    return L


def steps_lines(r: dict[str, Any]) -> Lines:
    L = [f"onset F1 against steps ({r['clips']} held-out clips of {r['clip_seconds']:g} s, guidance {r['guidance']}; "
         f"default {r['default']['solver']} {r['default']['steps']}):",
         "  solver   grid     steps  NFE   F1@0.1  F1@0.05  P      R      AP     energyL1  s/clip"]
    for row in r["rows"]:
        L.append(f"  {row['solver']:<8} {row['grid']:<8} {row['steps']:>5} {row['nfe']:>4}   {row['f1']:.3f}   "
                 f"{row['f1_050']:.3f}    {row['precision']:.3f}  {row['recall']:.3f}  {row['ap']:.3f}  "
                 f"{fmt(row['energy_l1'], '.4f')}    {row['seconds_per_clip']:.2f}")
    c = r["chance"]
    L.append(f"  chance (another clip's ground truth): F1 {c['f1']:.3f}, F1@0.05 {c['f1_050']:.3f}, AP {c['ap']:.3f}")
    return L


def samplers_lines(r: dict[str, Any]) -> Lines:
    L = [f"samplers, side by side ({r['clips']} held-out clips, {r['audio_seconds']:g} s of audio, {r['windows']} "
         f"windows; guidance {r['guidance']}; default {r['default_sampler']}):",
         "  sampler  steps  rows  s per s of audio  ms/step  s/window  speed-up  F1@0.1  F1@0.05  P      R"]
    for row in r["rows"]:
        L.append(f"  {row['sampler']:<8} {row['steps']:>5} {row['rows_per_step']:>5}  "
                 f"{row['seconds_per_audio_second']:>16.4f}  {row['ms_per_step']:>7.1f}  {row['seconds_per_window']:>8.3f}"
                 f"  {fmt(row['speedup']):>7}x  {row['f1']:.3f}   {row['f1_050']:.3f}    {row['precision']:.3f}  "
                 f"{row['recall']:.3f}")
    if r.get("note"):
        L.append(f"  ({r['note']})")
    return L


def seams_lines(r: dict[str, Any]) -> Lines:
    return [f"seams ({r['clips']} clips of {r['clip_seconds']:g} s; within {r['window_s']} s of a join vs elsewhere):",
            f"  generated F1 near {fmt(r['f1_near'], '.3f')} | elsewhere {fmt(r['f1_elsewhere'], '.3f')} | "
            f"gap {fmt(r['gap'], '.3f')}  (ground truth {fmt(r['ground_truth_f1_near'], '.3f')} | "
            f"{fmt(r['ground_truth_f1_elsewhere'], '.3f')}); counts {r['counts']}"]


def snr_lines(r: dict[str, Any]) -> Lines:
    return [f"PyTorch vs onnxruntime pipelines, same seed ({fmt(r.get('seconds'), 'g')} s): SNR {fmt(r['snr_db'], '.1f')} dB "
            f"(target >= 30)" + (f"; graph max |diff| {r['graph_max_abs_diff']}" if r.get("graph_max_abs_diff") else "")]


def tuning_lines(r: dict[str, Any]) -> Lines:
    L = [f"session options, median ms per call ({r['note']}):"]
    for graph in ("velocity", "vocoder"):
        L.append(f"  {graph:<9} " + " | ".join(f"{k}: {v['median_ms']:.2f}" for k, v in r[graph].items()))
    if "e2e_spinning" in r:
        e = r["e2e_spinning"]
        L.append(f"  end to end with spinning on (onnxruntime's default): {e['wall_seconds']:.2f} s = "
                 f"{e['x_real_time']:.1f}x real time")
    return L


def variants_lines(r: dict[str, Any]) -> Lines:
    L = ["variants (CPU): velocity ms, vocoder ms, F1@0.1, F1@0.05 (default steps | half), audio SNR vs fp32, "
         "end to end (default steps | half)"]
    for k, v in r.items():
        e2e = (f"{v['e2e_wall_seconds']:.2f} s = {v['e2e_x_real_time']:.1f}x | {v['e2e_wall_seconds_half_steps']:.2f} s "
               f"= {v['e2e_x_real_time_half_steps']:.1f}x" if "e2e_wall_seconds" in v else "-")
        errs = ", ".join(f"{g} {e:.3f}" for g, e in v["graph_rel_err"].items()) if k != "fp32" else ""
        L.append(f"  {k:<5} {v['velocity_ms']:7.2f} {v['vocoder_ms']:7.2f}   {v['f1']:.3f}  {v['f1_050']:.3f} | "
                 f"{v['f1_half_steps']:.3f}  {v['f1_050_half_steps']:.3f}  "
                 f"{fmt(v['audio_snr_db_vs_fp32'], '.1f')} dB  {e2e}" + (f"  (relative error: {errs})" if errs else ""))
    return L


SECTION_LINES: dict[str, Callable[[dict[str, Any]], Lines]] = {
    "velocity": velocity_lines, "flops": flops_lines, "e2e": e2e_lines, "rss": rss_lines, "decode": decode_lines,
    "steps": steps_lines, "samplers": samplers_lines, "seams": seams_lines, "snr": snr_lines, "tuning": tuning_lines, "variants": variants_lines,
}


def format_section(name: str, r: dict[str, Any]) -> Lines:
    """The report's lines for section ``name`` (none for a name that is not a section)."""
    lines = SECTION_LINES.get(name)
    return lines(r) if lines is not None else []


def format_report(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"Foley-Flow bench: {result['model']['name']} ({result['package']}) on {m['cpu']}, {m['cores']} cores, "
             f"onnxruntime {m['onnxruntime']}, torch {m['torch']}; load average at start {m['loadavg_start']}", ""]
    for name in SECTIONS:
        if name in result:
            lines += format_section(name, result[name]) + [""]
    return "\n".join(lines)
