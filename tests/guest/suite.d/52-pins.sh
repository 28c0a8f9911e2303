# ---- long-lived pins ------------------------------------------------------
setup "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
if [ "$BACKEND" = kernel ]; then
	p2pmem_test gup /dev/$C EREMOTEIO EREMOTEIO
	check "the kernel's p2pdma core knows the BAR (p2pmem/allocate exists)" \
		test -f /sys/bus/pci/devices/$IV/p2pmem/allocate
	is "... and it is not published to other drivers" "$(cat /sys/bus/pci/devices/$IV/p2pmem/published)" 0
	skip "unbind waits for pages a pipe pins, and reports them" \
		"the kernel refuses P2PDMA pages to every pinner that does not ask for them (FOLL_PCI_P2PDMA): nothing from user space can hold a pin past an O_DIRECT request"
else
p2pmem_test gup /dev/$C $URING_FIXED ok
# ---- unbind while a pipe pins pages, with no mapping and no open file -----
p2pmem_test pin /dev/$C > /tmp/pin.out &
PP=$!
wait_for 50 grep -q PINNED /tmp/pin.out
is "pages vmspliced into a pipe stay allocated after munmap+close" "$(attr $C allocated)" 65536
# The wait for the pin must neither look like a hung task nor stay silent:
# the hung-task watchdog is lowered to 2 s and the report period to 2 s.
HUNG=/proc/sys/kernel/hung_task_timeout_secs
OLDHUNG=$(cat $HUNG 2>/dev/null)
[ -n "$OLDHUNG" ] && echo 2 > $HUNG
check "the pin report period can be set (pin_report_secs=2)" \
	sh -c "echo 2 > /sys/module/p2pmem/parameters/pin_report_secs"
rm -f /tmp/unbind.done
(echo $IV > $DRV/unbind; touch /tmp/unbind.done) &
wait_for 50 dmesg_has "$C: waiting for 64 KiB still pinned by I/O"
check "unbind reports the pinned memory it waits for" dmesg_has "$C: waiting for 64 KiB still pinned by I/O"
refute "unbind blocks while the pipe holds the pages" test -e /tmp/unbind.done
refute "the device cannot be opened while it is going away" sh -c ": < /dev/$C"
check "the BAR stays claimed while DMA may still target it" grep -q ' : p2pmem$' /proc/iomem
sleep 7
refute "unbind still blocks after 7 s" test -e /tmp/unbind.done
n=$(dmesg | grep -c "$C: still waiting for 64 KiB pinned by I/O")
check "... and says so every 2 s ($n reports)" test "$n" -ge 2
if [ -n "$OLDHUNG" ]; then
	check "the hung-task watchdog is on (timeout 2 s)" test "$(cat $HUNG)" = 2
else
	skip "the hung-task watchdog is on (timeout 2 s)" "the kernel has no $HUNG"
fi
refute "... and finds no hung task in the wait" dmesg_has "blocked for more than"
kill -USR1 $PP
wait $PP
is "the pipe still yields the pinned bytes" $? 0
wait_for 100 test -e /tmp/unbind.done
check "unbind completes once the pipe is drained" test -e /tmp/unbind.done
[ -n "$OLDHUNG" ] && echo $OLDHUNG > $HUNG
refute "... and removes $C" test -e /sys/class/p2pmem/$C
check "bind again" sh -c "echo $IV > $DRV/bind"
C=$(child_of $IV)
fi
check "rmmod with no users" rmmod p2pmem
is "rmmod leaves no class devices" "$(ls /sys/class/p2pmem 2>/dev/null)" ""
refute "rmmod leaves no char major" grep -q ' p2pmem$' /proc/devices
refute "rmmod leaves no iomem claim" grep -q p2pmem /proc/iomem
