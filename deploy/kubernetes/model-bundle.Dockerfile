# A model "bundle" for the model-init Jobs: the files a model server reads, in an image, so that
# an air-gapped cluster receives them through its own registry (docs/deploy.md: Provision the
# models on Kubernetes). Build it on the connected machine from a directory holding exactly
# what goes into the volume:
#
#   Ollama: manifests/ and blobs/ from ~/.ollama/models after `ollama pull qwen2.5-coder:7b`
#   vLLM:   the Hugging Face model directory (e.g. Qwen2.5-Coder-7B-Instruct-AWQ/) and SHA256SUMS
#
#   docker build -f deploy/kubernetes/model-bundle.Dockerfile -t registry.internal/... DIR
#
# The base only has to provide sh, cp and sha256sum: the slim Python image reviewer's own
# Dockerfile uses, by the same digest.
ARG BASE_IMAGE=python:3.12.12-slim-bookworm@sha256:593bd06efe90efa80dc4eee3948be7c0fde4134606dd40d8dd8dbcade98e669c
FROM ${BASE_IMAGE}
# Readable by the Jobs' user whatever the modes were on the connected machine (directories
# need x, so one mode for all: --chmod needs BuildKit, docker's default builder).
COPY --chmod=0755 . /bundle/
USER 65532:65532
