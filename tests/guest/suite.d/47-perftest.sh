# ---- perftest: ib_write_bw and ib_read_bw with the server's buffer in p2pmem --
# Debian's perftest as a real client.  With --mmap=FILE it opens FILE O_RDWR,
# mmaps its whole buffer MAP_SHARED at --mmap-offset (p2pmem wants 0, the
# default), registers it with ibv_reg_mr and fills it with rand() bytes.
# For one QP that buffer is 2 x the message size: each side gives its peer
# the address of its second half (the server's is where the client writes
# to or reads from), and the client posts from or into its own first half.
# Server and client share one soft-RoCE device (rxe0 on dummy0) and meet
# over TCP on dummy0's address.  The server's buffer is p2pmem; the
# client's is a tmpfs file, which keeps the client's bytes after it exits.
# --wait_destroy keeps the server, its MR and its mapping alive for a while
# after the transfer: long enough to read its buffer through /proc/PID/mem
# (10 s: with 2 s, 6.1-debug on a loaded host had exited before the reads).
# The transfer stays small (32 x 64 KiB each way): TCG is slow, and 6.1's
# rxe has a KASAN-visible bug in rxe_mr_copy during RDMA WRITE.
# On P2PDMA kernels (BACKEND=kernel) ibv_reg_mr pins with FOLL_LONGTERM and
# never FOLL_PCI_P2PDMA, so GUP refuses P2PDMA pages (EREMOTEIO, see
# p2pmem_rdma): perftest must fail cleanly there.
command -v skip >/dev/null 2>&1 || skip() { echo "ok - $1 # SKIP $2"; }
PT_T0=$(date +%s)
PT_DMESG=$(dmesg | wc -l)
PT_S=65536
PT_N=32
PT_LEN=$((2 * PT_S))
PT_IP=10.11.12.1

check "perftest: insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
PT=$(child_of $IV)
PT_SIZE=$(attr $PT size)
# TCP to a local address goes through lo.  dummy0 may be left by the RDMA
# section; what this one adds, it removes.
iproute2-ip link set lo up
PT_DUMMY=
iproute2-ip link show dummy0 >/dev/null 2>&1 || { iproute2-ip link add dummy0 type dummy && PT_DUMMY=1; }
PT_ADDR=
iproute2-ip addr show dev dummy0 | grep -q "inet $PT_IP/" ||
	{ iproute2-ip addr add $PT_IP/24 dev dummy0 && PT_ADDR=1; }
iproute2-ip link set dummy0 up
check "perftest: rdma link add rxe0 type rxe netdev dummy0" rdma link add rxe0 type rxe netdev dummy0
wait_for 50 grep -q "0000:0000:0000:0000:0000:ffff:0a0b:0c01" /sys/class/infiniband/rxe0/ports/1/gids/*
# -x: the GID table index of dummy0's IPv4 address (RoCEv2).
PT_GID=$(grep -l "0000:0000:0000:0000:0000:ffff:0a0b:0c01" /sys/class/infiniband/rxe0/ports/1/gids/* | head -n 1)
PT_GID=${PT_GID##*/}
check "perftest: rxe0 has dummy0's IPv4 GID (index $PT_GID)" test -n "$PT_GID"
PT_ARGS="-d rxe0 -x $PT_GID -s $PT_S -n $PT_N"

pt_listening() { netstat -ltn 2>/dev/null | grep -q ':18515 '; }
pt_alive() { [ -d /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
pt_gone() { ! pt_alive $1; }
# pt_reap PID: wait for a background perftest, killing it after 60 s, and
# return its exit status.
pt_reap() {
	wait_for 600 pt_gone $1 || kill -9 $1 2>/dev/null
	wait $1
}
# pt_dumped FILE PID: FILE has the whole buffer and PID was still alive.
pt_dumped() { [ "$(stat -c %s $1)" = $PT_LEN ] && pt_alive $2; }
# pt_in_bar PID ADDR: each page of PID's PT_LEN bytes at ADDR has a frame in
# p2pmem's BAR range (its pagemap; PFNs need root).
pt_in_bar() {
	local e pfn n=0 lo hi
	set -- $1 $2 $(attr $PT phys_addr | tr '-' ' ')
	lo=$(($3 / 4096)) hi=$(($4 / 4096))
	for e in $(dd if=/proc/$1/pagemap bs=8 skip=$(($2 / 4096)) count=$((PT_LEN / 4096)) 2>/dev/null | od -An -v -tx8); do
		pfn=$((0x$e & 0x7fffffffffffff))
		[ $pfn -ge $lo ] && [ $pfn -le $hi ] || return 1
		n=$((n + 1))
	done
	[ $n = $((PT_LEN / 4096)) ]
}
# pt_bwline OUT: perftest's result line shows PT_N iterations of PT_S bytes
# at a non-zero average bandwidth.
pt_bwline() {
	awk -v s=$PT_S -v n=$PT_N '$1 == s && $2 == n && $4 > 0 { ok = 1 } END { exit !ok }' "$1"
}

# pt_bw write|read: one run with the server's buffer in p2pmem.
pt_bw() {
	local v=$1 t=ib_$1_bw sp base vaddr t0 st try=1
	local so=/tmp/pt-$1-server.out co=/tmp/pt-$1-client.out sb=/tmp/pt-$1-server.bin cb=/tmp/pt-$1-client.buf
	t0=$(date +%s)
	while :; do
		rm -f $cb && truncate -s $PT_LEN $cb
		$t $PT_ARGS --wait_destroy=10 --mmap=/dev/$PT >$so 2>&1 &
		sp=$!
		wait_for 100 pt_listening
		timeout 120 $t $PT_ARGS --mmap=$cb $PT_IP >$co 2>&1
		st=$?
		# Before its report the client times 200 gettimeofday() loops
		# against the TSC and exits 1 ("Can't produce a report") when
		# they correlate with r^2 < 0.9: a TCG guest descheduled by a
		# loaded host does that (seen 2 times in 15 runs on 6.1), which
		# says nothing of p2pmem.  Run again, three times at most.
		[ $st != 0 ] && [ $try -lt 3 ] && grep -q '^Correlation coefficient r^2' $co || break
		echo "# $t: perftest's clock calibration failed (host load), run $((try + 1)):"
		grep '^Correlation coefficient' $co | sed 's/^/#   /'
		kill $sp 2>/dev/null
		pt_reap $sp
		wait_for 50 attr_is $PT available $PT_SIZE
		try=$((try + 1))
	done
	is "$t: the client (its buffer a tmpfs file) connects to the server (its buffer /dev/$PT) and runs" $st 0
	# What each side said, when they failed (the files are gone with the VM).
	# Whole: stderr is unbuffered, so perftest's error comes first.
	[ $st = 0 ] || { sed 's/^/#   client: /' $co | head -n 60; sed 's/^/#   server: /' $so | head -n 60; }
	check "... $PT_N iterations of $PT_S bytes, bandwidth reported" pt_bwline $co
	# The transfer is over; the server waits (--wait_destroy) with its MR.
	set -- $(grep " /dev/$PT\$" /proc/$sp/maps 2>/dev/null | tr '-' ' ')
	is "... the server holds one mapping of /dev/$PT, of its whole buffer" $((0x${2:-0} - 0x${1:-0})) $PT_LEN
	base=$((0x${1:-0}))
	is "... whose pages are taken from $PT (available is down by as much)" \
		$((PT_SIZE - $(attr $PT available))) $PT_LEN
	check "... each of them a page of $PT's BAR (the server's pagemap)" pt_in_bar $sp $base
	dd if=/proc/$sp/mem of=$sb bs=4096 skip=$((base / 4096)) count=$((PT_LEN / 4096)) 2>/dev/null
	check "... read back through /proc/PID/mem while the server still holds its MR" \
		pt_dumped $sb $sp
	pt_reap $sp
	is "$t: the server exits 0" $? 0
	check "... and reports the same transfer" pt_bwline $so
	vaddr=$(sed -n 's/^ local address: .* VAddr \(0x[0-9a-f]*\)$/\1/p' $so)
	is "... the address it gave the client is the second half of its p2pmem buffer" \
		$((${vaddr:-0} - base)) $PT_S
	# Both sides seed rand() with time(NULL), so their fills may be equal;
	# the halves compared here differ either way unless the transfer ran.
	if [ $v = write ]; then
		check "ib_write_bw: the server's p2pmem buffer holds the $PT_S bytes the client wrote" \
			cmp -n $PT_S $sb $cb $PT_S 0
	else
		check "ib_read_bw: the client's buffer holds the $PT_S bytes it read from the server's p2pmem buffer" \
			cmp -n $PT_S $cb $sb 0 $PT_S
	fi
	wait_for 50 attr_is $PT available $PT_SIZE
	is "... available == size once the server is gone" "$(attr $PT available)" $PT_SIZE
	echo "# $t with /dev/$PT: $(($(date +%s) - t0)) s"
}

# pt_refused write|read: on a P2PDMA kernel the server's ibv_reg_mr fails.
pt_refused() {
	local t=ib_$1_bw sp st so=/tmp/pt-$1-server.out co=/tmp/pt-$1-client.out n0
	# Only this run's line counts (40-rdma and the other pass leave one too).
	n0=$(dmesg | grep -c "rxe_reg_user_mr: returned err = -121")
	$t $PT_ARGS --mmap=/dev/$PT >$so 2>&1 &
	sp=$!
	wait_for 100 pt_listening
	timeout 120 $t $PT_ARGS $PT_IP >$co 2>&1
	st=$?
	check "$t: the client (RAM buffer) gives up, no hang (exit $st)" test $st -ne 0 -a $st -lt 124
	pt_reap $sp
	st=$?
	check "$t: the server with its buffer in /dev/$PT fails (exit $st)" test $st -ne 0 -a $st -lt 124
	check "... after mapping it" grep -q "allocated mmap buffer of size $PT_LEN" $so
	check "... in ibv_reg_mr: \"Couldn't allocate MR\"" grep -q "Couldn't allocate MR" $so
	# rxe's own error line carries the errno: -121, EREMOTEIO, from GUP.
	check "... where rxe returned EREMOTEIO" test "$(dmesg | grep -c "rxe_reg_user_mr: returned err = -121")" -gt "$n0"
	wait_for 50 attr_is $PT available $PT_SIZE
	is "... available == size once it is gone" "$(attr $PT available)" $PT_SIZE
	skip "$t moves data through the server's p2pmem buffer" \
		"P2PDMA kernel: ibv_reg_mr pins without FOLL_PCI_P2PDMA, GUP refuses P2PDMA pages (EREMOTEIO)"
}

for v in write read; do
	if [ "$BACKEND" = kernel ]; then
		pt_refused $v
	else
		pt_bw $v
	fi
done

# --mmap-offset: p2pmem maps each buffer from offset 0 only.
ib_write_bw $PT_ARGS --mmap=/dev/$PT --mmap-offset=4096 >/tmp/pt-off-server.out 2>&1 &
PT_SP=$!
wait_for 100 pt_listening
timeout 120 ib_write_bw $PT_ARGS $PT_IP >/tmp/pt-off-client.out 2>&1
pt_reap $PT_SP
PT_ST=$?
check "ib_write_bw --mmap=/dev/$PT --mmap-offset=4096 fails (exit $PT_ST)" test $PT_ST -ne 0 -a $PT_ST -lt 124
check "... with mmap's EINVAL" grep -q "Unable to mmap '/dev/$PT': Invalid argument" /tmp/pt-off-server.out
check "... and p2pmem says why" dmesg_has "ib_write_bw: mmap offset must be 0"
is "... available == size" "$(attr $PT available)" $PT_SIZE

refute "perftest: no kernel report while perftest ran" \
	sh -c "dmesg | tail -n +$((PT_DMESG + 1)) | grep -E 'WARNING:|BUG:|Oops|Call Trace'"
check "perftest: rdma link delete rxe0" rdma link delete rxe0
[ -z "$PT_ADDR" ] || iproute2-ip addr del $PT_IP/24 dev dummy0
[ -z "$PT_DUMMY" ] || iproute2-ip link delete dummy0
check "perftest: rmmod" rmmod p2pmem
echo "# perftest section: $(($(date +%s) - PT_T0)) s"
