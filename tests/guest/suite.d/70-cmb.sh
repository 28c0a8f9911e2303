# ---- the NVMe CMB: adopted from the nvme driver, or registered by p2pmem ----
# nvme_unbind_revokes NODE HOW: with the CMB's NODE mapped, unbinding nvme
# revokes the mapping and removes NODE; binding nvme again brings the CMB
# back ("the CMB is HOW again").
nvme_unbind_revokes() {
	local hp
	p2pmem_test hold /dev/$1 > /tmp/hold3.out &
	hp=$!
	wait_for 50 grep -q HOLDING /tmp/hold3.out
	check "unbinding nvme while /dev/$1 is mapped" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/unbind"
	refute "... removes $1" test -e /sys/class/p2pmem/$1
	kill -USR1 $hp
	wait $hp
	is "... and revokes the mapping (SIGBUS)" $? 42
	check "binding nvme again" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/bind"
	wait_for 100 has_child $CMB
	check "the CMB is $2 again ($(child_of $CMB))" has_child $CMB
}
# cmb_zeroing NODE: the CMB is MMIO that QEMU sees written (unlike the
# RAM-backed ivshmem BAR), so zeroing is checked here: what a previous user
# left reads back as zeros, a process killed while its large mapping is
# being zeroed dies promptly and gives everything back, and unbinding nvme
# meanwhile does not wait for the zeroing.
cmb_zeroing() {
	p2pmem_test zero /dev/$1 $( [ $P2P_DATA = yes ] && echo "$NV")
	p2pmem_test kill /dev/$1
	p2pmem_test zap /dev/$1 /sys/bus/pci/drivers/nvme/unbind $CMB
	refute "... and removed $1" test -e /sys/class/p2pmem/$1
	check "binding nvme again after the zap" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/bind"
	wait_for 100 has_child $CMB
	check "the CMB is back ($(child_of $CMB))" has_child $CMB
}
if [ "$BACKEND" = kernel ]; then
	K=/sys/bus/pci/devices/$CMB/p2pmem
	check "the nvme driver registered its CMB with the kernel's p2pdma core" test -f $K/allocate
	is "... and published it" "$(cat $K/published)" 1
	check "insmod (no ids=) for adoption" insmod $KO
	A=$(child_of $CMB)
	check "p2pmem adopts the CMB ($A)" test -n "$A" -a -c "/dev/$A"
	is "its backend" "$(attr $A backend)" kernel
	is "its provider is the owning driver" "$(attr $A provider)" nvme
	is "its size is the kernel's pool size" "$(attr $A size)" "$(cat $K/size)"
	is "its available is the kernel's" "$(attr $A available)" "$(cat $K/available)"
	is "its bar is the CMB's BAR" "$(attr $A bar)" 2
	check "the kernel's p2pmem/ group is intact beside it" test -f $K/size -a -f $K/available -a -f $K/published
	check "... its files still readable" cat $K/size $K/available $K/published
	is "$A is a child of the controller, directly in its directory" "$(where_is $A)" "$(child_dir $A $CMB)"
	check "... next to the kernel's p2pmem/ group" test -d "$(dirname "$(where_is $A)")/p2pmem"
	refute "... with no sysfs name collision on the way" dmesg_has "cannot create duplicate filename"
	is "the provider's sysfs holds no p2pmem class glue" "$(ls $K)" "allocate
available
published
size"
	if [ $P2P_DATA = yes ]; then
		p2pmem_test dio /dev/$A "$NV"
		# Side by side with upstream: the same workload through our node and
		# through the kernel's own allocate file over the same CMB.
		p2pmem_test same /dev/$A "$NV" > /tmp/same-ours.out
		cat /tmp/same-ours.out | grep -v ^DIGEST
		p2pmem_test same $K/allocate "$NV" > /tmp/same-kernel.out
		cat /tmp/same-kernel.out | grep -v ^DIGEST
		is "/dev/$A and p2pmem/allocate read the same bytes" \
			"$(grep ^DIGEST /tmp/same-ours.out)" "$(grep ^DIGEST /tmp/same-kernel.out)"
		check "... and the digest is not empty" grep -q "^DIGEST [0-9a-f]" /tmp/same-ours.out
	else
		skip "O_DIRECT between the adopted CMB and the NVMe, compared with p2pmem/allocate" \
			"QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
	fi
	p2pmem_test gup /dev/$A EREMOTEIO EREMOTEIO
	cmb_zeroing $A
	A=$(child_of $CMB)
	check "the CMB's own NVMe still does I/O with p2pmem on its CMB" \
		sh -c "dd if=/dev/urandom of=/tmp/r bs=64k count=16 2>/dev/null && dd if=/tmp/r of=$NVC bs=64k oflag=direct 2>/dev/null && dd if=$NVC of=/tmp/r2 bs=64k count=16 iflag=direct 2>/dev/null && cmp /tmp/r /tmp/r2"
	nvme_unbind_revokes $A adopted
	check "rmmod with an adopted CMB" rmmod p2pmem
	check "... leaves the kernel's CMB registration alone" test -f $K/allocate
	check "insmod adopt=0" insmod $KO adopt=0
	refute "... adopts nothing" has_child $CMB
	rmmod p2pmem
else
	# Without the p2pdma core the nvme driver leaves its CMB idle ("failed
	# to register the CMB"); p2pmem registers it itself (nvme_cmb=1).
	check "the nvme driver could not register the CMB itself" dmesg_has "nvme.*failed to register the CMB"
	check "insmod (no ids=): NVMe CMBs are registered by default" insmod $KO
	X=$(child_of $CMB)
	check "the NVMe's CMB is a p2pmem device ($X)" test -n "$X" -a -c "/dev/$X"
	is "its backend" "$(attr $X backend)" native
	is "its provider" "$(attr $X provider)" nvme-cmb
	is "its size is the CMB's (CMBSZ: $CMB_SIZE_MB x 1 MiB)" "$(attr $X size)" $((CMB_SIZE_MB << 20))
	is "its bar is CMBLOC.BIR" "$(attr $X bar)" 2
	is "its offset is CMBLOC.OFST" "$(attr $X offset)" 0x0
	is "$X is a child of the controller, directly in its directory" "$(where_is $X)" "$(child_dir $X $CMB)"
	is "the nvme driver still owns the controller" \
		"$(basename $(readlink /sys/bus/pci/devices/$CMB/driver))" nvme
	dd if=/dev/urandom of=/tmp/r bs=64k count=16 2>/dev/null
	# The controller's own I/O, while its CMB takes peer DMA.
	( bad=0
	  for i in $(seq 10); do
		dd if=/tmp/r of=$NVC bs=64k oflag=direct 2>/dev/null &&
		dd if=$NVC of=/tmp/r2 bs=64k count=16 iflag=direct 2>/dev/null &&
		cmp -s /tmp/r /tmp/r2 || bad=1
	  done
	  exit $bad ) &
	IOP=$!
	if [ $P2P_DATA = yes ]; then
		p2pmem_test dio /dev/$X "$NV"
	fi
	wait $IOP
	is "the CMB's own controller kept doing verified I/O meanwhile" $? 0
	cmb_zeroing $X
	X=$(child_of $CMB)
	nvme_unbind_revokes $X registered
	# A pin on the CMB keeps the nvme unbind waiting; meanwhile every other
	# bind and unbind in the system must go on (no global lock held across
	# the wait).
	X=$(child_of $CMB)
	p2pmem_test pin /dev/$X > /tmp/pin2.out &
	PP=$!
	wait_for 50 grep -q PINNED /tmp/pin2.out
	rm -f /tmp/cmbunbind.done
	(echo $CMB > /sys/bus/pci/drivers/nvme/unbind; touch /tmp/cmbunbind.done) &
	wait_for 50 dmesg_has "$X: waiting for 64 KiB still pinned by I/O"
	refute "unbinding nvme from the CMB controller waits for the pinned CMB pages" test -e /tmp/cmbunbind.done
	echo p2pmem > /sys/bus/pci/devices/$IV/driver_override
	rm -f /tmp/other.done
	(echo $IV > /sys/bus/pci/drivers_probe && echo $IV > $DRV/unbind && touch /tmp/other.done) &
	wait_for 50 test -e /tmp/other.done
	check "... while another device binds and unbinds freely" test -e /tmp/other.done
	# Let go first: with the bug this is what ends the stall.
	kill -USR1 $PP
	wait $PP
	is "the pipe still yields the pinned CMB bytes" $? 0
	wait_for 100 test -e /tmp/other.done
	echo > /sys/bus/pci/devices/$IV/driver_override
	wait_for 100 test -e /tmp/cmbunbind.done
	check "the nvme unbind completes once the pipe is drained" test -e /tmp/cmbunbind.done
	check "binding nvme again" sh -c "echo $CMB > /sys/bus/pci/drivers/nvme/bind"
	wait_for 100 has_child $CMB
	check "rmmod with a registered CMB" rmmod p2pmem
	check "insmod nvme_cmb=0" insmod $KO nvme_cmb=0
	refute "... registers no CMB" has_child $CMB
	rmmod p2pmem
fi
# Hot-plug of a CMB controller: the bus notifier sees the new controller
# bound and gives its CMB a p2pmemN (adopted from the nvme driver on
# P2PDMA kernels, registered by p2pmem elsewhere).  The CMB drive is a
# -blockdev, which survives the controller's removal.
check "insmod (no ids=) for CMB hot-plug" insmod $KO
wait_for 100 has_child $CMB
check "the CMB has a p2pmem device before hot-unplug" has_child $CMB
hotplug '{"execute":"device_del","arguments":{"id":"'$CMB_ID'"}}'
wait_for 300 test ! -e /sys/bus/pci/devices/$CMB
refute "hot-unplug of the CMB controller removes it" test -e /sys/bus/pci/devices/$CMB
refute "... and no p2pmem device is left for it" has_child $CMB
hotplug '{"execute":"device_add","arguments":{"driver":"nvme","id":"'$CMB_ID'","drive":"'$CMB_DRIVE'","serial":"'$CMB_SERIAL'","cmb_size_mb":'$CMB_SIZE_MB',"bus":"'$CMB_PORT'"}}'
wait_for 300 has_child $CMB
H=$(child_of $CMB)
check "hot-add of a CMB controller brings a p2pmem device ($H)" test -n "$H" -a -c "/dev/$H"
is "... a child of the hot-added controller" "$(where_is $H)" "$(child_dir $H $CMB)"
want=$((CMB_SIZE_MB << 20))
[ "$BACKEND" = kernel ] && want=$(cat /sys/bus/pci/devices/$CMB/p2pmem/size)
is "... of the CMB's size" "$(attr $H size)" "$want"
is "... whose provider is right for the backend" "$(attr $H provider)" \
	"$( [ "$BACKEND" = kernel ] && echo nvme || echo nvme-cmb)"
is "... and the NVMe next door reaches it as the ivshmem's ($NVWAY)" "$(reach $H $NVPCI)" \
	"$(want_reach $CMB $NVPCI "direct distance=4 via=$SWUP")"
if [ $P2P_DATA = yes ]; then
	p2pmem_test dio /dev/$H "$NV"
else
	skip "O_DIRECT between the hot-added CMB and the NVMe" "QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
fi
check "rmmod after CMB hot-plug" rmmod p2pmem
