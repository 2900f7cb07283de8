"""`reviewer schema`: the findings document's JSON Schema on stdout."""

from __future__ import annotations

import json
import sys

from reviewer.findings.document import document_schema


def schema() -> None:
    """Print the JSON Schema of the findings document (`--output`) and exit."""
    sys.stdout.write(json.dumps(document_schema(), indent=2, sort_keys=True) + "\n")
