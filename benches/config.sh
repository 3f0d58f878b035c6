#!/usr/bin/env bash
# Benchmarks Milo.toml loading with a release build (figures, not tests):
#   `cargo milo order` on 1,000 phases (hyperfine), `cargo milo check` on 100,000 phases
#   (hyperfine, and peak RSS from /usr/bin/time -v).
# Needs hyperfine and GNU time: `apt-get install -y hyperfine time`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/cargo-milo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# N phases; phase i depends on i-1 and two pseudo-random earlier phases.
generate() {
  awk -v n="$1" 'BEGIN {
    srand(1)
    print "[pipeline]\nname = \"bench\"\n"
    for (i = 0; i < n; i++) {
      deps = ""
      if (i > 0) deps = "\"phase-" (i - 1) "\""
      for (k = 0; k < 2 && i > 1; k++) deps = deps ", \"phase-" int(rand() * i) "\""
      printf "[[pipeline.phase]]\nname = \"phase-%d\"\ndescription = \"Phase number %d\"\n", i, i
      printf "cmd = \"echo %d\"\ndepends_on = [%s]\nweight = %d\nparallel = %s\n\n", i, deps, i % 7, (i % 2 ? "true" : "false")
    }
  }'
}

mkdir -p "$work/p1k" "$work/p100k"
generate 1000 > "$work/p1k/Milo.toml"
generate 100000 > "$work/p100k/Milo.toml"

(cd "$work/p1k" && "$bin" check && hyperfine -N --warmup 5 "$bin order")
(cd "$work/p100k" && "$bin" check && hyperfine -N --warmup 1 --runs 10 "$bin check" \
  && /usr/bin/time -v "$bin" check 2>&1 | grep -E 'Elapsed|Maximum resident')
