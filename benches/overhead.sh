#!/usr/bin/env bash
# Overhead, capture and startup of `cargo-milo` beside ninja and just (figures, not tests):
# the shapes of issue 14, each measured for every binary given, back to back in one run.
#
#   chain 200, wide 500, layered 10x50   -j2 and -j1, every phase `sh -c true`
#                                         (hyperfine -N medians; floor = N x posix_spawn
#                                         of `sh -c true`, P at a time)
#   capture                              one phase printing `seq 1 2000000`, and 100,000
#                                         lines of 1,000 chars; wall median and peak RSS
#   startup                              one phase running `true`, hyperfine -N, 30 runs
#   wide N = 500 / 2,000 / 8,000         -j2, ms per phase and peak RSS (3 runs, median)
#
# Every time is given as wall / CPU (user + system of the whole process tree): on a shared,
# loaded machine the wall time follows whatever else runs, the CPU time much less.
#
# Usage: benches/overhead.sh [NAME=BINARY]...
#   e.g. benches/overhead.sh before=/tmp/milo-before after=target/release/cargo-milo
# Without arguments: `after` = a fresh release build of this checkout.
# Environment: RUNS (default 10), WORK (default a temporary folder), SCALE (the wide sizes,
# default "500 2000 8000"), SHAPES (default "chain wide layered capture startup scaling",
# any subset).
# Needs hyperfine, ninja, just, GNU time (/usr/bin/time), python3 and a C compiler:
#   apt-get install -y hyperfine ninja-build time gcc python3 && cargo install just --locked
# Each phase is one `/bin/sh -c CMD` for every tool (ninja and just run their recipes through
# `sh -c` too). The binaries are called directly (`cargo-milo milo run`), not through cargo's
# dispatch (which adds 20-35 ms).
set -euo pipefail

RUNS=${RUNS:-10}
SHAPES=${SHAPES:-chain wide layered capture startup scaling}
here=$(cd "$(dirname "$0")/.." && pwd)
for tool in hyperfine ninja just python3 cc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (see the header of $0)" >&2; exit 2; }
done
names=() bins=()
if (($# == 0)); then
  (cd "$here" && cargo build --release --quiet)
  set -- "after=$here/target/release/cargo-milo"
fi
for arg in "$@"; do
  names+=("${arg%%=*}")
  bins+=("$(readlink -f "${arg#*=}")")
done
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
# System folders first: a tool that looks `sh` up along PATH pays one failed exec per entry.
export PATH=/usr/local/bin:/usr/bin:/bin:$HOME/.cargo/bin:$PATH

# --- generators: Milo.toml, build.ninja and justfile of one shape -------------------------
gen() { # SHAPE SIZE DIR
  python3 - "$@" <<'EOF'
import json, os, random, sys
shape, size, out = sys.argv[1:4]
def name(i, n): return f"p{i:0{max(4, len(str(n)))}d}"
if shape == "chain":
    n = int(size); dag = [(name(i, n), "true", [name(i - 1, n)] if i else []) for i in range(n)]
elif shape == "wide":
    n = int(size); dag = [(name(i, n), "true", []) for i in range(n)]
    dag.append(("join", "true", [d[0] for d in dag]))
elif shape == "layered":  # as the shared bench's gen.py (seed 42): 2 random parents each
    layers, w = map(int, size.split("x")); rng = random.Random(42); dag, prev = [], []
    for li in range(layers):
        cur = []
        for j in range(w):
            nm = f"l{li:02d}_p{j:04d}"
            dag.append((nm, "true", sorted(rng.sample(prev, 2)) if prev else [])); cur.append(nm)
        prev = cur
elif shape == "capture":
    dag = [("emit", f"seq 1 {size}", [])]
elif shape == "capture-long":
    dag = [("emit", f"seq -f %01000g 1 {size}", [])]
used = {d for _, _, deps in dag for d in deps}
sinks = [nm for nm, _, _ in dag if nm not in used]
os.makedirs(out, exist_ok=True)
q = json.dumps
with open(f"{out}/Milo.toml", "w") as f:
    f.write('[pipeline]\nname = "bench"\n\n')
    for nm, cmd, deps in dag:
        f.write(f"[[pipeline.phase]]\nname = {q(nm)}\ncmd = {q(cmd)}\n"
                f"depends_on = [{', '.join(map(q, deps))}]\nparallel = true\n\n")
with open(f"{out}/build.ninja", "w") as f:
    f.write("rule run\n  command = $cmd\n")
    for nm, cmd, deps in dag:
        f.write(f"build {nm}: run{' || ' + ' '.join(deps) if deps else ''}\n"
                f"  cmd = {cmd.replace('$', '$$')}\n")
    f.write(f"build all: phony {' '.join(sinks)}\ndefault all\n")
with open(f"{out}/justfile", "w") as f:
    f.write('set shell := ["sh", "-c"]\n\n')
    if len(sinks) > 1: f.write("[parallel]\n")
    f.write(f"all: {' '.join(sinks)}\n\n")
    for nm, cmd, deps in dag:
        f.write(("[parallel]\n" if len(deps) > 1 else "") + f"{nm}: {' '.join(deps)}".rstrip()
                + f"\n    @{cmd}\n\n")
print(len(dag))
EOF
}

# The floor: N x `sh -c true` through posix_spawn, P at a time.
cat >"$work/floor.c" <<'EOF'
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv) {
    long n = atol(argv[1]), p = atol(argv[2]), started = 0, running = 0;
    char *args[] = {"sh", "-c", "true", NULL};
    int status;
    while (started < n || running > 0) {
        for (; started < n && running < p; started++, running++) {
            pid_t pid;
            if (posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ) != 0) return 1;
        }
        if (wait(&status) > 0) running--;
    }
    return 0;
}
EOF
cc -O2 -o "$work/floor" "$work/floor.c"

# median_ms JSON NAME: the median of hyperfine's runs of NAME, in ms.
median_ms() {
  python3 -c 'import json,sys
r=[x for x in json.load(open(sys.argv[1]))["results"] if x["command"]==sys.argv[2]][0]
print("%.1f" % (r["median"]*1000))' "$1" "$2"
}
# wall_cpu JSON NAME: "wall / cpu": the median wall ms and the mean CPU ms (user + system, the
# process and its children) of NAME. On a loaded machine the CPU time moves far less than the
# wall time, which follows whatever else runs.
wall_cpu() {
  python3 -c 'import json,sys
r=[x for x in json.load(open(sys.argv[1]))["results"] if x["command"]==sys.argv[2]][0]
print("%.1f / %.0f" % (r["median"]*1000, (r["user"]+r["system"])*1000))' "$1" "$2"
}
# peak KB, wall s and CPU s of a command in DIR, the run of median wall of 3 (GNU time).
peak() { # DIR CMD...
  local dir=$1; shift
  for _ in 1 2 3; do
    (cd "$dir" && /usr/bin/time -f '%M %e %U %S' -o "$work/time.out" "$@" >/dev/null 2>&1) || true
    cat "$work/time.out"
  done | sort -n -k2 | sed -n 2p
}

echo "# cargo-milo overhead — $(date -u +%FT%TZ), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "binaries: $(for i in "${!names[@]}"; do printf '%s=%s ' "${names[$i]}" "${bins[$i]}"; done)"
echo "peers: ninja $(ninja --version), $(just --version), $(hyperfine --version)"

overhead() { # SHAPE SIZE
  local dir="$work/$1-$2" n j args
  n=$(gen "$1" "$2" "$dir")
  echo
  echo "## $1 $2 ($n phases of \`sh -c true\`), wall ms (median of $RUNS runs) / CPU ms (mean)"
  echo
  printf '| jobs | floor | ninja | just |'; printf ' %s |' "${names[@]}"; echo
  printf '|---|---|---|---|'; printf -- '---|%.0s' "${names[@]}"; echo
  for j in 2 1; do
    args=(-n floor "$work/floor $n $j" -n ninja "ninja -j$j --quiet all" -n just "just --jobs $j all")
    for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${bins[$i]} milo run -j $j"); done
    (cd "$dir" && hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-json "$dir/j$j.json" "${args[@]}" >/dev/null 2>&1)
    printf '| -j%s |' "$j"
    for name in floor ninja just "${names[@]}"; do printf ' %s |' "$(wall_cpu "$dir/j$j.json" "$name")"; done
    echo
  done
}

capture() { # LINES KIND
  local dir="$work/$2-$1" cmd args
  gen "$2" "$1" "$dir" >/dev/null
  cmd=$(sed -n 's/^cmd = "\(.*\)"$/\1/p' "$dir/Milo.toml")
  echo
  echo "## capture: \`$cmd\`, median ms of $RUNS runs (× raw), peak RSS MiB (median of 3)"
  echo
  args=(-n raw "sh -c '$cmd'")
  for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${bins[$i]} milo run"); done
  (cd "$dir" && hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-json "$dir/cap.json" "${args[@]}" >/dev/null 2>&1)
  local raw; raw=$(median_ms "$dir/cap.json" raw)
  echo "| raw | $(printf '%s | ' "${names[@]}")"
  printf '|---|'; printf -- '---|%.0s' "${names[@]}"; echo
  printf '| %s (CPU %s ms) |' "$raw" "$(wall_cpu "$dir/cap.json" raw | cut -d' ' -f3)"
  for i in "${!names[@]}"; do
    local ms rss
    ms=$(median_ms "$dir/cap.json" "${names[$i]}")
    rss=$(peak "$dir" "${bins[$i]}" milo run | awk '{printf "%.1f", $1/1024}')
    printf ' %s (%s×, CPU %s ms, %s MiB) |' "$ms" "$(awk -v a="$ms" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')" "$(wall_cpu "$dir/cap.json" "${names[$i]}" | cut -d' ' -f3)" "$rss"
  done
  echo
}

startup() {
  local dir="$work/startup" args
  mkdir -p "$dir"
  printf '[pipeline]\nname = "one"\n\n[[pipeline.phase]]\nname = "t"\ncmd = "true"\n' >"$dir/Milo.toml"
  printf 'set shell := ["sh", "-c"]\n\nt:\n    @true\n' >"$dir/justfile"
  args=(-n just "just t")
  for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${bins[$i]} milo run"); done
  (cd "$dir" && hyperfine -N --style none --warmup 3 --runs 30 --export-json "$dir/s.json" "${args[@]}" >/dev/null 2>&1)
  echo
  echo "## startup: one phase running \`true\`, wall ms (median of 30 runs) / CPU ms (mean)"
  echo
  echo "| just | $(printf '%s | ' "${names[@]}")"
  printf '|---|'; printf -- '---|%.0s' "${names[@]}"; echo
  printf '| %s |' "$(wall_cpu "$dir/s.json" just)"
  for name in "${names[@]}"; do printf ' %s |' "$(wall_cpu "$dir/s.json" "$name")"; done
  echo
}

scaling() {
  echo
  echo "## wide N, -j2: wall s, wall ms per phase (CPU ms per phase), peak RSS MiB (median of 3 runs)"
  echo
  printf '| N | ninja |'; printf ' %s |' "${names[@]}"; echo
  printf '|---|---|'; printf -- '---|%.0s' "${names[@]}"; echo
  for n in ${SCALE:-500 2000 8000}; do
    local dir="$work/scale-$n"
    gen wide "$n" "$dir" >/dev/null
    row() { awk -v n="$n" '{printf "%.2f s, %.3f ms (CPU %.3f ms), %.1f MiB", $2, $2 * 1000 / n, ($3 + $4) * 1000 / n, $1 / 1024}'; }
    printf '| %s | %s |' "$n" "$(peak "$dir" ninja -j2 --quiet all | row)"
    for i in "${!names[@]}"; do printf ' %s |' "$(peak "$dir" "${bins[$i]}" milo run -j 2 | row)"; done
    echo
  done
}

for shape in $SHAPES; do
  case $shape in
    chain) overhead chain 200 ;;
    wide) overhead wide 500 ;;
    layered) overhead layered 10x50 ;;
    capture) capture 2000000 capture; capture 100000 capture-long ;;
    startup) startup ;;
    scaling) scaling ;;
    *) echo "unknown shape $shape" >&2; exit 2 ;;
  esac
done
