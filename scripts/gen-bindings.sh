#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# gen-bindings.sh KDIR BINDGEN HEADER ALLOWLIST OUTPUT
#
# Generates Rust bindings for the C APIs the kernel crate does not cover,
# with exactly the bindgen options and C flags the kernel build used for its
# own `kernel::bindings` (read back from the build tree's saved command in
# rust/bindings/.bindings_generated.rs.cmd).  ALLOWLIST is a file of extra
# bindgen options (one per line, `#` comments allowed), normally
# --allowlist-* patterns.  Types not allowlisted are taken from
# `kernel::bindings`, which the generated file expects to be glob-imported
# (`--no-recursive-allowlist`), so a `struct pci_dev` stays one type.
set -euo pipefail
kdir=$1 bindgen=$2 header=$3 allow=$4 out=$5

cmdfile=$kdir/rust/bindings/.bindings_generated.rs.cmd
[ -f "$cmdfile" ] || { echo "error: $cmdfile missing: KDIR must be a Rust-enabled kernel build tree (CONFIG_RUST=y, rust/ built)" >&2; exit 1; }

# The saved command is one make-escaped line: "savedcmd_... := bindgen IN opts... -o OUT -- cflags...".
# Only the bindgen command itself: it is followed by "; sed ..." post-processing
# of the kernel's own file, which must never run here.
cmd=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile" | sed -e 's/\$(pound)/#/g' -e 's/ ; .*$//')
case "$cmd" in *';'*|*'&'*|*'|'*|*'`'*|*'$('*) echo "error: unexpected shell syntax in $cmdfile" >&2; exit 1 ;; esac
eval "set -- $cmd"
shift 2 # the bindgen binary and the kernel's own header
opts=() cflags=() seen_sep=0
while [ $# -gt 0 ]; do
	if [ "$seen_sep" = 0 ]; then
		case "$1" in
		--) seen_sep=1 ;;
		-o) shift ;;
		# The kernel generates everything from its header; we only what we allow.
		--no-debug) shift ;;
		*) opts+=("$1") ;;
		esac
	else
		case "$1" in
		-Wp,-MMD,*|-Wp,-MD,*) ;;
		*) cflags+=("$1") ;;
		esac
	fi
	shift
done

mapfile -t extra < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/^[[:space:]]*//;s/[[:space:]]*$//' "$allow")

header=$(realpath "$header")
tmp=$(realpath -m "$out.tmp")
# C include paths in the saved command are relative to the build tree.
(cd "$kdir" && "$bindgen" "$header" "${opts[@]}" --no-recursive-allowlist \
	"${extra[@]}" -o "$tmp" -- "${cflags[@]}" -I"$(dirname "$header")")
mv "$tmp" "$out"
