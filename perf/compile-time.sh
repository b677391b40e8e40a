#!/usr/bin/env bash
# What the catalogue costs to compile: our three crates (wxpay-macros,
# wxpay-core, wxpay) rebuilt from scratch, dependencies already built, in
# the dev profile without incremental compilation, for the runtime alone (no
# catalogue area), the default areas, and `full`. Prints wall and CPU time
# and rustc's peak memory; the README's catalogue section quotes a run.
#
#     perf/compile-time.sh            # uses $CARGO_TARGET_DIR or target/
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0

sets=(
  "runtime alone|--no-default-features --features aws-lc"
  "default areas|"
  "full|--features full"
)
for entry in "${sets[@]}"; do
  name=${entry%%|*}
  read -r -a flags <<< "${entry#*|}"
  cargo build --locked -q -p wxpay --lib "${flags[@]}"   # dependencies, untimed
  touch src/lib.rs core/src/lib.rs macros/src/lib.rs
  /usr/bin/time -f "$name: wall %e s, CPU %U s user + %S s sys, peak RSS %M KiB" \
    cargo build --locked -q -p wxpay --lib "${flags[@]}"
done
