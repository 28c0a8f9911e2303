# SPDX-License-Identifier: GPL-2.0
#
#   make                      build p2pmem.ko for the running kernel
#   make KDIR=/path/to/build  build against any kernel headers tree
#   make demo                 boot a VM with an NVMe CMB and run the whole flow
#   make check                build and run the VM test suite (see README.md);
#                             KERNELS="6.1 sid", VARIANTS=plain, SECTIONS="10 cmb"
#   make bench                p2pmem vs the kernel's allocate file vs RAM
#   make W=1 / make C=1       extra warnings / sparse, passed to kbuild
#   make -s sources           list the files a module build needs
#   make dist-src DEST=dir    copy them to dir (debian/rules, tests/run)

KERNELRELEASE ?=
KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)
KBUILD_ARGS := $(if $(W),W=$(W)) $(if $(C),C=$(C))

.PHONY: all modules clean check bench demo conftest sources dist-src

all: modules

# Probe again whenever the target tree changes; the stamp records which.
# Of the caller's make variables only the compiler choice reaches the probes
# (see p2pmem/conftest.sh).
CONFTEST_ARGS := $(foreach v,ARCH CROSS_COMPILE CC LD LLVM HOSTCC,$(if $(filter command line,$(origin $(v))),$(v)=$($(v))))
conftest.h: p2pmem/conftest.sh FORCE
	@if [ "$$(cat .conftest.kdir 2>/dev/null)" != "$(KDIR)" ] || [ ! -f $@ ] || [ p2pmem/conftest.sh -nt $@ ]; then \
		echo "  PROBE   $(KDIR)"; \
		rm -f .conftest.kdir; \
		sh p2pmem/conftest.sh "$(KDIR)" $@ $(CONFTEST_ARGS) && echo "$(KDIR)" > .conftest.kdir; \
	fi

conftest: conftest.h

modules: conftest.h
	$(MAKE) -C $(KDIR) M=$(PWD) $(KBUILD_ARGS) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -f conftest.h .conftest.kdir p2pmem-init.c
	[ ! -d tests ] || $(MAKE) -C tests clean

demo:
	tests/run --demo

check:
	tests/run $(if $(KERNELS),--kernels "$(KERNELS)") $(if $(VARIANTS),--variants "$(VARIANTS)") \
		$(if $(SECTIONS),--sections "$(SECTIONS)")

bench:
	tests/run --bench $(if $(KERNELS),--kernels "$(KERNELS)")

# The module's sources: the C files of Kbuild's object list (the one list;
# p2pmem-init.o is the wrapper around p2pmem.c), the headers and the build
# files.  Evaluated only when asked for.
MODULE_OBJS = $(shell sed -n '/^p2pmem-y/,/[^\\]$$/p' Kbuild | grep -o '[^ :=\\]*\.o')
MODULE_SRCS = Kbuild Makefile dkms.conf p2pmem.h p2pmem/conftest.sh \
	$(patsubst p2pmem-init.c,p2pmem.c,$(MODULE_OBJS:.o=.c)) \
	$(sort $(wildcard p2pmem/*.h))

sources:
	@printf '%s\n' $(MODULE_SRCS)

dist-src:
	@test -n "$(DEST)" || { echo "usage: make dist-src DEST=dir" >&2; exit 1; }
	@for f in $(MODULE_SRCS); do install -D -m 644 "$$f" "$(DEST)/$$f" || exit 1; done
	@chmod 755 "$(DEST)/p2pmem/conftest.sh"

FORCE:
