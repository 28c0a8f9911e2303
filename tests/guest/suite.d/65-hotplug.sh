# ---- PCIe hot-unplug and hot-add with a user present ----------------------
# The hot-added ivshmem gets a second backing file (QEMU 7.2 cannot
# re-attach a memory backend once it has been used), so the proof below runs
# on the hot-added device and the host checks its file, IV_HOTPLUG_FILE.
check "insmod ids=1af4:1110 for hot-plug" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
is "$C is a child of the function to be unplugged" "$(where_is $C)" "$(child_dir $C $IV)"
p2pmem_test hold /dev/$C > /tmp/hold2.out &
HP=$!
wait_for 50 grep -q HOLDING /tmp/hold2.out
hotplug '{"execute":"device_del","arguments":{"id":"'$IV_ID'"}}'
wait_for 300 test ! -e /sys/bus/pci/devices/$IV
refute "hot-unplug removes the PCI function" test -e /sys/bus/pci/devices/$IV
refute "... and its p2pmem device" test -e /sys/class/p2pmem/$C
kill -USR1 $HP
wait $HP
is "the holder's mapping was revoked by the hot-unplug (SIGBUS)" $? 42
hotplug '{"execute":"device_add","arguments":{"driver":"ivshmem-plain","id":"'$IV_ID'","memdev":"'$IV_HOTPLUG_MEM'","bus":"'$IV_PORT'"}}'
wait_for 300 has_child $IV
C=$(child_of $IV)
check "hot-add brings a p2pmem device back ($C)" test -n "$C"
is "... a child of the hot-added function" "$(where_is $C)" "$(child_dir $C $IV)"
is "... with all of its memory available" "$(attr $C available)" $IV_SIZE
check "rmmod after hot-plug" rmmod p2pmem
