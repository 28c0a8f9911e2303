# ---- unbind racing four processes that map, touch, do I/O and unmap -------
check "insmod ids=1af4:1110 for the race" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
C=$(child_of $IV)
PIDS=""
for i in 1 2 3 4; do p2pmem_test churn /dev/$C "$NV" & PIDS="$PIDS $!"; done
sleep 3
check "unbind while four processes churn" sh -c "echo $IV > $DRV/unbind"
bad=0
for p in $PIDS; do wait $p || bad=$((bad + 1)); done
is "every churning process saw only ENODEV, EFAULT or SIGBUS" $bad 0
check "bind again after the race" sh -c "echo $IV > $DRV/bind"
C=$(child_of $IV)
is "... with all of its memory available" "$(attr $C available)" $IV_SIZE
check "rmmod after the race" rmmod p2pmem
