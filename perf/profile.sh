#!/usr/bin/env bash
# Where the wxpay client's instructions go, per signed and verified request,
# counted by callgrind (deterministic, unlike timings on a shared machine).
#
#   perf/profile.sh [WXPAY_BIN] [BACKEND]     # default: the release build, aws-lc
#
# Starts a `wxpay sandbox` in its own process, then runs `wxpay bench -c 1`
# under callgrind twice (N1 and N2 requests): (Ir(N2) - Ir(N1)) / (N2 - N1)
# is the instruction count of one request with start-up (key parsing,
# runtime, the first connection) cancelled out. Prints that, and the
# functions with the most inclusive instructions in the larger run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
target="${CARGO_TARGET_DIR:-$root/target}"
wxpay="${1:-$target/release/wxpay}"
backend="${2:-aws-lc}"
n1=${N1:-50}
n2=${N2:-250}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/wxpay-profile.XXXXXX")"
sandbox_pid=""
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

"$wxpay" sandbox --state "$tmp/state" >"$tmp/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 300); do
  grep -q '^wxpay sandbox listening on ' "$tmp/sandbox.log" && break
  sleep 0.1
done
set -a
# shellcheck disable=SC1091
. "$tmp/state/sandbox.env"
set +a

list='/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={mchid}'
for n in "$n1" "$n2"; do
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$n" \
    "$wxpay" bench --backend "$backend" -n "$n" -c 1 --warmup 0 GET "$list" >/dev/null 2>"$tmp/vg.$n"
done
total() {
  callgrind_annotate "$1" >"$1.txt" 2>/dev/null
  awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' "$1.txt"
}
ir1=$(total "$tmp/cg.$n1")
ir2=$(total "$tmp/cg.$n2")
echo "backend $backend: $ir1 Ir for $n1 requests, $ir2 Ir for $n2"
echo "per request: $(( (ir2 - ir1) / (n2 - n1) )) instructions"
echo
echo "top inclusive functions, $n2 requests:"
callgrind_annotate --inclusive=yes "$tmp/cg.$n2" >"$tmp/inclusive.txt" 2>/dev/null
sed -n '/file:function/,$p' "$tmp/inclusive.txt" | sed -n 1,45p
echo
echo "the steps of a request, $n2 requests (inclusive):"
grep -E "Client>::(prepare_raw|send_raw|transmit)|Verifier::verify \[|RequestSigner::authorization|MerchantKey::sign_sha256|VerifyingKey::verify_sha256|BN_BLINDING_convert|RAND_bytes_with|reqwest::async_impl::client::Client::execute \[|HeaderMap<T> as core::clone::Clone|Url as core::clone::Clone|bench::one" "$tmp/inclusive.txt" | sed -n 1,20p
[ -n "${PROFILE_OUT:-}" ] && cp "$tmp/inclusive.txt" "$PROFILE_OUT"
exit 0
