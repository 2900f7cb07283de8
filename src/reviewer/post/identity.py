"""Who `reviewer post` posts as, so that only comments written by that identity are taken as
ours (the summary to edit, the fingerprints already posted)."""

from __future__ import annotations

from collections.abc import Mapping

from reviewer.errors import UsageError
from reviewer.post.host import Host


def post_author(host: Host, env: Mapping[str, str], override: str | None) -> str:
    """--author (or REVIEWER_POST_AUTHOR) when given; else the account the host says the token
    acts as (`GET /user`; on GitHub, github-actions[bot] in GitHub Actions, since `GET /user`
    answers 403 to an installation token and the job's GITHUB_TOKEN is one). GitLab answers
    `GET /user` for any token with the `api` scope. A GitHub App token of your own posts as
    `APP-SLUG[bot]`: pass that with --author."""
    given = (override or env.get("REVIEWER_POST_AUTHOR", "")).strip()
    if given:
        return given
    login = host.identity()
    if login is not None:
        return login
    raise UsageError(
        f"cannot tell which account the token posts as ({host.name} refused GET /user)",
        hint="pass --author LOGIN (the account's username; for a GitHub App token: "
        "APP-SLUG[bot]) or set REVIEWER_POST_AUTHOR",
    )
