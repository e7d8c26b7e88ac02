"""The benchmark of Foley-Flow (``foleyflow bench``): speed, memory and quality measured side by side
in one run. It may use every other side (runtime, plugin, world, export); nothing imports it."""
