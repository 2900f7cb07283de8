"""The Kubernetes manifests for the model-server pool (deploy/kubernetes/) are valid for the
pinned Kubernetes version, and keep the hardening docs/deploy.md promises, read from the parsed
YAML so that an edit which drops one fails here even if the scanner (test_kubernetes_scan.py)
misses it. The model-init Jobs' copy scripts are run for real on a good and an altered bundle."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from reviewer.security import is_local_host
from tests.deploy.shipfiles import KUBERNETES, KUBERNETES_FILES, ROOT, load_all

# The oldest Kubernetes release still maintained upstream when these were written; strict mode
# refuses any field the schema does not know (a typo is not silently ignored by the check).
KUBERNETES_VERSION = "1.33.0"
NAMESPACE = "reviewer-models"
CLIENT_LABEL = {"reviewer-model-client": "true"}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
# Each server's API: its port and the paths its probes ask.
SERVER_API = {"ollama": (11434, {"/api/version", "/api/tags"}), "vllm": (8000, {"/health"})}

DOCS = {path.name: load_all(path) for path in KUBERNETES_FILES}
OBJECTS = [(name, doc) for name, docs in DOCS.items() for doc in docs]


def objects(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(file, doc) for file, doc in OBJECTS if doc["kind"] == kind]


def one(file: str, kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [
        doc
        for doc in DOCS[file]
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    return found


def workloads() -> list[Any]:
    return [
        pytest.param(doc, id=f"{file}:{doc['metadata']['name']}")
        for file, doc in OBJECTS
        if doc["kind"] in WORKLOAD_KINDS
    ]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def servers() -> list[Any]:
    return [
        pytest.param(doc, id=file)
        for file, doc in OBJECTS
        if doc["kind"] in WORKLOAD_KINDS
        and doc["metadata"]["labels"].get("app.kubernetes.io/component") == "model-server"
    ]


def env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def test_the_manifests_are_there() -> None:
    assert {"namespace.yaml", "network-policy.yaml", "ollama.yaml", "vllm.yaml"} <= set(DOCS)
    assert len(servers()) == 3  # Ollama on CPU, Ollama on GPU, vLLM
    assert len(workloads()) == 5  # and the two model-init Jobs


@pytest.mark.parametrize("path", KUBERNETES_FILES, ids=lambda p: p.name)
def test_every_manifest_validates_against_the_kubernetes_schema(path: Path) -> None:
    for doc in DOCS[path.name]:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_refuses_an_unknown_field_and_a_wrong_type() -> None:
    statefulset = one("ollama.yaml", "StatefulSet")
    typo = {**statefulset, "spec": {**statefulset["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)
    service = one("ollama-pool.yaml", "Service", "ollama")
    wrong = {**service, "spec": {**service["spec"], "ports": [{"port": "eleven"}]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSION, strict=True)


def test_nothing_lands_in_the_default_namespace() -> None:
    for file, doc in OBJECTS:
        if doc["kind"] == "Namespace":
            continue
        expected = "ci-runners" if file == "ci-runner-names.yaml" else NAMESPACE
        assert doc["metadata"]["namespace"] == expected, (file, doc["metadata"]["name"])


def test_the_namespace_enforces_the_restricted_pod_security_profile() -> None:
    labels = one("namespace.yaml", "Namespace")["metadata"]["labels"]
    assert one("namespace.yaml", "Namespace")["metadata"]["name"] == NAMESPACE
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_all_egress_is_denied_and_only_the_ci_runners_namespace_may_connect() -> None:
    policies = [doc for _, doc in objects("NetworkPolicy")]
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert len(deny) == 1, "one policy selects every pod in the namespace"
    assert set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    # Policies add up: any egress rule anywhere would open a way out again.
    for policy in policies:
        assert "egress" not in policy["spec"], policy["metadata"]["name"]
        assert policy["metadata"]["namespace"] == NAMESPACE
    admitted = [p for p in policies if p["spec"].get("ingress")]
    assert len(admitted) == 1
    spec = admitted[0]["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/component": "model-server"}}
    for rule in spec["ingress"]:
        # Only a namespace selector on the documented label: no address block, no pod selector
        # (alone it would mean this namespace), no empty `from` (anyone).
        assert rule["from"] == [{"namespaceSelector": {"matchLabels": CLIENT_LABEL}}]
        assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {
            ("TCP", port) for port, _ in SERVER_API.values()
        }
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "kubectl label namespace" in docs and "reviewer-model-client=true" in docs


@pytest.mark.parametrize("workload", workloads())
def test_every_pod_runs_unprivileged_without_a_token_on_a_read_only_root(
    workload: dict[str, Any],
) -> None:
    spec = pod_spec(workload)
    assert spec["automountServiceAccountToken"] is False
    accounts = {doc["metadata"]["name"]: doc for _, doc in objects("ServiceAccount")}
    assert accounts[spec["serviceAccountName"]]["automountServiceAccountToken"] is False
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] >= 10000
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    for shared in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(shared, False), shared
    for container in containers(workload):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["runAsNonRoot"] is True
        assert context.get("privileged", False) is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), kind


@pytest.mark.parametrize("workload", workloads())
def test_scratch_space_is_tmpfs_and_no_volume_reaches_the_host(workload: dict[str, Any]) -> None:
    volumes = pod_spec(workload)["volumes"]
    assert volumes
    for volume in volumes:
        assert set(volume) - {"name"} <= {"emptyDir", "persistentVolumeClaim"}, volume["name"]
        if "emptyDir" in volume:
            assert volume["emptyDir"]["medium"] == "Memory", volume["name"]
            assert volume["emptyDir"]["sizeLimit"], volume["name"]
    mounted = {m["mountPath"] for c in containers(workload) for m in c["volumeMounts"]}
    assert "/tmp" in mounted


def model_claims(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The models volume(s) of a pod: name -> its persistentVolumeClaim source."""
    return {
        v["name"]: v["persistentVolumeClaim"]
        for v in pod_spec(workload)["volumes"]
        if "persistentVolumeClaim" in v
    }


@pytest.mark.parametrize("workload", servers())
def test_servers_read_the_models_read_only_and_probe_their_api(workload: dict[str, Any]) -> None:
    kind = workload["metadata"]["labels"]["app.kubernetes.io/name"]
    port, paths = SERVER_API[kind]
    (container,) = pod_spec(workload)["containers"]
    (claim_volume, claim), *_ = model_claims(workload).items()
    assert claim["readOnly"] is True
    mounts = [m for m in container["volumeMounts"] if m["name"] == claim_volume]
    assert mounts and all(m["readOnly"] is True for m in mounts)
    (named_port,) = container["ports"]
    assert named_port["containerPort"] == port
    probed = set()
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["port"] in (port, named_port["name"]), probe
        probed.add(get["path"])
    assert probed == paths
    assert "readinessProbe" in container and "livenessProbe" in container


@pytest.mark.parametrize("file", ["ollama.yaml", "ollama-gpu.yaml"])
def test_ollama_serves_one_request_at_a_time_with_a_bounded_queue(file: str) -> None:
    (container,) = pod_spec(one(file, "StatefulSet"))["containers"]
    settings = env(container)
    assert settings["OLLAMA_NUM_PARALLEL"] == "1"
    assert settings["OLLAMA_MAX_LOADED_MODELS"] == "1"
    assert settings["OLLAMA_NOPRUNE"] == "1"
    assert 1 <= int(settings["OLLAMA_MAX_QUEUE"]) <= 64
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert f"OLLAMA_MAX_QUEUE={settings['OLLAMA_MAX_QUEUE']}" in docs
    models = next(m for m in container["volumeMounts"] if m["name"] == "models")
    assert settings["OLLAMA_MODELS"] == models["mountPath"]
    # Ollama writes its key pair under HOME at start: HOME must be a writable tmpfs.
    assert settings["HOME"] in {m["mountPath"] for m in container["volumeMounts"]}


def test_vllm_never_reaches_for_the_hub() -> None:
    (container,) = pod_spec(one("vllm.yaml", "Deployment"))["containers"]
    assert env(container)["HF_HUB_OFFLINE"] == "1"
    assert env(container)["HOME"] in {m["mountPath"] for m in container["volumeMounts"]}


def gpus(container: dict[str, Any]) -> tuple[str | None, str | None]:
    resources = container["resources"]
    return resources["requests"].get("nvidia.com/gpu"), resources["limits"].get("nvidia.com/gpu")


def test_the_gpu_variants_ask_for_a_gpu_each_and_the_cpu_one_for_none() -> None:
    for file, kind in (("ollama-gpu.yaml", "StatefulSet"), ("vllm.yaml", "Deployment")):
        (container,) = pod_spec(one(file, kind))["containers"]
        assert gpus(container) == ("1", "1"), file
    (cpu,) = pod_spec(one("ollama.yaml", "StatefulSet"))["containers"]
    assert gpus(cpu) == (None, None)


def without_gpu(statefulset: dict[str, Any]) -> dict[str, Any]:
    spec = pod_spec(statefulset)
    spec.pop("tolerations", None)
    for container in spec["containers"]:
        for kind in ("requests", "limits"):
            container["resources"][kind].pop("nvidia.com/gpu", None)
    return statefulset


def test_the_gpu_statefulset_is_the_cpu_one_plus_gpus() -> None:
    gpu = without_gpu(load_all(KUBERNETES / "ollama-gpu.yaml")[0])
    assert gpu == load_all(KUBERNETES / "ollama.yaml")[0]


def test_the_model_init_jobs_are_the_only_writers_of_the_volumes_the_servers_read() -> None:
    for job_file, server_file, kind in (
        ("ollama-model-init.yaml", "ollama.yaml", "StatefulSet"),
        ("vllm-model-init.yaml", "vllm.yaml", "Deployment"),
    ):
        job = one(job_file, "Job")
        (job_claim,) = model_claims(job).values()
        (server_claim,) = model_claims(one(server_file, kind)).values()
        assert job_claim["claimName"] == server_claim["claimName"]
        assert job_claim.get("readOnly", False) is False
        assert pod_spec(job)["restartPolicy"] == "Never"
        assert job["spec"]["activeDeadlineSeconds"] > 0
    writers = [
        (file, doc["metadata"]["name"])
        for file, doc in OBJECTS
        if doc["kind"] in WORKLOAD_KINDS
        for claim in model_claims(doc).values()
        if not claim.get("readOnly", False)
    ]
    assert sorted(writers) == [
        ("ollama-model-init.yaml", "ollama-model-init"),
        ("vllm-model-init.yaml", "vllm-model-init"),
    ]


def test_one_service_and_one_ci_runner_name_per_ollama_replica() -> None:
    replicas = one("ollama.yaml", "StatefulSet")["spec"]["replicas"]
    assert replicas == one("ollama-gpu.yaml", "StatefulSet")["spec"]["replicas"] >= 2
    per_replica = {
        doc["metadata"]["name"]: doc["spec"]["selector"]
        for doc in DOCS["ollama-pool.yaml"]
        if doc["kind"] == "Service"
        and "statefulset.kubernetes.io/pod-name" in doc["spec"]["selector"]
    }
    names = [f"ollama-{i}" for i in range(replicas)]
    assert sorted(per_replica) == names
    for name, selector in per_replica.items():
        assert selector["statefulset.kubernetes.io/pod-name"] == name
    aliases = {
        doc["metadata"]["name"]: doc["spec"]["externalName"] for doc in DOCS["ci-runner-names.yaml"]
    }
    assert aliases == {
        **{name: f"{name}.{NAMESPACE}.svc.cluster.local" for name in names},
        "vllm": f"vllm.{NAMESPACE}.svc.cluster.local",
    }


def test_the_ci_runner_names_pass_reviewers_egress_policy_where_cluster_names_do_not() -> None:
    for alias, target in (
        (doc["metadata"]["name"], doc["spec"]["externalName"])
        for doc in DOCS["ci-runner-names.yaml"]
    ):
        assert is_local_host(alias), alias
        assert not is_local_host(target), target


# --- the model-init copy scripts, run for real ------------------------------------------------


def copy_script(file: str, bundle: Path, models: Path) -> str:
    (container,) = pod_spec(one(file, "Job"))["containers"]
    assert container["command"] == ["/bin/sh", "-c"]
    script: str = container["args"][0]
    assert "/bundle" in script and "/models" in script
    return script.replace("/bundle", str(bundle)).replace("/models", str(models))


def run_copy(
    file: str, bundle: Path, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], Path]:
    models = tmp_path / "models"
    models.mkdir()
    done = subprocess.run(
        ["/bin/sh", "-c", copy_script(file, bundle, models)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done, models


def ollama_bundle(root: Path) -> Path:
    blob = b"GGUF not really a model"
    digest = hashlib.sha256(blob).hexdigest()
    (root / "blobs").mkdir(parents=True)
    (root / "blobs" / f"sha256-{digest}").write_bytes(blob)
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / "qwen2.5-coder" / "7b"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(f'{{"layers": [{{"digest": "sha256:{digest}"}}]}}', encoding="utf-8")
    manifest.chmod(0o600)  # as a connected machine may leave it
    return root


def test_the_ollama_copy_fills_the_volume_readable_to_the_server(tmp_path: Path) -> None:
    done, models = run_copy("ollama-model-init.yaml", ollama_bundle(tmp_path / "b"), tmp_path)
    assert done.returncode == 0, done.stderr
    copied = models / "manifests" / "registry.ollama.ai" / "library" / "qwen2.5-coder" / "7b"
    assert copied.is_file() and copied.stat().st_mode & 0o004
    assert len(list((models / "blobs").iterdir())) == 1
    assert str(copied) in done.stdout


def test_the_ollama_copy_refuses_an_altered_blob_and_writes_nothing(tmp_path: Path) -> None:
    bundle = ollama_bundle(tmp_path / "b")
    (blob,) = (bundle / "blobs").iterdir()
    blob.write_bytes(b"something else")
    done, models = run_copy("ollama-model-init.yaml", bundle, tmp_path)
    assert done.returncode != 0
    assert "FAILED" in done.stderr + done.stdout
    assert list(models.iterdir()) == []


def test_the_ollama_copy_refuses_a_bundle_without_blobs(tmp_path: Path) -> None:
    bundle = ollama_bundle(tmp_path / "b")
    (blob,) = (bundle / "blobs").iterdir()
    blob.unlink()
    done, models = run_copy("ollama-model-init.yaml", bundle, tmp_path)
    assert done.returncode != 0
    assert list(models.iterdir()) == []


# How docs/deploy.md makes the vLLM bundle's checksums on the connected machine.
MAKE_SUMS = "find . -type f ! -name SHA256SUMS -print0 | xargs -0 sha256sum > SHA256SUMS"


def vllm_bundle(root: Path) -> Path:
    model = root / "Qwen2.5-Coder-7B-Instruct-AWQ"
    model.mkdir(parents=True)
    (model / "config.json").write_text('{"model_type": "qwen2"}', encoding="utf-8")
    (model / "model.safetensors").write_bytes(b"weights")
    subprocess.run(["/bin/sh", "-c", MAKE_SUMS], cwd=root, check=True)
    return root


def test_the_vllm_copy_checks_every_file_then_fills_the_volume(tmp_path: Path) -> None:
    done, models = run_copy("vllm-model-init.yaml", vllm_bundle(tmp_path / "b"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        models / "Qwen2.5-Coder-7B-Instruct-AWQ" / "model.safetensors"
    ).read_bytes() == b"weights"
    bad = vllm_bundle(tmp_path / "c")
    (bad / "Qwen2.5-Coder-7B-Instruct-AWQ" / "model.safetensors").write_bytes(b"other weights")
    other = tmp_path / "other"
    other.mkdir()
    done, models = run_copy("vllm-model-init.yaml", bad, other)
    assert done.returncode != 0
    assert list(models.iterdir()) == []


def test_the_docs_make_the_checksums_the_way_the_test_does() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert MAKE_SUMS in docs
    assert re.search(r"model-bundle\.Dockerfile", docs)
