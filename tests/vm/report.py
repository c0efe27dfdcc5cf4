#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console log of a vfio-rs test VM into a verdict.

Reads what tests/vm/guest/{init,plan.sh} printed, applies
tests/vm/known-failures.txt and prints, on stdout:

  * TAP: one line per (driver, test) the guest planned, plus per driver a
    "dmesg-clean" test (kernel log and kmemleak report of that driver's
    phase free of splats and leaks), a "vm/dmesg-clean" test for the rest of
    the kernel log, and "vm/finished" (the guest ran to the end);
  * a side-by-side table of the drivers' results;
  * the number of expected failures, then exactly one last line
    "N passed, N failed" or "N passed, N failed, N skipped".

Exits 1 if any test failed (including a known failure that passed), else 0.

Usage: report.py --console LOG --known FILE [--qemu-status N] [--killed WHY]
"""

import argparse
import re
import sys

# Kernel log lines that fail "dmesg-clean".  Lockdep and RCU splats start
# with "WARNING:" or "BUG:"; the plain word "lockdep" is not listed because
# the boot log says "RCU lockdep checking is enabled".
BAD_PATTERNS = [
    r"Oops",
    r"WARNING:",
    r"BUG:",
    r"kernel BUG",
    r"unreferenced object",
    r"Call Trace",
    r"general protection",
    r"KASAN",
    r"UBSAN",
    r"possible circular locking",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"DEBUG_LOCKS_WARN_ON",
    r"turning off the locking correctness validator",
    r"INFO: trying to register non-static key",
    r"INFO: task .* blocked",
    r"detected stalls",
    r"soft lockup",
    r"hard LOCKUP",
    r"Kernel panic",
]
BAD_RE = re.compile("|".join(BAD_PATTERNS))
MAX_SHOWN_LINES = 20
# Lines shown after each offending kernel log line (who, where).
CONTEXT_LINES = 4

PLAN_RE = re.compile(r"VFIO_RS_PLAN (\S+) (\S+)\s*$")
RESULT_RE = re.compile(r"VFIO_RS_RESULT (\S+) (\S+) (pass|fail|skip) ?(.*)$")
DRIVER_BEGIN_KMSG_RE = re.compile(r"vfio_rs: begin driver (\S+)")
DRIVER_END_KMSG_RE = re.compile(r"vfio_rs: end driver (\S+)")
DRIVER_BEGIN_CONSOLE_RE = re.compile(r"^=== driver (\S+) ===$")
KMEMLEAK_RE = re.compile(r"^=== kmemleak (\S+) ===$")

# Leaks of the host kernel itself that the C driver hits and ours does not,
# waived in the C driver's "dmesg-clean" only (still printed with it): a
# kmemleak report whose backtrace holds the function is not an offence.
#   dma_buf_phys_vec_to_sgt: Linux 7.3's dma_buf_free_sgt() frees the
#   scatterlist array with sg_free_table(), which walks orig_nents, and
#   dma_buf_phys_vec_to_sgt() set that to 0; every unmap of a VFIO dma-buf
#   by an importer leaks it.  Ours restores orig_nents before the free
#   (vfio_pci_core/dmabuf/exporter.rs).
UPSTREAM_LEAKS = {"c": ["dma_buf_phys_vec_to_sgt"]}
SECTION_BEGIN_RE = re.compile(r"^--- begin (\S+)/(\S+) ---$")
SECTION_END_RE = re.compile(r"--- end (\S+)/(\S+) ")
# Lines of a kselftest's output worth showing when it failed.
TOTALS_RE = re.compile(r"^# Totals: (.*)$")
DIAG_RE = re.compile(r"^(not ok |# Totals:|# .*(Expected|FAIL|ASSERT|timeout|Assertion))")


class Test:
    def __init__(self, driver, name):
        self.driver = driver
        self.name = name
        self.status = None  # pass, fail or skip; None: no result
        self.detail = ""
        self.diag = []  # lines shown under a failure
        self.verdict = None  # pass, fail, skip, xfail or xpass

    @property
    def label(self):
        return f"{self.driver}/{self.name}"


def read_known(path):
    """Reads "<driver> <test>  # reason" lines into {(driver, test): reason}."""
    known = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            entry, _, reason = line.partition("#")
            fields = entry.split()
            if not fields:
                continue
            if len(fields) != 2 or not reason.strip():
                sys.exit(f"{path}:{lineno}: expected '<driver> <test>  # reason'")
            known[tuple(fields)] = reason.strip()
    return known


def section(lines, begin, end):
    """Returns the lines strictly between the first `begin` and the next
    `end` line, or None if `begin` is missing (or `end` is, when the log
    was cut off: then the rest of the log)."""
    try:
        start = lines.index(begin) + 1
    except ValueError:
        return None
    try:
        stop = lines.index(end, start)
    except ValueError:
        stop = len(lines)
    return lines[start:stop]


def parse_results(lines):
    """Results from the final summary block if the guest printed it, else
    from the live lines (which kernel messages may have broken up)."""
    block = section(lines, "=== results ===", "=== end results ===")
    if block is None or "=== end results ===" not in lines:
        block = lines
    results = {}
    for line in block:
        m = RESULT_RE.search(line)
        if m:
            results[(m[1], m[2])] = (m[3], m[4].strip())
    return results


def kselftest_sections(lines):
    """Returns ({(driver, test): [interesting lines of its output]},
    {(driver, test): summary of its kselftest "# Totals:" line})."""
    diag, totals = {}, {}
    current = None
    for line in lines:
        m = SECTION_BEGIN_RE.match(line)
        if m:
            current = (m[1], m[2])
            diag[current] = []
            continue
        if current and SECTION_END_RE.search(line):
            current = None
            continue
        if not current:
            continue
        m = TOTALS_RE.match(line)
        if m:
            counts = [f"{k}:{v}" for k, v in re.findall(r"(\w+):(\d+)", m[1])
                      if v != "0" or k in ("pass", "fail", "skip")]
            totals[current] = " ".join(counts)
        if DIAG_RE.match(line):
            diag[current].append(line)
    return diag, totals


def context(lines, i):
    """The lines after lines[i] worth showing with it: up to CONTEXT_LINES,
    stopping at the end of its section."""
    shown = []
    for line in lines[i + 1:i + 1 + CONTEXT_LINES]:
        if line.startswith("===") or "vfio_rs: " in line:
            break
        shown.append(line)
    return shown


def kernel_log_offences(lines, drivers):
    """Splits the kernel log by driver phase and returns
    ({phase: [(offending line, [the lines after it])]},
    {phase: [function of each waived upstream leak]}, note), phase being
    a driver or "vm"."""
    offences = {phase: [] for phase in drivers + ["vm"]}
    waived = {phase: [] for phase in drivers + ["vm"]}
    dmesg = section(lines, "=== dmesg ===", "=== end dmesg ===")
    if dmesg is not None:
        note = ""
        begin_re, end_re = DRIVER_BEGIN_KMSG_RE, DRIVER_END_KMSG_RE
    else:
        # The guest died before dumping dmesg: scan the whole console log,
        # split by what plan.sh printed there.
        note = "no dmesg dump (guest died?), scanned the console log"
        dmesg = lines
        begin_re, end_re = DRIVER_BEGIN_CONSOLE_RE, re.compile(r"VFIO_RS_RESULT \S+ unbind ")
    phase = "vm"
    in_kmemleak = False
    for i, line in enumerate(dmesg):
        # kmemleak reports are counted below, once.
        if KMEMLEAK_RE.match(line):
            in_kmemleak = True
        elif line == "=== end kmemleak ===":
            in_kmemleak = False
            continue
        if in_kmemleak:
            continue
        m = begin_re.search(line)
        if m:
            phase = m[1] if m[1] in offences else "vm"
            continue
        if end_re.search(line):
            phase = "vm"
            continue
        if BAD_RE.search(line):
            offences[phase].append((line, context(dmesg, i)))

    # kmemleak reports, one per driver phase and a final one.
    phase = None
    for i, line in enumerate(lines):
        m = KMEMLEAK_RE.match(line)
        if m:
            phase = m[1] if m[1] in offences else "vm"
            continue
        if line == "=== end kmemleak ===":
            phase = None
            continue
        if phase and "unreferenced object" in line:
            upstream = [f for f in UPSTREAM_LEAKS.get(phase, [])
                        if any(f in l for l in kmemleak_object(lines, i))]
            if upstream:
                waived[phase].append(upstream[0])
            else:
                offences[phase].append(("kmemleak: " + line.strip(), context(lines, i)))
    return offences, waived, note


def kmemleak_object(lines, i):
    """The lines of the kmemleak report of the object at lines[i] (its
    "unreferenced object" line), up to the next object or the report's end."""
    block = []
    for line in lines[i + 1:]:
        if "unreferenced object" in line or line == "=== end kmemleak ===":
            break
        block.append(line)
    return block


def status_cell(test):
    if test is None:
        return "-"
    if test.status is None:
        return "no result"
    cell = {"pass": "pass", "fail": "FAIL", "skip": "skip"}[test.status]
    if test.verdict == "xfail":
        cell = "xfail"
    elif test.verdict == "xpass":
        cell = "XPASS"
    m = re.match(r"(\d+)s\b", test.detail)
    if m and test.status != "skip":
        cell += f" {m[1]}s"
    return cell


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--console", required=True)
    ap.add_argument("--known", required=True)
    ap.add_argument("--qemu-status", type=int, default=0)
    ap.add_argument("--killed", default="",
                    help="why the host killed QEMU, if it did")
    args = ap.parse_args()

    with open(args.console, encoding="utf-8", errors="replace") as f:
        lines = [l.rstrip("\r\n").replace("\r", "") for l in f]
    known = read_known(args.known)

    # The plan, in the order the guest announced it.
    tests = []
    by_key = {}
    for line in lines:
        m = PLAN_RE.search(line)
        if m and (m[1], m[2]) not in by_key:
            t = Test(m[1], m[2])
            tests.append(t)
            by_key[(m[1], m[2])] = t
    drivers = list(dict.fromkeys(t.driver for t in tests))

    for key, (status, detail) in parse_results(lines).items():
        t = by_key.get(key)
        if t is None:  # a result for an unplanned test is still a result
            t = by_key[key] = Test(*key)
            tests.append(t)
        t.status, t.detail = status, detail
    diagnostics, totals = kselftest_sections(lines)
    for t in tests:
        if (t.driver, t.name) in totals:
            t.detail += f"; {totals[(t.driver, t.name)]}"
        if t.status is None:
            t.status, t.detail = "fail", "no result (the guest stopped early?)"
        if t.status == "fail":
            diag = diagnostics.get((t.driver, t.name), [])
            t.diag = diag[:MAX_SHOWN_LINES]
            if len(diag) > MAX_SHOWN_LINES:
                t.diag.append(f"... {len(diag) - MAX_SHOWN_LINES} more lines in the console log")

    # dmesg-clean per driver phase and for the rest, then the VM itself.
    offences, waived, note = kernel_log_offences(lines, drivers)
    for phase in drivers + ["vm"]:
        t = Test(phase, "dmesg-clean")
        bad = offences[phase]
        waiver = ""
        if waived[phase]:
            funcs = ", ".join(sorted(set(waived[phase])))
            waiver = (f"waived {len(waived[phase])} kmemleak report(s) of the host "
                      f"kernel's own leak in {funcs} (UPSTREAM_LEAKS in report.py)")
            t.diag.append(waiver)
        if bad:
            t.status = "fail"
            t.detail = f"{len(bad)} offending kernel log lines"
            for line, context in bad:
                if len(t.diag) >= MAX_SHOWN_LINES:
                    t.diag.append("... more in the console log")
                    break
                t.diag.append(line)
                t.diag.extend("  " + c for c in context
                              if not BAD_RE.search(c))
        else:
            t.status, t.detail = "pass", waiver
        if note:
            t.diag.insert(0, note)
        tests.append(t)

    finished = Test("vm", "finished")
    booted = any(l.startswith("VFIO_RS_BOOTED") for l in lines)
    done = "VFIO_RS_DONE" in lines
    if args.killed:
        finished.status, finished.detail = "fail", args.killed
    elif not booted:
        finished.status, finished.detail = "fail", "the guest never reached /init"
    elif not done:
        finished.status = "fail"
        finished.detail = f"the guest stopped before the end (QEMU status {args.qemu_status})"
        # QEMU says who stopped it, e.g. someone's "pkill qemu".
        for line in lines:
            if re.match(r"qemu-system-\S+: terminating on signal", line):
                finished.detail += f"; {line}"
    elif args.qemu_status != 0:
        finished.status, finished.detail = "fail", f"QEMU exited with status {args.qemu_status}"
    else:
        finished.status = "pass"
    tests.append(finished)

    # Verdicts.
    counts = {"pass": 0, "fail": 0, "skip": 0, "xfail": 0}
    print("TAP version 13")
    print(f"1..{len(tests)}")
    for n, t in enumerate(tests, 1):
        reason = known.get((t.driver, t.name))
        detail = f" ({t.detail})" if t.detail else ""
        if t.status == "skip":
            t.verdict = "skip"
            print(f"ok {n} - {t.label} # SKIP {t.detail}")
        elif t.status == "pass" and reason is None:
            t.verdict = "pass"
            print(f"ok {n} - {t.label}{detail}")
        elif t.status == "pass":
            t.verdict = "xpass"
            print(f"not ok {n} - {t.label}{detail} # unexpected pass, "
                  f"remove it from known-failures.txt ({reason})")
        elif reason is not None:
            t.verdict = "xfail"
            print(f"not ok {n} - {t.label}{detail} # TODO known failure: {reason}")
        else:
            t.verdict = "fail"
            print(f"not ok {n} - {t.label}{detail}")
        if t.verdict in ("fail", "xpass"):
            for d in t.diag:
                print(f"#   {d}")
        counts[{"xpass": "fail"}.get(t.verdict, t.verdict)] += 1

    # Side by side: one row per test name, one column per phase.
    phases = drivers + (["vm"] if "vm" not in drivers else [])
    names = list(dict.fromkeys(t.name for t in tests))
    cell = {(t.driver, t.name): t for t in tests}
    width = max(len(n) for n in names)
    print()
    print(f"{'test':<{width}}  " + "  ".join(f"{p:<12}" for p in phases))
    for name in names:
        row = [status_cell(cell.get((p, name))) for p in phases]
        print(f"{name:<{width}}  " + "  ".join(f"{c:<12}" for c in row))
    print()

    print(f"{counts['xfail']} expected failures (known-failures.txt)")
    summary = f"{counts['pass']} passed, {counts['fail']} failed"
    if counts["skip"]:
        summary += f", {counts['skip']} skipped"
    print(summary)
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
