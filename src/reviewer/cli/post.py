"""`reviewer post`: its flags, into PostSettings, then the poster. No host logic here."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from reviewer.cli.boundary import error_handler
from reviewer.cli.options import DebugOption, FindingsOption, choice, choices, seconds, whole
from reviewer.models import Severity
from reviewer.post.target import DEFAULT_CHECK_NAME, PostHost
from reviewer.settings.config import DEFAULT_POST_MAX_WAIT


def post(
    findings: FindingsOption,
    host: Annotated[
        PostHost | None,
        typer.Option(
            metavar="HOST",
            parser=choice(PostHost),
            help=f"Where the change request lives: {choices(PostHost)} (gitea: Gitea and "
            "Forgejo). Default: the CI that runs the job (GitLab CI, Gitea/Forgejo Actions, "
            "GitHub Actions); outside CI, github.",
        ),
    ] = None,
    repo: Annotated[
        str | None,
        typer.Option(
            metavar="OWNER/NAME",
            help="The repository; on GitLab the project's full path (group/sub/project). "
            "Default: GITHUB_REPOSITORY, on GitLab CI_MERGE_REQUEST_PROJECT_PATH or "
            "CI_PROJECT_PATH.",
        ),
    ] = None,
    pr: Annotated[
        int | None,
        typer.Option(
            parser=whole(1),
            metavar="N",
            help="Pull request number; on GitLab the merge request's IID. Default: from the "
            "event (GITHUB_EVENT_PATH), on GitLab CI_MERGE_REQUEST_IID.",
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="The host's API URL. Default: GitHub GITHUB_API_URL or https://api.github.com; "
            "GitLab CI_API_V4_URL; Gitea GITHUB_API_URL or GITHUB_SERVER_URL/api/v1.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be posted; send no write request.")
    ] = False,
    annotations_fallback: Annotated[
        bool,
        typer.Option(
            "--annotations-fallback",
            help="Without a usable token, print ::warning workflow commands instead of failing "
            "(GitHub and Gitea/Forgejo Actions; on GitLab use `reviewer run --format "
            "codequality`).",
        ),
    ] = False,
    fail_on: Annotated[
        Severity | None,
        typer.Option(
            metavar="LEVEL",
            parser=choice(Severity),
            help="After posting, exit 1 when findings at or above LEVEL exist: "
            f"{choices(Severity)}.",
        ),
    ] = None,
    min_severity: Annotated[
        Severity | None,
        typer.Option(
            metavar="LEVEL",
            parser=choice(Severity),
            help="Comment inline only on findings at or above LEVEL; the others are in the "
            f"summary comment: {choices(Severity)}.",
        ),
    ] = None,
    max_wait: Annotated[
        float,
        typer.Option(
            parser=seconds(0),
            metavar="SECONDS",
            help="Seconds to wait for rate limits and retries, in total.",
        ),
    ] = DEFAULT_POST_MAX_WAIT,
    author: Annotated[
        str | None,
        typer.Option(
            metavar="LOGIN",
            help="The login the token posts as; only its comments count as ours. Default: "
            "REVIEWER_POST_AUTHOR, else the host's GET /user, else github-actions[bot] in "
            "GitHub Actions.",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check-run/--no-check-run",
            help="Set the verdict on the head commit: a check run on GitHub (needs `checks: "
            "write`), a commit status on GitLab and Gitea; failure when --fail-on trips or the "
            "review is not complete, for branch protection.",
        ),
    ] = True,
    check_name: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="Name of the check run or commit status (what branch protection requires).",
        ),
    ] = DEFAULT_CHECK_NAME,
    debug: DebugOption = False,
) -> None:
    """Post a findings document on a pull or merge request: one review, one summary comment,
    one check run or commit status. The token is read from the environment only: GitHub
    GITHUB_TOKEN; GitLab REVIEWER_GITLAB_TOKEN, else GITLAB_TOKEN (never CI_JOB_TOKEN); Gitea
    and Forgejo REVIEWER_GITEA_TOKEN, else GITEA_TOKEN, else GITHUB_TOKEN."""
    from reviewer.post.publish import PostSettings, post_command

    with error_handler(debug):
        settings = PostSettings(
            findings=findings,
            host=host.value if host else None,
            repo=repo,
            pr=pr,
            api_url=api_url,
            dry_run=dry_run,
            annotations_fallback=annotations_fallback,
            fail_on=fail_on,
            min_severity=min_severity,
            max_wait=max_wait,
            author=author,
            check_run=check,
            check_name=check_name,
        )
        code = post_command(settings, dict(os.environ))
    raise typer.Exit(int(code))
