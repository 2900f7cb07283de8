"""Credential scrubbing, git's allow-listed environment, the model-URL policy and terminal
neutralising."""

from __future__ import annotations

import pytest

from reviewer.errors import ExitCode, PolicyError, UsageError
from reviewer.post.transport import proxy_for
from reviewer.security import (
    Scope,
    address_scope,
    check_model_url,
    check_resolved,
    check_token_url,
    git_env,
    is_credential_name,
    is_local_host,
    is_loopback_host,
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
    "CI_JOB_TOKEN",
    "REVIEWER_GITLAB_TOKEN",
    "GITLAB_TOKEN",
    "REVIEWER_GITEA_TOKEN",
    "CI_JOB_JWT",
    "CI_JOB_JWT_V1",
    "CI_JOB_JWT_V2",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPLOY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_REPOSITORY_URL",
    "SYSTEM_ACCESSTOKEN",
    "BITBUCKET_STEP_OIDC_TOKEN",
    "BITBUCKET_APP_PASSWORD",
    "GITEA_TOKEN",
    "FORGEJO_TOKEN",
    "JENKINS_API_TOKEN",
    "PGPASSWORD",
    "MYSQL_PWD",
    "DOCKER_AUTH_CONFIG",
    "npm_config__auth",
    "NPM_CONFIG__AUTHTOKEN",
    "TWINE_PASSWORD",
    "POETRY_PYPI_TOKEN_PYPI",
    "GPG_PASSPHRASE",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_KEY_0",
    "GIT_CONFIG_VALUE_0",
    "GIT_CONFIG_PARAMETERS",
    "CI_SERVER_TLS_KEY_FILE",
    "PGPASSFILE",
    "REDISCLI_AUTH",
    "SSHPASS",
    "NETRC",
    "KUBECONFIG",
    "TOKEN",
    "PASSWD",
    "APIKEY",
    "GH_ENTERPRISE_TOKEN",
    "ROOT_PASSWD",
    "HEROKU_APIKEY",
    "AZURE_CREDENTIAL",
    "NPM_CONFIG_AUTHTOKEN",
    "REGISTRY_AUTH_CONFIG",
    "HTTP_PASSWORD_FILE",
    "APP_SECRET_BASE",
]
KEPT = [
    "PATH",
    "HOME",
    "LANG",
    "OLLAMA_BASE_URL",
    "GITHUB_BASE_REF",
    "GITHUB_EVENT_PATH",
    "CI",
    "PWD",
    "OLDPWD",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "CI_SERVER_URL",
    "CI_REGISTRY_USER",
    "TOKENIZERS_PARALLELISM",
    "LAWS_DIR",  # contains a prefix rule's pattern, but not at the start
    "MY_GIT_CONFIG_KEY_X",
]


def test_scrub_removes_credentials_only() -> None:
    env = {name: f"value-{name}" for name in [*CREDENTIALS, *KEPT]}
    removed = scrub_environment(env)
    assert removed == sorted(CREDENTIALS)
    assert sorted(env) == sorted(KEPT)
    assert all(not is_credential_name(name) for name in KEPT)


@pytest.mark.parametrize(
    "value",
    [
        "https://gitlab-ci-token:glcbt-64_abcdef@gitlab.example.com/group/project.git",
        "postgres://app:s3cret@db:5432/app",
        "redis://:only-a-password@cache:6379/0",
        "see https://u:p@host/x for details",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_part-1",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "github_pat_11AAAAAAA0123456789_abcdefghijklmnop",
        "glpat-abcdefghij0123456789",
        "AKIAIOSFODNN7EXAMPLE",
    ],
)
def test_credential_values_are_removed_whatever_the_name(value: str) -> None:
    env = {"HARMLESS_LOOKING": value, "PATH": "/bin"}
    assert scrub_environment(env) == ["HARMLESS_LOOKING"]
    assert env == {"PATH": "/bin"}


@pytest.mark.parametrize(
    "value",
    [
        "https://gitlab.example.com/group/project.git",
        "ssh://git@github.com/o/r.git",
        "http://localhost:11434",
        "eyJub3QiOiJhIGp3dCJ9",
        "ghp_short",
        "/usr/local/bin:/usr/bin",
        "user@example.com",
        "/opt/MAKIAVELLIAN_TOOLS_0123456789/bin",
    ],
)
def test_ordinary_values_are_kept(value: str) -> None:
    assert scrub_environment({"SOME_SETTING": value}) == []


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["::1", "127.0.0.1"], ["10.0.0.5", "fd00::5"], ["169.254.1.1"], ["fe80::1%2"]],
)
def test_resolved_local_addresses_pass(addresses: list[str]) -> None:
    check_resolved("ai", addresses)


@pytest.mark.parametrize(
    ("addresses", "shown"),
    [
        (["203.0.113.7"], "resolves to 203.0.113.7,"),
        (["127.0.0.1", "8.8.8.8"], "resolves to 8.8.8.8,"),
        (["10.0.0.1", "2001:db8::1", "8.8.8.8"], "resolves to 2001:db8::1,"),
        ([], "resolves to no address,"),
        (["not-an-address"], "resolves to not-an-address,"),
    ],
)
def test_resolved_addresses_outside_the_policy_are_refused(
    addresses: list[str], shown: str
) -> None:
    with pytest.raises(PolicyError) as info:
        check_resolved("a\x1bi", addresses)
    message = info.value.message
    assert message.startswith("model URL host 'a\\\\x1bi' ")  # neutralised for the terminal
    assert shown in message and "outside the local-model policy (loopback" in message
    assert info.value.hint is not None and "--allow-remote-model" in info.value.hint


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


def test_git_env_drops_an_allowed_name_holding_a_credential() -> None:
    env = git_env(
        {"PATH": "/bin", "HOME": "https://u:hunter2@host/", "LC_X": "glpat-0123456789abcdefghij"}
    )
    assert env.get("PATH") == "/bin"
    assert "HOME" not in env and "LC_X" not in env


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


# --- the one address classification ----------------------------------------------------------

SCOPES = [
    ("127.0.0.1", Scope.LOOPBACK),
    ("127.255.0.9", Scope.LOOPBACK),
    ("::1", Scope.LOOPBACK),
    ("::ffff:127.0.0.1", Scope.LOOPBACK),
    ("169.254.1.1", Scope.LINK_LOCAL),
    ("fe80::1", Scope.LINK_LOCAL),
    ("10.1.2.3", Scope.PRIVATE),
    ("172.31.0.1", Scope.PRIVATE),
    ("192.168.0.1", Scope.PRIVATE),
    ("::ffff:10.0.0.1", Scope.PRIVATE),
    ("fd00::5", Scope.PRIVATE),
    ("172.32.0.1", Scope.PUBLIC),
    ("8.8.8.8", Scope.PUBLIC),
    ("2001:db8::1", Scope.PUBLIC),
    ("::ffff:8.8.8.8", Scope.PUBLIC),
    ("localhost", None),
    ("2130706433", None),
    ("ai", None),
]


@pytest.mark.parametrize(("host", "scope"), SCOPES)
def test_every_egress_decision_reads_one_classification(host: str, scope: Scope | None) -> None:
    """The model policy (as written and as resolved), the token's plain-http rule and the proxy
    bypass all follow address_scope: a loopback address is loopback for all of them."""
    assert address_scope(host) is scope
    loopback = scope is Scope.LOOPBACK or host == "localhost"
    assert is_loopback_host(host) is loopback
    if scope is not None:
        local = scope is not Scope.PUBLIC
        assert is_local_host(host) is local
        if local:
            check_resolved("ai", [host])
        else:
            with pytest.raises(PolicyError):
                check_resolved("ai", [host])
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:8080"
    if loopback:
        assert check_token_url(url, "--api-url") == url
        assert proxy_for(f"https://{shown}", {"HTTPS_PROXY": "http://proxy:3128"}) is None
    else:
        with pytest.raises(UsageError, match="unencrypted"):
            check_token_url(url, "--api-url")


def test_localhost_is_loopback_in_any_case() -> None:
    assert is_loopback_host("LocalHost") and is_local_host("LOCALHOST")
    assert not is_loopback_host("localhost.evil.example") and not is_loopback_host("")
