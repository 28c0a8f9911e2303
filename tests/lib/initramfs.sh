# SPDX-License-Identifier: GPL-2.0
# The guest's initramfs.
# Sourced by tests/run.

# copy_with_libs ROOTFS BINARY: a dynamic binary and the libraries it loads.
copy_with_libs() {
	local r=$1 bin=$2 lib
	install -D "$bin" "$r$bin"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		install -D "$lib" "$r$lib"
	done
}

# The modules the guest loads (with their dependencies); the debug kernel
# is trimmed to these.
GUEST_MODULES="nvme rdma_rxe ib_uverbs dummy crc32_generic uio_pci_generic"

# build_initramfs ABI
build_initramfs() {
	local abi=$1 kroot=$CACHE/kernels/$1/root r=$OUT/$1/initramfs m
	rm -rf "$r" && mkdir -p "$r"/{bin,proc,sys,dev,tmp,tests,lib/modules}
	cp /bin/busybox "$r/bin/busybox"
	install -m 755 "$ROOT/tests/guest/init" "$r/init"
	cp "$ROOT"/tests/guest/*.sh "$ROOT/tests/vm.conf" "$r/tests/"
	cp -r "$ROOT"/tests/guest/suite.d "$r/tests/"
	cp "$OUT/p2pmem_test" "$OUT/p2pmem_bench" "$OUT/json_check" "$r/tests/"
	cp "$OUT/p2pmem_fuzz" "$OUT/p2pmem_stress" "$r/tests/"
	cp "$OUT/$abi/module/p2pmem.ko" "$r/"
	copy_with_libs "$r" /usr/bin/fio
	# RDMA: our verbs program, rxe's user-space provider, rdma and ip.
	copy_with_libs "$r" "$OUT/p2pmem_rdma"
	mv "$r$OUT/p2pmem_rdma" "$r/tests/"
	copy_with_libs "$r" "$(readlink -f /usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav*.so)"
	install -D /etc/libibverbs.d/rxe.driver "$r/etc/libibverbs.d/rxe.driver"
	copy_with_libs "$r" /usr/bin/rdma
	# perftest as a real client of /dev/p2pmemN (suite.d/47-perftest.sh).
	copy_with_libs "$r" /usr/bin/ib_write_bw
	copy_with_libs "$r" /usr/bin/ib_read_bw
	copy_with_libs "$r" /bin/ip
	mv "$r/bin/ip" "$r/bin/iproute2-ip"
	# The package's CLI, library and udev files, libkmod and the real
	# udevd; the module sits where libkmod looks for it (modules.dep):
	# the one DKMS built from the package where there is one.
	local pr=$PKG/root
	LD_LIBRARY_PATH=$pr/usr/lib/x86_64-linux-gnu copy_with_libs "$r" "$pr/usr/bin/p2pmem"
	mv "$r$pr/usr/bin/p2pmem" "$r/bin/p2pmem"
	mv "$r$pr/usr/lib/x86_64-linux-gnu/libp2pmem.so.2" "$r/lib/x86_64-linux-gnu/"
	rm -rf "${r:?}$PKG"
	copy_with_libs "$r" /bin/udevadm
	install -d "$r/lib/systemd" "$r/lib/udev/rules.d" "$r/etc" "$r/run"
	ln -s /bin/udevadm "$r/lib/systemd/systemd-udevd"
	install -m 644 "$pr/usr/lib/udev/rules.d/60-p2pmem.rules" "$r/lib/udev/rules.d/"
	install -m 755 "$pr/usr/lib/udev/p2pmem-serial" "$r/lib/udev/"
	printf 'root:x:0:0:root:/:/bin/sh\nalice:x:1000:1000::/tmp:/bin/sh\nnobody:x:65534:65534::/tmp:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\nalice:x:1000:\np2pmem:x:999:alice\nnogroup:x:65534:\n' >"$r/etc/group"
	if [ -f "$PKG/dkms/$abi/p2pmem.ko" ]; then
		install -D -m 644 "$PKG/dkms/$abi/p2pmem.ko" "$r/lib/modules/$abi/updates/dkms/p2pmem.ko"
	else
		install -D -m 644 "$OUT/$abi/module/p2pmem.ko" "$r/lib/modules/$abi/extra/p2pmem.ko"
	fi
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ ! -f "$kroot/lib/modules/$abi/$f" ] || cp "$kroot/lib/modules/$abi/$f" "$r/lib/modules/$abi/"
	done
	depmod -b "$r" "$abi" || die "depmod for the initramfs failed"
	: >"$r/modules.list"
	# rxe asks the crypto API for "crc32" up to 6.x (a soft dependency
	# modprobe does not list); later kernels have no such module.
	# uio_pci_generic gives a controller to user space (suite.sh).
	for m in $(for mod in $GUEST_MODULES; do
			modprobe -d "$kroot" -S "$abi" --show-depends $mod 2>/dev/null
		done | awk '/^insmod/ {print $2}'); do
		local base
		base=$(basename "$m")
		base=${base%.xz}
		base=${base%.zst}
		grep -qx "$base" "$r/modules.list" && continue
		unpack_ko "$m" "$r/lib/modules/$base"
		echo "$base" >>"$r/modules.list"
	done
	(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/$abi/initramfs.gz"
}

