"""The plan stage: select the diff source, parse, filter and chunk within the run's budget;
everything the review loop and the dry run need before any model call."""
