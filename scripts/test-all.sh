#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs every test of the project on a fresh or warm machine:
#   1. host setup (Debian packages, bindgen) and the cached test kernel,
#   2. the three modules, built warning-free, with rustfmt checked, and
#      once more without dma-buf support (VFIO_RS_DMABUF=n) in a copy,
#   3. host unit tests of the pure logic (cargo test),
#   4. the QEMU VM tests: upstream VFIO kselftests and our own tests against
#      the in-tree C vfio-pci and against ours, dmesg checked; then, in a
#      second boot, the dma-buf-less build of ours on a few tests; then, in
#      a third, the same tests as the first on the benchmark kernel (-O2,
#      no lockdep or kmemleak, as a production host builds), with our
#      modules built against it.
# Ends with one line "N passed, N failed" over all of them and exits
# non-zero if anything failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/env.sh

passed=0 failed=0
step() { log "$*"; }
count() { # name status
	if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "ok - $1"; else failed=$((failed + 1)); echo "not ok - $1"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}

step "host setup"
if ! bash scripts/setup-host.sh; then count host-setup 1; finish; fi

step "test kernel"
if ! KDIR=$(bash scripts/build-kernel.sh); then count test-kernel 1; finish; fi
export KDIR

step "clippy (W=e)"
clippy_log=$(mktemp)
make -s KDIR="$KDIR" clippy >"$clippy_log" 2>&1; rc=$?
[ $rc = 0 ] || tail -60 "$clippy_log"
count clippy $rc

step "modules"
build_log=$(mktemp)
if make -s KDIR="$KDIR" modules >"$build_log" 2>&1; then
	# Warnings are errors for us: a warning-free build is part of the contract.
	if grep -E 'warning:|error:' "$build_log"; then count build-no-warnings 1; else count build-no-warnings 0; fi
	count build 0
else
	cat "$build_log"
	count build 1
	finish
fi
make -s KDIR="$KDIR" fmtcheck >/dev/null 2>&1; rc=$?
[ $rc = 0 ] || make -s KDIR="$KDIR" fmtcheck 2>&1 | head -40
count rustfmt $rc
bash scripts/check-modinfo.sh "$KDIR"; count modinfo $?
nodmabuf_dir=$VFIO_RS_CACHE/nodmabuf/$(basename "$KDIR")
bash scripts/check-nodmabuf.sh --out "$nodmabuf_dir" "$KDIR"; nodmabuf_rc=$?
count nodmabuf-build $nodmabuf_rc
bash scripts/check-tokens.sh "$KDIR"; count token-misuse-refused $?

# cargo test of one crate; every test counts.
cargo_tests() { # name dir
	local log
	log=$(mktemp)
	(cd "$2" && cargo test 2>&1) | tee "$log" | grep -E '^test |test result' || true
	set -- $(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } } END { print p + 0, f + 0 }' "$log") "$1"
	passed=$((passed + $1)); failed=$((failed + $2))
	grep -q '^test result:' "$log" || { tail -20 "$log"; count "$3-tests-built" 1; }
}

step "host unit tests of the modules' pure logic (cargo test)"
cargo_tests host tests/host

step "vfio-bind: cargo test, clippy, rustfmt"
cargo_tests vfio-bind tools/vfio-bind
(cd tools/vfio-bind && PATH=/usr/bin:$PATH /usr/bin/cargo clippy --quiet --all-targets -- -D warnings 2>&1 | tail -20; exit "${PIPESTATUS[0]}"); count vfio-bind-clippy $?
(cd tools/vfio-bind && PATH=/usr/bin:$PATH /usr/bin/cargo fmt -- --check >/dev/null 2>&1); count vfio-bind-rustfmt $?

# One VM run: its tests count one by one.
vm_run() { # name run.sh-arguments...
	local name=$1 vm_log vm_rc last
	shift
	vm_log=$(mktemp)
	bash tests/vm/run.sh "$@" 2>&1 | tee "$vm_log"
	vm_rc=${PIPESTATUS[0]}
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$vm_log" | tail -n1)
	if [ -n "$last" ]; then
		set -- $last
		passed=$((passed + $1)); failed=$((failed + ${3%,}))
		[ "$vm_rc" = 0 ] || [ "${3%,}" != 0 ] || count "$name-exit-status" 1
	else
		count "$name-tests-ran" 1
	fi
}

step "VM tests"
vm_run vm-run

# Ours built with VFIO_RS_DMABUF=n, in a second boot: the dma-buf feature is
# ENOTTY and what revokes and restores dma-bufs when they are built (memory
# disable, PMCSR, resets, low power) works without them.
step "VM tests of the build without dma-buf support"
if [ "$nodmabuf_rc" = 0 ]; then
	vm_run vm-nodmabuf --drivers rs --modules "$nodmabuf_dir" --no-dmabuf \
		--tests '^(vfio_info|vfio_dmabuf|vfio_lowpower|vfio_hotreset|vfio_pci_device_test)(@(edu|edurp))?$'
else
	count vm-nodmabuf-built 1
fi

# The test kernel is -Os with lockdep and kmemleak; a production kernel is
# -O2 without them, and the compiler's freedom differs: a write through a
# shared reference in ours survived -Os and was dropped at -O2, which left
# every BAR mmap faulting with SIGBUS (Documentation/benchmarks.rst, "the
# virtual clock").  So every VM test runs on that kernel too.
step "VM tests on the benchmark kernel (-O2, no debugging)"
if KDIR_BENCH=$(bash scripts/build-kernel.sh --flavour bench) &&
	bench_modules=$(vfio_rs_modules_for "$KDIR_BENCH"); then
	count bench-kernel-build 0
	vm_run vm-bench --flavour bench --modules "$bench_modules"
else
	count bench-kernel-build 1
fi
finish
