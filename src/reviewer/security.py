"""Security from the first line of `reviewer run`: credential scrubbing, the allow-listed
environment for git, the model-URL egress policy and neutralising untrusted text for a terminal."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, MutableMapping
from urllib.parse import urlsplit

from reviewer.errors import PolicyError

# Names that carry credentials in CI and on developer machines.
CREDENTIAL_NAMES = frozenset(
    {
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_PAT",
        "GH_PAT",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "SSH_AUTH_SOCK",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "TOKEN",
        "PASSWORD",
        "SECRET",
    }
)
CREDENTIAL_SUFFIXES = (
    "_TOKEN",
    "_PAT",
    "_SECRET",
    "_SECRET_KEY",
    "_PASSWORD",
    "_API_KEY",
    "_APIKEY",
    "_ACCESS_KEY",
    "_PRIVATE_KEY",
    "_CREDENTIALS",
)
CREDENTIAL_PREFIXES = ("AWS_",)


def is_credential_name(name: str) -> bool:
    """True for an environment variable name that may hold a credential (any case)."""
    upper = name.upper()
    return (
        upper in CREDENTIAL_NAMES
        or upper.endswith(CREDENTIAL_SUFFIXES)
        or upper.startswith(CREDENTIAL_PREFIXES)
    )


def scrub_environment(environ: MutableMapping[str, str]) -> list[str]:
    """Remove every credential-like variable from `environ` (os.environ: also unsets it for
    children). Returns the sorted names removed; values are never returned or logged."""
    removed = sorted(name for name in list(environ) if is_credential_name(name))
    for name in removed:
        del environ[name]
    return removed


# What git needs to run, find its config and write readable messages; nothing else.
_GIT_ENV_NAMES = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SYSTEMROOT"})
# Standard git variables that choose the repository and index (a pre-commit hook runs with
# GIT_INDEX_FILE pointing at the index being committed). None of them can hold a credential;
# GIT_CONFIG_PARAMETERS / GIT_CONFIG_COUNT are left out because they can (http.extraHeader).
_GIT_REPO_NAMES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_NOSYSTEM",
    }
)
_GIT_FIXED = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for a password
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",  # read-only: do not take index.lock behind a user's back
    "GIT_NO_REPLACE_OBJECTS": "1",  # review the objects as they are
}


def git_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed environment for git child processes: never a credential."""
    source = os.environ if environ is None else environ
    env = {
        name: value
        for name, value in source.items()
        if (name in _GIT_ENV_NAMES or name.startswith("LC_") or name in _GIT_REPO_NAMES)
        and not is_credential_name(name)
    }
    env.update(_GIT_FIXED)
    return env


# --- model URL egress policy -----------------------------------------------------------------

_SINGLE_LABEL = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_RFC1918 = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_POLICY = "loopback, RFC 1918 / unique-local, link-local or a single-label host name"
_OVERRIDE = "pass --allow-remote-model or set REVIEWER_ALLOW_REMOTE_MODEL=true to allow it"


def _is_local_address(host: str) -> bool | None:
    """True/False for an IP literal, None when `host` is not an IP literal."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback or addr.is_link_local:
        return True
    if isinstance(addr, ipaddress.IPv4Address):
        return any(addr in net for net in _RFC1918)
    return addr in _UNIQUE_LOCAL


def is_local_host(host: str) -> bool:
    """The policy, on a host name as written: no DNS lookup is made."""
    host = host.lower()
    literal = _is_local_address(host)
    if literal is not None:
        return literal
    # A single label that starts with a letter: a compose service or /etc/hosts name. Numeric
    # labels ("2130706433", "0x7f.1") are refused: resolvers read them as addresses.
    return host == "localhost" or _SINGLE_LABEL.fullmatch(host) is not None


def check_model_url(url: str, *, allow_remote: bool) -> None:
    """Refuse, before any connection, a model URL that leaves this machine or private network
    (unless explicitly allowed), a non-HTTP scheme, or credentials inside the URL."""
    shown = neutralise_terminal(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as e:
        raise PolicyError(f"model URL {shown!r} is not a valid URL: {e}") from e
    if parts.scheme not in ("http", "https"):
        raise PolicyError(
            f"model URL {shown!r} must use http or https",
            hint="for example --ollama-url http://localhost:11434",
        )
    if parts.username is not None or parts.password is not None:
        raise PolicyError(
            "model URL contains credentials; refusing to send them anywhere",
            hint="remove user:password@ from the URL",
        )
    if not host:
        raise PolicyError(f"model URL {shown!r} has no host")
    if not allow_remote and not is_local_host(host):
        raise PolicyError(
            f"model URL host {neutralise_terminal(host)!r} is outside the local-model policy "
            f"({_POLICY})",
            hint=_OVERRIDE,
        )


# --- terminal neutralising -------------------------------------------------------------------

# C0 and C1 controls, DEL, Unicode line separators and bidirectional controls ("Trojan
# Source": overrides, isolates and the invisible marks LRM, RLM, ALM): each is shown as an
# escape so untrusted text cannot move the cursor, recolour, retitle the terminal or reorder
# what the reader sees. Lone surrogates are escaped too: they cannot be encoded for output.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise_terminal(text: str) -> str:
    """`text` with every control character shown as an escape (newlines too: one line out)."""
    return _UNSAFE.sub(_escape, text)


def neutralise_lines(text: str) -> str:
    """Like neutralise_terminal, but keeps newlines (CRLF read as one) and tabs (for
    multi-line output)."""
    return "\n".join(
        _UNSAFE.sub(lambda m: "\t" if m.group() == "\t" else _escape(m), line)
        for line in text.replace("\r\n", "\n").split("\n")
    )


def escape_json_text(text: str) -> str:
    """JSON text with the characters JSON leaves raw but a terminal or an editor acts on (DEL,
    C1 controls such as the one-byte CSI U+009B, line separators, bidi controls, lone
    surrogates) written as `\\uXXXX` escapes. Outside strings JSON holds none of them, so the
    result parses to exactly the same value."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
