"""benchmarks.samplers: the teacher and the student side by side, on the same clips."""

from tiny_student import student_workdir
from tiny_training import exported_tiny

from foleyflow.benchmarks.config import BenchConfig
from foleyflow.benchmarks.report import format_section
from foleyflow.benchmarks.samplers import bench_samplers, contenders
from foleyflow.benchmarks.steps import eval_clips
from foleyflow.runtime.session import FoleyModel


class Counting:
    def __init__(self, model):
        self.model, self.spec, self.calls = model, model.spec, {"velocity": 0, "student": 0}

    def __getattr__(self, name):
        return getattr(self.model, name)

    def velocity(self, *a):
        self.calls["velocity"] += 1
        return self.model.velocity(*a)

    def student_velocity(self, *a):
        self.calls["student"] += 1
        return self.model.student_velocity(*a)


def test_the_contenders_are_the_teacher_then_the_students_steps():
    class Spec:
        default_steps, student_steps = 8, 2

    assert contenders(Spec, (1, 4, 16)) == [("teacher", 8), ("student", 1), ("student", 2), ("student", 4)]
    Spec.student_steps = 0
    assert contenders(Spec, (1, 4)) == [("teacher", 8)]


def test_teacher_and_student_rows_on_the_same_clips():
    model = Counting(FoleyModel.load(student_workdir() / "package", provider="cpu", threads=1))
    cfg = BenchConfig.quick(student_workdir() / "package")
    clips = eval_clips(model.spec, 2)
    r = bench_samplers(model, cfg, clips)
    rows = {(x["sampler"], x["steps"]): x for x in r["rows"]}
    assert list(rows) == [("teacher", 8), ("student", 1), ("student", 2)] and r["clips"] == 2
    w = r["windows"]
    assert model.calls == {"velocity": 8 * w, "student": (1 + 2) * w}  # every clip through every contender
    assert rows[("teacher", 8)]["speedup"] == 1.0 and rows[("teacher", 8)]["rows_per_step"] == 2
    for x in r["rows"]:
        assert x["seconds_per_audio_second"] > 0 and 0.0 <= x["f1"] <= 1.0
    text = "\n".join(format_section("samplers", r))
    assert "samplers, side by side (2 held-out clips" in text and "student" in text


def test_a_package_without_a_student_gets_the_teachers_row_and_says_why():
    model = FoleyModel.load(exported_tiny(), provider="cpu", threads=1)
    r = bench_samplers(model, BenchConfig.quick(exported_tiny()), eval_clips(model.spec, 1))
    assert [x["sampler"] for x in r["rows"]] == ["teacher"] and "no few-step student" in r["note"]
    assert "no few-step student" in "\n".join(format_section("samplers", r))
