"""The worker thread: progress and the result arrive as signals; cancel and stop end it cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_fixtures import FakeCache, engines, make_timeline, wav_files  # noqa: F401 (engines is a fixture)

from foleyflow.plugin.generate import GenerateOptions
from foleyflow.ui import engine
from foleyflow.ui.engine import EngineCache, RunSettings
from foleyflow.ui.worker import GenerateThread


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_timeline(tmp_path_factory.mktemp("cut"), [[("a", 2.0, True), ("b", 2.0, True)]])


def test_a_run_reports_progress_then_its_result(qtbot, cut, tmp_path, fake_engine):
    doc = engine.open_document(cut)
    thread = GenerateThread(FakeCache(fake_engine), RunSettings("", "auto", GenerateOptions(), tmp_path), doc.jobs)
    seen = []
    thread.progressed.connect(lambda p: seen.append(p.kind))
    with qtbot.waitSignal(thread.completed, timeout=30_000) as got:
        thread.start()
    thread.wait()
    assert set(got.args[0].takes) == {"V1:0", "V1:1"}
    assert seen[0] == "loading" and seen.count("clip-done") == 2


def test_cancel_before_the_first_segment(qtbot, cut, tmp_path, fake_engine):
    doc = engine.open_document(cut)
    thread = GenerateThread(FakeCache(fake_engine), RunSettings("", "auto", GenerateOptions(), tmp_path), doc.jobs)
    thread.cancel()
    assert thread.cancel_requested
    with qtbot.waitSignal(thread.completed, timeout=30_000) as got:
        thread.start()
    thread.stop()
    assert got.args[0].cancelled and not got.args[0].takes and wav_files(tmp_path) == []


def test_an_unexpected_error_is_a_result_not_a_crash(qtbot, cut, tmp_path):
    class Broken(EngineCache):
        def get(self, package, provider="auto"):
            raise RuntimeError("boom")

    doc = engine.open_document(cut)
    thread = GenerateThread(Broken(), RunSettings("", "auto", GenerateOptions(), tmp_path), doc.jobs)
    with qtbot.waitSignal(thread.completed, timeout=30_000) as got:
        thread.start()
    thread.wait()
    assert "RuntimeError: boom" in got.args[0].error


def test_stop_on_a_running_thread_waits_for_it(qtbot, cut, tmp_path, engines):  # noqa: F811
    doc = engine.open_document(cut)
    thread = GenerateThread(engines, RunSettings("", "auto", GenerateOptions(steps=2), tmp_path), doc.jobs)
    with qtbot.waitSignal(thread.progressed, timeout=30_000):
        thread.start()
    thread.stop()
    assert thread.isFinished()

