# ---- mmap, O_DIRECT, fio ---------------------------------------------------
setup "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
p2pmem_test mmap /dev/p2pmem0
# A task's name is its own to set (PR_SET_NAME), newlines included: the
# module's line about it must not let it start a log line of its own.
check "mmap(MAP_PRIVATE) by a task named 'x<newline>P2PFORGED' is refused with EINVAL" \
	p2pmem_test private /dev/p2pmem0 "$(printf 'x\nP2PFORGED')"
refute "... and that name cannot forge a kernel log line" dmesg_starts P2PFORGED
check "... it is logged escaped" dmesg_has 'x\\nP2PFORGED'
# The PTEs' and PMDs' cache type and size come from the module's debugfs
# test aid.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
# 2 MiB mappings (issue 13); O_DIRECT into them where the NVMe reaches the BAR.
if [ $P2P_DATA = yes ]; then
	p2pmem_test huge /dev/p2pmem0 $URING_FIXED "$NV"
else
	p2pmem_test huge /dev/p2pmem0 $URING_FIXED
fi
# Write-combining mappings (issue 13), chosen per open file before mmap;
# the PTEs' cache type comes from the module's debugfs test aid.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ $P2P_DATA = yes ]; then
	p2pmem_test wc /dev/p2pmem0 "$NV"
else
	p2pmem_test wc /dev/p2pmem0
fi
check "... the unknown caching mode is logged" dmesg_has "p2pmem_test: unknown caching mode 7"
check "... so is the choice after mmap()" dmesg_has "p2pmem_test: caching is chosen before the first mmap()"
if [ $P2P_DATA = yes ]; then
	p2pmem_test dio /dev/p2pmem0 "$NV"
	fio --name=p2pmem --filename="$NV" --direct=1 --iomem=mmapshared:/dev/p2pmem0 \
		--ioengine=libaio --iodepth=8 --rw=randwrite --bs=64k --offset=32M --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --output=/tmp/fio.out
	st=$?
	is "fio randwrite+verify with --iomem=mmapshared:/dev/p2pmem0 (libaio, QD8)" "$st" 0
	[ $st = 0 ] || cat /tmp/fio.out
	check "fio reported no errors" grep -q "err= 0" /tmp/fio.out
	fio --name=p2pmem-uring --filename="$NV" --direct=1 --iomem=mmapshared:/dev/p2pmem0 \
		--ioengine=io_uring --iodepth=8 --rw=randrw --bs=64k --offset=32M --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --output=/tmp/fio-uring.out
	st=$?
	is "fio randrw+verify through io_uring (plain buffers, QD8)" "$st" 0
	[ $st = 0 ] || cat /tmp/fio-uring.out
else
	p2pmem_test same /dev/p2pmem0 "$NV" >/dev/null
	BUS=$(attr p2pmem0 bus_addr)
	check "under the IOMMU the kernel gives the NVMe the BAR's direct bus address (${BUS%-*}), which QEMU cannot route" \
		dmesg_has "Request device \[$NVPCI\] fault addr ${BUS%-*}"
	skip "O_DIRECT and fio (libaio, io_uring) between /dev/p2pmem0 and the NVMe" \
		"QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
fi
is "available == size after fio" "$(attr p2pmem0 available)" $IV_SIZE
setup "rmmod" rmmod p2pmem

# ---- zeroing off the critical path (issue 13) ------------------------------
# The native backend zeroes free pages in the background (after
# registration, and whenever pages come back), so that faults map pages
# already zero; its debug messages say when every free page is zeroed and
# when a fault had to zero pages itself.  The kernel backend zeroes at fault.
if [ "$BACKEND" = native ]; then
	setup "insmod (debug messages on)" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110 dyndbg=+p
	check "the pool is zeroed in the background after registration" \
		wait_for 600 dmesg_has "p2pmem0: every free page is zeroed"
	is "... and zero_pending says none is left" "$(attr p2pmem0 zero_pending)" 0
	# The last word after "filled" (see p2pmem_test fill).
	zeroed_since_fill() {
		dmesg | awk '/p2pmem_test: filled/ { f = 1; z = 0 }
			f && /p2pmem0: every free page is zeroed/ { z = 1 }
			END { exit !z }'
	}
	p2pmem_test fill /dev/p2pmem0
	check "released pages are zeroed in the background" wait_for 600 zeroed_since_fill
	check "... and zero_pending comes back to 0" wait_for 600 attr_is p2pmem0 zero_pending 0
	at_fault=$(dmesg | grep -c "p2pmem0: a fault zeroed")
	p2pmem_test warm /dev/p2pmem0
	is "a warm pool's pages need no zeroing at fault (debug lines)" \
		"$(dmesg | grep -c "p2pmem0: a fault zeroed")" "$at_fault"
	setup "rmmod" rmmod p2pmem
else
	setup "insmod" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
	refute "no zero_pending where nothing is zeroed in the background" \
		test -e /sys/class/p2pmem/p2pmem0/zero_pending
	setup "rmmod" rmmod p2pmem
fi
