#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Names and compares the phases of tests/vm/profile.sh.

Usage: report.py SYSTEM_MAP CONSOLE_LOG PROFILE [--top N]

PROFILE is insn_plugin.c's output; CONSOLE_LOG holds, after each
"--- begin <driver>/<test> ---" of a profiling program (vfio_prof,
vfio_mig@prof), its "PROF phase <name> <operations>" lines and its
"KSYM" lines (the symbols of the modules loaded while it ran).  The
plugin numbers the phases of the whole boot; they follow the order of
those lines in the console (the run is --drivers c,rs, so C's phases
first).  Each phase is named with the symbols of its own program's run.
Prints, per phase, guest instructions per operation for C and ours, in
all and in the drivers' modules alone, and the functions whose share
differs most (for every phase but the getpid yardstick).  A block is
named by the symbol at or below its address (blocks do not cross calls,
so this is its function).
"""
import bisect
import collections
import re
import sys


def short(name):
    """A readable name for a Rust v0 symbol: its last identifiers."""
    if not name.startswith("_R"):
        return name
    idents, i = [], 0
    while i < len(name):
        if not name[i].isdigit():
            i += 1
            continue
        j = i
        while j < len(name) and name[j].isdigit():
            j += 1
        n = int(name[i:j])
        if j < len(name) and name[j] == "_":
            j += 1
        ident = name[j:j + n]
        if n and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident):
            # A generic function's instance: its own name is the ident
            # that its generic arguments ("I...E") follow.
            if name.startswith("_RI") and name[j + n:j + n + 1] == "I":
                return "::".join(idents[-1:] + [ident]) + "<..>"
            idents.append(ident)
            i = j + n
        else:
            i = j
    idents = [s for s in idents if len(s) > 2]
    return "::".join(idents[-3:]) if idents else name


def in_driver(name):
    """Whether a function is in the VFIO PCI modules (either driver's)."""
    return name.endswith(("[vfio_pci]", "[vfio_pci_core]", "[mlx5_vfio_pci]"))


def read_console(console):
    """The profiling runs of a console log.

    Returns, per driver, its phases in boot order as (name, ops, block),
    and per block (a driver's run of one program) the module symbols it
    printed, as (address, symbol, module)."""
    phases = collections.defaultdict(list)
    modules = collections.defaultdict(list)
    block = None
    for line in open(console, errors="replace"):
        m = re.match(r"--- begin (\w+)/(\S+) ---", line)
        if m:
            block = (m.group(1), m.group(2))
        m = re.match(r"PROF phase (\w+) (\d+)", line)
        if m and block:
            phases[block[0]].append((m.group(1), int(m.group(2)), block))
        m = re.match(r"KSYM ([0-9a-f]+) \S (\S+)\s+\[(\S+)\]", line)
        if m and block:
            modules[block].append((int(m.group(1), 16), m.group(2), m.group(3)))
    return phases, modules


def main():
    args = sys.argv[1:]
    top = 25
    if "--top" in args:
        k = args.index("--top")
        top = int(args[k + 1])
        del args[k:k + 2]
    system_map, console, profile = args
    kernel = []
    for line in open(system_map):
        f = line.split()
        if len(f) >= 3:
            kernel.append((int(f[0], 16), f[2]))
    phases, ksyms = read_console(console)
    modules = {b: [(a, short(name) + " [" + mod + "]") for a, name, mod in syms]
               for b, syms in ksyms.items()}
    order = [d for d in ("c", "rs") if d in phases]
    if len(order) != 2 or [p[:2] for p in phases["c"]] != [p[:2] for p in phases["rs"]]:
        sys.exit("report.py: the console has no complete profiling run of both c and rs")
    names = [name for name, _, _ in phases["c"]]
    ops = {name: n for name, n, _ in phases["c"]}
    per = len(names)
    tables = {}
    for d in order:
        for _, _, b in phases[d]:
            if b not in tables:
                syms = sorted(kernel + modules[b])
                tables[b] = (syms, [a for a, _ in syms])
    acc = collections.defaultdict(collections.Counter)
    # Blocks run in the drivers' modules: under TCG a block ended by a
    # return or an indirect jump costs a lookup of the next, which counts of
    # instructions do not show.
    blocks = collections.Counter()
    # Entries across a page and indirect entries (insn_plugin.c), per
    # function: the block transitions that TCG does not chain; layout
    # decides the first kind.
    xpage = collections.defaultdict(collections.Counter)
    indirect = collections.defaultdict(collections.Counter)
    missed = collections.defaultdict(collections.Counter)
    # Memory accesses of rep string instructions, and modelled TLB misses
    # (tlb=1): the costs that one count of an instruction hides.
    rep = collections.defaultdict(collections.Counter)
    tlbmiss = collections.defaultdict(collections.Counter)
    translated = collections.Counter()
    flushes = collections.Counter()
    # The plugin's per-phase lines: "# <what> <phase> <count>".
    per_phase = {"translations": translated, "flushes": flushes}
    for line in open(profile):
        if line.startswith("#"):
            f = line.split()
            if len(f) == 4 and f[1] in per_phase and int(f[2]) < per * len(order):
                p = int(f[2])
                per_phase[f[1]][(order[p // per], names[p % per])] += int(f[3])
            continue
        p, va, n, runs, *x = line.split()
        p, va = int(p), int(va, 16)
        if p >= per * len(order):
            continue
        d = order[p // per]
        syms, addrs = tables[phases[d][p % per][2]]
        if va < 0xFFFF800000000000:
            name = "(user)"
        else:
            i = bisect.bisect_right(addrs, va) - 1
            name = syms[i][1] if i >= 0 else "?"
        key = (d, names[p % per])
        acc[key][name] += int(n) * int(runs)
        # The columns after the runs, in the plugin's order; an older
        # profile has fewer of them.
        for table, v in zip((xpage, indirect, missed, rep, tlbmiss), x):
            table[key][name] += int(v)
        if in_driver(name):
            blocks[key] += int(runs)
    print("guest instructions per operation (TCG, vfio_prof and vfio_mig prof)")
    with_tlb = any(any(t.values()) for t in tlbmiss.values())
    print("%-12s %8s %10s %10s %7s %8s %8s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s"
          " %7s %7s %6s %6s%s" % (
              "phase", "ops", "C", "ours", "ours/C", "C mod", "ours mod", "C blk", "ours blk",
              "C xpg", "ours xpg", "C ind", "ours ind", "C jcm", "ours jcm", "C tb", "ours tb",
              "C rep", "ours rep", "C fl", "ours fl",
              " %7s %7s" % ("C tlb", "ours tlb") if with_tlb else ""))
    for ph in names:
        c = sum(acc[("c", ph)].values()) / ops[ph]
        r = sum(acc[("rs", ph)].values()) / ops[ph]
        cm, rm = (sum(v for n, v in acc[(d, ph)].items() if in_driver(n)) / ops[ph]
                  for d in ("c", "rs"))
        cb, rb = (blocks[(d, ph)] / ops[ph] for d in ("c", "rs"))
        cx, rx = (sum(xpage[(d, ph)].values()) / ops[ph] for d in ("c", "rs"))
        ci, ri = (sum(indirect[(d, ph)].values()) / ops[ph] for d in ("c", "rs"))
        cj, rj = (sum(missed[(d, ph)].values()) / ops[ph] for d in ("c", "rs"))
        ct, rt = (translated[(d, ph)] / ops[ph] for d in ("c", "rs"))
        cr, rr = (sum(rep[(d, ph)].values()) / ops[ph] for d in ("c", "rs"))
        cf, rf = (flushes[(d, ph)] / ops[ph] for d in ("c", "rs"))
        cl, rl = (sum(tlbmiss[(d, ph)].values()) / ops[ph] for d in ("c", "rs"))
        print("%-12s %8d %10.0f %10.0f %7.3f %8.0f %8.0f %6.0f %6.0f %6.0f %6.0f %6.0f %6.0f"
              " %6.1f %6.1f %6.2f %6.2f %7.0f %7.0f %6.2f %6.2f%s" % (
                  ph, ops[ph], c, r, r / c if c else 0, cm, rm, cb, rb, cx, rx, ci, ri, cj, rj,
                  ct, rt, cr, rr, cf, rf, " %7.1f %7.1f" % (cl, rl) if with_tlb else ""))
    print("(mod: instructions in the drivers' own modules, which no interrupt adds to;")
    print(" blk: translated blocks run there; under TCG a block boundary, a return")
    print(" or indirect call most, costs more than an instruction;")
    print(" xpg: entries by a jump or fall-through from a block that starts on")
    print(" another page, ind: entries by a return or indirect call or jump,")
    print(" kernel included: the transitions TCG does not chain; jcm: those whose")
    print(" lookup missed the jump cache, as insn_plugin.c models it; tb: blocks")
    print(" translated, first runs or code translated again; rep: memory accesses")
    print(" of rep string instructions, which TCG runs once per element; fl:")
    print(" instructions run that flush TLB entries; tlb, with --tlb: data accesses")
    print(" that missed the modelled softmmu TLB and walked the page tables)")
    for ph in names:
        if ph == "getpid":
            continue
        c, r = acc[("c", ph)], acc[("rs", ph)]
        print("\n%s: functions by difference (instructions per operation)" % ph)
        print("  %-64s %9s %9s %9s" % ("function", "C", "ours", "ours-C"))
        funcs = sorted(set(c) | set(r), key=lambda n: (-abs(r[n] - c[n]), n))
        for n in funcs[:top]:
            cv, rv = c[n] / ops[ph], r[n] / ops[ph]
            print("  %-64s %9.1f %9.1f %+9.1f" % (n[:64], cv, rv, rv - cv))
        for what, table in (("entries across a page", xpage), ("jump cache misses", missed),
                            ("rep accesses", rep), ("TLB misses", tlbmiss)):
            cx, rx = table[("c", ph)], table[("rs", ph)]
            if any(cx.values()) or any(rx.values()):
                print("%s: functions by %s (per operation)" % (ph, what))
                funcs = sorted(set(cx) | set(rx), key=lambda n: (-abs(rx[n] - cx[n]), n))
                for n in funcs[:max(top // 2, 1)]:
                    cv, rv = cx[n] / ops[ph], rx[n] / ops[ph]
                    if cv or rv:
                        print("  %-64s %9.1f %9.1f %+9.1f" % (n[:64], cv, rv, rv - cv))


if __name__ == "__main__":
    main()
