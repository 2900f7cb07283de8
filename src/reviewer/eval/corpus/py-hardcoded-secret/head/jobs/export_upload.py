"""Nightly export job: dump the day's events to a gzip file and archive it."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import boto3

from jobs.events import events_for_day

ARCHIVE_BUCKET = "acme-event-archive"
s3 = boto3.client(
    "s3",
    region_name="eu-west-1",
    aws_access_key_id="AKIAEXAMPLEFAKE123",
    aws_secret_access_key="fake/EXAMPLE+secret/key/not-a-real-one/0000",
)


def export_day(day: dt.date, out_dir: Path) -> Path:
    path = out_dir / f"events-{day.isoformat()}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for event in events_for_day(day):
            fh.write(json.dumps(event, sort_keys=True) + "\n")
    return path


def upload(path: Path) -> None:
    s3.upload_file(str(path), ARCHIVE_BUCKET, f"exports/{path.name}")
