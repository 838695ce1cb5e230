# SPDX-License-Identifier: GPL-2.0
#
# crak: checkpoint/restart and live migration of networked processes.
#
#   make                 the modules for the default kernel (Debian 6.12) and the tools
#   make KVER=6.1        ... for another kernel: 6.12, 6.1, debug or an installed release
#   make deps            install what building and testing need (Debian packages)
#   make demo            crak's main job, shown in the lab
#   make check           every selftest, in the lab, on 6.12, 6.1 and the debug kernel
#                        (KVER=... for one kernel, T=pattern for some tests)
#   make bench           the benchmarks (tools/bench/), ratios against their references
#   make fuzz            20000 fuzzed images into restore (FUZZ_N=..., KVER=...)
#   make debug-kernel    build the KASAN/lockdep/kmemleak kernel into the cache
#   make lint            checkpatch --strict, W=1 and sparse (C=1) over our kernel code
#   make clean
#
# Modules build out of tree into build/RELEASE/, one directory per kernel, from a
# tree of symlinks to the sources, so that kernels never share objects.

LAB      := $(CURDIR)/tools/lab/lab
KVER     ?= 6.12
BUILD    := $(CURDIR)/build
# Directories holding kernel code (each has a Kbuild), and what they include.
KDIRS    := $(patsubst %/Kbuild,%,$(wildcard vif/Kbuild sockmig/Kbuild ckpt/Kbuild \
              selftests/lab/modules/Kbuild))
KSHARED  := Kbuild uapi compat

.PHONY: all modules _modules tools deps check debug-kernel lint clean help demo bench fuzz

all: modules tools

help:
	@sed -n '3,17p' Makefile | sed 's/^# \{0,1\}//'

# The kernel is resolved only when a target needs one, so `make deps` works first.
modules:
	@krel=$$($(LAB) kernel -k $(KVER) release) && kdir=$$($(LAB) kernel -k $(KVER) kdir) && \
		$(MAKE) --no-print-directory _modules KREL=$$krel KDIR=$$kdir

_modules:
	@mkdir -p $(BUILD)/$(KREL)
	@for d in $(KSHARED) $(KDIRS); do \
		[ -e "$$d" ] || continue; \
		mkdir -p "$(BUILD)/$(KREL)/$$(dirname $$d)"; \
		cp -rsf "$(CURDIR)/$$d" "$(BUILD)/$(KREL)/$$(dirname $$d)/"; \
	done
	@find $(BUILD)/$(KREL) -path $(BUILD)/$(KREL)/modstage -prune -o -xtype l -print0 \
		| xargs -0r rm -f
	@compat/probe.sh $(KDIR) > $(BUILD)/$(KREL)/compat/crak_probed.h.tmp
	@cmp -s $(BUILD)/$(KREL)/compat/crak_probed.h.tmp $(BUILD)/$(KREL)/compat/crak_probed.h \
		&& rm $(BUILD)/$(KREL)/compat/crak_probed.h.tmp \
		|| mv $(BUILD)/$(KREL)/compat/crak_probed.h.tmp $(BUILD)/$(KREL)/compat/crak_probed.h
	$(MAKE) -C $(KDIR) M=$(BUILD)/$(KREL) W=1 modules
	@$(LAB) stage -k $(KREL) > /dev/null

tools:
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools BUILD=$(BUILD); fi
	@if [ -f selftests/Makefile ]; then $(MAKE) -C selftests BUILD=$(BUILD); fi

deps:
	@tools/deps

check: deps
	@$(LAB) check $(if $(filter command line,$(origin KVER)),-k $(KVER)) $(if $(T),-t '$(T)')

debug-kernel: deps
	@$(LAB) debug-kernel

lint:
	@tools/lint $(KDIRS)

demo: deps
	@tools/demo

# Fuzzing campaign: FUZZ_N broken images of each kind per kernel (make check
# runs a smoke of it: 100 connection images, 60 process images).
FUZZ_N ?= 20000
fuzz: deps
	@FUZZ_N=$(FUZZ_N) LAB_TIMEOUT=$$(( $(FUZZ_N) + 300 )) \
		$(LAB) check -k $(KVER) -t sockmig/image,ckpt/image

bench: deps
	@tools/bench.sh

clean:
	rm -rf $(BUILD)
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools BUILD=$(BUILD) clean; fi
	@if [ -f selftests/Makefile ]; then $(MAKE) -C selftests BUILD=$(BUILD) clean; fi
