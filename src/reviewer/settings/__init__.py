"""The run's settings: flags, environment and the base revision's config file, and the
defaults they fall back to."""
