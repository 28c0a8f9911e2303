# ---- the p2pmem CLI (libkmod, libp2pmem) and udev rules -------------------
# The real systemd-udevd runs our rules; the CLI loads the module through
# libkmod from /lib/modules/$(uname -r)/extra (depmod'ed), like an install.
mount -t tmpfs tmpfs /run
/lib/systemd/systemd-udevd --daemon
check "systemd-udevd is running" wait_for 50 udevadm control --ping
if [ -n "$P2PMEM_DKMS" ]; then
	check "the module libkmod finds is the one DKMS built from the package" \
		grep -q "^updates/dkms/p2pmem.ko:" /lib/modules/$(uname -r)/modules.dep
else
	skip "the module libkmod finds is the one DKMS built from the package" \
		"the bench proves DKMS on Debian's own kernels only; this one boots the bench's build"
fi
mv /lib/modules/$(uname -r) /tmp/modules.away
refute "p2pmem load with no module installed for this kernel: refused" p2pmem load
check "... saying so" sh -c "p2pmem load 2>&1 | grep -q 'module p2pmem not found for kernel $(uname -r)'"
mv /tmp/modules.away /lib/modules/$(uname -r)
refute "p2pmem unload: refused while not loaded" p2pmem unload
check "... and says so" sh -c "p2pmem unload 2>&1 | grep -q 'p2pmem is not loaded'"
# With no p2p memory, list says so and how to get some, on stderr (stdout
# stays what a script parses: nothing, or [] with --json); none is an
# answer, not a failure: status 0.
rc=0; p2pmem list >/tmp/list.out 2>/tmp/list.err || rc=$?
sed 's/^/#   /' /tmp/list.err
is "p2pmem list, module not loaded: status 0" "$rc" 0
is "... nothing on stdout" "$(cat /tmp/list.out)" ""
check "... says on stderr there is no p2p memory and to load the module" \
	sh -c "grep -q 'no p2p memory' /tmp/list.err && grep -q 'p2pmem load' /tmp/list.err"
is "p2pmem --json list, module not loaded: []" "$(p2pmem --json list 2>/dev/null)" "[]"
check "p2pmem load adopt=0 nvme_cmb=0: loaded, nothing bound" p2pmem load adopt=0 nvme_cmb=0
rc=0; p2pmem list >/tmp/list.out 2>/tmp/list.err || rc=$?
sed 's/^/#   /' /tmp/list.err
is "p2pmem list, no device bound: status 0" "$rc" 0
is "... nothing on stdout" "$(cat /tmp/list.out)" ""
check "... says on stderr how to give it memory (bind --bar, ids=/bars=, an NVMe CMB)" \
	sh -c "grep -q 'no p2p memory' /tmp/list.err && grep -q 'p2pmem bind BDF --bar N' /tmp/list.err &&
		grep -q 'ids=' /tmp/list.err && grep -q 'bars=' /tmp/list.err && grep -q 'CMB' /tmp/list.err"
is "p2pmem list --json, no device bound: []" "$(p2pmem list --json 2>/dev/null)" "[]"
[ -d /sys/module/p2pmem ] && rmmod p2pmem
# Usage errors are status 2, for every command.
for a in "list --bogus" "list extra" "info" "check" "bind" "unload extra" "--bogus list"; do
	rc=0; p2pmem $a >/dev/null 2>&1 || rc=$?
	is "p2pmem $a: a usage error (status 2)" "$rc" 2
done
refute "p2pmem load bogus=1: an unknown parameter is refused" p2pmem load bogus=1
check "... naming the parameters the module has" sh -c "p2pmem load bogus=1 2>&1 | grep -q 'unknown parameter \"bogus\" (the module has: .*ids'"
refute "p2pmem load ids=zzzz: a bad value is refused by the module" p2pmem load adopt=0 nvme_cmb=0 ids=zzzz
check "... and the CLI says so" sh -c "p2pmem load ids=zzzz 2>&1 | grep -q 'refused its parameters'"
refute "... leaving nothing loaded" test -d /sys/module/p2pmem
# Parameters reach the module whole, or not at all: a string parameter may
# be up to 1024 bytes (the kernel's limit), the command line longer.
ids_list() { # N -> "1af4:1110" and N more IDs that no device has
	local i=0 s=1af4:1110
	while [ $i -lt $1 ]; do s=$s,1af4:$(printf %04x $((0x2000 + i))); i=$((i + 1)); done
	echo $s
}
LONGIDS=$(ids_list 101)
check "p2pmem load adopt=0 nvme_cmb=0 ids=<${#LONGIDS} bytes>" p2pmem load adopt=0 nvme_cmb=0 ids=$LONGIDS
is "... gives the module the whole value" "$(cat /sys/module/p2pmem/parameters/ids 2>/dev/null)" "$LONGIDS"
[ -d /sys/module/p2pmem ] && rmmod p2pmem
TOOLONG=$(ids_list 110)
refute "p2pmem load ids=<${#TOOLONG} bytes>: more than the kernel takes, refused" p2pmem load adopt=0 nvme_cmb=0 ids=$TOOLONG
check "... saying so" sh -c "p2pmem load adopt=0 nvme_cmb=0 ids=$TOOLONG 2>&1 | grep -q 'parameter ids: value too long (${#TOOLONG} bytes, the kernel takes at most 1024)'"
refute "... leaving nothing loaded" test -d /sys/module/p2pmem
[ -d /sys/module/p2pmem ] && rmmod p2pmem
check "p2pmem load ids=1af4:1110 adopt=0 nvme_cmb=0 (libkmod lookup)" \
	p2pmem load ids=1af4:1110 adopt=0 nvme_cmb=0
is "... loaded with those parameters" "$(cat /sys/module/p2pmem/parameters/ids)" 1af4:1110
refute "p2pmem load again: already loaded" p2pmem load
udevadm settle
C=$(child_of $IV)
is "udev: /dev/$C is root:p2pmem 0660" "$(stat -c '%U:%G %a' /dev/$C)" "root:p2pmem 660"
is "udev: /dev/p2pmem/by-path/pci-$IV points at it" "$(readlink -f /dev/p2pmem/by-path/pci-$IV)" /dev/$C
# udev sees the device tree: from /dev/$C up to its PCI device.
udevadm info -a -p "$(where_is $C)" > /tmp/udev-a 2>&1
# The first parent block: "looking at parent device ...", KERNELS==, SUBSYSTEMS==.
first_parent() { awk -v k="$1" '/looking at parent device/ { n++ } n == 1 && $1 ~ "^" k "==" { sub("^" k "==", "", $1); gsub("\"", "", $1); print $1; exit }' /tmp/udev-a; }
is "udevadm info -a: $C's first parent is its PCI device (KERNELS)" "$(first_parent KERNELS)" "$IV"
is "... on the pci bus (SUBSYSTEMS)" "$(first_parent SUBSYSTEMS)" pci
check "... and $C itself is SUBSYSTEM==\"p2pmem\"" grep -q 'SUBSYSTEM=="p2pmem"' /tmp/udev-a
is "udevadm info: DEVNAME, P2PMEM_PCI and SUBSYSTEM as before" \
	"$(udevadm info -q property -p "$(where_is $C)" | grep -E '^(DEVNAME|SUBSYSTEM|P2PMEM_PCI)=' | sort | tr '\n' ' ')" \
	"DEVNAME=/dev/$C P2PMEM_PCI=$IV SUBSYSTEM=p2pmem "
check "alice (in group p2pmem) opens it by path" su alice -s /bin/sh -c "exec 3<>/dev/p2pmem/by-path/pci-$IV"
check "... and maps and uses it" su alice -s /bin/sh -c "p2pmem_test mmap /dev/$C"
is "nobody (not in the group) gets EACCES" \
	"$(su nobody -s /bin/sh -c "exec 3</dev/$C" 2>&1 | grep -o 'Permission denied')" "Permission denied"
set -- $(p2pmem list | grep "^$C ")
is "p2pmem list: name, PCI, id, provider, backend, size, available, node" "$*" \
	"$C $IV 1af4:1110 p2pmem-pci $BACKEND $((IV_SIZE >> 20)) MiB $((IV_SIZE >> 20)) MiB $(cat /sys/bus/pci/devices/$IV/numa_node)"
check "p2pmem --json list" sh -c "p2pmem --json list | grep -q '\"name\":\"$C\",\"pci\":\"$IV\",\"vendor\":\"1af4\",\"device\":\"1110\",\"provider\":\"p2pmem-pci\",\"backend\":\"$BACKEND\",\"size\":$IV_SIZE'"
# Global options go where users type them: after the command too.
is "p2pmem list --json: the same as p2pmem --json list" "$(p2pmem list --json 2>&1)" "$(p2pmem --json list 2>&1)"
check "... which lists $C" sh -c "p2pmem list --json | grep -q '\"name\":\"$C\",\"pci\":\"$IV\"'"
is "p2pmem list -t --json: the same as p2pmem --json list -t" "$(p2pmem list -t --json 2>&1 | md5sum)" "$(p2pmem --json list -t 2>&1 | md5sum)"
check "p2pmem info $C --json: JSON" sh -c "p2pmem info $C --json | grep -q '^{\"name\":\"$C\",'"
p2pmem list -t > /tmp/tree
sed 's/^/#   /' /tmp/tree
check "p2pmem list -t: the ivshmem carries $C, under its switch port" \
	grep -q "^      $IV \[1af4:1110\] .*<$C $((IV_SIZE >> 20)) MiB $BACKEND>" /tmp/tree
# libp2pmem ranks and lists by the same answer as reach.
if ! translated $NVPCI; then
	check "... the NVMe next door reaches it directly, 4 hops" grep -q "^      $NVPCI .* -> $C direct 4" /tmp/tree
elif [ $HOSTP2P = yes ]; then
	check "... the NVMe next door reaches it through the IOMMU at the root complex, 8 hops" \
		grep -q "^      $NVPCI .* -> $C host-bridge 8" /tmp/tree
else
	check "... the NVMe next door does not reach it: its IOMMU sends it to a root complex that may not route it" \
		sh -c "grep '^      $NVPCI ' /tmp/tree | grep -qv -- '->'"
fi
check "... the device behind the other root port does not" sh -c "grep '^  *$EDU ' /tmp/tree | grep -qv -- '->'"
check "p2pmem --json list -t has every PCI function" \
	test "$(p2pmem --json list -t | grep -o '"pci":' | wc -l)" = "$(ls /sys/bus/pci/devices | wc -l)"
check "p2pmem info: the upstream chain" sh -c "p2pmem info $C | grep -qx 'upstream: $DP0 downstream-port acs=none'"
check "p2pmem info: pci and host bridge" sh -c "p2pmem info $C | grep -qx 'pci: $IV' && p2pmem info $C | grep -q '^host_bridge: '"
refute "p2pmem info p2pmem99: no such device" p2pmem info p2pmem99
if ! translated $NVPCI; then
	is "p2pmem check NVMe CMB-NVMe: $C, direct, 8 hops in all" \
		"$(su alice -s /bin/sh -c "p2pmem check $NVPCI $CMB" | cut -d' ' -f1-4)" "$C $IV direct distance=8"
	check "p2pmem --json check" sh -c "p2pmem --json check $NVPCI | grep -q '^\[{\"name\":\"$C\",\"pci\":\"$IV\",\"host_bridge_routes\":0,\"distance\":4,'"
elif [ $HOSTP2P = yes ]; then
	is "p2pmem check NVMe CMB-NVMe: $C, through the host bridge, 16 hops in all" \
		"$(su alice -s /bin/sh -c "p2pmem check $NVPCI $CMB" | cut -d' ' -f1-4)" "$C $IV host-bridge distance=16"
	check "p2pmem --json check" sh -c "p2pmem --json check $NVPCI | grep -q '^\[{\"name\":\"$C\",\"pci\":\"$IV\",\"host_bridge_routes\":1,\"distance\":8,'"
else
	refute "p2pmem check NVMe CMB-NVMe: none, their IOMMU sends them through a root complex that may not route it" \
		su alice -s /bin/sh -c "p2pmem check $NVPCI $CMB"
	is "p2pmem --json check: an empty list" "$(p2pmem --json check $NVPCI)" "[]"
fi
check "p2pmem --json info has the upstream chain" sh -c "p2pmem --json info $C | grep -q '\"upstream\":\[\"$DP0 downstream-port acs=none\",'"
refute "p2pmem check with the far device: none for all of them" p2pmem check $NVPCI $EDU
refute "p2pmem check 0000:7f:00.0: no such PCI device" p2pmem check 0000:7f:00.0
check "... and says so" sh -c "p2pmem check 0000:7f:00.0 2>&1 | grep -q 'no PCI device 0000:7f:00.0'"
is "p2pmem check as nobody: EACCES, not a wrong answer" \
	"$(su nobody -s /bin/sh -c "p2pmem check $NVPCI" 2>&1)" "p2pmem: check: Permission denied"
if [ $P2P_DATA = yes ]; then
	dd if=$NV of=/tmp/before bs=1M count=4 iflag=direct 2>/dev/null
	p2pmem test $C --nvme $NV > /tmp/selftest 2>&1
	is "p2pmem test $C --nvme $NV passes" "$(tail -n1 /tmp/selftest)" "PASSED: 4194304 bytes through $C and $NV"
	sed 's/^/#   /' /tmp/selftest
	dd if=$NV of=/tmp/after bs=1M count=4 iflag=direct 2>/dev/null
	check "... and leaves the namespace's bytes as they were" cmp /tmp/before /tmp/after
else
	skip "p2pmem test $C --nvme $NV" "QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
fi
# p2pmem test maps its first argument and writes a pattern through the
# mapping: anything but a p2pmem node there (a disk, a file) loses data.
NVCB=$(basename $NVC)
dd if=$NVC of=/tmp/nvc.before bs=1M count=4 iflag=direct 2>/dev/null
refute "p2pmem test $NVCB (a disk, not a p2pmem node) --nvme $NV: refused" p2pmem test $NVCB --nvme $NV
check "... saying it is no p2pmem device" sh -c "p2pmem test $NVCB --nvme $NV 2>&1 | grep -q '$NVCB: not a p2pmem device'"
sync
dd if=$NVC of=/tmp/nvc.after bs=1M count=4 iflag=direct 2>/dev/null
check "... and $NVC's bytes are unchanged" cmp /tmp/nvc.before /tmp/nvc.after
dd if=/dev/urandom of=/tmp/victim bs=1M count=4 2>/dev/null
cp /tmp/victim /tmp/victim.orig
refute "p2pmem test ../tmp/victim (a regular file) --nvme $NV: refused" p2pmem test ../tmp/victim --nvme $NV
check "... and the file is unchanged" cmp /tmp/victim /tmp/victim.orig
# A namespace in use elsewhere (mounted, or opened O_EXCL) is refused.
p2pmem_test excl $NV > /tmp/excl.out &
EP=$!
wait_for 50 grep -q EXCLUSIVE /tmp/excl.out
check "another process holds $NV exclusively" grep -q EXCLUSIVE /tmp/excl.out
refute "p2pmem test $C --nvme $NV while it is held O_EXCL: refused" p2pmem test $C --nvme $NV
check "... saying it is in use" sh -c "p2pmem test $C --nvme $NV 2>&1 | grep -q '$NV: in use (mounted or opened exclusively)'"
kill -USR1 $EP; wait $EP
# --json output is JSON whatever the strings hold.
for a in "list" "list -t" "info $C" "check $NVPCI"; do
	check "p2pmem --json $a is valid JSON" sh -c "p2pmem --json $a | json_check"
	check "p2pmem $a --json is valid JSON" sh -c "p2pmem $a --json | json_check"
done
if [ $P2P_DATA = yes ]; then
	# A --nvme path (a symlink to the namespace) with a quote, a backslash,
	# a tab, a control character and a byte that is not UTF-8.
	W=$(printf '/tmp/q"b\\t\t\001\377')
	ln -s $NV "$W"
	p2pmem --json test $C --nvme "$W" > /tmp/json.test 2>/dev/null
	sed 's/^/#   /' /tmp/json.test
	check "p2pmem --json test with such a --nvme path prints valid JSON" sh -c "json_check < /tmp/json.test"
	# (json-c writes U+FFFD as its UTF-8 bytes, not as \ufffd.)
	check "... with the path escaped (\\\", \\\\, \\t, \\u0001) and U+FFFD for the byte that is not UTF-8" \
		grep -qF "$(printf '"nvme":"/tmp/q\\"b\\\\t\\t\\u0001\357\277\275"')" /tmp/json.test
	rm -f "$W"
else
	skip "p2pmem --json test with a hostile --nvme path" "QEMU's IOMMU cannot route the direct bus address the kernel backend gives the NVMe"
fi
p2pmem_test hold /dev/$C > /tmp/hold4.out &
HP=$!
wait_for 50 grep -q HOLDING /tmp/hold4.out
refute "p2pmem unload while mapped: refused" p2pmem unload
check "... says it is in use" sh -c "p2pmem unload 2>&1 | grep -q 'is in use'"
kill -USR1 $HP; wait $HP
check "p2pmem unbind $IV" p2pmem unbind $IV
udevadm settle
refute "udev: the by-path link goes away on unbind" test -e /dev/p2pmem/by-path/pci-$IV
refute "p2pmem unbind again: not bound" p2pmem unbind $IV
check "p2pmem bind $IV --bar 2" p2pmem bind $IV --bar 2
udevadm settle
is "... gives it a p2pmem device of BAR 2" "$(attr $(child_of $IV) bar)" 2
is "... named in the module's bars parameter, not in a dynamic ID" "$(cat /sys/module/p2pmem/parameters/bars)" "$IV:2"
refute "p2pmem bind $IV again: already bound" p2pmem bind $IV
refute "p2pmem bind $NVPCI: bound to nvme" p2pmem bind $NVPCI
check "... and says so" sh -c "p2pmem bind $NVPCI 2>&1 | grep -q 'is bound to nvme; unbind it from nvme first'"
refute "p2pmem bind 0000:7f:00.0: no such device" p2pmem bind 0000:7f:00.0
check "p2pmem unload" p2pmem unload
refute "... the module is gone" test -d /sys/module/p2pmem
# By serial: an NVMe controller's CMB as its own p2pmemN.
check "p2pmem load (defaults: NVMe CMBs included)" p2pmem load
wait_for 100 has_child $CMB
udevadm settle
is "udev: /dev/p2pmem/by-serial/nvme-$CMB_SERIAL names the CMB's node" \
	"$(readlink -f /dev/p2pmem/by-serial/nvme-$CMB_SERIAL)" "/dev/$(child_of $CMB)"
check "p2pmem unload" p2pmem unload
udevadm settle
refute "udev: ... and it goes away with the module" test -e /dev/p2pmem/by-serial/nvme-$CMB_SERIAL
check "p2pmem load --ko FILE (a module outside /lib/modules)" p2pmem load --ko $KO adopt=0 nvme_cmb=0
# bind --bar binds the one device named, never another unbound device with
# the same IDs: hot-add a second ivshmem (1af4:1110) on the empty port, SPARE_PORT.
drv_of() { basename "$(readlink /sys/bus/pci/devices/$1/driver 2>/dev/null)" 2>/dev/null; }
other_iv() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor)" = 0x1af4 ] && [ "$(cat $d/device)" = 0x1110 ] &&
			[ "${d##*/}" != "$IV" ] && { echo "${d##*/}"; return; }
	done
}
has_other_iv() { test -n "$(other_iv)"; }
check "p2pmem unbind $IV (bound again by its driver_override)" p2pmem unbind $IV
hotplug '{"execute":"device_add","arguments":{"driver":"ivshmem-plain","id":"'$SPARE_ID'","memdev":"'$SPARE_MEM'","bus":"'$SPARE_PORT'"}}'
wait_for 300 has_other_iv
IV2=$(other_iv)
check "a second ivshmem with the same IDs is hot-added ($IV2)" test -n "$IV2"
is "... and no driver takes it" "$(drv_of $IV2)" ""
echo "0000:7f:00.0:1,$IV:0" > /sys/module/p2pmem/parameters/bars
check "p2pmem bind $IV --bar 2 with it present" p2pmem bind $IV --bar 2
is "... gives $IV a p2pmem device of BAR 2" "$(attr $(child_of $IV) bar)" 2
is "... replacing $IV's bars entry and keeping the others'" \
	"$(cat /sys/module/p2pmem/parameters/bars)" "0000:7f:00.0:1,$IV:2"
is "... and leaves $IV2 unbound" "$(drv_of $IV2)" ""
# Its BAR 2 gets no space on the hot-plug port, so a probe fails; the
# driver must not even have tried it.
refute "... and the driver never probed $IV2" dmesg_has "p2pmem $IV2: "
check "p2pmem unbind $IV" p2pmem unbind $IV
is "p2pmem unbind leaves the bars entry" "$(cat /sys/module/p2pmem/parameters/bars)" "0000:7f:00.0:1,$IV:2"
refute "p2pmem bind $IV --bar 0 (its 256-byte register BAR): refused by the driver" p2pmem bind $IV --bar 0
is "... and bars is as it was" "$(cat /sys/module/p2pmem/parameters/bars)" "0000:7f:00.0:1,$IV:2"
is "... $IV2 is still unbound" "$(drv_of $IV2)" ""
# (An unset driver_override reads "(null)".)
is "... and neither keeps a driver_override" \
	"$(cat /sys/bus/pci/devices/$IV/driver_override /sys/bus/pci/devices/$IV2/driver_override | sed 's/^(null)$//' | tr -d '\n')" ""
hotplug '{"execute":"device_del","arguments":{"id":"'$SPARE_ID'"}}'
wait_for 300 test ! -e /sys/bus/pci/devices/$IV2
refute "the second ivshmem is unplugged again" test -e /sys/bus/pci/devices/$IV2
check "... and unload" p2pmem unload
udevadm control --exit
