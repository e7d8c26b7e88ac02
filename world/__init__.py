"""The synthetic Foley world: scenes of objects that hit, bounce, scrape and spin, rendered to frames
in more than one look, with their events voiced and the ground truth kept.

Torch-free (numpy only), so that the demo, the benchmarks and training all use it; it imports no
other foleyflow package. Writing its clips to video files is the plugin's writer's job
(:mod:`foleyflow.plugin.video_out`), called by whoever needs a file (the demo, the benchmarks).
"""
