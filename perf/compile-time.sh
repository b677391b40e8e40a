#!/usr/bin/env bash
# What the catalogue costs to compile: our crates (wxpay-macros,
# wxpay-core, the catalogue's crates under api/, wxpay) rebuilt from
# scratch, dependencies already built, in the dev profile without incremental compilation, for the runtime alone (no
# catalogue area), the default areas, and `full`; then how long a user's
# crate that calls one operation takes to rebuild after a change to its own
# code (incremental, dev profile, as `cargo build` does by default). Prints
# wall and CPU time, the CPU ratio to the runtime alone, and rustc's peak
# memory; the README's catalogue section quotes a run.
#
#     perf/compile-time.sh            # uses $CARGO_TARGET_DIR or target/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}
target=${CARGO_TARGET_DIR:-$root/target}

# One `/usr/bin/time` line: "<wall> <user> <sys> <peak KiB>".
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$target/.compile-time" "$@" >/dev/null
  cat "$target/.compile-time"
}

sets=(
  "runtime alone|--no-default-features --features aws-lc"
  "default areas|"
  "full|--features full"
)
printf '%-15s %8s %8s %8s %10s\n' features wall CPU ratio "peak RSS"
alone=""
for entry in "${sets[@]}"; do
  name=${entry%%|*}
  read -r -a flags <<< "${entry#*|}"
  cargo build --locked -q -p wxpay --lib "${flags[@]}"   # dependencies, untimed
  touch src/lib.rs core/src/lib.rs macros/src/lib.rs api/*/src/lib.rs
  read -r wall user sys peak < <(measure cargo build --locked -q -p wxpay --lib "${flags[@]}")
  cpu=$(awk "BEGIN { print $user + $sys }")
  alone=${alone:-$cpu}
  printf '%-15s %7ss %7ss %7sx %7s MB\n' "$name" "$wall" "$cpu" \
    "$(awk "BEGIN { printf \"%.1f\", $cpu / $alone }")" "$((peak / 1024))"
done

# A user's crate: one operation sent with the default features.
user="$target/compile-time-user"
mkdir -p "$user/src"
cp Cargo.lock "$user/Cargo.lock"
cat > "$user/Cargo.toml" <<EOF
[package]
name = "compile-time-user"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
wxpay = { path = "$root" }
tokio = { version = "1", features = ["rt", "macros"] }

[workspace]
EOF
write_main() {
  cat > "$user/src/main.rs" <<EOF
use wxpay::api::v3::marketing::favor::stocks::_stock_id_::start::Post as StartStock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = wxpay::Client::builder()
        .mchid("1900000001")
        .merchant_key_file("$1", "apiclient_key.pem")
        .wechatpay_public_key_file("PUB_KEY_ID_0001", "pub_key.pem")
        .build()?;
    let started = client
        .send(&StartStock { stock_id: "$1".into(), stock_creator_mchid: "1900000001".into() })
        .await?;
    println!("{started:?}");
    Ok(())
}
EOF
}
write_main SERIAL0001
(cd "$user" && CARGO_INCREMENTAL=1 cargo build -q)          # everything, untimed
write_main SERIAL0002                                        # a change to its own code
read -r wall user_s sys peak < <(cd "$user" && CARGO_INCREMENTAL=1 measure cargo build -q)
printf '%-15s %7ss %7ss %8s %7s MB\n' "user rebuild" "$wall" "$(awk "BEGIN { print $user_s + $sys }")" "" "$((peak / 1024))"
