"""The tiny prompt model (tiny_prompts) with a few-step student: distilled for seconds, exported twice."""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

from tiny_prompts import prompt_config, prompt_package, prompt_workdir


@functools.cache
def student_workdir() -> Path:
    """A copy of the tiny prompt workdir with a student (distill 20 steps, 2 default steps) and its package
    ``package`` (the student the default sampler); ``teacher_only`` links the prompt package (the same teacher,
    exported from a workdir without a student)."""
    from foleyflow.export.distill import stage_distill
    from foleyflow.export.onnx_export import export_package

    workdir = Path(tempfile.mkdtemp(prefix="foleyflow-tiny-student-")) / "w"
    shutil.copytree(prompt_workdir(), workdir)
    stage_distill(prompt_config(("distill.steps=20", "distill.batch_size=4", "distill.lr=3e-3",
                                 "distill.warmup=1", "distill.student_steps=2")), workdir)
    export_package(workdir, workdir / "package", name="tiny-student")
    (workdir / "teacher_only").symlink_to(prompt_package(), target_is_directory=True)
    return workdir
