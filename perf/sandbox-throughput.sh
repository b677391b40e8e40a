#!/usr/bin/env bash
# The sandbox's own throughput, state on disk: starts a release
# `wxpay sandbox --state DIR`, places one order, then drives two operations
# with `wxpay bench --presign` (every request signed before the clock
# starts, so the client's CPU goes to HTTP and verification and the run
# measures the server):
#
#   * a hand-written handler: the order query by out_trade_no, read from
#     DIR/sandbox.sqlite3;
#   * an operation answered from the spec: GET
#     /v3/apply4subject/applyment/merchants/{sub_mchid}/state.
#
# Prints one line per operation with the answers per second and the
# sandbox's CPU per answer (from /proc), and the `wxpay bench` JSON to
# $OUT when set.
#
#   cargo build --release -p wxpay-cli
#   perf/sandbox-throughput.sh [WXPAY_BIN] [REQUESTS] [IN_FLIGHT]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wxpay="${1:-${CARGO_TARGET_DIR:-$root/target}/release/wxpay}"
requests="${2:-20000}"
in_flight="${3:-32}"
[ -x "$wxpay" ] || { echo "error: no wxpay binary at $wxpay (cargo build --release -p wxpay-cli)" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/wxpay-throughput.XXXXXX")"
sandbox_pid=""
cleanup() {
  [ -n "$sandbox_pid" ] && { kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT

"$wxpay" sandbox --addr 127.0.0.1:0 --state "$tmp/state" >"$tmp/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 300); do
  grep -q '^wxpay sandbox listening on ' "$tmp/sandbox.log" && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$tmp/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
set -a
# shellcheck disable=SC1091
. "$tmp/state/sandbox.env"
set +a

"$wxpay" request POST /v3/pay/transactions/native -d "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"$WXPAY_MCHID\",\"description\":\"throughput\",\"out_trade_no\":\"throughput-1\",\"notify_url\":\"https://example.com/notify\",\"amount\":{\"total\":100}}" >"$tmp/order.json" 2>"$tmp/order.log" \
  || { echo "error: placing the order failed:" >&2; cat "$tmp/order.log" >&2; exit 1; }

# The sandbox's CPU time so far, in clock ticks (utime + stime).
ticks() { awk '{print $14 + $15}' "/proc/$sandbox_pid/stat"; }
hz="$(getconf CLK_TCK)"

measure() {
  local name="$1" target="$2"
  local before after json
  before="$(ticks)"
  json="$("$wxpay" bench --presign --json -n "$requests" -c "$in_flight" GET "$target")"
  after="$(ticks)"
  [ -n "${OUT:-}" ] && echo "$json" >>"$OUT"
  python3 - "$name" "$json" "$before" "$after" "$hz" <<'PY'
import json, sys
name, report, before, after, hz = sys.argv[1], json.loads(sys.argv[2]), *map(int, sys.argv[3:])
cpu_ms = (after - before) * 1000 / hz / report["requests"]
errors = sum(report["errors"].values())
print(f"{name:<28} {report['requests_per_s']:8.0f} answers/s  p50 {report['latency_ms']['p50']:6.2f} ms  "
      f"p99 {report['latency_ms']['p99']:6.2f} ms  sandbox CPU {cpu_ms:.3f} ms/answer  "
      f"client CPU {report['cpu_ms_per_request']:.3f} ms/request  errors {errors}")
PY
}

echo "sandbox throughput: $requests signed answers per operation, $in_flight in flight, state in $tmp/state, $(nproc) CPUs"
measure "hand-written (order query)" '/v3/pay/transactions/out-trade-no/throughput-1?mchid={mchid}'
measure "from the spec" '/v3/apply4subject/applyment/merchants/1900000109/state'
