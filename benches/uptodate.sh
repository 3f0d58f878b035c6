#!/usr/bin/env bash
# Up-to-date checks on a big tree, release build (figures, not tests): 10,000 input files
# totalling 100 MB (100 folders of 100 files of 10 KiB, random bytes), warm cache.
#   - `cargo milo explain`: walk, hash every file, compare with the recorded fingerprint;
#   - `cargo milo run -q` on an up-to-date pipeline: the same check, then nothing runs;
#   - `cargo milo run -q -f no-inputs.toml`: the same phase without `inputs` (no check, it
#     runs `true`) — the baseline.
# The in-process figure without process start-up is `cargo bench --bench fingerprint`.
# Needs hyperfine and GNU time: `apt-get install -y hyperfine time`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/cargo-milo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src"
(
  cd "$work/src"
  head -c $((10000 * 10240)) /dev/urandom | split -b 10240 -a 4 -d - f
  for d in $(seq -w 0 99); do
    mkdir "d$d"
    mv "f$d"?? "d$d/"
  done
)
cat > "$work/Milo.toml" <<'EOF'
[pipeline]
name = "bench"
timeline = "target/milo/timeline.json"

[[pipeline.phase]]
name = "build"
cmd = "true"
inputs = ["src/**"]
EOF
# The baseline keeps its own folder: a phase that runs without `inputs` marks its record in
# the folder's fingerprints.json, and `build` would then run again.
sed -e '/^inputs/d' -e 's|target/milo/timeline.json|target/milo-plain/timeline.json|' "$work/Milo.toml" > "$work/no-inputs.toml"
cd "$work"
echo "$(find src -type f | wc -l) files, $(du -sm --apparent-size src | cut -f1) MiB"
"$bin" run -q                 # records the fingerprint
"$bin" explain                # prints `build  up to date`
hyperfine -N --warmup 3 "$bin explain" "$bin run -q" "$bin run -q -f no-inputs.toml"
/usr/bin/time -f 'explain: %e s wall, %U s user, %S s system, %M KB max RSS' "$bin" explain
/usr/bin/time -f 'run (up to date): %e s wall, %U s user, %S s system, %M KB max RSS' "$bin" run -q
uptime   # the figures above depend on what else the machine runs
