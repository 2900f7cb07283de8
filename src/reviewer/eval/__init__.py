"""`reviewer eval`: a labelled corpus reviewed by the real pipeline, its findings matched to
the labels by file and line, scored, and reported (docs/evaluation.md)."""
