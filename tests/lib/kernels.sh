# SPDX-License-Identifier: GPL-2.0
# Kernels: which Debian suite gives each kernel key, fetching it.
# Sourced by tests/run.

# kernel_suite KEY: the Debian suite whose metapackages give that kernel;
# "host" is the host's own bookworm + bookworm-security.  6.12 is the
# backport Debian 12 users install, trixie Debian 13's own 6.12 (built
# with gcc-14, so it builds in a trixie build root).
kernel_suite() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo host ;;
	6.12) echo bookworm-backports ;;
	trixie) echo trixie ;;
	sid) echo sid ;;
	6.1-debug) echo host ;;
	*) die "unknown kernel '$1' (known: 5.10 6.1 6.12 trixie sid 6.1-debug)" ;;
	esac
}

# kernel_has_p2pdma ABI: the kernel is built with CONFIG_PCI_P2PDMA, where
# p2pmem uses its kernel backend (the suite is told, BACKEND=kernel).
kernel_has_p2pdma() {
	grep -q '^CONFIG_PCI_P2PDMA=y' "$CACHE/kernels/$1/root/usr/src/linux-headers-$1/.config"
}
# are unpacked into $CACHE/kernels/ABI/root, once.
# fetch_kernel KEY: prints the kernel's ABI name.  The image and headers
fetch_kernel() {
	local suite at="" abi kroot d pkgs p
	case $1 in *-debug) die "fetch_kernel: $1 is built by debugk_fetch" ;; esac
	suite=$(kernel_suite "$1")
	[ "$suite" = host ] || { add_suites; at=/$suite; }
	d=$(mktemp -d) && pushd "$d" >/dev/null
	download "linux-image-amd64$at"
	abi=$(deb_dep linux-image-amd64_*.deb '^linux-image-' | head -n1 | sed 's/^linux-image-//')
	[ -n "$abi" ] || die "cannot resolve linux-image-amd64$at"
	kroot=$CACHE/kernels/$abi
	if [ ! -f "$kroot/complete" ]; then
		say "fetching the $abi image and headers ($suite)" >&2
		download "linux-headers-$abi$at"
		# Debian 12/13 ship linux-image-ABI-unsigned; newer kernels split the
		# image into linux-binary-ABI and linux-modules-ABI.
		if apt-cache show "linux-image-$abi-unsigned" >/dev/null 2>&1; then
			download "linux-image-$abi-unsigned$at"
		else
			download "linux-image-$abi$at"
			pkgs=$(deb_dep "linux-image-${abi}_"*.deb '^linux-(binary|modules|base)-[0-9]')
			for p in $pkgs; do download "$p$at"; done
			rm -f "linux-image-${abi}_"*.deb
		fi
		pkgs=$(deb_dep "linux-headers-${abi}_"*.deb '^linux-(headers|kbuild)-')
		for p in $pkgs; do download "$p$at"; done
		rm -rf "$kroot" && mkdir -p "$kroot"
		for p in *.deb; do
			case $p in linux-image-amd64_*) ;; *) dpkg-deb -x "$p" "$kroot/root" ;; esac
		done
		# The headers' top Makefile names the -common tree by absolute path.
		sed -i "s|include /usr/src/|include $kroot/root/usr/src/|" \
			"$kroot/root/usr/src/linux-headers-$abi/Makefile"
		# Merged-/usr packages install modules under usr/lib; kmod's -b/-d
		# look in lib/.
		[ -e "$kroot/root/lib" ] || ln -s usr/lib "$kroot/root/lib"
		depmod -b "$kroot/root" "$abi"
		touch "$kroot/complete"
	fi
	echo "$suite" >"$kroot/suite"
	popd >/dev/null && rm -rf "$d"
	echo "$abi"
}

