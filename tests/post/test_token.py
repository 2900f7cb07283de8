"""The posting step holds the token: it is read from GITHUB_TOKEN only (there is no flag to put
it in a process list or a log), no message prints it (a server echoing it back included, with
--debug too), and no redirect takes it to another host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from reviewer.cli.app import app
from reviewer.errors import ExitCode, PostError
from reviewer.post.hosts.github import GitHubClient
from reviewer.post.hosts.rest import Redirect as GitHubRedirect
from tests.post.github_fake import TOKEN

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def elsewhere() -> Iterator[HTTPServer]:
    """Another host, recording whatever reaches it."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/steal").respond_with_json({"login": "stolen"})
    server.start()
    yield server
    server.clear()
    server.stop()


def subprocess_env(api_url: str, tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {
        **keep, "PYTHONPATH": str(PROJECT / "src"), "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "octo/app", "GITHUB_API_URL": api_url,
    }


def test_there_is_no_token_flag(findings_file: Path) -> None:
    for flag in ("--token", "--github-token"):
        result = CliRunner().invoke(app, ["post", "--findings", str(findings_file), flag, TOKEN])
        assert result.exit_code == 2 and "No such option" in result.stderr


def test_a_401_that_echoes_the_token_prints_it_nowhere(
    httpserver: HTTPServer, findings_file: Path, tmp_path: Path
) -> None:
    def echo(request: Request) -> Response:
        sent = request.headers.get("Authorization", "")
        return Response(json.dumps({"message": f"Bad credentials: {sent}"}), status=401)

    httpserver.expect_request("/user").respond_with_handler(echo)
    child = subprocess_env(httpserver.url_for("").rstrip("/"), tmp_path)
    for debug in ([], ["--debug"]):
        result = subprocess.run(
            [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--pr", "7", *debug],
            env=child, capture_output=True, text=True, timeout=60, check=False,
        )
        assert result.returncode == 3, result.stderr
        assert "GitHub refused the token (401 Bad credentials: Bearer ***)" in result.stderr
        assert TOKEN not in result.stderr and TOKEN not in result.stdout
        assert ("Traceback" in result.stderr) is bool(debug)  # --debug shows it, scrubbed


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_not_followed(
    httpserver: HTTPServer, elsewhere: HTTPServer, status: int
) -> None:
    httpserver.expect_request("/user").respond_with_response(
        Response("", status=status, headers={"Location": elsewhere.url_for("/steal")})
    )
    client = GitHubClient(httpserver.url_for("").rstrip("/"), TOKEN, sleep=lambda s: None)
    with pytest.raises(GitHubRedirect, match=f"{status}.*127.0.0.1:{elsewhere.port}.*not followed") as e:
        client.current_login()
    assert e.value.exit_code is ExitCode.NOT_REVIEWED
    assert elsewhere.log == []


def test_a_redirect_through_the_cli_is_exit_3_and_nothing_reaches_the_other_host(
    httpserver: HTTPServer, elsewhere: HTTPServer, findings_file: Path, tmp_path: Path
) -> None:
    httpserver.expect_request("/user").respond_with_json({"login": "reviewer-bot"})
    httpserver.expect_request("/repos/octo/app/pulls/7").respond_with_response(
        Response("", status=302, headers={"Location": elsewhere.url_for("/steal")})
    )
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--pr", "7"],
        env=subprocess_env(httpserver.url_for("").rstrip("/"), tmp_path),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 3 and "not followed" in result.stderr, result.stderr
    assert elsewhere.log == [] and TOKEN not in result.stderr


def test_an_answer_that_is_not_json_is_a_post_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/user").respond_with_data("<html>login page</html>")
    client = GitHubClient(httpserver.url_for("").rstrip("/"), TOKEN)
    with pytest.raises(PostError, match="not JSON"):
        client.current_login()
