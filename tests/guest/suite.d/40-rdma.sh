# ---- RDMA: soft-RoCE on a dummy netdev, rdma-core's verbs -------------------
setup "insmod ids=1af4:1110" insmod $KO adopt=0 nvme_cmb=0 ids=1af4:1110
iproute2-ip link show dummy0 >/dev/null 2>&1 || iproute2-ip link add dummy0 type dummy
iproute2-ip addr add 10.11.12.1/24 dev dummy0
iproute2-ip link set dummy0 up
check "rdma link add rxe0 type rxe netdev dummy0" rdma link add rxe0 type rxe netdev dummy0
wait_for 50 grep -q "0000:0000:0000:0000:0000:ffff:0a0b:0c01" /sys/class/infiniband/rxe0/ports/1/gids/*
if [ "$BACKEND" = kernel ]; then
	p2pmem_rdma /dev/p2pmem0 rxe0 EREMOTEIO
else
	p2pmem_rdma /dev/p2pmem0 rxe0 ok
fi
wait_for 50 attr_is p2pmem0 available $IV_SIZE
is "available == size after RDMA" "$(attr p2pmem0 available)" $IV_SIZE
check "rdma link delete rxe0" rdma link delete rxe0
setup "rmmod" rmmod p2pmem
