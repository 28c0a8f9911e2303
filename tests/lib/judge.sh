# SPDX-License-Identifier: GPL-2.0
# Judging a run: the guest's TAP, dmesg, the host-side proofs.
# Sourced by tests/run.

# judge_dmesg LABEL DIR: the guest's dmesg must be free of kernel reports
# (tests/lib/kreports.sh).
judge_dmesg() {
	judge_kernel_reports "$1" "${1%/*}" "$2"
}

# proof_holds LOG TAG FILE: every "TAG off len seed patoff" line of LOG
# names bytes FILE really holds, and they add up to the 4 MiB moved.
proof_holds() {
	local tag off len seed patoff total=0
	while read -r tag off len seed patoff; do
		total=$((total + len))
		"$OUT/pattern" check "$3" "$off" "$len" "$seed" "$patoff" || return 1
	done < <(grep "^ *$2 " "$1")
	[ $total = $((4 * MiB)) ]
}

# judge_proof LABEL DIR: bytes the NVMe DMA'd into the BAR are in the
# ivshmem backing file; bytes it DMA'd out of the BAR are in the NVMe image.
judge_proof() {
	local label=$1 w=$2
	# The suite hot-plugs the ivshmem before the proof; see suite.d.
	host_check "[$label] host: the 4 MiB the NVMe wrote into p2pmem are in the BAR's backing file" \
		proof_holds "$w/console.log" PROOF-BAR "$w/$IV_HOTPLUG_FILE"
	host_check "[$label] host: the 4 MiB the NVMe read out of p2pmem are in its disk image" \
		proof_holds "$w/console.log" PROOF-NVME "$w/$NV_FILE"
}

# judge_tap LABEL LOG: the guest's results, up to its dmesg.  The suite
# prints one KTAP subtest per section ("# Subtest: NAME", its checks
# indented and numbered, its plan, then "ok K NAME" or "not ok K NAME");
# every check inside counts as one result here, a "# SKIP" one as passed.
# A section that failed with no failing check (it should not happen: the
# guest adds one) still fails the run.
judge_tap() {
	local label=$1 sect= bad=0 line re_leaf='^ +(not )?ok [0-9]+ - (.*)$' re_sect='^(not )?ok [0-9]+ (.*)$'
	while IFS= read -r line; do
		case $line in
		DMESG-BEGIN*) break ;;
		"# Subtest: "*) sect=${line#\# Subtest: }; bad=0; continue ;;
		# Unnumbered top-level checks, as the guest printed before sections.
		"ok - "*) result 0 "[$label] ${line#ok - }"; continue ;;
		"not ok - "*) result 1 "[$label] ${line#not ok - }"; continue ;;
		esac
		if [[ $line =~ $re_leaf ]]; then
			if [ -z "${BASH_REMATCH[1]}" ]; then
				result 0 "[$label] ${sect:+$sect: }${BASH_REMATCH[2]}"
			else
				bad=1
				result 1 "[$label] ${sect:+$sect: }${BASH_REMATCH[2]}"
			fi
		elif [[ $line =~ $re_sect ]]; then
			[ -z "${BASH_REMATCH[1]}" ] || [ $bad = 1 ] ||
				result 1 "[$label] ${BASH_REMATCH[2]}: the section failed with no failing check"
			sect=
		fi
	done <"$2"
}

# judge_checkers LABEL ABI LOG: what the kernel says of itself at the end
# of the run.  Taint flags B (bad page), D (died), W (warning) and L (soft
# lockup) mean a report happened whatever the dmesg patterns saw; on a
# lockdep kernel, lockdep must still be on (debug_locks 1), or part of
# the run went unchecked.
judge_checkers() {
	local label=$1 abi=$2 log=$3 t l config
	config=$CACHE/kernels/$abi/root/usr/src/linux-headers-$abi/.config
	t=$(sed -n 's/^TAINT \([0-9]*\)$/\1/p' "$log" | tail -n 1)
	host_check "[$label] the kernel is not tainted by a report (taint ${t:-unknown}; B, D, W, L are reports)" \
		test -n "$t" -a $(( ${t:-0} & (32 | 128 | 512 | 16384) )) -eq 0
	grep -q '^CONFIG_PROVE_LOCKING=y' "$config" || return 0
	l=$(sed -n 's/^LOCKDEP debug_locks: \([0-9]*\)$/\1/p' "$log" | tail -n 1)
	host_check "[$label] lockdep was still on at the end of the run (debug_locks ${l:-unknown})" test "$l" = 1
}

# judge ABI VARIANT: turn the console log and the device files into results.
judge() {
	local label=$1/$2 w=$OUT/$1/$2 log=$OUT/$1/$2/console.log
	if [ ! -s "$log" ]; then
		result 1 "[$label] the VM booted and left a console log"
		return 0
	fi
	judge_tap "$label" "$log"

	host_check "[$label] the guest ran to the end" grep -q "^GUEST-DONE" "$log"
	sed -n '/^DMESG-BEGIN/,/^DMESG-END/p' "$log" >"$w/dmesg.log"
	judge_dmesg "$label" "$w"
	judge_checkers "$label" "$1" "$log"
	# See P2P_DATA in suite.sh: QEMU cannot route direct P2P under its IOMMU.
	if [ "$BACKEND/$2" = kernel/iommu ]; then
		result 0 "[$label] host: the NVMe's DMA into and out of p2pmem # SKIP QEMU's IOMMU cannot route the direct bus address the P2PDMA kernel gives"
	elif [ -n "$SECTIONS" ] && ! grep -q '^# Subtest: [0-9]*-proof$' "$log"; then
		result 0 "[$label] host: the NVMe's DMA into and out of p2pmem # SKIP the proof section is not among SECTIONS=$SECTIONS"
	else
		judge_proof "$label" "$w"
	fi

	if grep -q "^ *not ok" "$log" || ! grep -q "^GUEST-DONE" "$log"; then
		say "console of $label, last 60 lines:"
		grep -v '^ *ok ' "$log" | tail -n 60 | sed 's/^/#   /'
	fi
	return 0
}

