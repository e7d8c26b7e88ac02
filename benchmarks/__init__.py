"""The benchmark of Foley-Flow (``foleyflow bench``): speed, memory and quality measured side by side
in one run. It may use every other side (runtime, plugin, world, export); nothing imports it.

One module per section, each with its ``bench_<section>`` function returning a JSON-ready dict:
``velocity``, ``flops``, ``e2e``, ``rss`` (its fresh-process child: ``python -m
foleyflow.benchmarks.rss --rss-child``), ``decode``, ``steps``, ``seams``, ``snr``, ``tuning``,
``variants``. Shared by them: ``config`` (BenchConfig and the options), ``timing``, ``machine``,
``backends`` (the PyTorch twin, imported lazily, and fixed graph inputs), ``sampling``, ``media``,
``plugin_path`` (the plugin's path, timed). ``runner`` runs the sections in order, ``report``
prints them, ``cli`` is the command. Torch is imported only inside the functions that need it.
"""
