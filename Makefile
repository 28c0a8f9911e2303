# SPDX-License-Identifier: GPL-2.0
#
#   make                      build p2pmem.ko for the running kernel
#   make KDIR=/path/to/build  build against any kernel headers tree
#   make demo                 boot a VM with an NVMe CMB and run the whole flow
#   make check                build and run the VM test suite (see README.md);
#                             KERNELS="6.1 sid", VARIANTS=plain, SECTIONS="10 cmb"
#   make bench                p2pmem vs the kernel's allocate file vs RAM
#   make W=1 / make C=1       extra warnings / sparse, passed to kbuild

KERNELRELEASE ?=
KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)
KBUILD_ARGS := $(if $(W),W=$(W)) $(if $(C),C=$(C))

.PHONY: all modules clean check bench demo conftest

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
	rm -f conftest.h .conftest.kdir p2pmem-core.c
	[ ! -d tests ] || $(MAKE) -C tests clean

demo:
	tests/run --demo

check:
	tests/run $(if $(KERNELS),--kernels "$(KERNELS)") $(if $(VARIANTS),--variants "$(VARIANTS)") \
		$(if $(SECTIONS),--sections "$(SECTIONS)")

bench:
	tests/run --bench $(if $(KERNELS),--kernels "$(KERNELS)")

FORCE:
