"""The main job in two steps, under the names scripts have used: :mod:`foleyflow.plugin.service`'s.

``plan_run`` is :func:`~foleyflow.plugin.service.plan` (read, select, resolve, check the output;
a dry run stops there) and ``execute`` is :func:`~foleyflow.plugin.service.execute` (the one run
loop, then the one save path)::

    request --plan_run--> RunPlan (timeline, jobs, output adapter, WAV folder)
    RunPlan + Engine --execute--> Outcome (takes, failures, written timeline)

Nothing lives here: new code imports the service.
"""

from __future__ import annotations

from .service import (
    GenerateRequest,
    Outcome,
    RunPlan,
    execute,
    missing_lines,
    nothing_to_do_message,
    preflight,
)
from .service import plan as plan_run

__all__ = ["GenerateRequest", "Outcome", "RunPlan", "execute", "missing_lines", "nothing_to_do_message",
           "plan_run", "preflight"]
