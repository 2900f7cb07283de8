"""The findings stage: strict parsing and validation of the model's answers against the chunk,
the coverage accounting, the findings document on disk and the verdict (exit code) it means."""
