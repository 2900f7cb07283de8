"""Every container image the project ships a reference to is pinned by digest: the compose
files, the Dockerfiles' FROM (reviewer's and the Kubernetes model bundle's), the Kubernetes
manifests' containers, the example workflows' service containers and the GitLab examples'
images and services."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.shipfiles import (
    COMPOSE,
    GITLAB_FILES,
    KUBERNETES,
    KUBERNETES_FILES,
    ROOT,
    WORKFLOW_FILES,
    load,
    load_all,
)

# name[:tag]@sha256:<64 hex>; the tag is kept for the reader, the digest decides.
PINNED = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[\w.-]+)?@sha256:[0-9a-f]{64}")
DEFAULTED = re.compile(r"\$\{[A-Z_][A-Z0-9_]*:-([^}]*)\}")


def effective(reference: str, args: dict[str, str] | None = None) -> str:
    """The reference as used when nothing is overridden: `${VAR:-default}` is its default, and a
    Dockerfile `${ARG}` its ARG default. Anything else left unresolved stays and fails the pin."""
    reference = DEFAULTED.sub(lambda m: m.group(1), reference)
    for name, value in (args or {}).items():
        reference = reference.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return reference


def compose_images() -> list[tuple[str, str]]:
    found = []
    for path in sorted(COMPOSE.glob("*.yml")):
        for name, service in load(path)["services"].items():
            if "image" in service and "build" not in service:
                found.append((f"{path.name}:{name}", effective(str(service["image"]))))
    return found


def dockerfile_images(text: str) -> list[str]:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, flags=re.M))
    stages: set[str] = set()
    images = []
    for image, stage in re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.M | re.I):
        if image not in stages:  # FROM an earlier stage is not an image
            images.append(effective(image, args))
        if stage:
            stages.add(stage)
    return images


# The model bundles the model-init Jobs copy from are built by each site (docs/deploy.md): the
# manifests name them with this digest, which no registry can serve, until the site puts its own.
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64


def kubernetes_images() -> list[tuple[str, str]]:
    found = []
    for path in KUBERNETES_FILES:
        for doc in load_all(path):
            template = doc.get("spec", {}).get("template", {}).get("spec", {})
            found += [
                (f"{path.name}:{container['name']}", container["image"])
                for container in [*template.get("initContainers", []), *template.get("containers", [])]
            ]
    return found


def workflow_images(workflow: dict[str, Any]) -> list[str]:
    images = []
    for job in workflow["jobs"].values():
        container = job.get("container")
        if container is not None:
            images.append(container if isinstance(container, str) else container["image"])
        images += [service["image"] for service in job.get("services", {}).values()]
        images += [
            s["uses"].removeprefix("docker://")
            for s in job.get("steps", [])
            if s.get("uses", "").startswith("docker://")
        ]
    return images


def gitlab_images(pipeline: dict[str, Any]) -> list[str]:
    """Every job's image and services (the global default too), with `$VAR` replaced by the
    file's own global variable: an image named by a variable is pinned where it is defined."""
    variables = {k: str(v) for k, v in pipeline.get("variables", {}).items()}

    def resolve(entry: str | dict[str, Any]) -> str:
        name = entry if isinstance(entry, str) else entry["name"]
        return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), name)

    images = []
    for job in [pipeline.get("default", {}), *pipeline.values()]:
        if isinstance(job, dict):
            if "image" in job:
                images.append(resolve(job["image"]))
            images += [resolve(service) for service in job.get("services", [])]
    return images


def test_the_checks_catch_a_tag_a_variable_and_a_short_digest() -> None:
    assert PINNED.fullmatch(effective("${X:-ollama/ollama:1@sha256:" + "a" * 64 + "}"))
    for reference in (
        "ollama/ollama:0.12.10",
        "ollama/ollama:${OLLAMA_VERSION:-0.12.10}",
        "ollama/ollama@sha256:" + "a" * 12,
        "${OLLAMA_IMAGE}",
    ):
        assert not PINNED.fullmatch(effective(reference)), reference
    text = "ARG BASE=python:3.12-slim\nFROM ${BASE} AS build\nFROM build\nFROM alpine:3 AS x\n"
    assert dockerfile_images(text) == ["python:3.12-slim", "alpine:3"]


@pytest.mark.parametrize(("where", "image"), compose_images(), ids=lambda v: str(v))
def test_compose_image_is_pinned_by_digest(where: str, image: str) -> None:
    assert PINNED.fullmatch(image), f"{where}: {image}"


def test_compose_files_name_the_model_servers() -> None:
    names = {image.split("@")[0].split(":")[0] for _, image in compose_images()}
    assert {"ollama/ollama", "vllm/vllm-openai"} <= names


def test_dockerfile_bases_are_pinned_by_digest() -> None:
    images = dockerfile_images((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert images
    for image in images:
        assert PINNED.fullmatch(image), image


@pytest.mark.parametrize(("where", "image"), kubernetes_images(), ids=lambda v: str(v))
def test_kubernetes_image_is_pinned_by_digest(where: str, image: str) -> None:
    assert PINNED.fullmatch(image), f"{where}: {image}"


def test_kubernetes_placeholders_are_only_the_site_built_model_bundles() -> None:
    images = kubernetes_images()
    placeholders = sorted(where for where, image in images if image.endswith(PLACEHOLDER_DIGEST))
    assert placeholders == ["ollama-model-init.yaml:copy", "vllm-model-init.yaml:copy"]
    servers = {image.split("@")[0] for _, image in images if not image.endswith(PLACEHOLDER_DIGEST)}
    assert servers == {"ollama/ollama:0.12.10", "vllm/vllm-openai:v0.10.2"}


def test_the_model_bundle_base_is_pinned_by_digest() -> None:
    text = (KUBERNETES / "model-bundle.Dockerfile").read_text(encoding="utf-8")
    (image,) = dockerfile_images(text)
    assert PINNED.fullmatch(image), image


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_containers_are_pinned_by_digest(path: Path) -> None:
    for image in workflow_images(load(path)):
        assert PINNED.fullmatch(image), f"{path.name}: {image}"


@pytest.mark.parametrize("path", GITLAB_FILES, ids=lambda p: p.name)
def test_gitlab_images_and_services_are_pinned_by_digest(path: Path) -> None:
    images = gitlab_images(load(path))
    assert len(images) >= 3, "the review job's image and service, the post job's image"
    for image in images:
        assert PINNED.fullmatch(image), f"{path.name}: {image}"


def test_the_gitlab_check_catches_an_unpinned_service() -> None:
    pipeline = {"variables": {"IMG": "ollama/ollama:0.12.10"}, "job": {"services": ["$IMG"]}}
    assert gitlab_images(pipeline) == ["ollama/ollama:0.12.10"]
    assert not PINNED.fullmatch(gitlab_images(pipeline)[0])


def test_one_image_has_one_digest_everywhere() -> None:
    references = [image for _, image in compose_images() + kubernetes_images()]
    references += dockerfile_images((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    references += dockerfile_images(
        (KUBERNETES / "model-bundle.Dockerfile").read_text(encoding="utf-8")
    )
    references += [image for path in WORKFLOW_FILES for image in workflow_images(load(path))]
    references += [image for path in GITLAB_FILES for image in gitlab_images(load(path))]
    digests: dict[str, set[str]] = {}
    for reference in references:
        if reference.endswith(PLACEHOLDER_DIGEST):
            continue
        name, digest = reference.split("@")
        digests.setdefault(name, set()).add(digest)
    assert len(digests) >= 2
    for name, found in digests.items():
        assert len(found) == 1, f"{name} is pinned to {found}"
