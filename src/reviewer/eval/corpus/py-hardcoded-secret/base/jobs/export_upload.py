"""Nightly export job: dump the day's events to a gzip file."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

from jobs.events import events_for_day


def export_day(day: dt.date, out_dir: Path) -> Path:
    path = out_dir / f"events-{day.isoformat()}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for event in events_for_day(day):
            fh.write(json.dumps(event, sort_keys=True) + "\n")
    return path
