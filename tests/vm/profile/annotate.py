#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Shows which instructions of a driver function a profiled phase ran.

Usage: annotate.py CONSOLE_LOG PROFILE DRIVER PHASE FUNC_REGEX MODULE_KO

CONSOLE_LOG and PROFILE are what tests/vm/profile.sh printed ("console:
...; profile: ..."); DRIVER is c or rs; PHASE one of vfio_prof's phases
(cfg_read, bar_read, cfg_write, getpid, msix_on_off, irq_loop,
open) or vfio_mig's;
FUNC_REGEX picks the functions by their (mangled) symbol, as the guest's
KSYM lines name them; MODULE_KO is the module the guest ran (for ours on
the benchmark kernel, $VFIO_RS_CACHE/bench-modules/<kbuild>/*.ko, which
profile.sh builds).

For each matching function, prints the translated blocks the phase ran
in it, in address order, each with the times per operation it ran and
its instructions from `objdump -dr` of MODULE_KO, with the callee of each
call, and, for a block that TCG entered through a lookup rather than a
chained jump, the lookups and jump cache misses per operation and the
jump cache slot; then the instructions per operation.  A block is found by its
offset from the function's start, which is the same in the guest and in
the file.  This is how the region paths' instructions were cut
(Documentation/benchmarks.rst).
"""
import collections
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import read_console  # noqa: E402


def disassembly(ko, pattern):
    """{symbol: [(offset, text)]} of the functions matching `pattern`."""
    out = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", ko],
                         check=True, capture_output=True, text=True).stdout
    funcs, cur, start = {}, None, 0
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if m:
            cur = m.group(2) if re.search(pattern, m.group(2)) else None
            start = int(m.group(1), 16)
            if cur:
                funcs[cur] = []
            continue
        if not cur:
            continue
        m = re.match(r"^\s+([0-9a-f]+):\t(.*)$", line)
        if m:
            text = re.sub(r"<_R\w*?(\+0x[0-9a-f]+)>", r"<\1>", m.group(2))
            funcs[cur].append((int(m.group(1), 16) - start, text))
        elif funcs[cur] and "R_X86_64" in line:
            target = line.split()[-1]
            off, text = funcs[cur][-1]
            funcs[cur][-1] = (off, text + "    ; " + target[:90])
    return funcs


def jump_cache_slot(pc):
    """QEMU's tb_jmp_cache_hash_func() (insn_plugin.c's jc_hash())."""
    tmp = pc ^ (pc >> 6)
    return ((tmp >> 6) & 0xfc0) | (tmp & 0x3f)


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    console, profile, drv, phase, pattern, ko = sys.argv[1:]
    phases, syms = read_console(console)
    if drv not in phases or "c" not in phases:
        sys.exit("annotate.py: no profiling run of %s in %s" % (drv, console))
    names = [name for name, _, _ in phases["c"]]
    if phase not in names:
        sys.exit("annotate.py: no phase %s (phases: %s)" % (phase, " ".join(names)))
    k = names.index(phase)
    # The plugin numbers the phases of the boot: C's first (profile.sh
    # runs --drivers c,rs).
    want = (0 if drv == "c" else 1) * len(names) + k
    ops, run = phases[drv][k][1], phases[drv][k][2]
    starts = {name: addr for addr, name, _ in syms[run] if re.search(pattern, name)}
    if not starts:
        sys.exit("annotate.py: no symbol of the run matches %s" % pattern)
    funcs = disassembly(ko, pattern)
    blocks = collections.defaultdict(list)
    for line in open(profile):
        if line.startswith("#"):
            continue
        p, va, n, runs, *x = line.split()
        if int(p) != want:
            continue
        va = int(va, 16)
        # Lookups (entries TCG does not chain) and jump cache misses.
        looked = (int(x[0]) + int(x[1])) / ops if len(x) > 1 else 0.0
        missed = int(x[2]) / ops if len(x) > 2 else 0.0
        for name, addr in starts.items():
            lines = funcs.get(name)
            if lines and addr <= va <= addr + lines[-1][0]:
                blocks[name].append((va - addr, int(n), int(runs) / ops, va, looked, missed))
    for name in sorted(blocks):
        lines = funcs[name]
        index = {off: i for i, (off, _) in enumerate(lines)}
        total = 0.0
        print("== %s" % name)
        for off, n, per, va, looked, missed in sorted(blocks[name]):
            total += n * per
            print("-- +0x%x: %d instructions, %.2f per operation" % (off, n, per), end="")
            if looked:
                print("; looked up %.2f, missed the jump cache %.2f (slot %03x)" % (
                    looked, missed, jump_cache_slot(va)), end="")
            print()
            i = index.get(off)
            if i is None:
                print("   (no instruction starts there in %s)" % ko)
                continue
            for o, text in lines[i:i + n]:
                print("   %5x  %s" % (o, text))
        print("== %.1f instructions per operation in %s\n" % (total, name))


if __name__ == "__main__":
    main()
