"""Where a plan's jobs run: this process (:class:`LocalExecutor`), or a Ray cluster (:class:`RayExecutor`).

Both return a :class:`~foleyflow.plugin.service.RunReport` in timeline order; placing and the write of
the timeline stay with the caller (``service.execute`` -> ``service.save``, in the driver).

On Ray each clip is one task: the worker imports ``foleyflow.plugin``, loads the engine once per
worker process (cached, and only when a clip needs generating) and runs ``run-job``'s function
(:func:`foleyflow.plugin.farm.run_job`: THE run loop with one job, idempotent by the take key). A
task that Ray itself fails (a worker that died, a task error) is reported like any failed clip.
``ray`` is imported only here, only when a RayExecutor runs (the ``farm`` extra).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foleyflow.runtime.errors import FoleyFlowError

from . import farm, service
from .events import Cancel, ClipStatus, Event, EventKind, EventSink
from .generate import Engine
from .selection import Job

log = logging.getLogger(__name__)

RAY_INSTALL_HINT = "pip install 'foley-flow[farm]' (ray==2.60.0)"


@dataclass
class LocalExecutor:
    """The jobs one after another in this process, on ``engine`` (service.run itself)."""

    engine: Engine | service.EngineLoader
    model: Any = None  # takekey.ModelIdentity, needed with a loader

    def run(self, plan_: service.RunPlan, on_event: EventSink | None = None, cancel: Cancel | None = None,
            force: bool = False) -> service.RunReport:
        return service.run(self.engine, plan_.runnable, plan_.wav_dir, plan_.request.options, on_event, cancel,
                           force=force, model=self.model)


class RayUnavailableError(FoleyFlowError):
    """--executor ray, but ray is not installed or the cluster cannot be reached."""


# -- the worker's side ------------------------------------------------------------------------------
_ENGINES: dict[tuple[str, str], Engine] = {}  # per worker process: (model, provider) -> loaded engine


def _worker_engine(model: str, provider: str) -> Engine:
    key = (model, provider)
    if key not in _ENGINES:
        _ENGINES[key] = Engine.load(model, provider=provider)
    return _ENGINES[key]


def ray_clip(jobs_doc: dict[str, Any], clip_id: str, force: bool) -> dict[str, Any]:
    """One clip as a Ray task (runs in the worker): run-job's function, the result as plain data."""
    jobs = farm.JobList.from_dict(jobs_doc)
    result = farm.run_job(jobs, clip_id, engine=lambda: _worker_engine(str(jobs.model), jobs.provider), force=force)
    return farm.result_to_dict(result)


# -- the driver's side -------------------------------------------------------------------------------
@dataclass
class RayExecutor:
    """Each runnable clip a Ray task; a local cluster of ``num_cpus`` unless ``address`` names one."""

    model: Path
    provider: str = "auto"
    address: str | None = None
    num_cpus: int | None = None
    poll_s: float = 0.2  # how often a cancel is looked at while tasks run

    def run(self, plan_: service.RunPlan, on_event: EventSink | None = None, cancel: Cancel | None = None,
            force: bool = False) -> service.RunReport:
        try:
            import ray
        except ImportError as exc:
            raise RayUnavailableError(f"--executor ray needs ray: {RAY_INSTALL_HINT} ({exc})") from exc
        emit = on_event or (lambda _e: None)
        asked = cancel or (lambda: False)
        runnable = plan_.runnable
        total = len(runnable)
        doc = farm.job_list(plan_, self.model, self.provider).to_dict()
        report = service.RunReport()
        started = time.perf_counter()
        temp_dir, ours = self._init(ray)
        try:
            task = ray.remote(num_cpus=1, max_retries=0)(ray_clip)
            pending: dict[Any, tuple[int, Job]] = {}
            for i, job in enumerate(runnable):
                pending[task.remote(doc, job.info.id, force)] = (i, job)
                emit(Event(EventKind.CLIP_START, i, total, job))
            results: list[tuple[int, service.ClipResult]] = []
            while pending:
                if asked():
                    for ref in pending:
                        ray.cancel(ref, force=True)
                    for i, job in pending.values():
                        results.append((i, service.ClipResult(job, ClipStatus.CANCELLED, None, "cancelled")))
                        emit(Event(EventKind.CLIP_CANCELLED, i, total, job, message="cancelled"))
                    report.cancelled, report.cancel_message = True, f"cancelled with {len(pending)} clip(s) to go"
                    pending.clear()
                    break
                done, _ = ray.wait(list(pending), num_returns=1, timeout=self.poll_s)
                for ref in done:
                    i, job = pending.pop(ref)
                    result = self._result(ray, ref, job)
                    results.append((i, result))
                    if result.ok:
                        emit(Event(EventKind.CLIP_DONE, i, total, job, take=result.take))
                    else:
                        emit(Event(EventKind.CLIP_FAILED, i, total, job, message=result.error))
            report.results = [r for _i, r in sorted(results, key=lambda ir: ir[0])]
        finally:
            report.wall_s = time.perf_counter() - started
            if ours:
                ray.shutdown()
                if temp_dir is not None:
                    shutil.rmtree(temp_dir, ignore_errors=True)
        return report

    def _init(self, ray: Any) -> tuple[str | None, bool]:
        """Start (or connect to) a cluster unless this process already has one: (its temp dir, ours?)."""
        if ray.is_initialized():
            return None, False
        try:
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
                return None, True
            temp_dir = tempfile.mkdtemp(prefix="ffray-")  # short: Ray's socket paths must fit 107 bytes
            ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                     _temp_dir=temp_dir)
            log.info("started a local Ray cluster (%s CPUs; logs under %s)", self.num_cpus or os.cpu_count(),
                     temp_dir)
            return temp_dir, True
        except Exception as exc:  # ConnectionError, RuntimeError, ...: said as one line
            raise RayUnavailableError(f"cannot start or reach the Ray cluster "
                                      f"{self.address or '(local)'}: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _result(ray: Any, ref: Any, job: Job) -> service.ClipResult:
        try:
            return farm.result_from_dict(job, ray.get(ref))
        except Exception as exc:  # RayTaskError, WorkerCrashedError, ...: this clip failed, the others go on
            cause = getattr(exc, "cause", None)
            message = service.failure_message(cause if isinstance(cause, BaseException) else exc)
            return service.ClipResult(job, ClipStatus.FAILED, None, f"on Ray: {message}")
