# SPDX-License-Identifier: GPL-2.0
#
# vfio-rs: Rust VFIO PCI drivers (vfio_pci_core.ko, vfio_pci.ko,
# mlx5_vfio_pci.ko) built out of tree against a Rust-enabled kernel.
#
#   make [KDIR=...]            build the three modules
#   make modules_install       install them under updates/ and run depmod
#   make uninstall             remove them again
#   make clean
#   make fmt / fmtcheck        rustfmt with the kernel's settings
#   make clippy                lint build (W=e); never ship its objects
#   make hosttest              cargo test of the pure logic, no kernel needed
#   make modinfocheck          modinfo of the built modules against the C ones
#   make nodmabufcheck         the build without dma-buf support, in a copy
#   make tokencheck            a variant that misuses Open/CloseToken must
#                              not build (in a copy)
#   make check                 fmtcheck + clippy + hosttest + modinfocheck
#                              + nodmabufcheck + tokencheck
#
# VFIO_RS_DMABUF=n leaves VFIO_DEVICE_FEATURE_DMA_BUF out even on a kernel
# with CONFIG_PCI_P2PDMA and CONFIG_DMA_SHARED_BUFFER (without them it is
# always left out); it also applies to clippy.
#
# KDIR defaults to the running kernel's build tree.  RUSTC/BINDGEN default to
# the first candidate whose version equals the one the kernel was built with.

KDIR ?= /lib/modules/$(shell uname -r)/build
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

autoconf := $(KDIR)/include/config/auto.conf
kver_text = $(shell sed -n 's/^CONFIG_$(1)_VERSION_TEXT="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(autoconf) 2>/dev/null)
want_rustc := $(call kver_text,RUSTC)
want_bindgen := $(call kver_text,BINDGEN)

# First candidate whose `--version` prints exactly what the kernel recorded.
pick = $(firstword $(foreach c,$(2),$(if $(filter $(subst $(space),_,$(1)),$(subst $(space),_,$(shell $(c) --version 2>/dev/null | head -n1))),$(c))))
empty :=
space := $(empty) $(empty)

ifneq ($(filter default undefined,$(origin RUSTC)),)
RUSTC := $(or $(call pick,$(want_rustc),rustc /usr/bin/rustc),rustc)
endif
ifneq ($(filter default undefined,$(origin BINDGEN)),)
BINDGEN := $(or $(call pick,$(want_bindgen),bindgen /var/cache/vfio-rs/bindgen/bin/bindgen $(HOME)/.cargo/bin/bindgen),bindgen)
endif
rustc_dir := $(dir $(shell command -v $(RUSTC)))
RUSTFMT ?= $(or $(wildcard $(rustc_dir)rustfmt),rustfmt)
CLIPPY_DRIVER ?= $(or $(wildcard $(rustc_dir)clippy-driver),clippy-driver)

KMAKE = $(MAKE) -C $(KDIR) M=$(TOP) RUSTC=$(RUSTC) BINDGEN=$(BINDGEN) \
	HOSTRUSTC=$(RUSTC) RUSTFMT=$(RUSTFMT) CLIPPY_DRIVER=$(CLIPPY_DRIVER)

RS_SOURCES = $(shell cd $(TOP) && git ls-files --cached --others --exclude-standard '*.rs' 2>/dev/null || find . -name '*.rs' -not -path './target/*')

.PHONY: all modules modules_install uninstall clean fmt fmtcheck clippy hosttest modinfocheck nodmabufcheck tokencheck check preflight test

all: modules

# One clear line for each way a build can fail before the compiler runs.
preflight:
	@test -d $(KDIR) || { echo "error: KDIR=$(KDIR) does not exist: install the kernel build tree or pass KDIR=" >&2; exit 1; }
	@test -f $(autoconf) || { echo "error: $(KDIR) is not a configured kernel build tree (no include/config/auto.conf)" >&2; exit 1; }
	@grep -q '^CONFIG_RUST=y' $(autoconf) || { echo "error: kernel at $(KDIR) has no CONFIG_RUST=y: Rust modules cannot be built against it" >&2; exit 1; }
	@test -f $(KDIR)/rust/libkernel.rmeta || { echo "error: $(KDIR) lacks the Rust metadata (rust/libkernel.rmeta): use the full build tree of a Rust-enabled kernel" >&2; exit 1; }
	@test "$$($(RUSTC) --version 2>/dev/null | head -n1)" = "$(want_rustc)" || { echo "error: $(RUSTC) is '$$($(RUSTC) --version 2>/dev/null | head -n1)' but the kernel was built with '$(want_rustc)': pass RUSTC= of that compiler" >&2; exit 1; }
	@test "$$($(BINDGEN) --version 2>/dev/null | head -n1)" = "$(want_bindgen)" || { echo "error: $(BINDGEN) is '$$($(BINDGEN) --version 2>/dev/null | head -n1)' but the kernel was built with '$(want_bindgen)': pass BINDGEN=" >&2; exit 1; }

modules: preflight
	$(KMAKE) modules

modules_install: modules
	$(KMAKE) INSTALL_MOD_DIR=updates modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $$(cat $(KDIR)/include/config/kernel.release)

uninstall:
	rm -f $(INSTALL_MOD_PATH)/lib/modules/$$(cat $(KDIR)/include/config/kernel.release)/updates/{vfio_pci_core,vfio_pci,mlx5_vfio_pci}.ko*
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $$(cat $(KDIR)/include/config/kernel.release)

clean:
	-test -d $(KDIR) && $(KMAKE) clean
	rm -f */bindings_generated.rs */exports_generated.h */*.rmeta
	rm -rf target tests/host/target .clippy-build

# The kernel's .rustfmt.toml: edition 2021, Unix newlines, nothing else.
RUSTFMT_FLAGS := --edition 2021 --config newline_style=Unix

fmt:
	cd $(TOP) && $(RUSTFMT) $(RUSTFMT_FLAGS) $(RS_SOURCES)

fmtcheck:
	cd $(TOP) && $(RUSTFMT) $(RUSTFMT_FLAGS) --check $(RS_SOURCES)

# Lints build a copy of the tree, so the real objects are never clippy's.
CLIPPY_DIR ?= $(TOP)/.clippy-build
clippy: preflight
	rm -rf $(CLIPPY_DIR) && mkdir -p $(CLIPPY_DIR)
	cd $(TOP) && cp -r Kbuild include scripts vfio_pci_core vfio_pci mlx5_vfio_pci $(CLIPPY_DIR)/
	$(MAKE) -C $(KDIR) M=$(CLIPPY_DIR) RUSTC=$(RUSTC) BINDGEN=$(BINDGEN) \
		HOSTRUSTC=$(RUSTC) CLIPPY_DRIVER=$(CLIPPY_DRIVER) CLIPPY=1 W=e modules
	rm -rf $(CLIPPY_DIR)

hosttest:
	cd $(TOP)/tests/host && cargo test --quiet

# Against the C vfio-pci modules of KDIR (a kernel build, such as
# scripts/build-kernel.sh makes).
modinfocheck: modules
	bash $(TOP)/scripts/check-modinfo.sh $(KDIR)

# VFIO_RS_DMABUF=n in a scratch copy of the tree: warning-free, and neither
# the iommufd export nor the DMA_BUF namespace import.
nodmabufcheck: preflight
	bash $(TOP)/scripts/check-nodmabuf.sh $(KDIR)

# A variant that forges, reuses or keeps a CloseToken, in a scratch copy of
# the tree: each must fail to build with its rustc error.
tokencheck: preflight
	bash $(TOP)/scripts/check-tokens.sh $(KDIR)

check: fmtcheck hosttest clippy modinfocheck nodmabufcheck tokencheck

# Every test: host tests, then the QEMU VM tests (builds the test kernel).
test:
	$(TOP)/scripts/test-all.sh
