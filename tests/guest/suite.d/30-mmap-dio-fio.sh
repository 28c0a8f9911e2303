# ---- mmap, O_DIRECT, fio ---------------------------------------------------
setup "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
p2pmem_test mmap /dev/p2pmem0
# 2 MiB mappings (issue 13); O_DIRECT into them where the NVMe reaches the BAR.
if [ $P2P_DATA = yes ]; then
	p2pmem_test huge /dev/p2pmem0 "$NV"
else
	p2pmem_test huge /dev/p2pmem0
fi
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
