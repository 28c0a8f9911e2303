# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The bench's debug kernel (KERNELS key "6.1-debug"), and the checkers each
# kernel of a run has.  Sourced by tests/run; uses its say, die, locked,
# download, fetch_kernel, $CACHE, $ROOT, $VM_TIMEOUT and $GUEST_MODULES.
#
# The debug kernel is Debian's own 6.1 (the host's linux-source-6.1,
# fetched with apt-get download), configured from the config of Debian's
# matching linux-image, trimmed by `make localmodconfig` to the modules the
# suite's VMs load, with tests/debug-kernel.config merged on top (the
# checkers, what the suite needs, what the VM never uses).  It is unpacked
# and built in the cache so that it looks exactly like a fetched kernel to
# the rest of the bench:
#   $CACHE/kernels/ABI/root/boot/vmlinuz-ABI, root/boot/config-ABI
#   $CACHE/kernels/ABI/root/lib/modules/ABI        (modules_install, depmod)
#   $CACHE/kernels/ABI/root/usr/src/linux-headers-ABI -> the build tree (KDIR)
#   $CACHE/kernels/ABI/suite, complete
# with ABI = 6.1.<sublevel>-p2pmem-debug.  $CACHE/kernels/ABI/key holds what
# the build was made from (source version, Debian's config, the fragment,
# the module list, the code that configures, builds and installs it); any
# change rebuilds it.

DEBUGK_FRAGMENT=$ROOT/tests/debug-kernel.config
DEBUGK_SUFFIX=-p2pmem-debug
# Under TCG the debug kernel runs the suite two to three times slower than
# a stock one (KASAN, lockdep, SLUB debugging, unmapped free pages), and
# more on a loaded machine.
DEBUGK_VM_TIMEOUT=${P2PMEM_DEBUGK_VM_TIMEOUT:-2400}

# is_debug_kernel ABI
is_debug_kernel() {
	case $1 in *"$DEBUGK_SUFFIX") return 0 ;; esac
	return 1
}

# vm_timeout ABI: seconds the VM of that kernel may run.
vm_timeout() {
	if is_debug_kernel "$1"; then echo "$DEBUGK_VM_TIMEOUT"; else echo "$VM_TIMEOUT"; fi
}

# debugk_lsmod STOCK_ABI: the modules the suite's VMs load (GUEST_MODULES
# and their dependencies, as build_initramfs takes them from the stock
# kernel of the same line), in lsmod's format for localmodconfig.
debugk_lsmod() {
	local kroot=$CACHE/kernels/$1/root mod
	echo "Module Size Used by"
	for mod in $GUEST_MODULES; do
		modprobe -d "$kroot" -S "$1" --show-depends "$mod" 2>/dev/null ||
			die "the $1 kernel has no module $mod"
	done | awk '/^insmod/ { n = $2; sub(/.*\//, "", n); sub(/\.ko.*/, "", n);
		gsub("-", "_", n); print n, 0, 0 }' | sort -u
}

# debugk_verify CONFIG: every line of the fragment holds in CONFIG; prints
# each one that does not.  "# CONFIG_X is not set" holds when X is neither
# y nor m.
debugk_verify() {
	local config=$1 line opt bad=0
	while IFS= read -r line; do
		case $line in
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$config"; then
				echo "wanted: $line; got: $(grep "^$opt=" "$config")"
				bad=1
			fi
			;;
		CONFIG_*)
			if ! grep -qxF "$line" "$config"; then
				echo "wanted: $line; got: $(grep "^${line%%=*}=" "$config" || echo "not set")"
				bad=1
			fi
			;;
		esac
	done <"$DEBUGK_FRAGMENT"
	return $bad
}

# debugk_configure SRC BASE_CONFIG LSMOD_FILE: the debug kernel's .config in
# SRC.  The whole of this function is part of the cache key.
debugk_configure() (
	local base=$2 lsmod=$3
	cd "$1" &&
		cp "$base" .config &&
		# Debian's config as the base, for this very source.
		make -s olddefconfig &&
		# Only the modules the suite loads (everything else Debian builds
		# as a module goes); built-in options stay as Debian has them ...
		{ yes '' || true; } | make -s LSMOD="$lsmod" localmodconfig >/dev/null &&
		# ... but for the fragment: checkers on, unused built-ins off.
		scripts/kconfig/merge_config.sh -m .config "$DEBUGK_FRAGMENT" >/dev/null &&
		make -s olddefconfig
)

# debugk_build ABI SRC_DEB BASE_CONFIG LSMOD_FILE KEY: unpack, configure,
# verify, build and install into $CACHE/kernels/ABI.
debugk_build() {
	local abi=$1 deb=$2 base=$3 lsmod=$4 key=$5 kroot=$CACHE/kernels/$1
	local src=$CACHE/kernels/$1/src t0=$SECONDS n=${P2PMEM_DEBUGK_JOBS:-$(nproc)} log bad
	rm -rf "$kroot" && mkdir -p "$src"
	log=$kroot/build.log
	say "building the debug kernel $abi from $(basename "$deb") with make -j$n (load average before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$src" --strip-components=1 || die "cannot unpack $deb"
	debugk_configure "$src" "$base" "$lsmod" >"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "configuring the debug kernel failed (log: $log)"; }
	if ! bad=$(debugk_verify "$src/.config"); then
		echo "$bad" | sed 's/^/#   /' >&2
		die "the debug kernel's .config lacks what tests/debug-kernel.config requires (above)"
	fi
	make -C "$src" -j"$n" bzImage modules >>"$log" 2>&1 ||
		{ tail -n 40 "$log" >&2; die "building the debug kernel failed (log: $log)"; }
	debugk_install "$abi" "$key" $((SECONDS - t0))
}

# debugk_install ABI KEY SECONDS: the built tree in $CACHE/kernels/ABI/src
# laid out as a fetched kernel is.
debugk_install() {
	local abi=$1 kroot=$CACHE/kernels/$1 src=$CACHE/kernels/$1/src
	mkdir -p "$kroot/root/boot" "$kroot/root/usr/src"
	make -C "$src" INSTALL_MOD_PATH="$kroot/root" modules_install >>"$kroot/build.log" 2>&1 ||
		die "installing the debug kernel's modules failed (log: $kroot/build.log)"
	cp "$src/arch/x86/boot/bzImage" "$kroot/root/boot/vmlinuz-$abi"
	cp "$src/.config" "$kroot/root/boot/config-$abi"
	# The objects are only needed again for a rebuild, which starts from
	# scratch; `make clean` keeps what an external module build needs, and
	# the tree itself serves as the headers (KDIR).
	make -s -C "$src" clean >>"$kroot/build.log" 2>&1
	ln -sfn "$src" "$kroot/root/usr/src/linux-headers-$abi"
	depmod -b "$kroot/root" "$abi"
	echo host >"$kroot/suite"
	echo "$2" >"$kroot/key"
	echo "$3" >"$kroot/build-seconds"
	touch "$kroot/complete"
	say "built the debug kernel $abi in $3 s (load average after: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
}

# debugk_key VERSION BASE_CONFIG LSMOD: what a build is made from, hashed.
debugk_key() {
	{
		echo "linux-source-6.1 $1"
		sha256sum <"$2"
		sha256sum <"$DEBUGK_FRAGMENT"
		echo "$3" | sha256sum
		declare -f debugk_configure debugk_build debugk_install | sha256sum
		# The module is built with the host's compiler against this tree:
		# a compiler update must rebuild it (kbuild warns about a
		# mismatch, which the W=1 check counts).
		gcc-12 -dumpfullversion
		ld --version | head -n 1
	} | sha256sum | cut -c1-16
}

# debugk_fetch KEY: like fetch_kernel (prints the ABI), and takes its own
# locks: the stock kernel under the "kernels" lock, the debug kernel under
# "debugk", so that a build of half an hour or more does not hold up other
# runs' downloads of other kernels.
debugk_fetch() {
	local stock
	case $1 in 6.1-debug) ;; *) die "unknown debug kernel '$1' (known: 6.1-debug)" ;; esac
	# Debian's config of the same line, from the stock kernel the bench
	# fetches anyway; the source and the image come from one upload.
	stock=$(locked kernels fetch_kernel 6.1) || exit 2
	locked debugk debugk_get "$stock"
}

# debugk_get STOCK_ABI: the debug kernel's ABI; builds it when the cache has
# none made from the same inputs, and removes debug kernels made from
# other inputs.
debugk_get() {
	local stock=$1 ver base abi kroot key lsmod d old
	base=$CACHE/kernels/$stock/root/boot/config-$stock
	ver=$(apt-cache policy linux-source-6.1 | awk '/Candidate:/ { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no linux-source-6.1"
	grep -q "^# Linux/x86 ${ver%%-*} Kernel Configuration" "$base" ||
		die "linux-source-6.1 $ver and $stock's config ($(sed -n 3p "$base")) are not of one upload"
	abi=${ver%%-*}$DEBUGK_SUFFIX
	kroot=$CACHE/kernels/$abi
	lsmod=$(debugk_lsmod "$stock") || die "cannot list the guest's modules on $stock"
	key=$(debugk_key "$ver" "$base" "$lsmod")
	for old in "$CACHE"/kernels/*"$DEBUGK_SUFFIX"; do
		[ -d "$old" ] || continue
		[ "$old" = "$kroot" ] && [ -f "$old/complete" ] && [ "$(cat "$old/key" 2>/dev/null)" = "$key" ] && continue
		say "removing the debug kernel $(basename "$old"): made from other inputs" >&2
		rm -rf "$old"
	done
	if [ ! -f "$kroot/complete" ]; then
		d=$(mktemp -d)
		echo "$lsmod" >"$d/lsmod"
		(cd "$d" && download "linux-source-6.1=$ver")
		debugk_build "$abi" "$(ls "$d"/linux-source-6.1_*.deb)" "$base" "$d/lsmod" "$key"
		rm -rf "$d"
	fi
	echo "$abi"
}

# ---- checkers, for every kernel ------------------------------------------
# The run says which kernel had which checkers: the debug options its
# .config has, and the checking boot options its variant adds.
CHECKER_OPTIONS="KASAN KASAN_GENERIC KASAN_INLINE PROVE_LOCKING PROVE_RCU
	DEBUG_ATOMIC_SLEEP DEBUG_VM DEBUG_PAGEALLOC DEBUG_PAGEALLOC_ENABLE_DEFAULT
	PAGE_TABLE_CHECK PAGE_TABLE_CHECK_ENFORCED KFENCE DEBUG_OBJECTS
	SLUB_DEBUG_ON DEBUG_LIST PCI_P2PDMA"

# check_cmdline ABI VARIANT: boot options that switch checkers on.
#  - with any of them, log_buf_len=16M: the judge reads dmesg at the end of
#    the run, and a flood of reports (14 KASAN reports of ~130 lines each
#    were seen) must not push the boot and earlier reports out of the
#    default 128 KiB buffer;
#  - debug kernel: kasan_multi_shot, so that a first KASAN report (a known
#    third-party one included) does not silence every later one;
#  - stock kernels, iommu variant: what their configs allow at boot (all
#    four Debian configs have SLUB_DEBUG and PAGE_POISONING): slub_debug
#    red zones, poisons and tracks every slab object; page_poison=1 poisons
#    free pages and checks the poison on allocation (it takes precedence
#    over init_on_free, which is therefore not added); KFENCE where built in
#    but sampling is off by default (6.12, sid).
check_cmdline() {
	local abi=$1 variant=$2 config=$CACHE/kernels/$1/root/usr/src/linux-headers-$1/.config
	if is_debug_kernel "$abi"; then
		echo "log_buf_len=16M kasan_multi_shot"
	elif [ "$variant" = iommu ]; then
		local o="log_buf_len=16M slub_debug=FZPU page_poison=1"
		grep -q '^CONFIG_KFENCE_SAMPLE_INTERVAL=0$' "$config" && o="$o kfence.sample_interval=100"
		echo "$o"
	fi
}

# checkers ABI VARIANT: one line naming the kernel's checkers.
checkers() {
	local abi=$1 config=$CACHE/kernels/$1/root/usr/src/linux-headers-$1/.config o on=""
	for o in $CHECKER_OPTIONS; do
		grep -q "^CONFIG_$o=y" "$config" && on="$on $o"
	done
	echo "config:${on:- none of KASAN, lockdep, DEBUG_VM, KFENCE...}; boot: $(check_cmdline "$@")"
}
