# ---- leave bytes for the host to check ------------------------------------
# Last but the signature check: the stress and fuzz sections before it write
# into this BAR too, and the host reads what this section leaves there.
insmod $KO ids=1af4:1110
if [ $P2P_DATA = yes ]; then
	p2pmem_test proof /dev/$(child_of $IV) "$NV"
else
	skip "proof: O_DIRECT into and out of the BAR" "QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
fi
rmmod p2pmem
