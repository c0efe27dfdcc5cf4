#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: the in-tree C drivers against ours, in one VM boot (load one,
# measure, unload, load the other): vfio-pci on igb and edu
# (tests/vm/progs/vfio_bench.c), and mlx5-vfio-pci's stop-copy migration on
# two VFs of the mlx5 simulator (vfio_mig bench: save, resume and downtime
# for 1, 16, 128 and 1024 MiB of state).  Prints each figure for both drivers
# and the ratio ours/C (below 1.0: ours is faster).
#
# The drivers alternate in rounds, in the order C, ours, ours, C, C, ours,
# ... (each pair of rounds in both orders, so that a drift of the host's
# speed during the boot weighs on both alike).  Per figure the table gives
# each driver's median over its rounds of the per-round medians, and of the
# per-round 10th percentiles (vfio_bench only): under TCG on a shared host
# a run's timings are bimodal (each access takes its usual time, or about
# 5 us more when the host delays QEMU), and the median of a run follows
# whichever mode holds more than half of its samples, while the 10th
# percentile stays in the fast one.  "spread" is the lowest and highest
# ratio of the median over the pairs of rounds (C and ours measured next
# to each other); a spread that straddles 1.0 says that the boot cannot
# tell the drivers apart on that figure.  "best" is each driver's fastest
# round (the lowest of its per-round medians), and its ratio: the host's
# slow mode holds whole rounds (tens of seconds) and only adds time, so
# with enough short rounds each driver has some in the fast mode, and the
# fastest ones compare the code.  vfio_bench's igb open takes about 0.2 s
# (its FLR's waits), so bench.sh times 20 opens a round (--opens), not
# vfio_bench's 200, which kept a round at about a minute.
#
# The VM boots the benchmark kernel (scripts/build-kernel.sh --flavour
# bench: the test kernel without lockdep, kmemleak and the other debugging,
# as a production host runs), and our modules are built against it in a
# scratch copy of the work tree under $VFIO_RS_CACHE/bench-modules/, so
# that the work tree's own build (against the test kernel) is untouched.
# --flavour test measures on the test kernel instead, with the work tree's
# modules, as the figures before 2026-12-07 in Documentation/benchmarks.rst.
#
# The VM gets 6 GiB unless VFIO_RS_VM_MEM says otherwise: the 1 GiB
# migration holds the state of both VFs in the simulator (2 GiB) and the
# whole stream in the benchmark's memory (1 GiB), more than the default 4 GiB
# leaves beside the kernel, its debugging and the initramfs.
#
# Usage: tests/vm/bench.sh [--rounds N] [--opens N] [--no-mig] [--raw] [--flavour F]
#   --rounds N  rounds per driver (default 6: C, ours, ours, C, C, ours, ...)
#   --opens N   vfio_bench's runs of open per round (default 20)
#   --no-mig    vfio_bench only, no migration figures
#   --raw       also print every round's figures
#   --flavour F the kernel: bench (default) or test
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/env.sh"

rounds=6
opens=20
tests='^vfio_bench|^vfio_mig@bench'
raw=0
flavour=bench
while [ $# -gt 0 ]; do
	case $1 in
	--flavour) flavour=${2:?}; shift 2 ;;
	--rounds) rounds=${2:?}; shift 2 ;;
	--opens) opens=${2:?}; shift 2 ;;
	--no-mig) tests='^vfio_bench'; shift ;;
	--raw) raw=1; shift ;;
	*) die "unknown argument '$1' (see the usage in $0)" ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: a positive number, not '$rounds'"
[[ $opens =~ ^[1-9][0-9]*$ ]] && ((opens <= 2000)) || die "--opens: 1 to 2000, not '$opens'"

order=
for ((i = 0; i < rounds; i++)); do
	if ((i % 2 == 0)); then order+=,c,rs; else order+=,rs,c; fi
done
order=${order#,}

kdir=$("$VFIO_RS_TOP/scripts/build-kernel.sh" --flavour "$flavour")
modules=()
[ "$flavour" = test ] || modules=(--modules "$(vfio_rs_modules_for "$kdir")")

out=$(mktemp)
trap 'rm -f "$out"' EXIT
VFIO_RS_VM_APPEND="${VFIO_RS_VM_APPEND:+$VFIO_RS_VM_APPEND }vfio_rs.bench_opens=$opens" \
	VFIO_RS_VM_MEM=${VFIO_RS_VM_MEM:-6G} bash "$here/run.sh" --flavour "$flavour" "${modules[@]}" \
	--drivers "$order" --tests "$tests" > "$out" 2>&1 || true
console=$(sed -n 's/^console log: //p' "$out")
[ -n "$console" ] && [ -f "$console" ] || { cat "$out"; die "no console log"; }
echo "kernel: $flavour; drivers in order: $order; opens per round: $opens; console: $console"
python3 - "$console" "$raw" <<'EOF'
import re, statistics, sys

console, raw = sys.argv[1], sys.argv[2] == "1"
# round[drv] counts "=== driver <drv> ===" phases; "--- begin <drv>/<test>
# ---" opens a section whose BENCH lines follow:
#   vfio_bench: BENCH <name> <median> <p90> <n> <p10> <min>
#   vfio_mig:   BENCH <name> <median>
rounds = {}
med = {}  # (drv, key) -> {round: median}
p10 = {}  # (drv, key) -> {round: 10th percentile}
garbled = []
drv = dev = None
for line in open(console, errors="replace"):
    m = re.match(r"=== driver (\w+) ===", line)
    if m:
        rounds[m.group(1)] = rounds.get(m.group(1), 0) + 1
        continue
    m = re.match(r"--- begin (\w+)/(\S+) ---", line)
    if m:
        drv, test = m.groups()
        dev = "edu" if "@edu" in test else "mlx5" if test.startswith("vfio_mig") else "igb"
        continue
    if not line.startswith("BENCH ") or not drv:
        continue
    # A kernel message can land in the middle of a line on the console:
    # such a line is left out, and counted.
    m = re.match(r"BENCH (\w+) (\d+)(?: \d+ \d+ (\d+) \d+)?\s*$", line)
    if not m:
        garbled.append(line.strip())
        continue
    key = (drv, dev + "/" + m.group(1))
    med.setdefault(key, {})[rounds[drv]] = int(m.group(2))
    if m.group(3):
        p10.setdefault(key, {})[rounds[drv]] = int(m.group(3))

def mid(v):
    return statistics.median(v) if v else None

def ratio(a, b):
    return "%.3f" % (b / a) if a and b else "-"

keys = sorted({k for _, k in med})
print("%-22s %10s %10s %6s  %-9s %10s %10s %6s  %6s" %
      ("benchmark (ns)", "C median", "ours", "ours/C", "spread", "C best", "ours best",
       "ours/C", "p10"))
for k in keys:
    # Round i of C and round i of ours ran next to each other.
    cr, rr = med.get(("c", k), {}), med.get(("rs", k), {})
    pairs = [rr[i] / cr[i] for i in cr if i in rr and cr[i] and rr[i]]
    c, r = list(cr.values()), list(rr.values())
    spread = "%.2f-%.2f" % (min(pairs), max(pairs)) if pairs else "-"
    cb, rb = min(c) if c else None, min(r) if r else None
    cp = mid(list(p10.get(("c", k), {}).values()))
    rp = mid(list(p10.get(("rs", k), {}).values()))
    print("%-22s %10s %10s %6s  %-9s %10s %10s %6s  %6s" % (
        k, "%d" % mid(c) if c else "-", "%d" % mid(r) if r else "-", ratio(mid(c), mid(r)),
        spread, "%d" % cb if c else "-", "%d" % rb if r else "-", ratio(cb, rb),
        ratio(cp, rp)))
for g in garbled:
    print("left out, a kernel message inside: %s" % g)
if raw:
    print()
    print("per round (median ns):")
    for k in keys:
        for d in ("c", "rs"):
            v = med.get((d, k), {})
            print("%-22s %-3s %s" % (k, d, " ".join(
                str(v[i]) if i in v else "-" for i in range(1, rounds.get(d, 0) + 1))))
EOF
