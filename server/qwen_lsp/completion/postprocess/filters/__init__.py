"""The post-processing filters, one per file, each named after the note it leaves on the
suggestion it changes; the order they run in is ``postprocess/pipeline.py``."""
