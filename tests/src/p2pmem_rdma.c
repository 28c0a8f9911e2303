// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA into /dev/p2pmemN, with rdma-core's verbs on soft-RoCE (rxe).
 * Prints one TAP line per check, like p2pmem_test.
 *
 *   p2pmem_rdma DEV IBDEV ok         ibv_reg_mr on a p2pmem buffer succeeds;
 *                                    an RC queue pair connected to a second
 *                                    one on the same port RDMA-WRITEs RAM
 *                                    into it and RDMA-READs it back out,
 *                                    bytes checked both ways; the same
 *                                    on a write-combining mapping
 *                                    (P2PMEM_IOC_SET_CACHING)
 *   p2pmem_rdma DEV IBDEV EREMOTEIO  ibv_reg_mr is refused cleanly with
 *                                    EREMOTEIO (kernels whose p2pdma core
 *                                    gates P2PDMA pages), write-combining
 *                                    mappings included
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xmmintrin.h>

#include "p2pmem/uapi.h"
#include "pattern.h"
#include "tap.h"

#define LEN (1024 * 1024)
/*
 * Every memory region is registered one page longer than the transfer.
 * Linux 6.1's rxe (soft-RoCE) keeps a region's pages in maps of 256
 * (RXE_BUF_PER_MAP); rxe_mr_copy() steps to the next map as soon as a copy
 * has used the last page of one, even when nothing is left to copy.  A copy
 * that ends exactly at the end of a region of a multiple of 256 pages
 * (1 MiB) therefore reads one pointer past the region's map array: KASAN
 * reports slab-out-of-bounds in rxe_mr_copy, and the kernel switches
 * lockdep off for the rest of the boot (tests/known-kernel-reports).  With
 * 257 pages the step after page 256 lands on the region's second map.
 */
#define MR_LEN (LEN + 4096)
/* A region the native backend maps with 2 MiB PMDs (two, and a 4 KiB tail). */
#define HMR_LEN (4 * LEN + 4096)

static void die(const char *what)
{
	tap(0, "rdma: %s: %s", what, strerror(errno));
	exit(1);
}

static struct ibv_context *open_ibdev(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	return ctx;
}

/* The RoCEv2 GID of the port's IPv4 address (::ffff:a.b.c.d). */
static int ipv4_gid_index(struct ibv_context *ctx, union ibv_gid *gid)
{
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	int i;

	for (i = 0; i < 16; i++)
		if (!ibv_query_gid(ctx, 1, i, gid) &&
		    !memcmp(gid->raw, v4mapped, sizeof(v4mapped)))
			return i;
	return -1;
}

static void qp_connect(struct ibv_qp *qp, uint32_t dest, union ibv_gid *gid,
		       int gid_index)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		die("QP to INIT");

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = dest;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = *gid;
	a.ah_attr.grh.sgid_index = gid_index;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.port_num = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		die("QP to RTR");

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		die("QP to RTS");
}

/*
 * Register an MR_LEN write-combining mapping of @dev: a file of its own
 * that asks for it before mmap() (P2PMEM_IOC_SET_CACHING).
 */
static struct ibv_mr *wc_mr(struct ibv_pd *pd, const char *dev, char **buf)
{
	__u32 mode = P2PMEM_CACHING_WC;
	int fd = open(dev, O_RDWR);

	if (fd < 0 || ioctl(fd, P2PMEM_IOC_SET_CACHING, &mode))
		die("P2PMEM_IOC_SET_CACHING write-combining");
	*buf = mmap(NULL, MR_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (*buf == MAP_FAILED)
		die("mmap write-combining");
	return ibv_reg_mr(pd, *buf, MR_LEN, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
}

/* Post one RDMA op from @local to @remote and wait for its completion. */
static int rdma_op(struct ibv_qp *qp, struct ibv_cq *cq, enum ibv_wr_opcode op,
		   struct ibv_mr *local, struct ibv_mr *remote)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local->addr, .length = LEN, .lkey = local->lkey,
	};
	struct ibv_send_wr wr, *bad;
	struct ibv_wc wc;
	int n, spins = 0;

	memset(&wr, 0, sizeof(wr));
	wr.opcode = op;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)remote->addr;
	wr.wr.rdma.rkey = remote->rkey;
	if (ibv_post_send(qp, &wr, &bad))
		return -1;
	while ((n = ibv_poll_cq(cq, 1, &wc)) == 0 && spins++ < 10000000)
		;
	return n == 1 && wc.status == IBV_WC_SUCCESS ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct ibv_qp_init_attr qpa;
	struct ibv_context *ctx;
	struct ibv_mr *mr, *src_mr, *dst_mr;
	struct ibv_qp *a, *b;
	struct ibv_cq *cq;
	struct ibv_pd *pd;
	struct ibv_mr *hmr, *wmr;
	union ibv_gid gid;
	char *p, *h, *w, *src, *dst;
	int fd, gidx;

	if (argc != 4) {
		fprintf(stderr, "usage: p2pmem_rdma DEV IBDEV ok|EREMOTEIO\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	p = mmap(NULL, MR_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd < 0 || p == MAP_FAILED)
		die(argv[1]);
	ctx = open_ibdev(argv[2]);
	if (!ctx)
		die("open the rxe device");
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		die("ibv_alloc_pd");

	mr = ibv_reg_mr(pd, p, MR_LEN, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!strcmp(argv[3], "EREMOTEIO")) {
		tap(!mr && errno == EREMOTEIO,
		    "rdma: ibv_reg_mr on p2pmem is refused cleanly with EREMOTEIO (%s)",
		    mr ? "it succeeded" : strerror(errno));
		wmr = wc_mr(pd, argv[1], &w);
		tap(!wmr && errno == EREMOTEIO,
		    "rdma: ... and on a write-combining p2pmem buffer (%s)",
		    wmr ? "it succeeded" : strerror(errno));
		return failures;
	}
	tap(mr != NULL, "rdma: ibv_reg_mr on a p2pmem buffer (%s)",
	    mr ? "ok" : strerror(errno));
	if (!mr)
		return 1;

	src = aligned_alloc(4096, MR_LEN);
	dst = aligned_alloc(4096, MR_LEN);
	src_mr = ibv_reg_mr(pd, src, MR_LEN, IBV_ACCESS_LOCAL_WRITE);
	dst_mr = ibv_reg_mr(pd, dst, MR_LEN, IBV_ACCESS_LOCAL_WRITE);
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!src_mr || !dst_mr || !cq)
		die("RAM buffers and CQ");
	memset(&qpa, 0, sizeof(qpa));
	qpa.send_cq = qpa.recv_cq = cq;
	qpa.qp_type = IBV_QPT_RC;
	qpa.cap.max_send_wr = qpa.cap.max_recv_wr = 4;
	qpa.cap.max_send_sge = qpa.cap.max_recv_sge = 1;
	a = ibv_create_qp(pd, &qpa);
	b = ibv_create_qp(pd, &qpa);
	if (!a || !b)
		die("ibv_create_qp");
	gidx = ipv4_gid_index(ctx, &gid);
	if (gidx < 0)
		die("no IPv4 GID on port 1");
	qp_connect(a, b->qp_num, &gid, gidx);
	qp_connect(b, a->qp_num, &gid, gidx);

	pat_fill(src, LEN, 11, 0);
	tap(rdma_op(a, cq, IBV_WR_RDMA_WRITE, src_mr, mr) == 0 &&
	    pat_check(p, LEN, 11, 0) < 0,
	    "rdma: RDMA WRITE of 1 MiB from RAM lands in the p2pmem buffer");
	pat_fill(p, LEN, 12, 0);
	tap(rdma_op(a, cq, IBV_WR_RDMA_READ, dst_mr, mr) == 0 &&
	    pat_check(dst, LEN, 12, 0) < 0,
	    "rdma: RDMA READ of 1 MiB out of the p2pmem buffer into RAM");

	/* Pinned through 2 MiB PMDs (the pages are faulted in first). */
	h = mmap(NULL, HMR_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		die("mmap 4 MiB + 4 KiB");
	memset(h, 0, HMR_LEN);
	hmr = ibv_reg_mr(pd, h, HMR_LEN, IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	tap(hmr != NULL, "rdma: ibv_reg_mr on a 2 MiB-mapped p2pmem buffer (%s)",
	    hmr ? "ok" : strerror(errno));
	if (hmr) {
		pat_fill(src, LEN, 13, 0);
		tap(rdma_op(a, cq, IBV_WR_RDMA_WRITE, src_mr, hmr) == 0 &&
		    pat_check(h, LEN, 13, 0) < 0,
		    "rdma: RDMA WRITE of 1 MiB lands in the 2 MiB-mapped buffer");
		ibv_dereg_mr(hmr);
	}
	munmap(h, HMR_LEN);

	/* Write-combining: RDMA as before; the CPU's stores fenced first. */
	wmr = wc_mr(pd, argv[1], &w);
	tap(wmr != NULL, "rdma: ibv_reg_mr on a write-combining p2pmem buffer (%s)",
	    wmr ? "ok" : strerror(errno));
	if (wmr) {
		pat_fill(src, LEN, 14, 0);
		tap(rdma_op(a, cq, IBV_WR_RDMA_WRITE, src_mr, wmr) == 0 &&
		    pat_check(w, LEN, 14, 0) < 0,
		    "rdma: RDMA WRITE of 1 MiB lands in the write-combining buffer");
		pat_fill(w, LEN, 15, 0);
		_mm_sfence();
		tap(rdma_op(a, cq, IBV_WR_RDMA_READ, dst_mr, wmr) == 0 &&
		    pat_check(dst, LEN, 15, 0) < 0,
		    "rdma: RDMA READ of 1 MiB of fenced CPU stores out of the write-combining buffer");
		ibv_dereg_mr(wmr);
	}
	munmap(w, MR_LEN);

	ibv_destroy_qp(a);
	ibv_destroy_qp(b);
	ibv_destroy_cq(cq);
	ibv_dereg_mr(src_mr);
	ibv_dereg_mr(dst_mr);
	ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	munmap(p, MR_LEN);
	close(fd);
	return failures ? 1 : 0;
}
