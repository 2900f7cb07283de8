"""Credential scrubbing, git's allow-listed environment, the model-URL policy and terminal
neutralising."""

from __future__ import annotations

import pytest

from reviewer.errors import ExitCode, PolicyError
from reviewer.security import (
    check_model_url,
    git_env,
    is_credential_name,
    neutralise_lines,
    neutralise_terminal,
    scrub_environment,
)

CREDENTIALS = [
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_PAT",
    "GH_PAT",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "NPM_TOKEN",
    "MY_PAT",
    "DEPLOY_SECRET",
    "AWS_SECRET_KEY",
    "DB_PASSWORD",
    "FOO_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "SSH_AUTH_SOCK",
    "github_token",
]
KEPT = ["PATH", "HOME", "LANG", "OLLAMA_BASE_URL", "GITHUB_BASE_REF", "GITHUB_EVENT_PATH", "CI"]


def test_scrub_removes_credentials_only() -> None:
    env = {name: f"value-{name}" for name in [*CREDENTIALS, *KEPT]}
    removed = scrub_environment(env)
    assert removed == sorted(CREDENTIALS)
    assert sorted(env) == sorted(KEPT)
    assert all(not is_credential_name(name) for name in KEPT)


def test_git_env_is_an_allow_list() -> None:
    source = {
        "PATH": "/bin",
        "HOME": "/home/u",
        "LC_ALL": "C",
        "GIT_INDEX_FILE": "/r/.git/index.lock",
        "GIT_CONFIG_PARAMETERS": "'http.extraheader'='AUTHORIZATION: basic x'",
        "GIT_ASKPASS": "/bin/askpass",
        "GITHUB_TOKEN": "ghs_x",
        "EDITOR": "vim",
        "PAGER": "less",
    }
    env = git_env(source)
    assert env["PATH"] == "/bin" and env["LC_ALL"] == "C"
    assert env["GIT_INDEX_FILE"] == "/r/.git/index.lock"
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["PAGER"] == env["GIT_PAGER"] == "cat"
    for name in ("GIT_CONFIG_PARAMETERS", "GIT_ASKPASS", "GITHUB_TOKEN", "EDITOR"):
        assert name not in env


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:11434",
        "http://127.0.0.1:11434",
        "http://127.8.9.10",
        "http://[::1]:11434",
        "http://10.1.2.3",
        "http://172.16.0.1",
        "http://172.31.255.255",
        "https://192.168.1.20:8443/v1",
        "http://169.254.10.10",
        "http://[fe80::1%25eth0]:11434",
        "http://[fd12:3456::1]",
        "http://[::ffff:192.168.0.1]",
        "http://ollama:11434",
        "http://llama-server",
    ],
)
def test_local_urls_are_allowed(url: str) -> None:
    check_model_url(url, allow_remote=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:11434",
        "https://api.openai.com/v1",
        "http://8.8.8.8",
        "http://172.32.0.1",
        "http://100.64.0.1",
        "http://0.0.0.0",
        "http://[2001:db8::1]",
        "http://2130706433",  # a number a resolver reads as an address
        "http://0x7f000001",
        "http://127.1",
        "http://ollama.",
        "http://localhost.evil.com",
    ],
)
def test_remote_urls_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(PolicyError) as info:
        check_model_url(url, allow_remote=False)
    assert info.value.exit_code is ExitCode.USAGE
    assert "policy" in info.value.message
    assert info.value.hint is not None
    assert "--allow-remote-model" in info.value.hint
    assert "REVIEWER_ALLOW_REMOTE_MODEL=true" in info.value.hint
    check_model_url(url, allow_remote=True)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("file:///etc/passwd", "http or https"),
        ("unix:///var/run/ollama.sock", "http or https"),
        ("http://user:pw@localhost:11434", "credentials"),
        ("http://:tok@localhost", "credentials"),
        ("http://localhost:99999", "not a valid URL"),
        ("http:///nohost", "no host"),
    ],
)
def test_bad_urls_are_refused_even_when_remote_is_allowed(url: str, fragment: str) -> None:
    with pytest.raises(PolicyError, match=fragment) as info:
        check_model_url(url, allow_remote=True)
    assert "pw" not in info.value.message and "tok" not in info.value.message


def test_neutralise_terminal() -> None:
    hostile = "a\x1b[2J\x1b]0;pwned\x07b\nc\r\u202e\u2028\x9b\udcff"
    out = neutralise_terminal(hostile)
    assert out == "a\\x1b[2J\\x1b]0;pwned\\x07b\\x0ac\\x0d\\u202e\\u2028\\x9b\\udcff"
    assert out.isprintable()
    assert neutralise_lines("a\tb\nc\x1b") == "a\tb\nc\\x1b"
