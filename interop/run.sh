#!/usr/bin/env bash
# Starts the wxpay sandbox on a free port and drives it with the Node
# library wechatpay-axios-plugin (every interop/*-flow.js: seed,
# profit sharing, transfers, and v2-flow.js for APIv2 over the sandbox's
# TLS listener with the merchant's client certificate); exits with 1
# if any of them failed. Needs cargo, node (18 or later) and npm.
#
#   interop/run.sh            # builds the wxpay command first
#   WXPAY_BIN=/path/to/wxpay interop/run.sh   # uses that binary instead
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed (Node 18 or later with npm)" >&2; exit 1; }
done
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
  || { echo "error: Node 18 or later is needed, found $(node --version)" >&2; exit 1; }

if [ -z "${WXPAY_BIN:-}" ]; then
  (cd "$root" && cargo build -p wxpay-cli --locked)
  target="${CARGO_TARGET_DIR:-target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  WXPAY_BIN="$target/debug/wxpay"
fi
[ -x "$WXPAY_BIN" ] || { echo "error: no wxpay binary at $WXPAY_BIN" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/wxpay-interop.XXXXXX")"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$WXPAY_BIN" sandbox --addr 127.0.0.1:0 --state "$tmp/state" >"$tmp/sandbox.log" 2>&1 &
sandbox_pid=$!

# The command writes sandbox.env, then prints "wxpay sandbox listening on
# URL": once that line is there the file is complete and the port open.
for _ in $(seq 1 300); do
  grep -q '^wxpay sandbox listening on ' "$tmp/sandbox.log" && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    echo "error: the sandbox exited before it was ready:" >&2
    cat "$tmp/sandbox.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! grep -q '^wxpay sandbox listening on ' "$tmp/sandbox.log"; then
  echo "error: the sandbox did not start within 30 s:" >&2
  cat "$tmp/sandbox.log" >&2
  exit 1
fi
cat "$tmp/sandbox.log"

set -a
# shellcheck disable=SC1091
. "$tmp/state/sandbox.env"
set +a

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
# Every *-flow.js here, in name order, all of them even when one fails.
status=0
for flow in *-flow.js; do
  echo "--- node $flow"
  node "$flow" || status=$?
done
if [ "$status" -ne 0 ]; then
  echo "--- sandbox log" >&2
  cat "$tmp/sandbox.log" >&2
fi
exit "$status"
