// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-stress - DMA stress through vtdp-iommu from the guest.
 *
 * Threads, each with its own /dev/vtdp-testdev<N> file descriptor (so its
 * own mappings and sub-devices, torn down with it) and its own queue (as
 * far as the device has queues), run COPY, FILL and CRC32C descriptors of
 * random sizes at random alignments and verify every byte (a guard byte
 * after each transfer must stay untouched).  A descriptor runs in a
 * context: the RID device (untagged DMA through the RID domain) or one of
 * the thread's PASID sub-devices (DMA tagged with its PASID, through its
 * own domain), each with its own IOVA window and, by default, its own
 * source and destination buffers.  --buffers sets the number of buffer
 * pairs apart from the number of contexts (several pairs per context, or
 * one pair mapped in several contexts' domains), so that the data working
 * set and the number of PASIDs can be varied one at a time.
 *
 * On request a share of the descriptors is aimed to fault, by kind (see
 * enum fault_kind).  Each injected fault must come back as a DMA_FAULT
 * completion at the right address with the right tagging (observed), and
 * vtdp.ko must hand the driver a fault record for it with the VT-d reason
 * the kind implies (driver); every other descriptor must succeed.
 *
 * The exit status is non-zero on any corruption, any lost completion
 * (ioctl failure or timeout), or any difference between the faults
 * injected, observed and reported to the driver, kind by kind.  The host
 * side (scripts/stress) compares the same counts with the IOMMU's fault
 * log through QMP.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
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

#include "td-lib.h"

#define PAGE		4096ULL
#define MAX_THREADS	64
/* vtdp-iommu's max-pasid-spaces default: one address space per PASID */
#define MAX_PASIDS	4096
#define IOVA_TOP	(1ULL << 40)	/* the driver's iova_limit */
/* --buffers: 64 Ki pairs of 4 KiB transfers are already 1.5 GiB */
#define MAX_BUFFERS	65536

/*
 * unmapped:    a write to an IOVA never mapped in the context's domain;
 * readonly:    a write to a read-only mapping;
 * stale:       a write to an IOVA right after the device wrote it
 *              successfully and it was unmapped (V3 unmap invalidates
 *              synchronously): a translation the IOTLB held must be gone;
 * wrong-pasid: a write tagged with a sub-device's PASID to an IOVA that is
 *              mapped only in another context's domain;
 * detached:    a write tagged with a sub-device's PASID while the
 *              sub-device is detached from its domain (re-attached after).
 */
enum fault_kind { FK_UNMAPPED, FK_READONLY, FK_STALE, FK_WRONG_PASID,
		  FK_DETACHED, FK_NR };
static const char *const fk_name[FK_NR] = {
	"unmapped", "readonly", "stale", "wrong-pasid", "detached",
};
/* The kinds that need a PASID sub-device. */
#define FK_PASID_KINDS	((1U << FK_WRONG_PASID) | (1U << FK_DETACHED))

enum size_dist { SD_UNIFORM, SD_POW2 };

static struct {
	const char *dev;
	double seconds;
	unsigned int threads, queues, pasids;
	unsigned int buffers;	/* buffer pairs in all; 0: one per context */
	uint32_t min_len, max_len;
	enum size_dist dist;
	bool churn;		/* map and unmap around every descriptor */
	bool pasid_only;	/* every descriptor tagged with a sub-device */
	double fault_rate;	/* share of descriptors aimed to fault */
	unsigned int kinds;	/* bitmask of enum fault_kind */
	uint64_t seed;
	bool json, quiet;
	uint64_t page_size;	/* buffer pages: 4 KiB, 2 MiB or 1 GiB */
	uint32_t domain_type;	/* VTDP_TD_DOMAIN_* of every domain */
	bool dma_api;		/* the driver is in dma-api mode (from INFO) */
	bool passthrough;	/* V3 PassThrough domain (from INFO) */
	unsigned int dev_queues;
} opt = {
	.dev = "/dev/vtdp-testdev0",
	.seconds = 10,
	.threads = 4,
	.min_len = 1,
	.max_len = 256 * 1024,
	.kinds = (1U << FK_NR) - 1,
	.seed = 1,
	.page_size = PAGE,
	.domain_type = VTDP_TD_DOMAIN_TRANSLATE,
};

/*
 * Window layout of a context: slots of the buffer size, page aligned; a
 * context with more than one buffer pair (--buffers) maps the others from
 * slot SLOTS on, two slots a pair, and every window is win_slots long.
 */
enum { SLOT_SRC, SLOT_DST, SLOT_RO, SLOT_HOLE, SLOT_STALE, SLOTS = 8 };
static uint64_t slot_size;
static unsigned int win_slots = SLOTS;

struct stats {
	_Atomic uint64_t ops, bytes, corruptions, lost, unexpected;
	_Atomic uint64_t injected[FK_NR], observed[FK_NR], driver[FK_NR];
	_Atomic uint64_t tagged[FK_NR];	/* injected with a PASID tag */
	_Atomic uint64_t maps;
	_Atomic uint64_t min_page_size, min_phys_contig;
};

static struct stats st = { .min_page_size = UINT64_MAX,
			   .min_phys_contig = UINT64_MAX };
static atomic_bool stop;
/* The clock starts when every thread has mapped its buffers. */
static pthread_barrier_t mapped;

/* A source and a destination buffer, where a context has them mapped. */
struct bufs {
	uint8_t *src, *dst;
	uint64_t src_iova, dst_iova;
};

/*
 * A context: the RID device (handle 0, untagged DMA) or one PASID
 * sub-device, with its own domain, buffer pairs and IOVA window (unique
 * across all contexts, so one context's addresses are unmapped in every
 * other domain).  With --buffers a pair's pages may also be mapped in
 * other contexts of the same thread, each at its own window: a thread
 * runs one descriptor at a time, so they never race.
 */
struct ctx {
	uint32_t handle, pasid;
	uint64_t base;		/* IOVA window */
	struct bufs *b;		/* its buffer pairs, nb of them */
	unsigned int nb;
	uint8_t *ro, *stale;
};

struct worker {
	unsigned int id, queue;
	pthread_t thread;
	int fd;
	uint64_t rng;
	struct ctx *ctx;	/* [0]: RID; [1..nctx-1]: sub-devices */
	unsigned int nctx;
	struct bufs *pool;	/* --buffers: the thread's pairs, npool */
	unsigned int npool;
	size_t buf_len;		/* max_len + a page for alignment + guard,
				 * in whole pages of opt.page_size */
	size_t decoy_len;	/* the same in 4 KiB pages */
	struct vtdp_td_fault *fault_buf;
	char err[200];
};

static uint64_t rnd(struct worker *w)
{
	/* xorshift64*: fast, good enough, and reproducible from --seed */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd_len(struct worker *w)
{
	if (opt.min_len == opt.max_len)
		return opt.min_len;
	if (opt.dist == SD_POW2) {
		/* 2^k for k uniform over the powers of two in [min, max] */
		unsigned int lo = 0, hi = 0;

		while ((1U << lo) < opt.min_len)
			lo++;
		while (hi < 31 && (2U << hi) <= opt.max_len)
			hi++;
		return 1U << (lo + rnd(w) % (hi - lo + 1));
	}
	return opt.min_len + rnd(w) % (opt.max_len - opt.min_len + 1);
}

static uint64_t slot(const struct ctx *c, unsigned int n)
{
	return c->base + n * slot_size;
}

static void atomic_min(_Atomic uint64_t *v, uint64_t x)
{
	uint64_t cur = atomic_load(v);

	while (x < cur && !atomic_compare_exchange_weak(v, &cur, x))
		;
}

/*
 * Map @buf at @iova in @c's domain (V3 Translate), or where the DMA API
 * (dma-api mode) or the physical address (PassThrough domain) puts it;
 * the address used ends up in *@at when @at is not NULL.
 */
static int map_one(struct worker *w, struct ctx *c, void *buf, uint64_t iova,
		   uint32_t perms, uint64_t *at)
{
	/* the decoys are in small pages, only as large as a transfer needs */
	bool data = buf != c->ro && buf != c->stale;
	size_t len = data ? w->buf_len : w->decoy_len;
	struct vtdp_td_map_ex m;
	int ret = td_map_ex(w->fd, c->handle, buf, len, iova, perms, &m);

	if (ret < 0 || m.status) {
		snprintf(w->err, sizeof(w->err),
			 "MAP %#" PRIx64 " (handle %u): %s, V3 status %#x", iova,
			 c->handle, ret < 0 ? strerror(-ret) : "ok",
			 (uint32_t)m.status);
		return -1;
	}
	if (at)
		*at = m.iova;
	st.maps++;
	/* what the data buffers got (the decoys are in small pages) */
	if (data) {
		atomic_min(&st.min_page_size, m.page_size);
		atomic_min(&st.min_phys_contig, m.phys_contig);
	}
	return 0;
}

static int unmap_one(struct worker *w, struct ctx *c, uint64_t iova)
{
	int32_t status;
	int ret = td_unmap_ex(w->fd, c->handle, iova, &status);

	if (ret < 0 || status) {
		snprintf(w->err, sizeof(w->err),
			 "UNMAP %#" PRIx64 " (handle %u): %s, V3 status %#x",
			 iova, c->handle, ret < 0 ? strerror(-ret) : "ok",
			 (uint32_t)status);
		return -1;
	}
	return 0;
}

/* Where pair @i of @c goes in its window: SLOT_SRC for the first. */
static uint64_t pair_slot(const struct ctx *c, unsigned int i)
{
	return slot(c, i ? SLOTS + 2 * (i - 1) : SLOT_SRC);
}

static int map_buffers(struct worker *w, struct ctx *c, struct bufs *b)
{
	uint64_t at = pair_slot(c, b - c->b);

	return map_one(w, c, b->src, at, VTDP_TD_MAP_READ, &b->src_iova) ||
	       map_one(w, c, b->dst, at + slot_size, VTDP_TD_MAP_WRITE,
		       &b->dst_iova);
}

static int unmap_buffers(struct worker *w, struct ctx *c, struct bufs *b)
{
	return unmap_one(w, c, b->src_iova) || unmap_one(w, c, b->dst_iova);
}

static int submit(struct worker *w, const struct ctx *tag, uint32_t op,
		  uint32_t len, uint64_t src, uint64_t dst, uint64_t pattern,
		  struct vtdp_td_submit *s)
{
	struct vtdp_td_submit_ex x;
	int ret = td_submit_ex(w->fd, w->queue, tag->handle, op, len, src, dst,
			       pattern, &x);

	*s = x.desc;
	return ret;
}

/*
 * Map the stale decoy of @c, let the device write the page of @dst through
 * it (so the IOTLB holds the translation), and unmap: the caller's write
 * to @dst must now fault.
 */
static bool make_stale(struct worker *w, struct ctx *c, uint64_t dst)
{
	uint64_t page = dst & ~(PAGE - 1);
	struct vtdp_td_submit s;
	int ret;

	if (map_one(w, c, c->stale, slot(c, SLOT_STALE),
		    VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE, NULL))
		return false;
	ret = submit(w, c, VTDP_TD_OP_WRITE_IMM, 1, 0, page, 0, &s);
	if (ret < 0 || !td_st_is(&s, VTDP_TD_ST_OK)) {
		snprintf(w->err, sizeof(w->err), "stale: priming write: %s",
			 ret < 0 ? strerror(-ret) : td_st_name(s.status));
		return false;
	}
	/* The priming byte must not count as a corruption of the decoy. */
	c->stale[page - slot(c, SLOT_STALE)] = 0;
	return !unmap_one(w, c, slot(c, SLOT_STALE));
}

static bool pasid_op(struct worker *w, struct ctx *c, unsigned long cmd,
		     const char *what)
{
	int32_t status;
	int ret = td_pasid_op(w->fd, cmd, c->handle, &status);

	if (ret < 0 || status) {
		snprintf(w->err, sizeof(w->err), "%s PASID %u: %s, V3 status %#x",
			 what, c->pasid, ret < 0 ? strerror(-ret) : "ok",
			 (uint32_t)status);
		return false;
	}
	return true;
}

/* The VT-d fault reason @kind must produce in a domain of our type. */
static uint8_t fk_reason(int kind)
{
	bool s1 = opt.domain_type == VTDP_TD_DOMAIN_TRANSLATE_S1;

	switch (kind) {
	case FK_READONLY:
		return VTDP_FR_SM_WRITE;
	case FK_DETACHED:
		return VTDP_FR_SM_PTE_NOT_PRESENT;
	default:
		return s1 ? VTDP_FR_SM_FS_NOT_PRESENT : VTDP_FR_SM_SS_NOT_PRESENT;
	}
}

/*
 * Wait for vtdp.ko to hand the driver the fault of the descriptor just
 * completed: newer than @seq0, at the page of @addr, a write, from @tag's
 * PASID (or untagged), with @reason.  Faults come from a workqueue, so
 * give it time; other threads' faults are interleaved but never match
 * (their windows differ).
 */
static bool driver_saw(struct worker *w, const struct ctx *tag, uint64_t addr,
		       uint8_t reason, uint64_t seq0)
{
	for (int tries = 0; tries < 5000; tries++) {
		uint32_t n;
		uint64_t total;

		if (td_faults(w->fd, w->fault_buf, VTDP_TD_FAULT_RING, &n,
			      &total) < 0)
			return false;
		for (uint32_t i = 0; i < n; i++) {
			const struct vtdp_td_fault *f = &w->fault_buf[i];

			if (f->seq > seq0 && (f->address >> 12) == (addr >> 12) &&
			    f->write && f->pasid_valid == (tag->handle != 0) &&
			    (!tag->handle || f->pasid == tag->pasid))
				return f->reason == reason;
		}
		usleep(1000);
	}
	return false;
}

/* One descriptor, verified.  Returns false when the worker must stop. */
static bool one_op(struct worker *w)
{
	/* --pasid-only: every thread has a sub-device (checked in main) */
	unsigned int first = opt.pasid_only ? 1 : 0;
	struct ctx *c = &w->ctx[first + rnd(w) % (w->nctx - first)], *tag = c;
	uint32_t len = rnd_len(w);
	uint32_t soff = rnd(w) % PAGE, doff = rnd(w) % PAGE;
	uint64_t pattern = rnd(w), seq0 = 0;
	uint32_t op = VTDP_TD_OP_COPY + rnd(w) % 3;	/* COPY, FILL, CRC32C */
	uint64_t src, dst;
	int kind = -1;
	struct bufs *b;
	struct vtdp_td_submit s;
	uint8_t *decoy = NULL;
	int ret;

	if (opt.fault_rate > 0 &&
	    (double)(rnd(w) >> 11) / (double)(1ULL << 53) < opt.fault_rate) {
		unsigned int kinds = opt.kinds;

		if (w->nctx < 2)
			kinds &= ~FK_PASID_KINDS;
		if (kinds) {
			do
				kind = rnd(w) % FK_NR;
			while (!(kinds & (1U << kind)));
			/*
			 * Only writes can hit the read-only decoy: COPY or
			 * FILL; a tagged write to another context's address
			 * or through a detached PASID: FILL (no read first).
			 */
			if (op == VTDP_TD_OP_CRC32C || kind == FK_WRONG_PASID ||
			    kind == FK_DETACHED)
				op = VTDP_TD_OP_FILL;
			/* the PASID kinds tag with a sub-device */
			if (kind == FK_WRONG_PASID || kind == FK_DETACHED) {
				tag = &w->ctx[1 + rnd(w) % (w->nctx - 1)];
				if (kind == FK_DETACHED)
					c = tag;
				else
					while (c == tag)
						c = &w->ctx[rnd(w) % w->nctx];
			}
		}
	}

	/* one of c's pairs (drawn only when there is a choice) */
	b = &c->b[c->nb > 1 ? rnd(w) % c->nb : 0];
	/* With churn the buffers are mapped for this descriptor only. */
	if (opt.churn && map_buffers(w, c, b))
		return false;
	src = b->src_iova + soff;
	dst = b->dst_iova + doff;

	switch (kind) {
	case FK_UNMAPPED:
		dst = slot(c, SLOT_HOLE) + doff;
		break;
	case FK_READONLY:
		dst = slot(c, SLOT_RO) + doff;
		decoy = c->ro;
		break;
	case FK_STALE:
		dst = slot(c, SLOT_STALE) + doff;
		decoy = c->stale;
		if (!make_stale(w, c, dst))
			return false;
		break;
	case FK_WRONG_PASID:
		/*
		 * c's destination, mapped at this IOVA in c's domain only
		 * (another context may map the same pages, at its own window)
		 */
		decoy = b->dst;
		break;
	case FK_DETACHED:
		decoy = b->dst;
		if (!pasid_op(w, tag, VTDP_TD_IOC_PASID_DETACH, "detach"))
			return false;
		break;
	}

	for (uint32_t i = 0; i < len; i++)
		b->src[soff + i] = (uint8_t)(pattern >> (8 * (i % 8))) ^ (uint8_t)i;
	memset(b->dst + doff, 0x5a, len + 1);
	if (kind >= 0 && td_faults(w->fd, NULL, 0, &(uint32_t){ 0 }, &seq0) < 0) {
		snprintf(w->err, sizeof(w->err), "FAULTS: %s", strerror(errno));
		return false;
	}

	ret = submit(w, tag, op, len, src, dst, pattern, &s);
	if (kind == FK_DETACHED &&
	    !pasid_op(w, tag, VTDP_TD_IOC_PASID_ATTACH, "re-attach"))
		return false;
	if (opt.churn && unmap_buffers(w, c, b))
		return false;
	if (ret < 0) {
		st.lost++;
		snprintf(w->err, sizeof(w->err), "SUBMIT: %s", strerror(-ret));
		return false;
	}

	if (kind >= 0) {
		bool tagged = tag->handle != 0;

		st.injected[kind]++;
		if (tagged)
			st.tagged[kind]++;
		if (td_st_is(&s, VTDP_TD_ST_DMA_FAULT) &&
		    (s.fault_info & VTDP_TD_FI_WRITE) &&
		    !!(s.fault_info & VTDP_TD_FI_PASID) == tagged &&
		    s.fault_addr >= dst && s.fault_addr < dst + len) {
			st.observed[kind]++;
			if (driver_saw(w, tag, s.fault_addr, fk_reason(kind), seq0))
				st.driver[kind]++;
		} else {
			st.unexpected++;
		}
		/* Nothing may have reached the decoy. */
		if (decoy) {
			uint8_t clean = decoy == b->dst ? 0x5a : 0;

			for (uint32_t i = 0; i < len; i++)
				if (decoy[doff + i] != clean) {
					st.corruptions++;
					break;
				}
		}
		st.ops++;
		return true;
	}

	if (!td_st_is(&s, VTDP_TD_ST_OK)) {
		st.unexpected++;
		snprintf(w->err, sizeof(w->err),
			 "op %u len %u handle %u: status %#x (%s) fault_addr %#" PRIx64,
			 op, len, tag->handle, s.status, td_st_name(s.status),
			 (uint64_t)s.fault_addr);
		return false;
	}
	switch (op) {
	case VTDP_TD_OP_COPY:
		if (memcmp(b->dst + doff, b->src + soff, len))
			st.corruptions++;
		break;
	case VTDP_TD_OP_FILL:
		for (uint32_t i = 0; i < len; i++)
			if (b->dst[doff + i] != (uint8_t)(pattern >> (8 * (i % 8)))) {
				st.corruptions++;
				break;
			}
		break;
	default:
		if (s.result != td_crc32c(b->src + soff, len))
			st.corruptions++;
		break;
	}
	if (op != VTDP_TD_OP_CRC32C && b->dst[doff + len] != 0x5a)
		st.corruptions++;	/* written past the end */
	st.ops++;
	st.bytes += len;
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	bool ok = true;

	for (unsigned int i = 0; ok && i < w->nctx; i++) {
		struct ctx *c = &w->ctx[i];

		for (unsigned int k = 0; ok && !opt.churn && k < c->nb; k++)
			if (map_buffers(w, c, &c->b[k]))
				ok = false;
		/* The decoy is mapped read-only for the whole run. */
		if (ok && (opt.kinds & (1U << FK_READONLY)) && opt.fault_rate > 0 &&
		    map_one(w, c, c->ro, slot(c, SLOT_RO), VTDP_TD_MAP_READ, NULL))
			ok = false;
	}
	/*
	 * Long-lived mappings are set up before the clock starts: with
	 * thousands of sub-devices they take seconds, which are not DMA.
	 */
	pthread_barrier_wait(&mapped);
	while (ok && !atomic_load(&stop))
		if (!one_op(w))
			break;
	if (w->err[0])
		atomic_store(&stop, true);
	return NULL;
}

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif

/* A DMA buffer in pages of opt.page_size (hugetlb above 4 KiB). */
static void *alloc_buf(size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;

	if (opt.page_size > PAGE)
		flags |= MAP_HUGETLB |
			 (__builtin_ctzll(opt.page_size) << MAP_HUGE_SHIFT);
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
}

static void *alloc_small(size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* N, MIN-MAX (uniform) or pow2:MIN-MAX (powers of two, uniform exponent) */
static bool parse_len(const char *arg)
{
	char *end;
	unsigned long a, b;

	opt.dist = SD_UNIFORM;
	if (!strncmp(arg, "pow2:", 5)) {
		opt.dist = SD_POW2;
		arg += 5;
	}
	a = b = strtoul(arg, &end, 0);
	if (*end == '-')
		b = strtoul(end + 1, &end, 0);
	if (*end || a < 1 || b < a || b > VTDP_TD_MAX_LEN)
		return false;
	/* a power-of-two distribution needs a power of two in the range */
	if (opt.dist == SD_POW2 && (1UL << (63 - __builtin_clzl(b))) < a)
		return false;
	opt.min_len = a;
	opt.max_len = b;
	return true;
}

static bool parse_kinds(const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	bool ok = true;

	opt.kinds = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k;

		for (k = 0; k < FK_NR && strcmp(tok, fk_name[k]); k++)
			;
		if (k == FK_NR)
			ok = false;
		else
			opt.kinds |= 1U << k;
	}
	free(copy);
	return ok && opt.kinds;
}

static bool parse_page_size(const char *arg)
{
	if (!strcmp(arg, "4k"))
		opt.page_size = PAGE;
	else if (!strcmp(arg, "2m"))
		opt.page_size = 2ULL << 20;
	else if (!strcmp(arg, "1g"))
		opt.page_size = 1ULL << 30;
	else
		return false;
	return true;
}

static const char *domain_name(uint32_t type)
{
	return type == VTDP_TD_DOMAIN_TRANSLATE_S1 ? "translate-s1" : "translate";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vtdp-stress [options]\n"
		"  -d, --device PATH      endpoint (default /dev/vtdp-testdev0)\n"
		"  -t, --seconds S        duration (default 10)\n"
		"  -j, --threads N        threads, 1..%d (default 4), each with its\n"
		"                         own file descriptor and queue\n"
		"  -Q, --queues N         queues to spread the threads over (default:\n"
		"                         as many as threads, up to the device's)\n"
		"  -P, --pasids N         PASID sub-devices, 0..%d (default 0), dealt\n"
		"                         out to the threads; each has its own domain,\n"
		"                         buffers and IOVA window, and its descriptors\n"
		"                         are tagged with its PASID\n"
		"  -s, --size SPEC        transfer bytes: N (fixed), MIN-MAX (uniform)\n"
		"                         or pow2:MIN-MAX (powers of two, each equally\n"
		"                         likely); default 1-262144, at most %u\n"
		"      --page-size P      buffer pages 4k (default), 2m or 1g (hugetlb:\n"
		"                         reserve them with hugepagesz=/hugepages=)\n"
		"      --domain-type T    translate (default) or translate-s1, for the\n"
		"                         sub-devices' domains and the RID domain\n"
		"      --pasid-only       every descriptor tagged with a sub-device's\n"
		"                         PASID, none untagged through the RID domain\n"
		"                         (needs --pasids >= --threads)\n"
		"      --buffers N        source/destination buffer pairs in all,\n"
		"                         1..%d, dealt out to the threads (default:\n"
		"                         one per context); a thread's pairs are\n"
		"                         dealt out to its contexts, several to one\n"
		"                         or one mapped in several, so that the data\n"
		"                         working set does not follow --pasids\n"
		"  -c, --churn            map and unmap around every descriptor\n"
		"                         (default: long-lived mappings)\n"
		"  -f, --fault-rate R     share of descriptors aimed to fault, 0..1\n"
		"  -k, --fault-kinds L    of unmapped,readonly,stale,wrong-pasid,detached\n"
		"                         (default all; the last two need --pasids)\n"
		"      --seed N           random seed (default 1)\n"
		"      --hugepages        the same as --page-size 2m\n"
		"      --json             print the summary as one JSON object\n"
		"  -q, --quiet            no live progress line\n",
		MAX_THREADS, MAX_PASIDS, VTDP_TD_MAX_LEN, MAX_BUFFERS);
}

/* Give the RID device a domain of @type (no mapping may be in it). */
static bool set_rid_domain(int fd, uint32_t type)
{
	struct vtdp_td_rid_domain rid = { .domain_type = type };
	int ret = ioctl(fd, VTDP_TD_IOC_RID_DOMAIN, &rid) < 0 ? -errno : 0;

	if (ret < 0 || rid.status) {
		fprintf(stderr, "vtdp-stress: RID domain %s: %s, V3 status %#x\n",
			domain_name(type), ret < 0 ? strerror(-ret) : "ok",
			(uint32_t)rid.status);
		return false;
	}
	return true;
}

/* The buffer pairs allocated (the data working set, reported). */
static unsigned int npairs;

/* A new source and destination buffer of @w's buffer length. */
static bool alloc_pair(struct worker *w, struct bufs *b)
{
	b->src = alloc_buf(w->buf_len);
	b->dst = alloc_buf(w->buf_len);
	if (b->src == MAP_FAILED || b->dst == MAP_FAILED) {
		fprintf(stderr, "vtdp-stress: buffers of %zu bytes in %" PRIu64
			"-byte pages: %s\n", w->buf_len, opt.page_size,
			strerror(errno));
		return false;
	}
	npairs++;
	return true;
}

/*
 * The first context of a thread that carries data: 1 with --pasid-only
 * (the RID context then carries none), else 0.
 */
static unsigned int first_data_ctx(void)
{
	return opt.pasid_only ? 1 : 0;
}

/*
 * The buffer pairs of @w's context @i: by default a pair of its own; with
 * --buffers, the thread's pool dealt out over the contexts that carry
 * data, pair k to context k mod n (several pairs a context when there are
 * more pairs than contexts, one pair shared by several contexts when there
 * are fewer).  The RID context of a --pasid-only run shares the first
 * pair: wrong-pasid faults may still aim at its destination.
 */
static bool ctx_buffers(struct worker *w, struct ctx *c, unsigned int i)
{
	unsigned int first = first_data_ctx(), n = w->nctx - first;

	if (!opt.buffers) {
		c->nb = 1;
		c->b = calloc(1, sizeof(*c->b));
		return c->b && alloc_pair(w, c->b);
	}
	if (i < first || w->npool < n)
		c->nb = 1;
	else
		c->nb = (w->npool - (i - first) + n - 1) / n;
	c->b = calloc(c->nb, sizeof(*c->b));
	if (!c->b)
		return false;
	for (unsigned int k = 0; k < c->nb; k++) {
		unsigned int p = i < first ? 0 : (i - first + k * n) % w->npool;

		c->b[k].src = w->pool[p].src;
		c->b[k].dst = w->pool[p].dst;
	}
	return true;
}

/*
 * Make @c, context @i of @w, a new sub-device (or the RID context) with
 * its buffers; @g numbers its IOVA window.
 */
static bool ctx_setup(struct worker *w, struct ctx *c, unsigned int i,
		      unsigned int g, bool pasid)
{
	if (pasid) {
		int32_t status;
		int ret = td_pasid_create(w->fd, opt.domain_type, &c->handle,
					  &c->pasid, &status);

		if (ret < 0 || status) {
			fprintf(stderr, "vtdp-stress: PASID_CREATE (%s): %s, V3 status %#x\n",
				domain_name(opt.domain_type),
				ret < 0 ? strerror(-ret) : "ok", (uint32_t)status);
			return false;
		}
	}
	c->base = (uint64_t)(g + 1) * win_slots * slot_size;
	c->ro = alloc_small(w->decoy_len);
	c->stale = alloc_small(w->decoy_len);
	if (c->ro == MAP_FAILED || c->stale == MAP_FAILED) {
		fprintf(stderr, "vtdp-stress: decoys of %zu bytes: %s\n",
			w->decoy_len, strerror(errno));
		return false;
	}
	return ctx_buffers(w, c, i);
}

int main(int argc, char **argv)
{
	enum { O_SEED = 256, O_JSON, O_HUGE, O_PAGE, O_DOMAIN, O_PASID_ONLY,
	       O_BUFFERS };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'j' },
		{ "queues", required_argument, NULL, 'Q' },
		{ "pasids", required_argument, NULL, 'P' },
		{ "size", required_argument, NULL, 's' },
		{ "churn", no_argument, NULL, 'c' },
		{ "fault-rate", required_argument, NULL, 'f' },
		{ "fault-kinds", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, O_SEED },
		{ "json", no_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "hugepages", no_argument, NULL, O_HUGE },
		{ "page-size", required_argument, NULL, O_PAGE },
		{ "domain-type", required_argument, NULL, O_DOMAIN },
		{ "pasid-only", no_argument, NULL, O_PASID_ONLY },
		{ "buffers", required_argument, NULL, O_BUFFERS },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct vtdp_td_rid_domain rid = { .domain_type = VTDP_TD_DOMAIN_QUERY };
	uint32_t rid_type = VTDP_TD_DOMAIN_QUERY;
	struct vtdp_td_info info = { 0 };
	struct worker *w;
	uint64_t faults_before = 0, faults_after = 0;
	double t0, t1, last = 0;
	char *end;
	bool ok;
	int c, probe;

	while ((c = getopt_long(argc, argv, "d:t:j:Q:P:s:cf:k:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 't': opt.seconds = atof(optarg); break;
		case 'j': opt.threads = atoi(optarg); break;
		case 'Q': opt.queues = atoi(optarg); break;
		case 'P': opt.pasids = atoi(optarg); break;
		case 's':
			if (!parse_len(optarg)) {
				fprintf(stderr, "vtdp-stress: bad --size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c': opt.churn = true; break;
		case 'f': opt.fault_rate = atof(optarg); break;
		case 'k':
			if (!parse_kinds(optarg)) {
				fprintf(stderr, "vtdp-stress: bad --fault-kinds '%s'\n", optarg);
				return 2;
			}
			break;
		case O_SEED: opt.seed = strtoull(optarg, NULL, 0); break;
		case O_JSON: opt.json = true; break;
		case 'q': opt.quiet = true; break;
		case O_HUGE: opt.page_size = 2ULL << 20; break;
		case O_PAGE:
			if (!parse_page_size(optarg)) {
				fprintf(stderr, "vtdp-stress: --page-size must be 4k, 2m or 1g\n");
				return 2;
			}
			break;
		case O_DOMAIN:
			if (!strcmp(optarg, "translate")) {
				opt.domain_type = VTDP_TD_DOMAIN_TRANSLATE;
			} else if (!strcmp(optarg, "translate-s1")) {
				opt.domain_type = VTDP_TD_DOMAIN_TRANSLATE_S1;
			} else {
				fprintf(stderr, "vtdp-stress: --domain-type must be translate or translate-s1\n");
				return 2;
			}
			break;
		case O_PASID_ONLY: opt.pasid_only = true; break;
		case O_BUFFERS:
			opt.buffers = strtoul(optarg, &end, 0);
			if (*end || !opt.buffers || opt.buffers > MAX_BUFFERS) {
				fprintf(stderr, "vtdp-stress: --buffers must be 1..%d\n",
					MAX_BUFFERS);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opt.seconds <= 0 || opt.threads < 1 || opt.threads > MAX_THREADS ||
	    opt.pasids > MAX_PASIDS ||
	    opt.fault_rate < 0 || opt.fault_rate > 1) {
		usage(stderr);
		return 2;
	}
	if (opt.buffers && opt.buffers < opt.threads) {
		fprintf(stderr, "vtdp-stress: --buffers needs a buffer pair per thread (--buffers >= --threads)\n");
		return 2;
	}
	if (opt.pasid_only && opt.pasids < opt.threads) {
		fprintf(stderr, "vtdp-stress: --pasid-only needs a sub-device per thread (--pasids >= --threads)\n");
		return 2;
	}
	if (opt.fault_rate > 0 && !opt.pasids && !(opt.kinds & ~FK_PASID_KINDS)) {
		fprintf(stderr, "vtdp-stress: fault kinds wrong-pasid and detached need --pasids\n");
		return 2;
	}

	/* The guest driver's own count of the faults vtdp.ko reported. */
	probe = open(opt.dev, O_RDWR | O_CLOEXEC);
	if (probe < 0 || td_faults_total(probe, &faults_before) < 0) {
		fprintf(stderr, "vtdp-stress: %s: %s\n", opt.dev, strerror(errno));
		return 1;
	}
	if (ioctl(probe, VTDP_TD_IOC_INFO, &info) < 0) {
		fprintf(stderr, "vtdp-stress: INFO: %s\n", strerror(errno));
		return 1;
	}
	/*
	 * With the DMA API the kernel picks the addresses: there is no
	 * IOVA window to aim faults at, and no sub-devices.
	 */
	opt.dma_api = info.mode == VTDP_TD_MODE_DMA_API;
	opt.passthrough = info.flags & VTDP_TD_INFO_PASSTHROUGH;
	if ((opt.dma_api || opt.passthrough) && (opt.fault_rate > 0 || opt.pasids)) {
		fprintf(stderr, "vtdp-stress: fault injection and PASIDs need the V3 mode "
			"(vtdp-iommu) with a Translate domain; the driver is in %s mode\n",
			opt.dma_api ? "dma-api" : "passthrough");
		return 2;
	}
	opt.dev_queues = info.nqueues;
	if (!opt.queues)
		opt.queues = opt.threads < info.nqueues ? opt.threads : info.nqueues;
	if (opt.queues < 1 || opt.queues > info.nqueues) {
		fprintf(stderr, "vtdp-stress: --queues must be 1..%u\n", info.nqueues);
		return 2;
	}
	/* The RID domain's type is the device's: put it back at the end. */
	if (!opt.dma_api && !opt.passthrough &&
	    (ioctl(probe, VTDP_TD_IOC_RID_DOMAIN, &rid) < 0 ||
	     !set_rid_domain(probe, opt.domain_type)))
		return 1;
	rid_type = rid.domain_type;

	/* Slots hold a buffer each and keep large pages aligned. */
	{
		uint64_t len = (opt.max_len + 2 * PAGE + opt.page_size - 1) &
			       ~(opt.page_size - 1);

		/*
		 * The most pairs a context gets from --buffers: a thread's
		 * share of them (rounded up) over its fewest data contexts.
		 */
		unsigned int per_thread = (opt.buffers + opt.threads - 1) / opt.threads;
		unsigned int nctx_min = opt.pasids / opt.threads + 1 - first_data_ctx();

		if (per_thread > nctx_min)
			win_slots = SLOTS + 2 * ((per_thread + nctx_min - 1) / nctx_min - 1);
		slot_size = 1;
		while (slot_size < len)
			slot_size <<= 1;
		if ((uint64_t)(opt.threads + opt.pasids + 1) * win_slots * slot_size > IOVA_TOP) {
			fprintf(stderr, "vtdp-stress: %u contexts of %" PRIu64
				" bytes do not fit below the IOVA limit\n",
				opt.threads + opt.pasids, (uint64_t)win_slots * slot_size);
			return 2;
		}
	}

	w = calloc(opt.threads, sizeof(*w));
	for (unsigned int i = 0; i < opt.threads; i++) {
		unsigned int n = 1;

		w[i].id = i;
		w[i].queue = i % opt.queues;
		w[i].rng = opt.seed * 0x9e3779b97f4a7c15ULL + i + 1;
		w[i].buf_len = (opt.max_len + 2 * PAGE + opt.page_size - 1) &
			       ~(opt.page_size - 1);
		w[i].decoy_len = (opt.max_len + 2 * PAGE) & ~(PAGE - 1);
		w[i].fd = open(opt.dev, O_RDWR | O_CLOEXEC);
		w[i].fault_buf = calloc(VTDP_TD_FAULT_RING, sizeof(*w[i].fault_buf));
		if (w[i].fd < 0) {
			fprintf(stderr, "vtdp-stress: thread %u: %s\n", i, strerror(errno));
			return 1;
		}
		/* sub-device j goes to thread j % threads */
		for (unsigned int j = i; j < opt.pasids; j += opt.threads)
			n++;
		w[i].ctx = calloc(n, sizeof(*w[i].ctx));
		w[i].nctx = n;
		/* buffer pair j goes to thread j % threads, as sub-devices do */
		if (opt.buffers) {
			w[i].npool = (opt.buffers - i + opt.threads - 1) / opt.threads;
			w[i].pool = calloc(w[i].npool, sizeof(*w[i].pool));
			for (unsigned int k = 0; k < w[i].npool; k++)
				if (!alloc_pair(&w[i], &w[i].pool[k]))
					return 1;
		}
		if (!ctx_setup(&w[i], &w[i].ctx[0], 0, i, false))
			return 1;
		for (unsigned int j = i, k = 1; j < opt.pasids; j += opt.threads, k++)
			if (!ctx_setup(&w[i], &w[i].ctx[k], k, opt.threads + j, true))
				return 1;
	}

	pthread_barrier_init(&mapped, NULL, opt.threads + 1);
	for (unsigned int i = 0; i < opt.threads; i++)
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	pthread_barrier_wait(&mapped);
	t0 = now();
	while (!atomic_load(&stop) && (t1 = now()) - t0 < opt.seconds) {
		usleep(100 * 1000);
		if (!opt.quiet && t1 - last >= 1) {
			uint64_t inj = 0, obs = 0;

			for (int k = 0; k < FK_NR; k++) {
				inj += st.injected[k];
				obs += st.observed[k];
			}
			fprintf(stderr, "\r[%5.1fs] %" PRIu64 " ops, %.0f ops/s, %.2f MB/s, faults %"
				PRIu64 " injected / %" PRIu64 " observed   ", t1 - t0,
				(uint64_t)st.ops, st.ops / (t1 - t0),
				st.bytes / (t1 - t0) / 1e6, inj, obs);
			last = t1;
		}
	}
	atomic_store(&stop, true);
	for (unsigned int i = 0; i < opt.threads; i++)
		pthread_join(w[i].thread, NULL);
	t1 = now();
	if (!opt.quiet)
		fprintf(stderr, "\n");

	/* vtdp.ko delivers faults from a workqueue: let the last ones land. */
	for (int i = 0; i < 100; i++) {
		uint64_t inj = 0;

		td_faults_total(probe, &faults_after);
		for (int k = 0; k < FK_NR; k++)
			inj += st.injected[k];
		if (faults_after - faults_before >= inj)
			break;
		usleep(20 * 1000);
	}

	uint64_t injected = 0, observed = 0, driver = 0;

	for (int k = 0; k < FK_NR; k++) {
		injected += st.injected[k];
		observed += st.observed[k];
		driver += st.driver[k];
	}
	ok = !st.corruptions && !st.lost && !st.unexpected &&
	     injected == observed && injected == driver &&
	     faults_after - faults_before == injected;
	for (unsigned int i = 0; i < opt.threads; i++) {
		if (w[i].err[0]) {
			fprintf(stderr, "vtdp-stress: thread %u: %s\n", i, w[i].err);
			ok = false;
		}
		/* unmaps and deletes whatever the thread left */
		close(w[i].fd);
	}

	if (rid_type != VTDP_TD_DOMAIN_QUERY && rid_type != opt.domain_type &&
	    !set_rid_domain(probe, rid_type))
		ok = false;

	if (opt.json) {
		printf("{\"seconds\": %.3f, \"mode\": \"%s\", \"size\": \"%s\""
		       ", \"min_len\": %u, \"max_len\": %u, \"threads\": %u"
		       ", \"queues\": %u, \"pasids\": %u, \"buffers\": %u"
		       ", \"pasid_only\": %s"
		       ", \"domain_type\": \"%s\""
		       ", \"page_size\": %" PRIu64 ", \"iommu_page_size\": %" PRIu64
		       ", \"phys_contig\": %" PRIu64 ", \"churn\": %s, \"maps\": %" PRIu64
		       ", \"ops\": %" PRIu64 ", \"bytes\": %" PRIu64
		       ", \"mb_per_s\": %.3f, \"ops_per_s\": %.1f"
		       ", \"corruptions\": %" PRIu64 ", \"lost\": %" PRIu64
		       ", \"unexpected\": %" PRIu64 ", \"driver_faults\": %" PRIu64,
		       t1 - t0, opt.dma_api ? "dma-api" :
		       opt.passthrough ? "v3-passthrough" : "v3",
		       opt.dist == SD_POW2 ? "pow2" : "uniform", opt.min_len,
		       opt.max_len, opt.threads, opt.queues, opt.pasids, npairs,
		       opt.pasid_only ? "true" : "false", domain_name(opt.domain_type), opt.page_size,
		       st.maps ? (uint64_t)st.min_page_size : 0,
		       st.maps ? (uint64_t)st.min_phys_contig : 0,
		       opt.churn ? "true" : "false", (uint64_t)st.maps,
		       (uint64_t)st.ops, (uint64_t)st.bytes,
		       st.bytes / (t1 - t0) / 1e6, st.ops / (t1 - t0),
		       (uint64_t)st.corruptions, (uint64_t)st.lost,
		       (uint64_t)st.unexpected, faults_after - faults_before);
		for (int k = 0; k < FK_NR; k++)
			printf(", \"injected_%s\": %" PRIu64 ", \"observed_%s\": %" PRIu64
			       ", \"driver_%s\": %" PRIu64 ", \"tagged_%s\": %" PRIu64
			       ", \"reason_%s\": %u",
			       fk_name[k], (uint64_t)st.injected[k],
			       fk_name[k], (uint64_t)st.observed[k],
			       fk_name[k], (uint64_t)st.driver[k],
			       fk_name[k], (uint64_t)st.tagged[k],
			       fk_name[k], fk_reason(k));
		printf(", \"ok\": %s}\n", ok ? "true" : "false");
	} else {
		printf("vtdp-stress: %.1f s, %u thread(s) on %u queue(s), %u PASID(s), %s domains,"
		       " %u buffer pair(s) of %zu bytes in %" PRIu64 "-byte pages\n",
		       t1 - t0, opt.threads, opt.queues, opt.pasids,
		       domain_name(opt.domain_type), npairs, w[0].buf_len,
		       opt.page_size);
		printf("  %" PRIu64 " descriptors, %" PRIu64 " bytes, %.2f MB/s, %.0f ops/s, %"
		       PRIu64 " maps (data buffers in IOMMU pages of >= %" PRIu64 " bytes)\n",
		       (uint64_t)st.ops, (uint64_t)st.bytes,
		       st.bytes / (t1 - t0) / 1e6, st.ops / (t1 - t0),
		       (uint64_t)st.maps, st.maps ? (uint64_t)st.min_page_size : 0);
		for (int k = 0; k < FK_NR; k++)
			printf("  faults %-11s injected %" PRIu64 ", observed %" PRIu64
			       ", driver %" PRIu64 " (VT-d reason %#x, %s)\n", fk_name[k],
			       (uint64_t)st.injected[k], (uint64_t)st.observed[k],
			       (uint64_t)st.driver[k], fk_reason(k),
			       td_reason_name(fk_reason(k)));
		printf("  faults reported to the driver %" PRIu64
		       ", corruptions %" PRIu64 ", lost completions %" PRIu64
		       ", unexpected statuses %" PRIu64 ": %s\n",
		       faults_after - faults_before, (uint64_t)st.corruptions,
		       (uint64_t)st.lost, (uint64_t)st.unexpected,
		       ok ? "OK" : "FAILED");
	}
	close(probe);
	return ok ? 0 : 1;
}
