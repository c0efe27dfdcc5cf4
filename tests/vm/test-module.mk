# SPDX-License-Identifier: GPL-2.0
# The build of a test-only kernel module of the VM tests (never installed by
# `make modules_install`), included by its directory's Makefile after it set
# MODULE (the .ko's name) and SRCS (Kbuild and the sources).  tests/vm/run.sh
# builds it against the test kernel, in a copy under OUTPUT so that the work
# tree stays clean:
#
#   make -C tests/vm/<dir> KDIR=<kernel build> OUTPUT=<dir>
#
# The result is $(OUTPUT)/$(MODULE).ko.

ifeq ($(KDIR),)
$(error KDIR= (the kernel build directory) is required)
endif
OUTPUT ?= $(CURDIR)/build

all:
	mkdir -p $(OUTPUT)/src
	cp -u $(addprefix $(CURDIR)/,$(SRCS)) $(OUTPUT)/src/
	$(MAKE) -C $(KDIR) M=$(OUTPUT)/src W=1 modules
	cp $(OUTPUT)/src/$(MODULE).ko $(OUTPUT)/

.PHONY: all
