#!/usr/bin/env bash
# Benchmarks per-package phases with a release build (figures, not tests): `cargo milo order`
# and `cargo milo run --dry-run` on a generated workspace of N members (default 200), split
# into the `cargo metadata --no-deps` call and the rest (reading Milo.toml, expansion into
# instances, the graph): the rest is measured with CARGO pointing at a script that prints
# the same metadata from a file.
#
# The workspace: members m0..m(N-1); member i depends on m(i-1) and on one pseudo-random
# earlier member (renamed), by path, and dev-depends on m0. Milo.toml has a single `fmt`,
# then per-package `build` (after `^build`) and `test` (after its `build` and `fmt`):
# 2N + 1 phases.
#
# Usage: benches/workspace.sh [N]. Needs hyperfine: `apt-get install -y hyperfine`.
set -euo pipefail
n=${1:-200}
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/cargo-milo"
# The real cargo, as `cargo milo` gets it in $CARGO (not the rustup proxy).
cargo=$(rustup which cargo 2>/dev/null || command -v cargo)
export CARGO="$cargo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ws="$work/ws"
mkdir -p "$ws"

awk -v n="$n" -v ws="$ws" 'BEGIN {
  srand(1)
  printf "[workspace]\nresolver = \"2\"\nmembers = [" > (ws "/Cargo.toml")
  for (i = 0; i < n; i++) printf "%s\"m%d\"", (i ? ", " : ""), i > (ws "/Cargo.toml")
  print "]" > (ws "/Cargo.toml")
  for (i = 0; i < n; i++) {
    dir = ws "/m" i
    system("mkdir -p " dir "/src && touch " dir "/src/lib.rs")
    f = dir "/Cargo.toml"
    printf "[package]\nname = \"m%d\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n", i > f
    if (i > 0) printf "m%d = { path = \"../m%d\" }\n", i - 1, i - 1 > f
    if (i > 1) { j = int(rand() * (i - 1)); printf "renamed%d = { path = \"../m%d\", package = \"m%d\" }\n", j, j, j > f }
    if (i > 0) printf "\n[dev-dependencies]\nm0 = { path = \"../m0\" }\n" > f
    close(f)
  }
}'
cat > "$ws/Milo.toml" <<'EOF'
[pipeline]
name = "bench"

[[pipeline.phase]]
name = "fmt"
cmd = "cargo fmt --all --check"

[[pipeline.phase]]
name = "build"
packages = "workspace"
cmd = "cargo build -p {package}"
depends_on = ["^build"]
parallel = true

[[pipeline.phase]]
name = "test"
packages = "workspace"
cmd = "cargo test -p {package}"
depends_on = ["build", "fmt"]
parallel = true
EOF

# The same answer without cargo: the rest of the work alone.
(cd "$ws" && "$cargo" metadata --no-deps --format-version 1 > "$work/metadata.json")
printf '#!/bin/sh\nexec cat %q\n' "$work/metadata.json" > "$work/fake-cargo"
chmod +x "$work/fake-cargo"

cd "$ws"
"$bin" check
hyperfine -N --warmup 3 \
  "$cargo metadata --no-deps --format-version 1" \
  "$bin order" \
  "$bin run --dry-run" \
  "env CARGO=$work/fake-cargo $bin order" \
  "env CARGO=$work/fake-cargo $bin run --dry-run"
