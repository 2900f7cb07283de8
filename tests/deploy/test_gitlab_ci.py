"""examples/gitlab-ci.yml: valid against GitLab's own CI schema (vendored in tests/data), and
built so that the token reaches only the posting job, which checks out nothing."""

from __future__ import annotations

import hashlib
import json
import re
from copy import deepcopy
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.shipfiles import GITLAB_FILES, ROOT, load

SCHEMA_PATH = ROOT / "tests" / "data" / "gitlab-ci.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
EXAMPLE = ROOT / "examples" / "gitlab-ci.yml"
PIPELINE: dict[str, Any] = load(EXAMPLE)
TOKENS = ("REVIEWER_GITLAB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN")


def schema_errors(pipeline: object) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(pipeline)]


@pytest.mark.parametrize("path", GITLAB_FILES, ids=lambda p: p.name)
def test_gitlab_example_is_valid_against_gitlabs_ci_schema(path: Path) -> None:
    assert schema_errors(load(path)) == []


@pytest.mark.parametrize(
    ("job", "key", "value"),
    [
        ("review", "sevices", []),  # a misspelt keyword
        ("review", "artifacts", {"reports": {"codequality": 3}}),
        ("post", "needs", [{"job": "review", "artifacts": "yes"}]),
        ("post", "when", "sometimes"),
    ],
)
def test_the_schema_refuses_a_broken_copy(job: str, key: str, value: object) -> None:
    broken = deepcopy(PIPELINE)
    broken[job][key] = value
    assert schema_errors(broken), f"{job}.{key} = {value!r} passed"


def test_the_vendored_schema_is_the_file_its_source_note_names() -> None:
    note = (ROOT / "tests" / "data" / "gitlab-ci.schema.SOURCE.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
    assert digest in note
    assert (ROOT / "tests" / "data" / "gitlab-ci.schema.LICENSE").is_file()


def mentions(job: dict[str, Any], *names: str) -> list[str]:
    text = json.dumps(job)
    return [name for name in names if name in text]


MERGE_REQUEST = {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}
DEFAULT_BRANCH = {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}


def jobs() -> dict[str, dict[str, Any]]:
    return {name: job for name, job in PIPELINE.items() if isinstance(job, dict) and "script" in job}


def test_the_pipeline_reviews_merge_requests_with_the_whole_history() -> None:
    assert PIPELINE["workflow"]["rules"] == [MERGE_REQUEST, DEFAULT_BRANCH]
    # Only the baseline runs outside a merge request pipeline.
    for name, job in jobs().items():
        expected = [DEFAULT_BRANCH] if name == "code-quality-baseline" else [MERGE_REQUEST]
        assert [{"if": rule["if"]} for rule in job["rules"]] == expected, name
    review = PIPELINE["review"]
    assert review["variables"]["GIT_DEPTH"] == "0"
    (service,) = review["services"]
    assert service["alias"] == "ollama"
    assert review["variables"]["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert review["variables"]["LOCAL_LLM_OPTIONAL"] == "false"


def test_the_review_job_gets_no_token_and_saves_both_reports() -> None:
    review = PIPELINE["review"]
    assert mentions(review, *TOKENS) == []
    # The token's variable is scoped to the post job's environment; a job without one never
    # receives it.
    assert "environment" not in review
    assert review["artifacts"]["when"] == "always"
    assert review["artifacts"]["paths"] == ["findings.json"]
    assert review["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    (run,) = [line for line in review["script"] if "reviewer run" in line]
    assert "--format codequality" in run and "> gl-code-quality-report.json" in run
    assert "--output findings.json" in run
    assert "--fail-on" not in run  # the post job gates, after posting


def test_only_the_post_job_holds_the_token_and_it_checks_out_nothing() -> None:
    post = PIPELINE["post"]
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "environment scope `reviewer-post`" in text
    assert post["environment"] == {"name": "reviewer-post", "action": "access"}
    assert post["variables"]["GIT_STRATEGY"] == "none"
    assert post["needs"] == [{"job": "review", "artifacts": True}]
    assert "services" not in post  # no model, nothing else to hand the token to
    assert post["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "when": "always"}
    ]
    (line,) = post["script"]
    assert re.fullmatch(r"reviewer post --findings findings\.json --fail-on \w+", line)
    # No job other than post names an environment, so no other job can receive the token.
    assert [name for name, job in jobs().items() if "environment" in job] == ["post"]


def test_the_baseline_publishes_an_empty_report_on_the_default_branch_only() -> None:
    # The widget compares with the target branch's report: reviewer's is empty by nature.
    job = PIPELINE["code-quality-baseline"]
    assert job["script"] == ['echo "[]" > gl-code-quality-report.json']
    assert job["artifacts"] == {"reports": {"codequality": "gl-code-quality-report.json"}}
    assert job["variables"] == {"GIT_STRATEGY": "none"}
    assert "services" not in job and mentions(job, *TOKENS) == []
    report = ROOT / "tests" / "data" / "gitlab-codequality.schema.json"
    jsonschema.Draft202012Validator(json.loads(report.read_text(encoding="utf-8"))).validate([])


def test_the_shell_runner_variant_is_hidden_and_names_the_requests_own_range() -> None:
    job = PIPELINE[".review-on-a-shell-runner"]  # a leading dot: GitLab never runs it as is
    script = "\n".join(job["script"])
    assert "docker compose" in script and "--format codequality" in script
    assert '--base "$CI_MERGE_REQUEST_DIFF_BASE_SHA"' in script
    # In a merged-results pipeline CI_COMMIT_SHA is GitLab's merge commit: never the head.
    assert '--head "${CI_MERGE_REQUEST_SOURCE_BRANCH_SHA:-$CI_COMMIT_SHA}"' in script
    assert job["artifacts"] == PIPELINE["review"]["artifacts"]
    assert mentions(job, *TOKENS) == []


def test_the_readme_sets_up_the_token_the_way_the_example_expects() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### In GitLab CI\n", 1)[1].split("\n### ", 1)[0]
    scope = PIPELINE["post"]["environment"]["name"]
    assert f"**Environment scope `{scope}`**" in section
    assert "`REVIEWER_GITLAB_TOKEN`" in section and "`api` scope" in section
    assert "`CI_JOB_TOKEN`) cannot write merge request notes" in section
    assert PIPELINE["variables"]["REVIEWER_IMAGE"].split("@")[0] in section
    for name in ("GIT_DEPTH", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "CI_API_V4_URL", "SSL_CERT_FILE"):
        assert f"`{name}" in section, name
