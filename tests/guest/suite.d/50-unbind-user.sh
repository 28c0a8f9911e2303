# ---- unbind with a user present -------------------------------------------
setup "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
P=/sys/class/p2pmem/p2pmem0
# 16 MiB touched in its first page only: the rest is reserved, never
# claimed, and the revocation must give it back all the same.
p2pmem_test hold /dev/p2pmem0 16 > /tmp/hold.out &
HP=$!
wait_for 50 grep -q HOLDING /tmp/hold.out
check "a process holds a mapping (16 MiB, one page touched)" grep -q HOLDING /tmp/hold.out
is "p2pmem0 is a child of the function to be unbound" "$(where_is p2pmem0)" "$(child_dir p2pmem0 $IV)"
refute "rmmod is refused while /dev/p2pmem0 is mapped" rmmod p2pmem
# A reserved page that never came back would keep the unbind waiting
# (p2pmem_wait_unpinned() says "still pinned by I/O"): run it aside.
pinned_before=$(dmesg | grep -c "still pinned by I/O")
rm -f /tmp/unbind.rc
(echo $IV > $DRV/unbind; echo $? > /tmp/unbind.rc) &
check "unbind with the mapping present completes (30 s at most)" \
	wait_for 300 test -s /tmp/unbind.rc
is "... and succeeds" "$(cat /tmp/unbind.rc 2>/dev/null)" 0
is "... without waiting for pages it could not get back" \
	"$(dmesg | grep -c "still pinned by I/O")" "$pinned_before"
refute "unbind removes p2pmem0" test -e $P
refute "... from the PCI function's directory too" test -e /sys/bus/pci/devices/$IV/p2pmem0
refute "unbind removes /dev/p2pmem0" test -e /dev/p2pmem0
refute "unbind releases the BAR" grep -q ' : p2pmem$' /proc/iomem
kill -USR1 $HP
wait $HP
is "the holder's mapping was revoked (SIGBUS on access)" $? 42
check "bind again through the bind file" sh -c "echo $IV > $DRV/bind"
C=$(child_of $IV)
check "a p2pmem device is back ($C)" test -n "$C" -a -c "/dev/$C"
is "... with all of its memory available" "$(attr $C available)" $IV_SIZE
setup "rmmod" rmmod p2pmem
