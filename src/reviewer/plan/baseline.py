"""The baseline: findings the team has accepted, by fingerprint, that a review does not report
again. Read from the base revision like the config (a pull request cannot accept its own
findings), one fingerprint per line; `reviewer report --format baseline` writes one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from reviewer.errors import ConfigError
from reviewer.models import Finding
from reviewer.settings.config import DEFAULT_BASELINE, RepoConfig

MAX_BASELINE_BYTES = 1024 * 1024
MAX_BASELINE_ENTRIES = 10_000
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")  # findings.answer.fingerprint


class BaselineReader(Protocol):
    """What the baseline is read through: the diff source's trusted revision (plan.build's
    ConfigReader)."""

    def config_text(self, name: str) -> str | None: ...


def read_baseline(config: RepoConfig, reader: BaselineReader) -> frozenset[str]:
    """The accepted fingerprints: the config's `baseline` file from the trusted revision. The
    default file may be absent; a file the config names must exist."""
    text = reader.config_text(config.baseline)
    if text is None:
        if config.baseline != DEFAULT_BASELINE:
            raise ConfigError(
                f"the baseline file {config.baseline} named in the config does not exist "
                "in the base revision",
                hint="commit it to the base branch first, or remove the `baseline` key",
            )
        return frozenset()
    return parse_baseline(text, config.baseline)


def parse_baseline(text: str, name: str) -> frozenset[str]:
    """The fingerprints of a baseline file: the first word of each line, `#` starting a
    comment. Anything else is a ConfigError naming the file and line."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BASELINE_BYTES:
        raise ConfigError(f"{name} is over {MAX_BASELINE_BYTES // 1024} KiB")
    found: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 1 or not _FINGERPRINT.fullmatch(words[0]):
            raise ConfigError(
                f"{name}:{number}: not a finding fingerprint",
                hint="one fingerprint per line, `#` for comments; write the file with "
                "`reviewer report --findings FILE --format baseline`",
            )
        found.add(words[0])
    if len(found) > MAX_BASELINE_ENTRIES:
        raise ConfigError(f"{name} holds over {MAX_BASELINE_ENTRIES} fingerprints")
    return frozenset(found)


def split_accepted(
    findings: Iterable[Finding], accepted: frozenset[str]
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """(the findings to report, the ones the baseline accepts)."""
    report: list[Finding] = []
    known: list[Finding] = []
    for finding in findings:
        (known if finding.fingerprint in accepted else report).append(finding)
    return tuple(report), tuple(known)
