"""How the token travels to GitHub: which proxy and which CA certificates a request to the API
URL may use, decided from the environment `reviewer post` was given (never httpx's own look at
os.environ). The token goes in clear only to this machine, and never through a proxy in clear."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from reviewer.errors import UsageError
from reviewer.security import is_loopback_host


@dataclass(frozen=True)
class Transport:
    """What httpx.Client is given: a proxy URL (or None) and the TLS verification to use."""

    proxy: str | None
    verify: ssl.SSLContext | bool


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def proxy_for(api_url: str, env: Mapping[str, str]) -> str | None:
    """The proxy for an API URL: none for this machine whatever the environment says (a
    loopback URL may be plain http, and a proxy would see the token); for https, HTTPS_PROXY
    or ALL_PROXY unless NO_PROXY names the host. The token then travels inside the TLS tunnel
    (CONNECT): the proxy sees the host name, never a header. HTTP_PROXY is never used: the only
    plain-http API URLs allowed are loopback ones."""
    parts = urlsplit(api_url)
    host = parts.hostname or ""
    if is_loopback_host(host) or parts.scheme != "https":
        return None
    proxy = _first(env, "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    if proxy is None:
        return None
    if _no_proxy(host, _first(env, "no_proxy", "NO_PROXY") or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _no_proxy(host: str, no_proxy: str) -> bool:
    """curl's NO_PROXY: `*`, or a name that is the host or a domain it is in (a leading dot
    and a port are ignored)."""
    host = host.lower().rstrip(".")
    for entry in no_proxy.lower().split(","):
        name = entry.strip().lstrip(".")
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        if name == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False


def verify_for(env: Mapping[str, str]) -> ssl.SSLContext | bool:
    """TLS verification: the CA bundle in SSL_CERT_FILE, else the directory in SSL_CERT_DIR
    (GitHub Enterprise Server or a TLS-inspecting proxy with an internal CA), else httpx's
    default bundle. Never off."""
    cafile, capath = _first(env, "SSL_CERT_FILE"), _first(env, "SSL_CERT_DIR")
    if cafile is None and capath is None:
        return True
    try:
        if cafile is not None:
            return ssl.create_default_context(cafile=cafile)
        return ssl.create_default_context(capath=capath)
    except (OSError, ssl.SSLError) as e:
        name = "SSL_CERT_FILE" if cafile is not None else "SSL_CERT_DIR"
        raise UsageError(
            f"cannot load the CA certificates in {name}={cafile or capath}: {e}",
            hint="point it at a PEM file (or, for SSL_CERT_DIR, a c_rehash'ed directory)",
        ) from e


def transport_for(api_url: str, env: Mapping[str, str]) -> Transport:
    return Transport(proxy=proxy_for(api_url, env), verify=verify_for(env))
