# ---- leave bytes for the host to check ------------------------------------
# Last but the signature check: the stress and fuzz sections before it write
# into this BAR too, and the host reads what this section leaves there.
insmod $KO ids=1af4:1110
if [ $P2P_DATA = yes ]; then
	# The buffer is kept until unbind revokes it: released pages are
	# zeroed in the background, revoked ones are not (the device is no
	# longer live), so the bytes stay for the host.
	p2pmem_test proof /dev/$(child_of $IV) "$NV" > /tmp/proof.out &
	PP=$!
	wait_for 600 grep -q PROOF-HOLDING /tmp/proof.out
	cat /tmp/proof.out
	check "unbind with the proof's buffer mapped" sh -c "echo $IV > $DRV/unbind"
	kill -USR1 $PP
	wait $PP
	is "the proof program exits 0" $? 0
else
	skip "proof: O_DIRECT into and out of the BAR" "QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
fi
rmmod p2pmem
