"""The run's settings: the base revision's config file, the small typed slices each stage takes
(slices.py), and the defaults they fall back to, each written once."""
