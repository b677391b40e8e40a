#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: fuzz/run.sh [SECONDS] (20 by
# default; 16 targets at 20 s take about six minutes after the build).
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz`).
#
# Stable toolchains only: RUSTC_BOOTSTRAP=1 lets stable rustc take the -Z
# flags cargo-fuzz passes (SanitizerCoverage instrumentation). No sanitizer
# is used (`--sanitizer none`): our crates forbid `unsafe`, and ASan would
# roughly halve the speed. Debug assertions stay on, so integer overflow
# panics. The corpus grows in fuzz/corpus/<target>/ (seeds committed there;
# new finds are ignored by git); a crash leaves fuzz/artifacts/<target>/ and
# fails the script.
#
# fuzz/Cargo.lock is committed and must be complete: cargo-fuzz has no
# --locked, so the script checks it first (`cargo metadata --locked`) rather
# than let the build rewrite it. After changing a dependency of wxpay-core or
# wxpay-sandbox, refresh it with `cargo update --workspace` in fuzz/ (or one
# `cargo fuzz build`) and commit it.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
export RUSTC_BOOTSTRAP=1
flags=(--sanitizer none --release --debug-assertions)

if ! cargo metadata --locked --format-version 1 >/dev/null; then
  echo "fuzz/Cargo.lock is out of date: run \`cargo update --workspace\` in fuzz/ and commit it"
  exit 1
fi
cargo fuzz build "${flags[@]}"
failed=()
for target in $(cargo fuzz list); do
  echo "--- fuzz $target for ${seconds}s"
  # A scratch corpus dir first, so runs do not rewrite the committed seeds.
  scratch="corpus-run/$target"
  mkdir -p "$scratch" "corpus/$target"
  log="corpus-run/$target.log"
  status=0
  cargo fuzz run "${flags[@]}" "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|panicked|^SUMMARY|Test unit written' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log"
    failed+=("$target")
  fi
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "FUZZ FAILURES: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a crash"
