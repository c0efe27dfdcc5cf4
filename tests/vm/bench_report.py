#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The tables of tests/vm/bench.sh, from the console logs of its boots.

Usage: bench_report.py [--raw] [--aa] CONSOLE_LOG...

Per boot: each figure's median over a side's rounds of the per-round
medians, their ratio, the lowest and highest ratio over the pairs of rounds
("spread"), each side's fastest round ("best") and its ratio, and the
median-of-rounds ratio of the 10th percentiles.  With several boots, then
a table over the boots: the geometric mean of the boots' median and best
ratios, the lowest and highest best ratio of a boot, and the ratio of the
medians and of the fastest rounds over all the boots' rounds pooled.  The
sides are C and ours, or with --aa ours unpadded (A) and padded (B).
"""
import math
import re
import statistics
import sys


def parse(console, aa):
    """({(side, figure): {round: median}}, the same of 10th percentiles,
    {side: rounds}, [garbled lines]) of one boot."""
    # rounds[side] counts the "=== driver <drv>[ (padding N)] ===" phases
    # of a side; "--- begin <drv>/<test> ---" opens a section whose BENCH
    # lines follow:
    #   vfio_bench: BENCH <name> <median> <p90> <n> <p10> <min>
    #   vfio_mig:   BENCH <name> <median>
    rounds, med, p10, garbled = {}, {}, {}, []
    drv = dev = side = None
    for line in open(console, errors="replace"):
        m = re.match(r"=== driver (\w+)(?: \(padding (\d)\))? ===", line)
        if m:
            side = ("rs" if m.group(2) else "c") if aa else m.group(1)
            rounds[side] = rounds.get(side, 0) + 1
            continue
        m = re.match(r"--- begin (\w+)/(\S+) ---", line)
        if m:
            test = m.group(2)
            drv = side
            dev = "edu" if "@edu" in test else "mlx5" if test.startswith("vfio_mig") else "igb"
            continue
        if not line.startswith("BENCH ") or not drv:
            continue
        # A kernel message can land in the middle of a line on the
        # console: such a line is left out, and counted.
        m = re.match(r"BENCH (\w+) (\d+)(?: \d+ \d+ (\d+) \d+)?\s*$", line)
        if not m:
            garbled.append(line.strip())
            continue
        key = (drv, dev + "/" + m.group(1))
        med.setdefault(key, {})[rounds[drv]] = int(m.group(2))
        if m.group(3):
            p10.setdefault(key, {})[rounds[drv]] = int(m.group(3))
    return med, p10, rounds, garbled


def mid(v):
    return statistics.median(v) if v else None


def quot(a, b):
    return b / a if a and b else None


def fmt(r):
    return "%.3f" % r if r else "-"


def gmean(v):
    v = [x for x in v if x]
    return math.exp(sum(math.log(x) for x in v) / len(v)) if v else None


def boot_table(med, p10, names):
    """Prints one boot's table; returns {figure: (median ratio, best
    ratio)}."""
    keys = sorted({k for _, k in med})
    a, b = names
    print("%-22s %10s %10s %6s  %-9s %10s %10s %6s  %6s" %
          ("benchmark (ns)", a + " median", b, b + "/" + a, "spread", a + " best",
           b + " best", b + "/" + a, "p10"))
    out = {}
    for k in keys:
        # Round i of one side and round i of the other ran next to each other.
        cr, rr = med.get(("c", k), {}), med.get(("rs", k), {})
        pairs = [rr[i] / cr[i] for i in cr if i in rr and cr[i] and rr[i]]
        c, r = list(cr.values()), list(rr.values())
        spread = "%.2f-%.2f" % (min(pairs), max(pairs)) if pairs else "-"
        cb, rb = min(c) if c else None, min(r) if r else None
        cp = mid(list(p10.get(("c", k), {}).values()))
        rp = mid(list(p10.get(("rs", k), {}).values()))
        out[k] = (quot(mid(c), mid(r)), quot(cb, rb))
        print("%-22s %10s %10s %6s  %-9s %10s %10s %6s  %6s" % (
            k, "%d" % mid(c) if c else "-", "%d" % mid(r) if r else "-", fmt(out[k][0]),
            spread, "%d" % cb if c else "-", "%d" % rb if r else "-", fmt(out[k][1]),
            fmt(quot(cp, rp))))
    return out


def main(argv):
    raw = "--raw" in argv
    aa = "--aa" in argv
    consoles = [a for a in argv if not a.startswith("--")]
    names = ("A", "B") if aa else ("C", "ours")
    boots, pooled = [], {}
    for n, console in enumerate(consoles, 1):
        med, p10, rounds, garbled = parse(console, aa)
        if len(consoles) > 1:
            print("boot %d of %d: %s" % (n, len(consoles), console))
        boots.append(boot_table(med, p10, names))
        for g in garbled:
            print("left out, a kernel message inside: %s" % g)
        for key, v in med.items():
            pooled.setdefault(key, []).extend(v.values())
        if raw:
            print()
            print("per round (median ns):")
            for k in sorted({k for _, k in med}):
                for d, name in zip(("c", "rs"), names):
                    v = med.get((d, k), {})
                    print("%-22s %-4s %s" % (k, name, " ".join(
                        str(v[i]) if i in v else "-" for i in range(1, rounds.get(d, 0) + 1))))
        print()
    if len(consoles) < 2:
        return
    a, b = names
    print("over %d boots, %s/%s: geometric mean of the boots' ratios (median, best),"
          " the boots' lowest and highest best ratio, and the pooled rounds' median"
          " and best ratio" % (len(boots), b, a))
    print("%-22s %8s %8s  %-11s %8s %8s" %
          ("benchmark", "median", "best", "best range", "pooled", "p. best"))
    for k in sorted({k for boot in boots for k in boot}):
        meds = [boot[k][0] for boot in boots if k in boot]
        bests = [boot[k][1] for boot in boots if k in boot and boot[k][1]]
        c, r = pooled.get(("c", k), []), pooled.get(("rs", k), [])
        print("%-22s %8s %8s  %-11s %8s %8s" % (
            k, fmt(gmean(meds)), fmt(gmean(bests)),
            "%.3f-%.3f" % (min(bests), max(bests)) if bests else "-",
            fmt(quot(mid(c), mid(r))), fmt(quot(min(c) if c else None, min(r) if r else None))))


if __name__ == "__main__":
    main(sys.argv[1:])
