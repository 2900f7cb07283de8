"""Security from the first line of `reviewer run`: credential scrubbing, the allow-listed
environment for git, the model-URL egress policy and neutralising untrusted text for a terminal."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Mapping, MutableMapping, Sequence
from enum import StrEnum
from urllib.parse import urlsplit

from reviewer.errors import PolicyError, UsageError

# --- credential scrub ------------------------------------------------------------------------

# The one table of variable names that can carry a credential, matched in upper case. Each row
# is (how the name is matched, the patterns, where they come from). Removing a harmless
# variable costs nothing (only git runs as a child, with its own allow-list); missing a
# credential can leak it, so the rules are broad.
CREDENTIAL_NAME_RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("exact", ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT", "GH_PAT", "GH_ENTERPRISE_TOKEN",
               "GITHUB_ENTERPRISE_TOKEN", "ACTIONS_RUNTIME_TOKEN",
               "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"),
     "GitHub Actions (GITHUB_TOKEN is also set by Gitea and Forgejo Actions)"),
    ("exact", ("CI_JOB_JWT", "CI_REPOSITORY_URL", "CI_SERVER_TLS_KEY_FILE"),
     "GitLab CI (the repository URL embeds the job token)"),
    ("exact", ("SYSTEM_ACCESSTOKEN",), "Azure Pipelines"),
    ("exact", ("PGPASSWORD", "PGPASSFILE", "MYSQL_PWD", "REDISCLI_AUTH", "SSHPASS"),
     "database and tool passwords read from the environment"),
    ("exact", ("DOCKER_AUTH_CONFIG", "NETRC", "KUBECONFIG", "GOOGLE_APPLICATION_CREDENTIALS"),
     "registry, netrc, cluster and cloud credential files or contents"),
    ("exact", ("SSH_AUTH_SOCK", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_COUNT",
               "GIT_CONFIG_PARAMETERS"),
     "ways to hand git or ssh a credential (GIT_CONFIG_* can set http.extraHeader)"),
    ("exact", ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "API_KEY", "APIKEY"), "generic names"),
    ("prefix", ("AWS_", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "CI_JOB_JWT_"),
     "AWS; git config pairs; GitLab CI_JOB_JWT_V1/_V2"),
    ("suffix", ("_TOKEN", "_PAT", "_JWT", "_SECRET", "_KEY", "_APIKEY", "_PASSWORD",
                "_PASSWD", "_PASSPHRASE", "_ACCESSTOKEN", "_CREDENTIALS", "_CREDENTIAL",
                "_AUTH", "_AUTHTOKEN", "_AUTH_CONFIG"),
     "CI_JOB_TOKEN, CI_REGISTRY_PASSWORD, BITBUCKET_STEP_OIDC_TOKEN, GITEA_TOKEN, "
     "JENKINS_API_TOKEN, NPM_TOKEN, npm_config__auth, TWINE_PASSWORD, *_API_KEY and the like"),
    ("contains", ("_TOKEN_", "_PASSWORD_", "_SECRET_"),
     "names with a qualifier after the word (POETRY_PYPI_TOKEN_PYPI)"),
)

# Values that are credentials whatever the variable is called (GitLab `id_tokens` and Jenkins
# credential bindings are named by the user): a URL with user:password@, a JSON Web Token, or a
# token with a vendor's published prefix.
_URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_TOKEN_PREFIX = re.compile(
    r"(?<![A-Za-z0-9])(gh[pousr]_|github_pat_|glpat-|gldt-|glrt-|glcbt-|glptt-|xox[abpors]-|"
    r"npm_|pypi-|AKIA|ASIA)[A-Za-z0-9_-]{16,}"
)
CREDENTIAL_VALUE_RULES = (_URL_WITH_PASSWORD, _JWT, _TOKEN_PREFIX)


def _matches(how: str, name: str, patterns: tuple[str, ...]) -> bool:
    if how == "exact":
        return name in patterns
    if how == "prefix":
        return name.startswith(patterns)
    if how == "suffix":
        return name.endswith(patterns)
    return any(p in name for p in patterns)


def is_credential_name(name: str) -> bool:
    """True for an environment variable name that may hold a credential (any case)."""
    upper = name.upper()
    return any(_matches(how, upper, patterns) for how, patterns, _ in CREDENTIAL_NAME_RULES)


def is_credential_value(value: str) -> bool:
    """True for a value that is, or embeds, a credential (see CREDENTIAL_VALUE_RULES)."""
    return any(rule.search(value) for rule in CREDENTIAL_VALUE_RULES)


def is_credential(name: str, value: str) -> bool:
    return is_credential_name(name) or is_credential_value(value)


def credential_names(environ: Mapping[str, str]) -> list[str]:
    """The sorted names of the variables in `environ` that hold or may hold a credential."""
    return sorted(name for name, value in environ.items() if is_credential(name, value))


def scrub_environment(environ: MutableMapping[str, str]) -> list[str]:
    """Remove every credential-like variable from `environ` (os.environ: also unsets it for
    children). Returns the sorted names removed; values are never returned or logged."""
    removed = credential_names(environ)
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
        and not is_credential(name, value)
    }
    env.update(_GIT_FIXED)
    return env


# --- model URL egress policy -----------------------------------------------------------------

_SINGLE_LABEL = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_RFC1918 = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_POLICY = (
    "loopback, RFC 1918 / unique-local, link-local, or localhost or a single-label host name "
    "that resolves only to such addresses"
)
_OVERRIDE = "pass --allow-remote-model or set REVIEWER_ALLOW_REMOTE_MODEL=true to allow it"


class Scope(StrEnum):
    """Where an IP address leads: this machine, a private network, or anywhere."""

    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    PRIVATE = "private"  # RFC 1918 and IPv6 unique-local
    PUBLIC = "public"


_LOCAL_SCOPES = frozenset({Scope.LOOPBACK, Scope.LINK_LOCAL, Scope.PRIVATE})


def address_scope(host: str) -> Scope | None:
    """The one classification of an IP literal behind every egress decision (the model URL
    policy, the addresses a model host resolves to, where the GitHub token may go in clear);
    None when `host` is not an IP literal. An IPv4-mapped IPv6 address is its IPv4 address."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return Scope.LOOPBACK
    if addr.is_link_local:
        return Scope.LINK_LOCAL
    if isinstance(addr, ipaddress.IPv4Address):
        private = any(addr in net for net in _RFC1918)
    else:
        private = addr in _UNIQUE_LOCAL
    return Scope.PRIVATE if private else Scope.PUBLIC


def is_loopback_host(host: str) -> bool:
    """localhost or a loopback address: this machine, the only place the GitHub token may
    travel in clear, and where no proxy is ever used."""
    return host.lower() == "localhost" or address_scope(host) is Scope.LOOPBACK


def check_token_url(url: str, name: str) -> str:
    """`url` without a trailing slash when a token may be sent to it: https, or plain http only
    to this machine, so the token never crosses a network in clear. `name` is the variable or
    flag the URL came from, for the message. The one rule for every host's API URL."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
    except ValueError:  # an unbalanced [ or a bad port: not a URL at all
        scheme, host = "", ""
    if host and (scheme == "https" or (scheme == "http" and is_loopback_host(host))):
        return url.rstrip("/")
    shown = neutralise_terminal(re.sub(r"//[^/@]*@", "//", url))  # never echo user:password@
    raise UsageError(
        f"{name}={shown[:80]!r} is not an https URL: the token would travel unencrypted",
        hint="use an https:// URL; plain http is allowed only to this machine (127.0.0.1, ::1, "
        "localhost)",
    )


def _is_local_address(host: str) -> bool | None:
    """True/False for an IP literal, None when `host` is not an IP literal."""
    scope = address_scope(host)
    return None if scope is None else scope in _LOCAL_SCOPES


def is_local_host(host: str) -> bool:
    """The policy, on a host name as written: no DNS lookup is made. A name that passes is
    checked again by the addresses it resolves to when connecting (check_resolved)."""
    host = host.lower()
    literal = _is_local_address(host)
    if literal is not None:
        return literal
    # A single label that starts with a letter: a compose service or /etc/hosts name. Numeric
    # labels ("2130706433", "0x7f.1") are refused: resolvers read them as addresses.
    return is_loopback_host(host) or _SINGLE_LABEL.fullmatch(host) is not None


def check_resolved(host: str, addresses: Sequence[str]) -> None:
    """Refuse `host` unless every address it resolved to is within the local policy: the
    model connection then goes to one of these addresses, never to a second lookup's."""
    outside = [a for a in addresses if not _is_local_address(a)]
    if outside or not addresses:
        shown = neutralise_terminal(host)
        where = f"resolves to {outside[0]}" if outside else "resolves to no address"
        raise PolicyError(
            f"model URL host {shown!r} {where}, outside the local-model policy ({_POLICY})",
            hint=_OVERRIDE,
        )


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

# The one table of characters no output shows raw, used by every escaper (the prompt, the
# terminal, JSON, Markdown). C0 and C1 controls and DEL move the cursor, recolour or retitle a
# terminal; line separators break lines where a reader does not see it; bidirectional controls
# and marks reorder what the reader sees ("Trojan Source"); the rest is invisible text that can
# hide words or instructions from a human reader while a model still reads them: zero-width
# spaces and joiners, word joiner and invisible operators, deprecated format controls, BOM,
# soft hyphen, the combining grapheme joiner, Hangul and Khmer fillers, the Mongolian vowel
# separator, interlinear annotations, invisible musical format marks, variation selectors and
# Unicode tag characters (U+E0000-U+E007F, "ASCII smuggling"). Lone surrogates are escaped too:
# they cannot be encoded for output.
HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xD800, 0xDFFF),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
    (0xE0100, 0xE01EF),
)
# Inserted by us, never taken from input: breaks a workflow command or a Markdown ping
# without changing what a reader sees.
ZWSP = "\u200b"


@functools.cache
def hidden_pattern(keep: str = "") -> re.Pattern[str]:
    """A pattern matching one character of the table, except those in `keep` (a newline or a
    tab that an output keeps as layout)."""
    kept = sorted(ord(c) for c in keep)
    ranges: list[tuple[int, int]] = []
    for lo, hi in HIDDEN_RANGES:
        for k in kept:
            if lo <= k <= hi:
                if lo < k:
                    ranges.append((lo, k - 1))
                lo = k + 1
        if lo <= hi:
            ranges.append((lo, hi))
    body = "".join(
        escape_char(chr(lo)) + ("-" + escape_char(chr(hi)) if hi > lo else "") for lo, hi in ranges
    )
    return re.compile(f"[{body}]")


def escape_char(char: str) -> str:
    """How one character of the table is shown: `\\x1b`, `\\u200b`, `\\U000e0041`."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escape(match: re.Match[str]) -> str:
    return escape_char(match.group())


def escape_hidden(text: str, keep: str = "") -> str:
    """`text` with every character of the table but those in `keep` shown as an escape (a
    cheap scan first: most text has none)."""
    pattern = hidden_pattern(keep)
    return pattern.sub(_escape, text) if pattern.search(text) else text


# A workflow command is a line that starts with `::` after leading whitespace, or (the legacy
# form the runner still reads anywhere in a line) `##[name]`; stdout and stderr both count.
# The runner splits lines on LF and CR; leading whitespace is matched within one line, so the
# scan stays linear.
_COMMAND_START = re.compile(r"(?:^|(?<=\r))([^\S\r\n]*:):", re.MULTILINE)
_LEGACY_COMMAND = "##["


def defuse_workflow_commands(text: str) -> str:
    """`text` in which no line can be read as a GitHub Actions workflow command: a zero-width
    space goes between the colons of a leading `::` and inside every `##[`."""
    if "::" in text:
        text = _COMMAND_START.sub(lambda m: m.group(1) + ZWSP + ":", text)
    return text.replace(_LEGACY_COMMAND, "##" + ZWSP + "[") if _LEGACY_COMMAND in text else text


def neutralise_terminal(text: str) -> str:
    """`text` with every character of the table shown as an escape (newlines too: one line
    out) and no workflow command in it."""
    return defuse_workflow_commands(escape_hidden(text))


def neutralise_lines(text: str) -> str:
    """Like neutralise_terminal, but keeps newlines (CRLF read as one) and tabs (for
    multi-line output)."""
    return defuse_workflow_commands(escape_hidden(text.replace("\r\n", "\n"), keep="\t\n"))


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON writes an astral character as its UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_escape_hidden(text: str) -> str:
    """JSON text (or a JSON string literal) with every character of the table written as a
    `\\uXXXX` escape. C0 controls are left alone: JSON escapes them inside strings and uses
    newlines and tabs outside them as layout."""
    pattern = hidden_pattern(_C0)
    return pattern.sub(_json_escape, text) if pattern.search(text) else text


_C0 = "".join(chr(c) for c in range(0x20))


def escape_json_text(text: str) -> str:
    """JSON text with the characters JSON leaves raw but a terminal, an editor or a reader is
    deceived by (the table above) written as `\\uXXXX` escapes, and the legacy workflow
    command opener `##[` as `##\\u005b`. Outside strings JSON holds none of them, so the
    result parses to exactly the same value."""
    text = json_escape_hidden(text)
    return text.replace(_LEGACY_COMMAND, "##\\u005b") if _LEGACY_COMMAND in text else text
