"""Model digests: how `--model-digest` is written and compared.

Accepted: the full sha256 hex digest, with or without a `sha256:` prefix, or a prefix of it of
at least 12 hex characters (the ID `ollama list` shows). Case does not matter."""

from __future__ import annotations

import re

from reviewer.errors import ConfigError, ModelError

MIN_PREFIX = 12
_HEX = re.compile(r"[0-9a-f]+")


def normalise_digest(value: str) -> str:
    value = value.strip().lower()
    return value.removeprefix("sha256:")


def check_digest_setting(expected: str) -> str:
    """The normalised expected digest, or a ConfigError for a value that cannot be one."""
    value = normalise_digest(expected)
    if not (MIN_PREFIX <= len(value) <= 64 and _HEX.fullmatch(value)):
        raise ConfigError(
            f"--model-digest {expected!r} is not a sha256 digest",
            f"give the digest `ollama list` or /api/tags shows (at least {MIN_PREFIX} hex "
            "characters, optionally prefixed with sha256:)",
        )
    return value


def verify_digest(model: str, expected: str, actual: str | None) -> None:
    """Fail closed unless the server reports a digest that starts with the expected one."""
    want = check_digest_setting(expected)
    if actual is None:
        raise ModelError(
            f"the server does not report a digest for {model}, so --model-digest cannot be "
            "verified",
            "unset OLLAMA_MODEL_DIGEST / --model-digest, or use a server that reports digests",
            kind="digest_unverifiable",
        )
    if not normalise_digest(actual).startswith(want):
        raise ModelError(
            f"model {model} has digest {normalise_digest(actual)[:MIN_PREFIX]}, "
            f"expected {want[:MIN_PREFIX]}",
            f"the model on the server is not the one you pinned; re-pull {model} from a "
            "trusted source or update the pinned digest",
            kind="digest_mismatch",
        )
