"""One distribution name and one version everywhere: pyproject.toml, the installed metadata,
`reviewer --version`, SARIF, the Action, the image, the installer and every example's pin."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib

from reviewer import DISTRIBUTION, __version__
from reviewer.formats import render
from tests.deploy.shipfiles import GITLAB_FILES, ROOT, WORKFLOW_FILES, load
from tests.formats.format_docs import make_document

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NAME, VERSION = PROJECT["name"], PROJECT["version"]
TAG = f"v{VERSION}"
README = (ROOT / "README.md").read_text(encoding="utf-8")
PLACEHOLDER = "OWNER/reviewer"


def test_the_distribution_is_not_the_unrelated_reviewer_on_pypi() -> None:
    assert NAME == DISTRIBUTION == "reviewer-ci"
    assert PROJECT["scripts"] == {"reviewer": "reviewer.cli.app:main"}, "the command stays"


def test_installed_metadata_and_the_version_command_agree_with_pyproject() -> None:
    assert VERSION == "0.1.0" == __version__
    assert importlib.metadata.version(DISTRIBUTION) == VERSION
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", "--version"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"reviewer {VERSION}"), done.stderr


def test_sarif_names_the_distribution_and_its_version() -> None:
    driver = json.loads(render(make_document(), "sarif"))["runs"][0]["tool"]["driver"]
    assert driver["fullName"] == f"{NAME} {VERSION}"
    assert driver["version"] == driver["semanticVersion"] == VERSION


def test_action_image_and_installer_use_the_distribution_name() -> None:
    assert load(ROOT / "action.yml")["name"] == NAME
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    labels = dict(re.findall(r'org\.opencontainers\.image\.(\w+)="([^"]*)"', dockerfile))
    assert (labels["title"], labels["version"]) == (NAME, VERSION)
    installer = (ROOT / "scripts" / "install-reviewer.sh").read_text(encoding="utf-8")
    # A wheel's file name carries the distribution name with `-` as `_` (the wheel spec).
    assert f'"$build"/dist/{NAME.replace("-", "_")}-*.whl' in installer


def test_readme_installs_the_distribution_pinned_and_warns_about_the_other_project() -> None:
    assert f'pip install "{NAME} @ git+https://github.com/{PLACEHOLDER}@{TAG}"' in README
    assert "`pip install reviewer` installs someone else's" in README
    assert "It is not published on PyPI" in README
    for line in README.splitlines():
        command = re.search(r"pip install (\S+)", line)
        if command:
            assert command.group(1).strip("'\"") not in ("reviewer", "reviewer==0.1.0"), line


def example_pins() -> list[tuple[str, str]]:
    """(where, ref) for every `uses: OWNER/reviewer@ref` and checkout of OWNER/reviewer in the
    examples, the tag of reviewer's image in the GitLab examples, and every pre-commit `rev:`
    shown with the hook."""
    pins = []
    for path in WORKFLOW_FILES:
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses", "")
                if uses.startswith(f"{PLACEHOLDER}@"):
                    pins.append((path.name, uses.split("@", 1)[1]))
                if step.get("with", {}).get("repository") == PLACEHOLDER:
                    pins.append((path.name, step["with"]["ref"]))
    for path in GITLAB_FILES:
        image = load(path)["variables"]["REVIEWER_IMAGE"]
        pins.append((path.name, "v" + image.split("@")[0].rsplit(":", 1)[1]))
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    shown = rf"repo: https://github\.com/{PLACEHOLDER}\n[#\s]*rev: (\S+)"
    for where, text in (("README.md", README), (".pre-commit-hooks.yaml", hooks)):
        pins.extend((where, rev) for rev in re.findall(shown, text))
    return pins


def test_every_example_refers_to_the_pyproject_version() -> None:
    pins = example_pins()
    where = {w for w, _ in pins}
    assert {"review.yml", "review-fork-safe.yml", "post-review.yml", "README.md"} <= where
    assert {"gitea-review.yml", "gitlab-ci.yml"} <= where
    assert ".pre-commit-hooks.yaml" in where
    for place, ref in pins:
        # The README's SHA examples are placeholders that keep the tag as their comment.
        if ref.startswith("<"):
            continue
        assert ref == TAG, f"{place}: @{ref}, pyproject says {VERSION}"


def test_the_readme_says_how_to_pin_by_commit_sha_and_why() -> None:
    assert f"uses: {PLACEHOLDER}@<40-hex sha> # {TAG}" in README
    assert f"rev: <40-hex sha>  # {TAG}" in README
    assert f"git ls-remote https://github.com/{PLACEHOLDER} 'refs/tags/{TAG}^{{}}'" in README
    assert "A tag is a name whoever controls the repository can move" in README
