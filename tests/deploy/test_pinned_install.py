"""The Action and the image install exactly the locked files: exact versions with sha256 hashes,
wheels only, no resolver, and a lock that cannot drift from pyproject.toml."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import subprocess
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.shipfiles import ROOT, load

RUNTIME_LOCK = ROOT / "requirements" / "action.txt"
BUILD_LOCK = ROOT / "requirements" / "build.txt"
INSTALLER = ROOT / "scripts" / "install-reviewer.sh"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
# The platforms the Action supports: GitHub's Linux runners, x86_64 and arm64, Python 3.11/3.12.
SUPPORTED = [
    {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "platform_machine": machine,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    for python in ("3.11", "3.12")
    for machine in ("x86_64", "aarch64")
]


def parse_lock(text: str) -> dict[str, str]:
    """name -> version; fails on any line that is not `name==version --hash=sha256:...`."""
    pins: dict[str, str] = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line:
            continue
        spec, *options = line.split()
        match = PIN.fullmatch(spec)
        assert match, f"not an exact pin: {line!r}"
        assert options, f"no hash: {line!r}"
        for option in options:
            assert HASH.fullmatch(option), f"not a sha256 hash: {option!r} in {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = match.group(2)
    return pins


def closure(requirements: list[str]) -> set[str]:
    """The installed distributions these requirements need on any supported platform, following
    each distribution's own requirements (importlib.metadata), markers evaluated."""
    seen: set[str] = set()
    todo = [(Requirement(r), frozenset[str]()) for r in requirements]
    while todo:
        requirement, parent_extras = todo.pop()
        if requirement.marker is not None and not any(
            requirement.marker.evaluate({**env, "extra": extra})
            for env in SUPPORTED
            for extra in (parent_extras or {""})
        ):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        extras = frozenset(requirement.extras)
        todo += [(Requirement(r), extras) for r in importlib.metadata.requires(name) or []]
    return seen


def pip_commands(script: str) -> list[list[str]]:
    """The argument lists of every `pip install` in a shell script, continuation lines joined."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        commands += [
            words[i + 2 :]
            for i in range(len(words) - 1)
            if words[i] == "pip" and words[i + 1] == "install"
        ]
    return commands


def test_parse_lock_rejects_what_is_not_an_exact_hashed_pin() -> None:
    good = "a==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via b\n"
    assert parse_lock(good) == {"a": "1.0"}
    for bad in (
        "a>=1.0 --hash=sha256:" + "0" * 64,
        "a==1.0",
        "a==1.0 --hash=md5:00",
        "-e .",
        "--index-url https://example.invalid/simple",
        "a @ https://example.invalid/a.whl --hash=sha256:" + "0" * 64,
    ):
        with pytest.raises(AssertionError):
            parse_lock(bad)


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, BUILD_LOCK], ids=lambda p: p.name)
def test_every_lock_line_is_an_exact_version_with_hashes(lock: Path) -> None:
    assert len(parse_lock(lock.read_text(encoding="utf-8"))) >= 5


def test_runtime_lock_is_exactly_the_dependency_closure_of_pyproject() -> None:
    pins = parse_lock(RUNTIME_LOCK.read_text(encoding="utf-8"))
    dependencies = PYPROJECT["project"]["dependencies"]
    assert set(pins) == closure(dependencies), (
        "requirements/action.txt has drifted from pyproject.toml: run scripts/lock-action-deps.sh"
    )
    for line in dependencies:
        requirement = Requirement(line)
        assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)]), line


def test_tests_run_against_the_locked_versions() -> None:
    # The closure above is read from the installed metadata: it holds for the locked releases
    # only if those are the ones installed (scripts/test.sh installs the lock first).
    pins = parse_lock(RUNTIME_LOCK.read_text(encoding="utf-8"))
    installed = {name: importlib.metadata.version(name) for name in pins}
    assert installed == pins


def test_build_lock_pins_the_build_backend_pyproject_names() -> None:
    pins = parse_lock(BUILD_LOCK.read_text(encoding="utf-8"))
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)]), line


def action_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load(ROOT / "action.yml")["runs"]["steps"]
    return steps


def test_action_installs_only_through_the_pinned_installer_before_the_token_step() -> None:
    steps = action_steps()
    (install,) = [s for s in steps if "install-reviewer.sh" in s.get("run", "")]
    assert '"$GITHUB_ACTION_PATH/scripts/install-reviewer.sh"' in install["run"]
    for step in steps:
        assert not pip_commands(step.get("run", "")), f"{step.get('name')}: pip install"
        assert "pip wheel" not in step.get("run", ""), step.get("name")
    post = next(s for s in steps if "GITHUB_TOKEN" in s.get("env", {}))
    assert steps.index(install) < steps.index(post)


def test_image_installs_through_the_same_installer() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN bash scripts/install-reviewer\.sh ", dockerfile, flags=re.M)
    assert not pip_commands(dockerfile)


def test_every_pip_install_in_the_installer_is_hash_pinned_or_the_local_wheel() -> None:
    installs = pip_commands(INSTALLER.read_text(encoding="utf-8"))
    assert len(installs) == 3, "build backend, dependencies, reviewer"
    locks = []
    for args in installs:
        if "--no-index" in args:
            # reviewer itself: the wheel built from the checkout, never a name from an index.
            assert "--no-deps" in args, args
            assert [a for a in args if not a.startswith("-")] == ["${wheels[0]}"], args
            continue
        assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(args), args
        assert args.count("-r") == 1, args
        lock = args[args.index("-r") + 1]
        locks.append(lock)
        named = [a for a in args if not a.startswith("-") and a != lock]
        assert not named, f"installs {named} by name, outside the lock"
    assert locks == ["$root/requirements/build.txt", "$root/requirements/action.txt"]


def forged_wheel(directory: Path, name: str, version: str) -> Path:
    """A well-formed wheel for a locked name and version whose bytes are not the published ones."""
    path = directory / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "raise SystemExit('forged code ran')\n")
        wheel.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        wheel.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        wheel.writestr(f"{info}/RECORD", "")
    return path


@pytest.mark.slow
def test_a_wheel_that_is_not_the_locked_one_stops_the_install_and_nothing_planted_survives(
    tmp_path: Path,
) -> None:
    # The index (a mirror, a compromised release, a PIP_INDEX_URL in the job) serves other bytes
    # under a locked name and version. Offline: pip sees only the forged file.
    forged = tmp_path / "index"
    forged.mkdir()
    build_pins = parse_lock(BUILD_LOCK.read_text(encoding="utf-8"))
    for name, version in build_pins.items():
        forged_wheel(forged, name.replace("-", "_"), version)
    # Code that ran earlier in the job left a startup hook where the virtualenv will be.
    venv = tmp_path / "reviewer-venv"
    planted = venv / "lib" / "python3.11" / "site-packages" / "planted.pth"
    planted.parent.mkdir(parents=True)
    planted.write_text("import os; os.system('echo planted hook ran')\n", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(forged),
    }
    done = subprocess.run(
        ["bash", str(INSTALLER), "python3", str(venv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "DO NOT MATCH THE HASHES" in done.stderr, done.stderr
    assert not venv.exists(), "nothing is installed when a dependency does not match"
    assert not planted.exists(), "a planted file never survives into the new virtualenv"
    assert "forged code ran" not in done.stdout + done.stderr
