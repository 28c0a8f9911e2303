# SPDX-License-Identifier: GPL-2.0
# The VM.
# Sourced by tests/run.  The devices are described in tests/vm.conf, which
# the guest reads too.
. "$ROOT/tests/vm.conf"

# The guest asks for PCI hot-plug events by printing "HOTPLUG <qmp json>"
# on its console; this forwards each request once to QEMU's QMP socket.
hotplug_agent() {
	local console=$1 sock=$2 done=0 req
	while sleep 0.5; do
		[ -e "$console" ] || continue
		mapfile -t reqs < <(tr -d '\r' <"$console" | sed -n 's/^ *HOTPLUG //p')
		while [ $done -lt ${#reqs[@]} ]; do
			req=${reqs[$done]}
			printf '{"execute":"qmp_capabilities"}\n%s\n' "$req" |
				socat -t 2 - UNIX-CONNECT:"$sock" >/dev/null 2>&1
			done=$((done + 1))
		done
	done
}

# run_vm ABI VARIANT: boots the kernel with the test devices; the console
# ends up in $OUT/ABI/VARIANT/console.log.  A kernel that dies before the
# guest's userspace starts (nothing of p2pmem has run yet; seen once under
# TCG: an int3 Oops in the scheduler at 1.3 s, a text-patching race of
# multi-vCPU TCG) is booted once more, and its console kept as
# console-died-early.log.
run_vm() {
	local log=$OUT/$1/$2/console.log
	boot_vm "$@"
	grep -q '^GUEST-BEGIN' "$log" && return 0
	say "the $1 kernel died before the guest's userspace ran; booting it once more:"
	grep -E 'Oops|panic|RIP:' "$log" | head -n 3 | sed 's/^/#   /'
	cp "$log" "$OUT/$1/$2/console-died-early.log"
	boot_vm "$@"
}

# boot_vm ABI VARIANT: one boot.  VARIANT "iommu" adds an emulated Intel
# IOMMU and turns it on in the guest, so every DMA goes through IOVAs.
boot_vm() {
	local abi=$1 variant=$2 w=$OUT/$1/$2 vmlinuz iommu_dev=() hicmb_dev=() trace=() append
	mkdir -p "$w"
	local f
	for f in "$CACHE/kernels/$abi/root/boot/vmlinuz-$abi" \
		"$CACHE/kernels/$abi/root/usr/lib/modules/$abi/vmlinuz"; do
		[ -f "$f" ] && vmlinuz=$f
	done
	[ -n "$vmlinuz" ] || die "no vmlinuz in the $abi packages"
	append="console=ttyS0 panic=-1 loglevel=1 BACKEND=$BACKEND $(check_cmdline "$abi" "$variant")"
	[ -z "$BENCH" ] || append="$append P2PMEM_RUN=bench.sh"
	[ -z "$DEMO" ] || append="$append P2PMEM_RUN=demo.sh"
	[ ! -f "$PKG/dkms/$abi/p2pmem.ko" ] || append="$append P2PMEM_DKMS=1"
	# (The kernel hands unknown NAME=VALUE words to init's environment.)
	[ -z "$SECTIONS" ] || append="$append SECTIONS=$(echo $SECTIONS | tr ' ' ,)"
	if [ "$variant" = iommu ]; then
		iommu_dev=(-device intel-iommu,intremap=off)
		append="$append intel_iommu=on iommu.passthrough=0 EXPECT_IOMMU=1"
	fi
	# The bench counts the CPU's writes into the NVMe CMB (see
	# zero_report); tracing every MMIO write slows the guest, so only there.
	rm -f "$w/trace.log"
	[ -z "$BENCH" ] || trace=(-trace "enable=memory_region_ops_write,file=$w/trace.log")
	"$OUT/pattern" fill "$w/$NV_FILE" "$NV_DISK_SIZE" 1
	# The suite's NVMe with a 1 GiB CMB: it does not fit below 4 GiB, so
	# SeaBIOS moves every 64-bit BAR above 4 GiB.  The demo and the
	# benchmarks keep the machine they describe and measure without it.
	if [ -z "$BENCH$DEMO" ]; then
		"$OUT/pattern" fill "$w/$HICMB_FILE" "$HICMB_DISK_SIZE" 1
		hicmb_dev=(-device pcie-root-port,id="$HICMB_PORT",bus=pcie.0,chassis=4,slot=4
			-drive file="$w/$HICMB_FILE",if=none,id="$HICMB_DRIVE",format=raw
			-device nvme,id="$HICMB_ID",drive="$HICMB_DRIVE",serial="$HICMB_SERIAL",cmb_size_mb="$HICMB_SIZE_MB",bus="$HICMB_PORT")
	fi
	rm -f "$w/$IV_FILE" "$w/$IV_HOTPLUG_FILE" "$w/$SPARE_FILE" "$w/$CMB_FILE"
	truncate -s "$IV_SIZE" "$w/$IV_FILE" "$w/$IV_HOTPLUG_FILE"
	truncate -s "$SPARE_SIZE" "$w/$SPARE_FILE"
	truncate -s "$CMB_DISK_SIZE" "$w/$CMB_FILE"
	say "booting $abi ($variant) under TCG; checkers: $(checkers "$abi" "$variant")"
	# Nothing of an earlier run may be judged as this one's.
	rm -f "$w/console.raw" "$w/console.log" "$w/dmesg.log" "$w/qmp.sock"
	hotplug_agent "$w/console.raw" "$w/qmp.sock" &
	local agent=$!
	timeout "$(vm_timeout "$abi")" qemu-system-x86_64 \
		-machine q35 -accel tcg -cpu max -smp 2 -m 1G \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial file:"$w/console.raw" -monitor none \
		-qmp unix:"$w/qmp.sock",server=on,wait=off \
		-kernel "$vmlinuz" -initrd "$OUT/$abi/initramfs.gz" \
		-append "$append" "${iommu_dev[@]}" "${trace[@]}" \
		-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=1 \
		-device x3130-upstream,id=sw0,bus=rp0 \
		-device xio3130-downstream,id="$IV_PORT",bus=sw0,port=0,chassis=2,slot=0 \
		-device xio3130-downstream,id="$NV_PORT",bus=sw0,port=1,chassis=2,slot=1 \
		-object memory-backend-file,id="$IV_MEM",mem-path="$w/$IV_FILE",size="$IV_SIZE",share=on \
		-object memory-backend-file,id="$IV_HOTPLUG_MEM",mem-path="$w/$IV_HOTPLUG_FILE",size="$IV_SIZE",share=on \
		-object memory-backend-file,id="$IV_REPLUG_MEM",mem-path="$w/$IV_HOTPLUG_FILE",size="$IV_SIZE",share=on \
		-device ivshmem-plain,id="$IV_ID",memdev="$IV_MEM",bus="$IV_PORT" \
		-drive file="$w/$NV_FILE",if=none,id="$NV_DRIVE",format=raw \
		-device nvme,drive="$NV_DRIVE",serial="$NV_SERIAL",bus="$NV_PORT" \
		-device xio3130-downstream,id="$CMB_PORT",bus=sw0,port=2,chassis=2,slot=2 \
		-blockdev driver=raw,node-name="$CMB_DRIVE",file.driver=file,file.filename="$w/$CMB_FILE" \
		-device nvme,id="$CMB_ID",drive="$CMB_DRIVE",serial="$CMB_SERIAL",cmb_size_mb="$CMB_SIZE_MB",bus="$CMB_PORT" \
		-device xio3130-downstream,id="$SPARE_PORT",bus=sw0,port=3,chassis=2,slot=3 \
		-object memory-backend-file,id="$SPARE_MEM",mem-path="$w/$SPARE_FILE",size="$SPARE_SIZE",share=on \
		-device pci-testdev,bus=pcie.0 \
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=3,slot=3 \
		-device edu,bus=rp1 "${hicmb_dev[@]}" \
		>"$w/qemu.log" 2>&1 || say "qemu exited with $? (see $w/qemu.log)"
	kill "$agent" 2>/dev/null
	wait "$agent" 2>/dev/null || true
	tr -d '\r' <"$w/console.raw" >"$w/console.log"
}

