# The suite for kernels with CONFIG_PCI_P2PDMA, where p2pmem has no backend
# yet: the module must build, load, refuse every BAR in one clear line,
# create nothing and unload cleanly.
. /tests/lib.sh
KO=/p2pmem.ko
IV=$(find_pci 0x1af4 0x1110)
DRV=/sys/bus/pci/drivers/p2pmem
check "found the ivshmem provider ($IV)" test -n "$IV"
check "insmod ids=1af4:1110 loads" insmod $KO ids=1af4:1110
check "/sys/class/p2pmem exists" test -d /sys/class/p2pmem
is "no p2pmem device is created" "$(ls /sys/class/p2pmem)" ""
refute "the ivshmem is not bound" test -e $DRV/$IV
check "the refusal is one clear line" dmesg_has "$IV: p2pmem: this kernel has CONFIG_PCI_P2PDMA; p2pmem's kernel backend is not available yet, refusing BAR 2"
refute "binding through the bind file is refused too" sh -c "echo $IV > $DRV/bind"
check "rmmod" rmmod p2pmem
refute "rmmod leaves no class" test -e /sys/class/p2pmem
refute "rmmod leaves no char major" grep -q ' p2pmem$' /proc/devices
