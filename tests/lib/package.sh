# SPDX-License-Identifier: GPL-2.0
# The Debian package and DKMS.
# Sourced by tests/run.

# build_package: p2pmem-dkms from a copy of the sources with
# dpkg-buildpackage, as a user builds it from the repo; unpacked into
# $OUT/pkg/root, where the guest's CLI, library and udev files come from.
PKG=$OUT/pkg
build_package() {
	local deb
	rm -rf "$PKG" && mkdir -p "$PKG/src"
	tar -C "$ROOT" --exclude=./.git --exclude=./tests/build --exclude='*.o' \
		--exclude='*.ko' -cf - . | tar -C "$PKG/src" -xf -
	if (cd "$PKG/src" && dpkg-buildpackage -us -uc -b) >"$PKG/build.log" 2>&1; then
		result 0 "[package] dpkg-buildpackage builds p2pmem-dkms"
	else
		sed 's/^/#   /' "$PKG/build.log" | tail -n 40
		result 1 "[package] dpkg-buildpackage builds p2pmem-dkms"
		die "no package, no guest tools"
	fi
	deb=$(ls "$PKG"/p2pmem-dkms_*_amd64.deb)
	dpkg-deb -x "$deb" "$PKG/root"
	local f missing=
	for f in usr/bin/p2pmem usr/share/man/man1/p2pmem.1.gz \
		usr/lib/udev/rules.d/60-p2pmem.rules usr/lib/udev/p2pmem-serial \
		usr/lib/x86_64-linux-gnu/libp2pmem.so.2 usr/include/libp2pmem.h \
		usr/lib/x86_64-linux-gnu/pkgconfig/libp2pmem.pc \
		"usr/src/p2pmem-$(dpkg-deb -f "$deb" Version)/dkms.conf"; do
		[ -e "$PKG/root/$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] || say "missing from the package:$missing"
	result "$([ -z "$missing" ] && echo 0 || echo 1)" \
		"[package] it holds the DKMS sources, the CLI and its man page, the udev rules, libp2pmem with header and pkg-config file"
	dpkg-deb -f "$deb" Depends | grep -q dkms && f=0 || f=1
	result $f "[package] it depends on dkms (dh_dkms)"
	dpkg-deb -f "$deb" Depends | grep -q 'libjson-c5' && f=0 || f=1
	result $f "[package] it depends on libjson-c5 (the CLI's JSON, through shlibs)"
}

# in_root ROOT CMD...: run CMD in a chroot with /proc, as kbuild does.
in_root() {
	local r=$1
	shift
	unshare -m --fork sh -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' \
		sh "$r" "$r" "$@"
}

# dkms_release ABI: the Debian release whose users install the package for
# that kernel (bookworm-backports' kernel is Debian 12's), and its number.
dkms_release() {
	local s
	s=$(cat "$CACHE/kernels/$1/suite")
	case $s in
	host) s=$(host_codename) ;;
	*-backports) s=${s%-backports} ;;
	esac
	case $s in
	bullseye) echo "$s 11" ;;
	bookworm) echo "$s 12" ;;
	trixie) echo "$s 13" ;;
	*) echo "$s $s" ;;
	esac
}

# dkms_install ABI: a clean root of the kernel's Debian release (Debian 12
# for 6.1 and bookworm-backports' 6.12, Debian 13 for trixie's own kernel;
# mmdebstrap, cached per ABI) with dkms and that kernel's headers gets the
# package with apt-get install (which adds what it depends on); then "dkms
# autoinstall -k ABI", what the kernel's postinst hook runs on an upgrade,
# must build and install the module.
# The guest of that kernel then loads this module through libkmod.
dkms_install() {
	local abi=$1 r=$CACHE/dkmsroot-$1 deb st sec rel deb_n
	deb=$(ls "$PKG"/p2pmem-dkms_*_amd64.deb)
	set -- $(dkms_release "$abi")
	rel=$1 deb_n="Debian $2"
	if [ ! -f "$r/complete" ]; then
		say "making a clean $deb_n with dkms and linux-headers-$abi (mmdebstrap)"
		rm -rf "$r"
		# Security updates from where the host gets them, if it does.
		sec=$(debian_uri "$(host_codename)-security")
		mmdebstrap --quiet --variant=apt \
			--include="dkms,linux-headers-$abi,adduser,udev,libkmod2,pkg-config,libc6-dev" \
			"$rel" "$r" \
			"deb $MIRROR $rel main" \
			"deb $MIRROR $rel-updates main" \
			"deb $MIRROR $rel-backports main" \
			${sec:+"deb $sec $rel-security main"} \
			>"$OUT/mmdebstrap-dkms.log" 2>&1 ||
			{ sed 's/^/#   /' "$OUT/mmdebstrap-dkms.log" | tail -n 20; result 1 "[$abi] a clean $deb_n with dkms and its headers"; return 1; }
		touch "$r/complete"
	fi
	in_root "$r" dpkg --purge p2pmem-dkms >/dev/null 2>&1 || true
	cp "$deb" "$r/tmp/p2pmem-dkms.deb"
	# (Under set -e every step's status is taken with && / ||.)
	local rc ko
	# As a user installs a downloaded .deb: apt fetches what it depends on
	# that the root lacks (libjson-c5, the first time).
	in_root "$r" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/p2pmem-dkms.deb' \
		>"$PKG/install-$abi.log" 2>&1 && rc=0 || rc=1
	[ $rc = 0 ] || sed 's/^/#   /' "$PKG/install-$abi.log" | tail -n 30
	result $rc "[$abi] apt-get install ./p2pmem-dkms.deb on a clean $deb_n"
	st=$(in_root "$r" p2pmem --json list 2>&1) || true
	[ "$st" = "[]" ] && rc=0 || { rc=1; echo "# got: $st"; }
	result $rc "[$abi] ... its CLI runs there (p2pmem --json list, no module: [])"
	in_root "$r" getent group p2pmem >/dev/null && rc=0 || rc=1
	result $rc "[$abi] ... created the p2pmem group"
	in_root "$r" dkms autoinstall -k "$abi" >"$PKG/dkms-$abi.log" 2>&1 || true
	st=$(in_root "$r" dkms status -k "$abi" 2>/dev/null) || true
	echo "# dkms status: $st"
	case $st in *"p2pmem/"*", $abi, x86_64: installed"*) rc=0 ;; *) rc=1 ;; esac
	[ $rc = 0 ] || sed 's/^/#   /' "$PKG/dkms-$abi.log" | tail -n 30
	result $rc "[$abi] dkms autoinstall -k $abi builds and installs p2pmem (AUTOINSTALL)"
	# The kernel's config decides whether DKMS compresses what it installs.
	mkdir -p "$PKG/dkms/$abi"
	rc=1
	for ko in "$r/lib/modules/$abi/updates/dkms/p2pmem.ko"*; do
		[ -f "$ko" ] && unpack_ko "$ko" "$PKG/dkms/$abi/p2pmem.ko" && rc=0
	done
	[ $rc = 0 ] || rm -f "$PKG/dkms/$abi/p2pmem.ko"
	result $rc "[$abi] ... into /lib/modules/$abi/updates/dkms"
	printf '#include <libp2pmem.h>\nint main(void) { struct p2pmem_info *l; return p2pmem_list(&l) < 0; }\n' >"$r/tmp/app.c"
	# With the compiler there, the kernel's (gcc-12 on Debian 12, gcc-14 on 13).
	in_root "$r" sh -c '"$1" $(pkg-config --cflags libp2pmem) -o /tmp/app /tmp/app.c $(pkg-config --libs libp2pmem) && /tmp/app' \
		sh "$(kernel_cc "$abi")" >"$PKG/app-$abi.log" 2>&1 && rc=0 || rc=1
	result $rc "[$abi] an application builds against libp2pmem with pkg-config and runs"
}

