"""The review stage: the run from plan to document (pipeline), the model loop, the response
cache, progress, signals, the dry run and `doctor`'s preflight checks."""
