# ---- a CMB above 4 GiB -------------------------------------------------------
# A 1 GiB CMB does not fit in q35's 32-bit PCI window next to the other
# BARs, so SeaBIOS puts the 64-bit BARs above 4 GiB (this one and, with it,
# every other 64-bit BAR of the machine).  Its controller's namespace holds
# pattern seed 1, like the other NVMe's.
HINS=$(nvme_ns_by_serial $HICMB_SERIAL)
HI=$(ns_pci $HINS)
set -- $(sed -n 3p /sys/bus/pci/devices/$HI/resource)
HIBAR=$(printf '0x%x-0x%x' $1 $2)
HISTART=$1
check "the 1 GiB CMB's BAR 2 ($HIBAR) lies above 4 GiB" test $((HISTART >= 0x100000000)) = 1
check "insmod (no ids=) with a CMB above 4 GiB" insmod $KO
wait_for 100 has_child $HI
G=$(child_of $HI)
check "that CMB is a p2pmem device ($G)" test -n "$G" -a -c "/dev/$G"
is "... over all of its BAR" "$(attr $G phys_addr)" "$HIBAR"
is "... a child of its controller" "$(where_is $G)" "$(child_dir $G $HI)"
# Its own controller DMAs into and out of it.  Not under the IOMMU: there
# the controller gets an IOVA, not its CMB's address, so QEMU sends the DMA
# back into the controller's own MMIO and blocks it ("Blocked re-entrant IO
# on MemoryRegion: nvme-cmb").
if [ $P2P_DATA = yes ] && [ -z "$EXPECT_IOMMU" ]; then
	p2pmem_test same /dev/$G "$HINS" | grep -v ^DIGEST
else
	skip "its own controller DMAs into and out of the CMB above 4 GiB" \
		"under QEMU's IOMMU the controller's DMA to its own CMB is re-entrant MMIO, which QEMU blocks"
fi
check "rmmod with a CMB above 4 GiB" rmmod p2pmem
# CMBMSC.CBA holds all 64 bits of the CMB's bus address (written high half
# first): read back by user space once the controller is handed to it.
echo $HI > /sys/bus/pci/drivers/nvme/unbind
echo uio_pci_generic > /sys/bus/pci/devices/$HI/driver_override
echo $HI > /sys/bus/pci/drivers_probe
is "its controller decodes the CMB at the BAR's 64-bit address (CMBMSC)" \
	"$(p2pmem_test nvme-regs $HI | sed 's/.*CMBMSC=//')" "$(printf '0x%016x' $((HISTART | 3)))"
echo $HI > /sys/bus/pci/drivers/uio_pci_generic/unbind
echo > /sys/bus/pci/devices/$HI/driver_override
echo $HI > /sys/bus/pci/drivers/nvme/bind
wait_for 100 sh -c "ls /sys/bus/pci/devices/$HI/nvme/nvme*/serial"
check "... and is back with nvme" sh -c "ls /sys/bus/pci/devices/$HI/nvme/nvme*/serial"
