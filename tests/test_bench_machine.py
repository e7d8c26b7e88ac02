"""benchmarks.machine: the report's machine line names what really ran."""

import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from foleyflow.benchmarks.machine import cpu_name, load_average, machine_info


def test_machine_info_names_the_libraries_and_cores_of_this_process():
    import torch

    m = machine_info()
    assert (m["numpy"], m["onnxruntime"], m["torch"], m["cores"]) == (np.__version__, ort.__version__,
                                                                      torch.__version__, os.cpu_count())
    assert m["cpu"] == cpu_name() and m["cpu"]
    assert len(m["loadavg_start"]) == 3 and load_average() is not None


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="Linux only")
def test_the_cpu_is_the_model_name_of_proc_cpuinfo():
    line = next(ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name"))
    assert cpu_name() == line.split(":", 1)[1].strip()
