#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install everything a fresh Debian 12 (bookworm) machine needs to build the
# test kernel, our modules, the kselftests and to run the QEMU test VM.
# Uses Debian's packages and crates.io only.  Idempotent: a second run only
# checks.
set -euo pipefail
. "$(dirname "$0")/env.sh"

need_root() { [ "$(id -u)" = 0 ] || die "setup-host.sh must run as root (apt-get)"; }

stamp=$VFIO_RS_CACHE/.host-setup-v1
mkdir -p "$VFIO_RS_CACHE"
if [ -f "$stamp" ] && [ -x "$VFIO_RS_BINDGEN" ] && [ -x "$VFIO_RS_RUSTC" ] &&
   command -v qemu-system-x86_64 >/dev/null; then
	log "host already set up ($stamp)"
	exit 0
fi
need_root

# bookworm-backports has QEMU 10; trixie-backports has linux-source-7.3,
# which we only download, never install, so pin it to priority 1.
cat > /etc/apt/sources.list.d/vfio-rs.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cat > /etc/apt/preferences.d/vfio-rs <<'PIN'
Package: *
Pin: release n=trixie-backports
Pin-Priority: 1
PIN

log "apt-get update"
apt-get update -qq
log "installing Debian packages"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports \
	qemu-system-x86 \
	rustc-web rust-web-src rustfmt-web rust-web-clippy \
	libclang-19-dev clang-19 \
	build-essential flex bison bc kmod cpio xz-utils zstd rsync \
	libelf-dev libssl-dev uuid-dev busybox-static python3 >/dev/null

"$VFIO_RS_RUSTC" --version >/dev/null || die "rustc-web did not install"

if ! [ -x "$VFIO_RS_BINDGEN" ]; then
	log "installing bindgen-cli 0.72.1 from crates.io (about 2 minutes)"
	# Build it with the Debian toolchain so nothing depends on rustup.
	LIBCLANG_PATH=/usr/lib/llvm-19/lib \
	"$(command -v /usr/bin/cargo || command -v cargo)" install --quiet --locked bindgen-cli@0.72.1 --root "$VFIO_RS_CACHE/bindgen"
fi
touch "$stamp"
log "host ready: $("$VFIO_RS_RUSTC" --version), $("$VFIO_RS_BINDGEN" --version)"
