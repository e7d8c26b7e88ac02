"""Foley-Flow for Blender's Video Sequencer: Foley for the selected movie strips, as sound strips.

The add-on runs the installed ``foleyflow generate`` command as a subprocess on an
OTIO timeline it writes from the selected movie strips, then reads the output
timeline back and adds one sound strip per take on free channels above the movies,
on the movie strips' frames. Blender's own Python needs neither torch, ONNX Runtime
nor OpenTimelineIO: the pure logic lives in :mod:`.core` (no ``bpy``).

From the UI (Sequencer > Sidebar > Foley) the operator is modal: the status bar
shows progress and Esc cancels. From a script, ``bpy.ops.sequencer.foleyflow_generate()``
runs to completion and returns ``{'FINISHED'}`` (or ``{'CANCELLED'}`` with an error
report).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import bpy
from bpy.props import BoolProperty, IntProperty, PointerProperty, StringProperty

from . import core

bl_info = {
    "name": "Foley-Flow",
    "author": "Foley-Flow",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "Sequencer > Sidebar > Foley",
    "description": "Generate Foley for the selected movie strips with the installed foleyflow command",
    "category": "Sequencer",
}

ADDON = __package__ or __name__
EXE_ENV = "FOLEYFLOW_EXE"
PROP_SOURCE = "foleyflow_source"  # on a sound strip: the movie strip it is Foley for
PROP_CLIP, PROP_SEED, PROP_VARIATION = "foleyflow_clip", "foleyflow_seed", "foleyflow_variation"


# -- settings -------------------------------------------------------------------------------
class FoleyFlowPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON

    executable: StringProperty(
        name="foleyflow executable", subtype="FILE_PATH", default="",
        description=f"The foleyflow command (e.g. /path/to/venv/bin/foleyflow). Empty: ${EXE_ENV}, "
                    "else foleyflow on PATH")

    def draw(self, context):
        self.layout.prop(self, "executable")
        found, where = find_executable(self.executable)
        self.layout.label(text=f"Using {found} ({where})" if found else f"Not found: {where}",
                          icon="CHECKMARK" if found else "ERROR")


class FoleyFlowSettings(bpy.types.PropertyGroup):
    model: StringProperty(name="Model", subtype="DIR_PATH", default="",
                          description="Model package folder. Empty: the bundled default model")
    steps: IntProperty(name="Steps", default=0, min=0, max=256,
                       description="Sampler steps. 0: the model's default")
    seed: IntProperty(name="Seed", default=0, min=0, description="Random seed; variations use seed, seed+1, ...")
    variations: IntProperty(name="Variations", default=1, min=1, max=16,
                            description="Takes per strip: the first is heard, the others are added muted")
    sound_prompt: StringProperty(
        name="Sound prompt", default="",
        description="Category of sound to generate (e.g. 'footsteps'). Passed as --sound only when set; "
                    "needs a foleyflow that has --sound")
    output_dir: StringProperty(
        name="Output folder", subtype="DIR_PATH", default="",
        description="Where timelines and takes go. Empty: 'foleyflow' beside the saved .blend, "
                    "else the system's temporary folder")


def find_executable(preference: str = "") -> tuple[str | None, str]:
    """(the foleyflow executable or None, where it came from / what was looked for)."""
    if preference.strip():
        path = bpy.path.abspath(preference.strip())
        ok = os.path.isfile(path) and os.access(path, os.X_OK)
        return (path if ok else None), (f"the add-on preference: {path}" if ok else
                                        f"the add-on's preference names {path}, which is not an executable file")
    env = os.environ.get(EXE_ENV, "").strip()
    if env:
        path = shutil.which(env) or (env if os.path.isfile(env) and os.access(env, os.X_OK) else None)
        return path, (f"${EXE_ENV}" if path else f"${EXE_ENV} names {env}, which is not an executable file")
    path = shutil.which("foleyflow")
    return path, ("PATH" if path else "no foleyflow on PATH; set the executable in the add-on's preferences "
                  f"or ${EXE_ENV}")


def _preference() -> str:
    addon = bpy.context.preferences.addons.get(ADDON)
    return addon.preferences.executable if addon and addon.preferences else ""


# -- the run ------------------------------------------------------------------------------------
class Run:
    """One foleyflow subprocess: its files, its command, and what it printed."""

    def __init__(self, scene, written: core.Written, folder: str, cmd_for, opts: core.Options,
                 movies: list[str], reroll: bool) -> None:
        self.scene_name = scene.name
        self.written = written
        self.folder = folder
        self.timeline = os.path.join(folder, "timeline.otio")
        self.output = os.path.join(folder, "takes.otio")
        self.cmd = cmd_for(self.timeline, self.output)
        self.opts = opts
        self.movies = movies
        self.reroll = reroll
        self.proc: subprocess.Popen | None = None
        self.threads: list[threading.Thread] = []
        self.out_lines: list[str] = []
        self.err_lines: list[str] = []
        self.done, self.total = 0, len(written.clip_strips)
        self.cancelled = False  # the user asked to stop: whatever the exit code, nothing is placed
        with open(self.timeline, "w", encoding="utf-8") as fh:
            json.dump(written.doc, fh, indent=2)

    def _env(self) -> dict:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("PYTHONHOME", None)  # Blender's, not the foleyflow interpreter's
        return env

    def run_blocking(self) -> int:
        res = subprocess.run(self.cmd, capture_output=True, text=True, encoding="utf-8",
                             errors="replace", env=self._env(), cwd=self.folder, stdin=subprocess.DEVNULL)
        self.out_lines, self.err_lines = res.stdout.splitlines(), res.stderr.splitlines()
        return res.returncode

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     encoding="utf-8", errors="replace", env=self._env(), cwd=self.folder,
                                     stdin=subprocess.DEVNULL, bufsize=1)
        for stream, sink in ((self.proc.stdout, self.out_lines), (self.proc.stderr, self.err_lines)):
            thread = threading.Thread(target=self._pump, args=(stream, sink), daemon=True)
            thread.start()
            self.threads.append(thread)

    def join(self, timeout: float = 5.0) -> int:
        """Wait for the process and its output; its return code."""
        rc = self.proc.wait()
        for thread in self.threads:
            thread.join(timeout)
        return rc

    def _pump(self, stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
            got = core.progress(line)
            if got:
                self.done, self.total = got

    def cancel(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.cancelled = True
        try:
            self.proc.send_signal(signal.SIGINT if os.name == "posix" else signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            self.proc.kill()
            self.proc.wait()

    @property
    def stderr(self) -> str:
        return "\n".join(self.err_lines)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "scene"


def _output_base(settings) -> str:
    if settings.output_dir.strip():
        return bpy.path.abspath(settings.output_dir.strip())
    if bpy.data.filepath:
        return os.path.join(os.path.dirname(bpy.path.abspath(bpy.data.filepath)), "foleyflow")
    return os.path.join(tempfile.gettempdir(), "foleyflow_blender")


def _strips_of(scene):
    se = scene.sequence_editor
    if se is None:
        return []
    return list(se.meta_stack[-1].sequences) if len(se.meta_stack) else list(se.sequences)


def _movie_strip(strip) -> core.MovieStrip:
    path = bpy.path.abspath(strip.filepath)
    if not strip.filepath or not os.path.isfile(path):
        raise core.HostError(f"strip {strip.name!r}: its movie file is missing ({path or 'no file'})")
    return core.MovieStrip(
        name=strip.name, path=os.path.normpath(path), channel=strip.channel, frame_start=strip.frame_start,
        frame_final_start=strip.frame_final_start, frame_final_end=strip.frame_final_end,
        movie_frames=strip.frame_duration + strip.animation_offset_start + strip.animation_offset_end,
        movie_fps=strip.fps, animation_offset_start=strip.animation_offset_start,
        speed_factor=getattr(strip, "speed_factor", 1.0))


def prepare(context, reroll: bool) -> Run:
    """Everything before the subprocess: the selection, the executable, the timeline file. HostError if not."""
    scene = context.scene
    settings = scene.foleyflow
    selected = [s for s in _strips_of(scene) if s.select]
    movies = [s for s in selected if s.type == "MOVIE"]
    if not movies:
        what = f"{len(selected)} selected strip(s), none a movie" if selected else "nothing is selected"
        raise core.HostError(f"select one or more movie strips in the Sequencer ({what})")
    exe, where = find_executable(_preference())
    if exe is None:
        raise core.HostError(f"foleyflow executable not found: {where}")
    strips = [_movie_strip(s) for s in movies]
    rate = core.scene_rate(scene.render.fps, scene.render.fps_base)
    written = core.build_timeline(strips, rate, scene.frame_start, name=scene.name)
    if reroll:
        settings.seed = settings.seed + max(1, settings.variations)
    model = bpy.path.abspath(settings.model.strip()) if settings.model.strip() else ""
    opts = core.Options(steps=settings.steps, seed=settings.seed, variations=settings.variations,
                        model=model, sound=settings.sound_prompt)
    base = _output_base(settings)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        os.makedirs(base, exist_ok=True)
        folder = tempfile.mkdtemp(prefix=f"{_safe(scene.name)}_{stamp}_", dir=base)
    except OSError as exc:
        raise core.HostError(f"cannot make the output folder under {base}: {exc.strerror or exc}") from None
    return Run(scene, written, folder, lambda tl, out: core.command(exe, tl, out, opts), opts,
               [s.name for s in movies], reroll)


def finish(run: Run, returncode: int) -> tuple[int, list[str]]:
    """Read the takes back and add their sound strips. (strips added, warnings); HostError if nothing came."""
    if run.cancelled:  # a stop asked for, even one that landed before the CLI could say so (exit 1 at startup)
        raise core.HostError(core.error_line("", 130))
    if returncode not in (0, 4):
        raise core.HostError(core.error_line(run.stderr, returncode))
    if not os.path.isfile(run.output):
        raise core.HostError(f"foleyflow wrote no output timeline ({run.output})")
    try:
        with open(run.output, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise core.HostError(f"cannot read foleyflow's output {run.output}: {exc}") from None
    takes = core.read_takes(doc, os.path.dirname(run.output))
    warnings = core.failed_lines(run.stderr)
    scene = bpy.data.scenes.get(run.scene_name)
    if scene is None or scene.sequence_editor is None:
        raise core.HostError(f"scene {run.scene_name!r} is gone")
    added = place_takes(scene, run, takes, warnings)
    if not added:
        raise core.HostError("; ".join(warnings) or "foleyflow made no takes for the selected strips")
    return added, warnings


def place_takes(scene, run: Run, takes: list[core.Take], warnings: list[str]) -> int:
    se = scene.sequence_editor
    strips = {s.name: s for s in _strips_of(scene)}
    rate, origin = run.written.rate, run.written.origin
    by_movie: dict[str, list[core.Take]] = {}
    for take in takes:
        name = run.written.clip_strips.get(take.source_clip)
        if name is None:
            continue
        if name not in strips:
            warnings.append(f"strip {name!r} is gone; its take is not placed")
            continue
        by_movie.setdefault(name, []).append(take)
    if not by_movie:
        return 0
    # re-roll: the new takes replace the previous Foley strips of the same movie strips
    if run.reroll:
        for s in list(_strips_of(scene)):
            if s.type == "SOUND" and s.get(PROP_SOURCE) in by_movie:
                se.sequences.remove(s)
    occupied = [(s.channel, s.frame_final_start, s.frame_final_end) for s in _strips_of(scene)]
    lowest = max(strips[n].channel for n in run.movies if n in strips) + 1
    added = 0
    for name in sorted(by_movie, key=lambda n: (strips[n].channel, strips[n].frame_final_start)):
        movie = strips[name]
        start, end = movie.frame_final_start, movie.frame_final_end
        for take in by_movie[name]:
            got_start, got_end = take.frames(rate, origin)
            if abs(got_start - start) > 0.5 or abs(got_end - end) > 0.5:
                warnings.append(f"{name}: the take sits at frames {float(got_start):g}-{float(got_end):g}, "
                                f"the strip at {start}-{end}; placed on the strip")
            for f in take.files:
                if not os.path.isfile(f.path):
                    warnings.append(f"{name}: take file missing: {f.path}")
                    continue
                channel = core.free_channel(occupied, start, end, lowest)
                label = f"Foley {name}" if len(take.files) == 1 else f"Foley {name} v{f.variation}"
                snd = se.sequences.new_sound(label, f.path, channel, start)
                snd.frame_final_end = end  # the WAV may round a sample short of the last frame
                if snd.frame_final_start != start:
                    snd.frame_start += start - snd.frame_final_start
                snd.mute = not f.active
                snd.select = False
                snd[PROP_SOURCE] = name
                snd[PROP_CLIP] = take.source_clip
                if f.seed is not None:
                    snd[PROP_SEED] = int(f.seed)
                snd[PROP_VARIATION] = f.variation
                occupied.append((channel, start, end))
                added += 1
    return added


# -- the operator --------------------------------------------------------------------------------
class SEQUENCER_OT_foleyflow_generate(bpy.types.Operator):
    """Generate Foley for the selected movie strips and add it as sound strips above them"""

    bl_idname = "sequencer.foleyflow_generate"
    bl_label = "Generate Foley"
    bl_options = {"REGISTER", "UNDO"}

    reroll: BoolProperty(name="Re-roll", default=False, options={"SKIP_SAVE"},
                         description="Generate again with a new seed (seed + variations), replacing the "
                                     "selected strips' previous Foley strips")

    _run = None
    _timer = None

    @classmethod
    def poll(cls, context):
        return context.scene is not None

    def execute(self, context):
        try:
            run = prepare(context, self.reroll)
            rc = run.run_blocking()
        except core.HostError as exc:
            return self._fail(str(exc))
        except OSError as exc:
            return self._fail(f"cannot run foleyflow: {exc.strerror or exc}")
        except Exception as exc:  # a bug of ours: one line in the report, the traceback on the console only
            return self._unexpected(exc)
        return self._done(run, rc)

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        try:
            run = prepare(context, self.reroll)
            run.start()
        except core.HostError as exc:
            return self._fail(str(exc))
        except OSError as exc:
            return self._fail(f"cannot run foleyflow: {exc.strerror or exc}")
        except Exception as exc:
            return self._unexpected(exc)
        self._run = run
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.25, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, max(1, run.total))
        self._status(context, f"Foley-Flow: generating {run.total} clip(s)... (Esc cancels)")
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        run = self._run
        if event.type == "ESC" and event.value == "PRESS":
            run.cancel()
            self._cleanup(context)
            self.report({"WARNING"}, "Foley-Flow: cancelled")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        rc = run.proc.poll()
        context.window_manager.progress_update(run.done)
        if rc is None:
            self._status(context, f"Foley-Flow: {run.done}/{run.total} clip(s) done... (Esc cancels)")
            return {"PASS_THROUGH"}
        rc = run.join()  # the reader threads take the last lines
        self._cleanup(context)
        return self._done(run, rc)

    def cancel(self, context):  # Blender closes the window or file while running
        if self._run is not None:
            self._run.cancel()
        self._cleanup(context)

    # helpers
    def _done(self, run: Run, rc: int):
        try:
            added, warnings = finish(run, rc)
        except core.HostError as exc:
            return self._fail(str(exc))
        except Exception as exc:
            return self._unexpected(exc)
        for w in warnings:
            self.report({"WARNING"}, w)
        self.report({"INFO"}, f"Foley-Flow: {added} sound strip(s) added (seed {run.opts.seed}); "
                              f"files in {run.folder}")
        return {"FINISHED"}

    def _fail(self, message: str):
        self.report({"ERROR"}, message)
        return {"CANCELLED"}

    def _unexpected(self, exc: Exception):
        print("Foley-Flow: unexpected error:\n" + "".join(traceback.format_exception(exc)), file=sys.stderr)
        return self._fail(f"Foley-Flow: unexpected error ({type(exc).__name__}: {exc}); details on the console")

    def _status(self, context, text: str | None) -> None:
        if context.workspace is not None:
            context.workspace.status_text_set(text)
        if context.area is not None:
            context.area.tag_redraw()

    def _cleanup(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        self._status(context, None)


# -- the panel ---------------------------------------------------------------------------------
class SEQUENCER_PT_foleyflow(bpy.types.Panel):
    bl_space_type = "SEQUENCE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Foley"
    bl_label = "Foley-Flow"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.foleyflow
        col = layout.column()
        col.prop(settings, "model")
        col.prop(settings, "steps")
        col.prop(settings, "seed")
        col.prop(settings, "variations")
        col.prop(settings, "sound_prompt")
        col.prop(settings, "output_dir")
        row = layout.row(align=True)
        row.scale_y = 1.3
        row.operator(SEQUENCER_OT_foleyflow_generate.bl_idname, text="Generate", icon="SPEAKER").reroll = False
        row.operator(SEQUENCER_OT_foleyflow_generate.bl_idname, text="Re-roll", icon="FILE_REFRESH").reroll = True
        movies = [s for s in _strips_of(context.scene) if s.select and s.type == "MOVIE"]
        layout.label(text=f"{len(movies)} movie strip(s) selected")
        exe, where = find_executable(_preference())
        if exe is None:
            layout.label(text="foleyflow not found: see the add-on's preferences", icon="ERROR")


CLASSES = (FoleyFlowPreferences, FoleyFlowSettings, SEQUENCER_OT_foleyflow_generate, SEQUENCER_PT_foleyflow)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.foleyflow = PointerProperty(type=FoleyFlowSettings)


def unregister():
    del bpy.types.Scene.foleyflow
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
