# reviewer in a container: built in one stage, run from a slim image with no compilers or
# build tools, as an unprivileged user. Used by compose/ (docs/deploy.md).
#
#   docker build -t reviewer:local .
#   docker run --rm -v "$PWD:/work/repo:ro" reviewer:local run --repo /work/repo --dry-run

# The base image by digest: a tag can be moved to other bytes, a digest cannot. docs/deploy.md
# says where this one comes from and how to update it.
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm@sha256:593bd06efe90efa80dc4eee3948be7c0fde4134606dd40d8dd8dbcade98e669c

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY scripts/install-reviewer.sh ./scripts/
COPY src ./src
# The same hash-pinned install as the Action (exact versions, wheels only, no resolver), so no
# compiler is needed even here. pip itself is removed from the virtualenv: the final image
# installs nothing.
RUN bash scripts/install-reviewer.sh python /opt/reviewer \
 && /opt/reviewer/bin/python -m pip uninstall -y pip

FROM ${PYTHON_IMAGE}
# The distribution inside is reviewer-ci (the command is `reviewer`); keep the version in step
# with pyproject.toml (tests/deploy/test_names.py checks it).
LABEL org.opencontainers.image.title="reviewer-ci" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.description="reviewer: code review in CI by a local model server" \
      org.opencontainers.image.licenses="Apache-2.0"
# git is the one system tool reviewer runs (to read the diff). The repository is mounted at
# /work/repo from the host and owned by another user, so git is told to trust that one path
# (reviewer passes git only an allow-listed environment, so this lives in the system config).
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory /work/repo \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /tmp --shell /usr/sbin/nologin reviewer
COPY --from=build /opt/reviewer /opt/reviewer
ENV PATH=/opt/reviewer/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
WORKDIR /work/repo
ENTRYPOINT ["reviewer"]
CMD ["--help"]
