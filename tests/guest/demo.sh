# `make demo`: the whole flow once, for a person to read.  An NVMe
# controller with a 64 MiB Controller Memory Buffer and a second NVMe
# share a PCIe switch; p2pmem makes the CMB mappable and the second
# controller DMAs straight into it.
. /tests/lib.sh
step() { printf '\n==> %s\n' "$*"; }
run() { echo "# $*"; "$@"; }
NV=$(nvme_ns_by_serial $NV_SERIAL)
NVC=$(nvme_ns_by_serial $CMB_SERIAL)
CMB=$(ns_pci $NVC)
NVPCI=$(ns_pci $NV)
fail() { echo "DEMO: FAILED ($*)"; exit 1; }

step "Load the module through libkmod. It finds the NVMe controller's CMB ($CMB) by itself."
run p2pmem load || fail "load"
wait_for 100 has_child $CMB || fail "no p2pmem device for the CMB"
X=$(child_of $CMB)
step "The p2p memory there is: one device, /dev/$X, backed by the CMB."
run p2pmem list
step "The PCIe tree: who carries p2p memory (<...>) and who can reach it (->)."
run p2pmem list -t
step "Everything about /dev/$X, with its path to the root complex."
run p2pmem info $X
step "Can the other NVMe ($NVPCI) reach it? Ask the module:"
run p2pmem check $NVPCI || fail "check"
step "End to end: mmap 4 MiB of the CMB, O_DIRECT write it to $NV, read it back into the CMB, compare."
run p2pmem test $X --nvme $NV || fail "self test"
step "The same with fio: 8 MiB of random writes from the CMB, read back and verified."
run fio --name=demo --filename="$NV" --direct=1 --iomem=mmapshared:/dev/$X \
	--rw=randwrite --bs=64k --offset=32M --size=8M --ioengine=libaio --iodepth=8 \
	--verify=crc32c --do_verify=1 --verify_fatal=1 --output=/tmp/fio.out || fail "fio"
grep -E "err=|WRITE:|READ:" /tmp/fio.out
step "Unload."
run p2pmem unload || fail "unload"
echo
echo "DEMO: PASSED"
