# ---- leave bytes for the host to check ------------------------------------
insmod $KO ids=1af4:1110
if [ $P2P_DATA = yes ]; then
	p2pmem_test proof /dev/$(child_of $IV) "$NV"
else
	skip "proof: O_DIRECT into and out of the BAR" "QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
fi
rmmod p2pmem
