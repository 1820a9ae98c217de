// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-dmatest - acceptance test of the vtdp DMA path, run in the guest.
 *
 * Drives /dev/vtdp-testdev<N> (vtdp_testdev.ko): maps user buffers into
 * the endpoint's V3 domain at fixed IOVAs, lets the endpoint copy, fill and
 * checksum them, then provokes IOMMU faults (write to an unmapped IOVA,
 * write to a read-only mapping) and checks that they come back both in the
 * descriptor completion and through vtdp.ko's fault handler.
 *
 * With -p it tests the PASID ioctls instead: sub-devices with Translate and
 * TranslateS1 domains, tagged DMA on another queue, wrong-PASID and
 * detached faults, the errors for bad handles, queues and domain types,
 * and switching the RID domain's type.
 *
 * Output is TAP; the exit status is 0 only when every test passed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vtdp/iommu-hw.h>
#include <vtdp/testdev-hw.h>
#include <vtdp/testdev.h>
#include <vtdp/v3.h>

#include "vtdp-tap.h"

#include "td-lib.h"

#define PLAN_V3		17
#define PLAN_DMA_API	9
#define PLAN_PASID	25	/* open, INFO, run_pasid()'s 22, close */
#define PAGE		4096UL
#define BUF_LEN		(64UL * 1024 + PAGE)	/* 64 KiB + a page for the odd tail */
#define MAIN_LEN	(64U * 1024)
#define ODD_LEN		(MAIN_LEN + 123)	/* odd length, crosses into the last page */
#define SRC_IOVA	0x100000ULL
#define DST_IOVA	0x200000ULL
#define FILL_PATTERN	0x0123456789abcdefULL
#define FAULT_WAIT_MS	3000

static int verbose;
static int plan = PLAN_V3;

/* @iova: where to map (ignored in dma-api mode); @iova_out: where it went. */
static int do_map(int fd, void *buf, size_t len, uint64_t iova, uint32_t perms,
		  int32_t *status, uint64_t *iova_out)
{
	uint64_t at = iova;
	int ret = td_map(fd, buf, len, iova, perms, status, &at);

	if (ret < 0) {
		diag("MAP iova %#" PRIx64 ": %s", iova, strerror(-ret));
		return -1;
	}
	if (iova_out)
		*iova_out = at;
	diag("MAP %zu bytes at IOVA %#" PRIx64 " perms %s%s -> status %#x",
	     len, at, perms & VTDP_TD_MAP_READ ? "R" : "",
	     perms & VTDP_TD_MAP_WRITE ? "W" : "", (uint32_t)*status);
	return 0;
}

static int do_unmap(int fd, uint64_t iova, int32_t *status)
{
	int ret = td_unmap(fd, iova, status);

	if (ret < 0) {
		diag("UNMAP iova %#" PRIx64 ": %s", iova, strerror(-ret));
		return -1;
	}
	if (verbose)
		diag("UNMAP IOVA %#" PRIx64 " -> status %#x", iova,
		     (uint32_t)*status);
	return 0;
}

static int do_submit(int fd, uint32_t opcode, uint32_t len, uint64_t src,
		     uint64_t dst, uint64_t pattern, struct vtdp_td_submit *s)
{
	int ret = td_submit(fd, opcode, len, src, dst, pattern, s);

	if (ret < 0) {
		diag("SUBMIT opcode %u: %s", opcode, strerror(-ret));
		return -1;
	}
	if (verbose || VTDP_TD_ST_CODE(s->status) != VTDP_TD_ST_OK)
		diag("SUBMIT op %u len %u src %#" PRIx64 " dst %#" PRIx64
		     " -> status %#x (%s) fault_info %#x result %#" PRIx64
		     " fault_addr %#" PRIx64, opcode, len, src, dst,
		     s->status, td_st_name(s->status), s->fault_info,
		     (uint64_t)s->result, (uint64_t)s->fault_addr);
	return 0;
}

static int faults_total(int fd, uint64_t *total)
{
	int ret = td_faults_total(fd, total);

	if (ret < 0)
		diag("FAULTS: %s", strerror(-ret));
	return ret;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Waits for faults numbered after @before (vtdp.ko delivers them from a
 * workqueue, possibly after the completion) and looks for one matching
 * the range, direction and reason.  Prints every new fault.
 */
static bool expect_fault(int fd, uint64_t before, uint64_t lo, uint64_t hi,
			 uint32_t reason)
{
	static struct vtdp_td_fault buf[VTDP_TD_FAULT_RING];
	struct vtdp_td_faults f;
	bool found = false;
	uint64_t total = before;
	int waited;

	for (waited = 0; waited < FAULT_WAIT_MS; waited += 10) {
		if (faults_total(fd, &total) < 0)
			return false;
		if (total > before)
			break;
		sleep_ms(10);
	}
	/* Give a burst of faults a moment to arrive completely. */
	sleep_ms(50);

	memset(&f, 0, sizeof(f));
	f.max = VTDP_TD_FAULT_RING;
	f.faults_ptr = (uintptr_t)buf;
	if (ioctl(fd, VTDP_TD_IOC_FAULTS, &f) < 0) {
		diag("FAULTS: %s", strerror(errno));
		return false;
	}
	diag("faults: total %" PRIu64 " (%" PRIu64 " new)",
	     (uint64_t)f.total_faults, (uint64_t)f.total_faults - before);
	for (uint32_t i = 0; i < f.count; i++) {
		const struct vtdp_td_fault *e = &buf[i];
		char pasid[16];

		if (e->seq <= before)
			continue;
		if (e->pasid_valid)
			snprintf(pasid, sizeof(pasid), "%u", e->pasid);
		else
			snprintf(pasid, sizeof(pasid), "-");
		printf("# fault: %02x:%02x.%x PASID %s addr %#" PRIx64
		       " %s reason %#x (%s)\n",
		       e->source_id >> 8, (e->source_id >> 3) & 0x1f,
		       e->source_id & 7, pasid, (uint64_t)e->address,
		       e->write ? "write" : "read", e->reason,
		       td_reason_name(e->reason));
		if (verbose)
			diag("  seq %" PRIu64 " type %u v3_flags %#x stage1 %u",
			     (uint64_t)e->seq, e->fault_type, e->v3_flags,
			     e->is_stage1);
		if (e->address >= lo && e->address < hi && e->write &&
		    e->reason == reason)
			found = true;
	}
	return found;
}

/*
 * dma-api mode (behind an IOMMU driver of Linux, or no IOMMU): the kernel's DMA
 * API picks the device addresses.  Without an IOMMU a buffer must be one
 * physically contiguous segment, so the buffers here are one page each.
 * Returns with the tests from 3 on done; the caller closes @fd.
 */
static void run_dma_api(int fd, bool unmapped)
{
	const uint32_t odd = PAGE - 123;
	uint8_t *src, *dst;
	uint64_t src_iova = 0, dst_iova = 0;
	struct vtdp_td_submit s;
	bool src_mapped, dst_mapped;
	int32_t st;
	size_t i;

	src = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		diag("mmap: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < PAGE; i++)
		src[i] = (uint8_t)(i * 13 + 0x3c);
	memset(dst, 0xee, PAGE);

	/* 3, 4 */
	src_mapped = do_map(fd, src, PAGE, 0, VTDP_TD_MAP_READ, &st, &src_iova) == 0 &&
		     st == 0;
	tap(src_mapped, "MAP src (one page) READ through the DMA API at %#" PRIx64,
	    src_iova);
	dst_mapped = do_map(fd, dst, PAGE, 0, VTDP_TD_MAP_WRITE, &st, &dst_iova) == 0 &&
		     st == 0;
	tap(dst_mapped, "MAP dst (one page) WRITE through the DMA API at %#" PRIx64,
	    dst_iova);
	if (!src_mapped || !dst_mapped)
		goto out;

	/* 5: odd length, the rest of the page untouched */
	if (do_submit(fd, VTDP_TD_OP_COPY, odd, src_iova, dst_iova, 0, &s) < 0)
		goto out;
	for (i = 0; i < odd && dst[i] == src[i]; i++)
		;
	tap(td_st_is(&s, VTDP_TD_ST_OK) && i == odd &&
	    dst[odd] == 0xee && dst[PAGE - 1] == 0xee,
	    "COPY %u bytes: exact, nothing written past the end", odd);

	/* 6 */
	if (do_submit(fd, VTDP_TD_OP_FILL, PAGE, 0, dst_iova, FILL_PATTERN, &s) < 0)
		goto out;
	for (i = 0; i < PAGE && dst[i] == (uint8_t)(FILL_PATTERN >> (8 * (i % 8))); i++)
		;
	tap(td_st_is(&s, VTDP_TD_ST_OK) && i == PAGE, "FILL one page with %#llx",
	    (unsigned long long)FILL_PATTERN);

	/* 7 */
	if (do_submit(fd, VTDP_TD_OP_CRC32C, odd, src_iova, 0, 0, &s) < 0)
		goto out;
	tap(td_st_is(&s, VTDP_TD_ST_OK) && s.result == td_crc32c(src, odd),
	    "CRC32C of %u bytes matches software", odd);

	/* 8 */
	tap(do_unmap(fd, src_iova, &st) == 0 && st == 0 &&
	    do_unmap(fd, dst_iova, &st) == 0 && st == 0, "UNMAP src and dst");

	/*
	 * 9 before close with -u (behind an IOMMU only: without one this
	 * would write guest memory): a write to an IOVA the DMA API never handed out (it
	 * allocates downwards from 4 GiB) is stopped by the IOMMU.
	 */
	if (unmapped) {
		if (do_submit(fd, VTDP_TD_OP_FILL, 8, 0, DST_IOVA, FILL_PATTERN, &s) < 0)
			goto out;
		tap(td_st_is(&s, VTDP_TD_ST_DMA_FAULT) &&
		    (s.fault_info & VTDP_TD_FI_WRITE) && s.fault_addr == DST_IOVA,
		    "FILL to an IOVA never mapped: DMA_FAULT, write, fault_addr %#llx",
		    (unsigned long long)s.fault_addr);
	}
out:
	/* Mappings still alive go with the fd; the memory goes here. */
	if (src != MAP_FAILED)
		munmap(src, PAGE);
	if (dst != MAP_FAILED)
		munmap(dst, PAGE);
}

static int pasid_op(int fd, unsigned long cmd, uint32_t handle, int32_t *status)
{
	int ret = td_pasid_op(fd, cmd, handle, status);

	if (verbose)
		diag("PASID op %#lx handle %u -> %s, status %#x", cmd, handle,
		     ret < 0 ? strerror(-ret) : "0", (uint32_t)*status);
	return ret;
}

/* SUBMIT_EX of one FILL of @len bytes at @dst; 0 or -errno. */
static int tagged_fill(int fd, uint32_t queue, uint32_t handle, uint64_t dst,
		       uint32_t len, struct vtdp_td_submit_ex *x)
{
	int ret = td_submit_ex(fd, queue, handle, VTDP_TD_OP_FILL, len, 0, dst,
			       FILL_PATTERN, x);

	if (ret < 0 || verbose || !td_st_is(&x->desc, VTDP_TD_ST_OK))
		diag("SUBMIT_EX FILL queue %u handle %u dst %#" PRIx64 " -> %s, status %#x (%s) fault_info %#x pasid %u",
		     queue, handle, dst, ret < 0 ? strerror(-ret) : "0",
		     x->desc.status, td_st_name(x->desc.status),
		     x->desc.fault_info, x->pasid);
	return ret;
}

static bool is_fault(const struct vtdp_td_submit_ex *x, bool tagged)
{
	return td_st_is(&x->desc, VTDP_TD_ST_DMA_FAULT) &&
	       (x->desc.fault_info & VTDP_TD_FI_WRITE) &&
	       !!(x->desc.fault_info & VTDP_TD_FI_PASID) == tagged;
}

/*
 * -p: the PASID ioctls (tests 3..24, in order).  Sub-device A (Translate) gets src
 * and dst; B (TranslateS1) nothing, so A's addresses are unmapped in B's
 * domain and in the RID domain.  Returns with the caller to close @fd.
 */
static void run_pasid(int fd, const struct vtdp_td_info *info, uint8_t *src,
		      uint8_t *dst, const char *devpath)
{
	uint32_t ha = 0, pa = 0, hb = 0, pb = 0, h, p, q = info->nqueues - 1;
	struct vtdp_td_rid_domain rid;
	struct vtdp_td_submit_ex x;
	struct vtdp_td_map_ex m1, m2;
	int32_t st = 0, st2 = 0;
	int ret, ret2, ret3, fd2;
	size_t i;

	ret = td_pasid_create(fd, 2 /* Unmanaged */, &h, &p, &st);
	tap(ret == -EINVAL, "PASID_CREATE with an Unmanaged domain: EINVAL (%s)",
	    strerror(-ret));
	ret = td_pasid_create(fd, VTDP_TD_DOMAIN_TRANSLATE, &ha, &pa, &st);
	tap(!ret && !st && ha && pa, "PASID_CREATE Translate: handle %u, PASID %u", ha, pa);
	ret = td_pasid_create(fd, VTDP_TD_DOMAIN_TRANSLATE_S1, &hb, &pb, &st);
	tap(!ret && !st && hb && hb != ha && pb && pb != pa,
	    "PASID_CREATE TranslateS1: handle %u, PASID %u", hb, pb);
	ret = td_map_ex(fd, ha, src, BUF_LEN, SRC_IOVA, VTDP_TD_MAP_READ, &m1);
	ret2 = td_map_ex(fd, ha, dst, BUF_LEN, DST_IOVA, VTDP_TD_MAP_WRITE, &m2);
	tap(!ret && !ret2 && !m1.status && !m2.status && m1.page_size == PAGE &&
	    m2.page_size == PAGE, "MAP_EX src and dst into A's domain (4 KiB pages)");
	for (i = 0; i < MAIN_LEN; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	memset(dst, 0, BUF_LEN);
	ret = td_submit_ex(fd, q, ha, VTDP_TD_OP_COPY, MAIN_LEN, SRC_IOVA,
			   DST_IOVA, 0, &x);
	for (i = 0; i < MAIN_LEN && dst[i] == src[i]; i++)
		;
	tap(!ret && td_st_is(&x.desc, VTDP_TD_ST_OK) && x.pasid == pa && i == MAIN_LEN,
	    "SUBMIT_EX on queue %u tagged with PASID %u: COPY %u bytes verified", q,
	    pa, MAIN_LEN);
	ret = tagged_fill(fd, q, hb, DST_IOVA, 64, &x);
	tap(!ret && is_fault(&x, true) && x.pasid == pb && dst[0] == src[0],
	    "wrong PASID: tagged with B's, A's address faults and nothing is written");
	ret = tagged_fill(fd, 0, 0, DST_IOVA, 64, &x);
	tap(!ret && is_fault(&x, false) && dst[0] == src[0],
	    "untagged: A's address is not in the RID domain, faults");
	ret = pasid_op(fd, VTDP_TD_IOC_PASID_DETACH, ha, &st);
	ret2 = tagged_fill(fd, q, ha, DST_IOVA, 64, &x);
	tap(!ret && !st && !ret2 && is_fault(&x, true) && dst[0] == src[0],
	    "PASID_DETACH A, then its tagged DMA faults");
	ret = pasid_op(fd, VTDP_TD_IOC_PASID_DETACH, ha, &st);
	tap(!ret && st == VTDP_V3_STATUS_INVALID_PARAMETER_1,
	    "PASID_DETACH again: V3 status INVALID_PARAMETER_1 (%#x)", (uint32_t)st);
	ret = pasid_op(fd, VTDP_TD_IOC_PASID_ATTACH, ha, &st);
	ret2 = pasid_op(fd, VTDP_TD_IOC_PASID_ATTACH, ha, &st2);
	tap(!ret && !st && !ret2 && st2 == VTDP_V3_STATUS_UNSUCCESSFUL,
	    "PASID_ATTACH A: SUCCESS, again: UNSUCCESSFUL (%#x)", (uint32_t)st2);
	ret = tagged_fill(fd, q, ha, DST_IOVA, 64, &x);
	tap(!ret && td_st_is(&x.desc, VTDP_TD_ST_OK) && dst[0] == (uint8_t)FILL_PATTERN,
	    "re-attached A translates again");
	ret = td_map_ex(fd, 9999, src, BUF_LEN, SRC_IOVA, VTDP_TD_MAP_READ, &m1);
	ret2 = tagged_fill(fd, q, 9999, DST_IOVA, 64, &x);
	ret3 = pasid_op(fd, VTDP_TD_IOC_PASID_DESTROY, 9999, &st);
	tap(ret == -ENOENT && ret2 == -ENOENT && ret3 == -ENOENT,
	    "an unknown handle: MAP_EX, SUBMIT_EX, PASID_DESTROY say ENOENT");
	fd2 = open(devpath, O_RDWR | O_CLOEXEC);
	ret = fd2 < 0 ? -errno : tagged_fill(fd2, q, ha, DST_IOVA, 64, &x);
	ret2 = fd2 < 0 ? -errno : pasid_op(fd2, VTDP_TD_IOC_PASID_DETACH, ha, &st);
	tap(ret == -ENOENT && ret2 == -ENOENT,
	    "another file cannot use A's handle (ENOENT)");
	ret = tagged_fill(fd, info->nqueues, 0, DST_IOVA, 64, &x);
	tap(ret == -EINVAL, "SUBMIT_EX on queue %u (of %u): EINVAL", info->nqueues,
	    info->nqueues);
	memset(&rid, 0, sizeof(rid));
	rid.domain_type = VTDP_TD_DOMAIN_QUERY;
	ret = ioctl(fd, VTDP_TD_IOC_RID_DOMAIN, &rid) < 0 ? -errno : 0;
	tap(!ret && rid.domain_type == VTDP_TD_DOMAIN_TRANSLATE &&
	    (rid.available & 1) && (rid.available & (1U << 3)),
	    "RID_DOMAIN query: Translate, available %#x", rid.available);
	ret = fd2 < 0 ? -1 : td_map_ex(fd2, 0, src, BUF_LEN, SRC_IOVA,
				       VTDP_TD_MAP_READ, &m1);
	memset(&rid, 0, sizeof(rid));
	rid.domain_type = VTDP_TD_DOMAIN_TRANSLATE_S1;
	ret2 = ioctl(fd, VTDP_TD_IOC_RID_DOMAIN, &rid) < 0 ? -errno : 0;
	tap(!ret && !m1.status && ret2 == -EBUSY,
	    "RID_DOMAIN change while another file has a RID mapping: EBUSY");
	if (fd2 >= 0)
		close(fd2);	/* which unmaps it */
	memset(&rid, 0, sizeof(rid));
	rid.domain_type = VTDP_TD_DOMAIN_TRANSLATE_S1;
	ret = ioctl(fd, VTDP_TD_IOC_RID_DOMAIN, &rid) < 0 ? -errno : 0;
	ret2 = td_map_ex(fd, 0, dst, BUF_LEN, 0x300000, VTDP_TD_MAP_WRITE, &m2);
	ret3 = tagged_fill(fd, 0, 0, 0x300000, 64, &x);
	tap(!ret && !rid.status && rid.domain_type == VTDP_TD_DOMAIN_TRANSLATE_S1 &&
	    !ret2 && !m2.status && !ret3 && td_st_is(&x.desc, VTDP_TD_ST_OK),
	    "RID_DOMAIN TranslateS1: the rings moved, untagged DMA works");
	ret = td_unmap_ex(fd, 0, 0x300000, &st);
	memset(&rid, 0, sizeof(rid));
	rid.domain_type = VTDP_TD_DOMAIN_TRANSLATE;
	ret2 = ioctl(fd, VTDP_TD_IOC_RID_DOMAIN, &rid) < 0 ? -errno : 0;
	tap(!ret && !st && !ret2 && !rid.status &&
	    rid.domain_type == VTDP_TD_DOMAIN_TRANSLATE, "RID_DOMAIN back to Translate");
	ret = td_unmap_ex(fd, ha, DST_IOVA, &st);
	ret2 = td_unmap_ex(fd, ha, DST_IOVA, &st2);
	tap(!ret && !st && ret2 == -ENOENT, "UNMAP_EX A's dst, again: ENOENT");
	ret = pasid_op(fd, VTDP_TD_IOC_PASID_DESTROY, ha, &st);
	ret2 = tagged_fill(fd, q, ha, SRC_IOVA, 64, &x);
	tap(!ret && !st && ret2 == -ENOENT,
	    "PASID_DESTROY A (its src still mapped): then its handle is gone");
	ret = td_map_ex(fd, hb, src, BUF_LEN, SRC_IOVA, VTDP_TD_MAP_READ, &m1);
	ret2 = td_pasid_create(fd, VTDP_TD_DOMAIN_TRANSLATE, &h, &p, &st);
	tap(!ret && !m1.status && !ret2 && !st,
	    "B keeps a mapping and a third sub-device exists: close undoes them");
	ret = pasid_op(fd, VTDP_TD_IOC_PASID_ATTACH, hb, &st);
	tap(!ret && st == VTDP_V3_STATUS_UNSUCCESSFUL,
	    "PASID_ATTACH of an attached sub-device: UNSUCCESSFUL");
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-d DEVICE] [-m MODE] [-p] [-u] [-v]\n"
		"  -d DEVICE  test device (default /dev/vtdp-testdev0)\n"
		"  -m MODE    the driver mode to expect: v3 (default, behind\n"
		"             vtdp-iommu) or dma-api (behind another IOMMU or none)\n"
		"  -p         test the PASID ioctls instead (v3 mode)\n"
		"  -u         dma-api mode behind an IOMMU: also a write to an\n"
		"             IOVA never mapped, which must fault\n"
		"  -v         verbose\n", prog);
}

int main(int argc, char **argv)
{
	const char *devpath = "/dev/vtdp-testdev0";
	struct vtdp_td_info info;
	struct vtdp_td_submit s;
	uint8_t *src = NULL, *dst = NULL;
	bool src_mapped = false, dst_mapped = false, fault_reporting = false;
	uint64_t before;
	int32_t st;
	uint32_t want_mode = VTDP_TD_MODE_V3;
	bool pasid_mode = false, unmapped = false;
	int fd = -1, opt;

	while ((opt = getopt(argc, argv, "d:m:puvh")) != -1) {
		switch (opt) {
		case 'd':
			devpath = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "v3")) {
				want_mode = VTDP_TD_MODE_V3;
			} else if (!strcmp(optarg, "dma-api")) {
				want_mode = VTDP_TD_MODE_DMA_API;
			} else {
				usage(argv[0]);
				return 2;
			}
			break;
		case 'p':
			pasid_mode = true;
			break;
		case 'u':
			unmapped = true;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}

	/* The plan depends on the mode; it is printed at the end (TAP 13). */
	if (want_mode == VTDP_TD_MODE_DMA_API)
		plan = PLAN_DMA_API + unmapped;
	else if (pasid_mode)
		plan = PLAN_PASID;
	printf("TAP version 13\n");

	/* 1 */
	fd = open(devpath, O_RDWR | O_CLOEXEC);
	tap(fd >= 0, "open %s", devpath);
	if (fd < 0) {
		diag("open: %s", strerror(errno));
		goto out;
	}

	/* 2 */
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, VTDP_TD_IOC_INFO, &info) < 0) {
		diag("INFO: %s", strerror(errno));
		tap(false, "INFO");
		goto out;
	}
	fault_reporting = info.flags & VTDP_TD_INFO_FAULT_REPORTING;
	diag("uapi version %u, mode %s, bdf %04x:%02x:%02x.%x, %u queue(s), caps %#x, pasid width %u, hw version %u, fault reporting %s, iova limit %#" PRIx64,
	     info.version,
	     info.mode == VTDP_TD_MODE_V3 ? "v3" :
	     info.mode == VTDP_TD_MODE_DMA_API ? "dma-api" : "?",
	     info.bdf >> 16, (info.bdf >> 8) & 0xff, (info.bdf >> 3) & 0x1f,
	     info.bdf & 7, info.nqueues, info.caps, info.pasid_width,
	     info.hw_version, fault_reporting ? "on" : "off",
	     (uint64_t)info.iova_limit);
	tap(info.version == VTDP_TESTDEV_UAPI_VERSION && info.mode == want_mode,
	    "INFO: uapi version %u, mode %s", info.version,
	    want_mode == VTDP_TD_MODE_V3 ? "v3" : "dma-api");
	if (info.mode != want_mode)
		goto out;
	if (want_mode == VTDP_TD_MODE_DMA_API) {
		run_dma_api(fd, unmapped);
		goto out;
	}

	src = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		diag("mmap: %s", strerror(errno));
		src = dst = NULL;
		goto out;
	}
	if (pasid_mode) {
		run_pasid(fd, &info, src, dst, devpath);
		goto out;
	}
	for (size_t i = 0; i < BUF_LEN; i++)
		src[i] = (uint8_t)(i * 7 + (i >> 8) + 0x5a);
	memset(dst, 0, BUF_LEN);

	/* 3, 4 */
	src_mapped = do_map(fd, src, BUF_LEN, SRC_IOVA, VTDP_TD_MAP_READ, &st, NULL) == 0 &&
		     st == 0;
	tap(src_mapped, "MAP src (%lu bytes) READ at IOVA %#llx", BUF_LEN,
	    (unsigned long long)SRC_IOVA);
	dst_mapped = do_map(fd, dst, BUF_LEN, DST_IOVA, VTDP_TD_MAP_WRITE, &st, NULL) == 0 &&
		     st == 0;
	tap(dst_mapped, "MAP dst (%lu bytes) WRITE at IOVA %#llx", BUF_LEN,
	    (unsigned long long)DST_IOVA);
	if (!src_mapped || !dst_mapped)
		goto out;

	/* 5, 6 */
	if (do_submit(fd, VTDP_TD_OP_COPY, MAIN_LEN, SRC_IOVA, DST_IOVA, 0, &s) < 0)
		goto out;
	tap(td_st_is(&s, VTDP_TD_ST_OK), "COPY %u bytes completes OK", MAIN_LEN);
	{
		size_t i;

		for (i = 0; i < MAIN_LEN && dst[i] == src[i]; i++)
			;
		if (i < MAIN_LEN)
			diag("first mismatch at offset %zu: dst %#04x src %#04x",
			     i, dst[i], src[i]);
		tap(i == MAIN_LEN, "COPY: dst == src byte for byte");
	}

	/* 7: odd length, tail must stay untouched */
	memset(dst, 0xee, BUF_LEN);
	if (do_submit(fd, VTDP_TD_OP_COPY, ODD_LEN, SRC_IOVA, DST_IOVA, 0, &s) < 0)
		goto out;
	{
		size_t i, j;

		for (i = 0; i < ODD_LEN && dst[i] == src[i]; i++)
			;
		for (j = ODD_LEN; j < BUF_LEN && dst[j] == 0xee; j++)
			;
		if (i < ODD_LEN)
			diag("first mismatch at offset %zu: dst %#04x src %#04x",
			     i, dst[i], src[i]);
		if (j < BUF_LEN)
			diag("byte %zu beyond the length was written (%#04x)",
			     j, dst[j]);
		tap(td_st_is(&s, VTDP_TD_ST_OK) && i == ODD_LEN && j == BUF_LEN,
		    "COPY odd length %u: exact, nothing written past the end",
		    ODD_LEN);
	}

	/* 8 */
	if (do_submit(fd, VTDP_TD_OP_FILL, MAIN_LEN, 0, DST_IOVA, FILL_PATTERN,
		      &s) < 0)
		goto out;
	{
		uint8_t pat[8];
		size_t i;

		for (i = 0; i < 8; i++)
			pat[i] = (uint8_t)(FILL_PATTERN >> (8 * i));
		for (i = 0; i < MAIN_LEN && dst[i] == pat[i % 8]; i++)
			;
		if (i < MAIN_LEN)
			diag("first mismatch at offset %zu: dst %#04x want %#04x",
			     i, dst[i], pat[i % 8]);
		tap(td_st_is(&s, VTDP_TD_ST_OK) && i == MAIN_LEN,
		    "FILL %u bytes with %#llx", MAIN_LEN,
		    (unsigned long long)FILL_PATTERN);
	}

	/* 9 */
	if (do_submit(fd, VTDP_TD_OP_CRC32C, ODD_LEN, SRC_IOVA, 0, 0, &s) < 0)
		goto out;
	{
		uint32_t sw = td_crc32c(src, ODD_LEN);

		diag("CRC32C device %#" PRIx64 " software %#x", (uint64_t)s.result, sw);
		tap(td_st_is(&s, VTDP_TD_ST_OK) && s.result == sw,
		    "CRC32C of %u bytes matches software", ODD_LEN);
	}

	/* 10 */
	if (do_unmap(fd, DST_IOVA, &st) < 0)
		goto out;
	dst_mapped = st != 0;
	tap(st == 0, "UNMAP dst at %#llx", (unsigned long long)DST_IOVA);

	/* 11, 12: write to an unmapped IOVA */
	if (faults_total(fd, &before) < 0)
		goto out;
	if (do_submit(fd, VTDP_TD_OP_COPY, MAIN_LEN, SRC_IOVA, DST_IOVA, 0, &s) < 0)
		goto out;
	tap(td_st_is(&s, VTDP_TD_ST_DMA_FAULT) && (s.fault_info & VTDP_TD_FI_WRITE) &&
	    s.fault_addr >= DST_IOVA && s.fault_addr < DST_IOVA + BUF_LEN,
	    "COPY to unmapped IOVA: DMA_FAULT, write, fault_addr %#llx",
	    (unsigned long long)s.fault_addr);
	if (!fault_reporting)
		diag("driver has no V3 fault reporting: faults only in completions");
	tap(expect_fault(fd, before, DST_IOVA, DST_IOVA + BUF_LEN,
			 VTDP_FR_SM_SS_NOT_PRESENT),
	    "FAULTS: write fault in [%#llx, %#llx) reason %#x",
	    (unsigned long long)DST_IOVA,
	    (unsigned long long)(DST_IOVA + BUF_LEN), VTDP_FR_SM_SS_NOT_PRESENT);

	/* 13, 14, 15: write to a read-only mapping */
	dst_mapped = do_map(fd, dst, BUF_LEN, DST_IOVA, VTDP_TD_MAP_READ, &st, NULL) == 0 &&
		     st == 0;
	tap(dst_mapped, "MAP dst READ-only at %#llx", (unsigned long long)DST_IOVA);
	if (!dst_mapped)
		goto out;
	if (faults_total(fd, &before) < 0)
		goto out;
	if (do_submit(fd, VTDP_TD_OP_FILL, MAIN_LEN, 0, DST_IOVA, FILL_PATTERN,
		      &s) < 0)
		goto out;
	tap(td_st_is(&s, VTDP_TD_ST_DMA_FAULT) && (s.fault_info & VTDP_TD_FI_WRITE) &&
	    s.fault_addr >= DST_IOVA && s.fault_addr < DST_IOVA + BUF_LEN,
	    "FILL to read-only IOVA: DMA_FAULT, write, fault_addr %#llx",
	    (unsigned long long)s.fault_addr);
	tap(expect_fault(fd, before, DST_IOVA, DST_IOVA + BUF_LEN,
			 VTDP_FR_SM_WRITE),
	    "FAULTS: write fault in [%#llx, %#llx) reason %#x",
	    (unsigned long long)DST_IOVA,
	    (unsigned long long)(DST_IOVA + BUF_LEN), VTDP_FR_SM_WRITE);

	/* 16 */
	{
		int32_t st_src = -1, st_dst = -1;

		if (do_unmap(fd, DST_IOVA, &st_dst) == 0 && st_dst == 0)
			dst_mapped = false;
		if (do_unmap(fd, SRC_IOVA, &st_src) == 0 && st_src == 0)
			src_mapped = false;
		tap(!src_mapped && !dst_mapped, "UNMAP src and dst");
	}

out:
	/* 17; close also unmaps whatever is left. */
	if (fd >= 0)
		tap(close(fd) == 0, "close");
	if (src)
		munmap(src, BUF_LEN);
	if (dst)
		munmap(dst, BUF_LEN);
	while (test_no < plan)
		tap(false, "not run (an earlier step failed)");
	printf("1..%d\n", plan);
	if (failures)
		diag("%d of %d test(s) failed", failures, plan);
	return failures ? 1 : 0;
}
