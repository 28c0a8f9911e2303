# ---- a CMB controller p2pmem does not own ----------------------------------
# Given to user space (uio_pci_generic, as SPDK does; vfio-pci for a VM is
# the same case) and brought up there: p2pmem must neither program its CMB
# registers nor map its CMB, at load, on bind or from its retry work.
# cmb_regs: CMBLOC, CMBSZ and CMBMSC as the controller's owner reads them.
cmb_regs() { p2pmem_test nvme-regs $CMB; }
check "unbinding the CMB controller from nvme" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/unbind"
echo uio_pci_generic > /sys/bus/pci/devices/$CMB/driver_override
check "binding it to uio_pci_generic" sh -c "echo $CMB > /sys/bus/pci/drivers_probe"
is "... which owns it now" "$(basename "$(readlink /sys/bus/pci/devices/$CMB/driver)")" uio_pci_generic
check "user space enables it (admin queue registers, CC.EN, until CSTS.RDY)" p2pmem_test nvme-enable $CMB
R0=$(cmb_regs)
is "... with its CMB off (CAP.CMBS: CMBLOC and CMBSZ read 0 while CMBMSC is 0)" \
	"$R0" "CMBLOC=0x00000000 CMBSZ=0x00000000 CMBMSC=0x0000000000000000"
check "insmod (no ids=) with the controller in user space's hands" insmod $KO
# The retry work asks every 100 ms: give it several rounds.
sleep 1
refute "... gives its CMB no p2pmem device" has_child $CMB
is "... and leaves its CMB registers as they were" "$(cmb_regs)" "$R0"
if [ "$BACKEND" = native ]; then
	check "... saying why" dmesg_has "$CMB: p2pmem: not touching the CMB of an NVMe controller bound to uio_pci_generic"
else
	skip "... saying why" "on P2PDMA kernels p2pmem only adopts memory a driver published, and uio_pci_generic publishes none: nothing to refuse"
fi
# Bound while p2pmem is loaded and not ready yet, then brought up: the
# bus notifier and the retry work must leave it alone as well.
check "user space disables it" p2pmem_test nvme-disable $CMB
check "unbinding it from uio_pci_generic" sh -c "echo $CMB > /sys/bus/pci/drivers/uio_pci_generic/unbind"
check "binding it to uio_pci_generic again, p2pmem loaded" sh -c "echo $CMB > /sys/bus/pci/drivers_probe"
check "user space enables it again" p2pmem_test nvme-enable $CMB
sleep 1
refute "... its CMB gets no p2pmem device" has_child $CMB
is "... and its CMB registers are as they were" "$(cmb_regs)" "$R0"
check "rmmod" rmmod p2pmem
# Back to nvme for the sections that follow.
p2pmem_test nvme-disable $CMB
echo $CMB > /sys/bus/pci/drivers/uio_pci_generic/unbind
echo > /sys/bus/pci/devices/$CMB/driver_override
echo $CMB > /sys/bus/pci/drivers/nvme/bind
wait_for 100 sh -c "ls /sys/bus/pci/devices/$CMB/nvme/nvme*/serial"
check "the CMB controller is back with nvme" sh -c "ls /sys/bus/pci/devices/$CMB/nvme/nvme*/serial"
