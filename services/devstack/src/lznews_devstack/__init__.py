"""lznews development tooling: the embedded stack, the main job on one machine, the mirror."""
