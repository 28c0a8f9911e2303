# ---- load and sysfs ------------------------------------------------------
check "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
P=/sys/class/p2pmem/p2pmem0
check "/sys/class/p2pmem/p2pmem0 exists" test -d $P
is "device link points at the provider" "$(basename $(readlink $P/device))" "$IV"
is "p2pmem0 is a child of its PCI device, directly in its directory" \
	"$(where_is p2pmem0)" "$(child_dir p2pmem0 $IV)"
is "... on the p2pmem bus" "$(readlink -f $P/subsystem)" /sys/bus/p2pmem
check "/sys/bus/p2pmem/devices/p2pmem0 is the same device" test "$(readlink -f /sys/bus/p2pmem/devices/p2pmem0)" = "$(where_is p2pmem0)"
refute "... bound to no driver (nothing probes it)" test -e $P/driver
check "its uevent names the provider for udev" grep -qx "P2PMEM_PCI=$IV" $P/uevent
check "... and the backend" grep -qx "P2PMEM_BACKEND=$BACKEND" $P/uevent
is "size" "$(attr p2pmem0 size)" $IV_SIZE
is "available" "$(attr p2pmem0 available)" $IV_SIZE
is "allocated" "$(attr p2pmem0 allocated)" 0
is "bar" "$(attr p2pmem0 bar)" 2
is "offset" "$(attr p2pmem0 offset)" 0x0
set -- $(sed -n 3p /sys/bus/pci/devices/$IV/resource)
is "phys_addr is BAR 2's range" "$(attr p2pmem0 phys_addr)" "$(printf '0x%x-0x%x' $1 $2)"
is "bus_addr equals phys_addr here" "$(attr p2pmem0 bus_addr)" "$(attr p2pmem0 phys_addr)"
is "numa_node matches the PCI device" "$(attr p2pmem0 numa_node)" "$(cat /sys/bus/pci/devices/$IV/numa_node)"
is "backend" "$(attr p2pmem0 backend)" $BACKEND
is "provider" "$(attr p2pmem0 provider)" p2pmem-pci
is "attributes are world-readable, read-only" \
	"$(stat -c %a $P/size $P/available $P/allocated $P/bar $P/offset $P/phys_addr $P/bus_addr $P/numa_node $P/backend $P/provider | sort -u)" 444
check "/dev/p2pmem0 is a character device" test -c /dev/p2pmem0
is "/dev/p2pmem0 has the class device's number" \
	"$(printf '%d:%d' 0x$(stat -c %t /dev/p2pmem0) 0x$(stat -c %T /dev/p2pmem0))" "$(cat $P/dev)"
check "the BAR is claimed as p2pmem in /proc/iomem" grep -q ' : p2pmem$' /proc/iomem
setup "rmmod" rmmod p2pmem
refute "rmmod removes /sys/class/p2pmem" test -e /sys/class/p2pmem
refute "... and /sys/bus/p2pmem" test -e /sys/bus/p2pmem
