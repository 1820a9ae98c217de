// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-stress - DMA stress through vtdp-iommu from the guest.
 *
 * Threads, each with its own /dev/vtdp-testdev<N> file descriptor (so its
 * own mappings, torn down with it), run COPY, FILL and CRC32C descriptors
 * of random sizes at random alignments through buffers mapped with the V3
 * interface, and verify every byte (a guard byte after each transfer must
 * stay untouched).  On request a share of the descriptors is aimed at an
 * unmapped IOVA or at a read-only mapping; each such fault is counted as
 * injected, and it must come back as a DMA_FAULT completion at the right
 * address - and every other descriptor must succeed.
 *
 * The exit status is non-zero on any corruption, any lost completion
 * (ioctl failure or timeout), or any difference between the faults
 * injected and the faults observed.  The host side (scripts/stress)
 * compares the same counts with the IOMMU's fault log through QMP.
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
#define HUGE		(2ULL << 20)
#define MAX_THREADS	64
/*
 * Each thread owns a 1 GiB IOVA window: its source buffer, its destination
 * buffer, a read-only decoy and a hole that is never mapped.
 */
#define WINDOW(i)	(0x40000000ULL * ((uint64_t)(i) + 1))
#define SRC_OFF		0x00000000ULL
#define DST_OFF		0x10000000ULL
#define RO_OFF		0x20000000ULL
#define HOLE_OFF	0x30000000ULL
#define STALE_OFF	0x38000000ULL

/*
 * unmapped: a write to an IOVA that was never mapped;
 * readonly: a write to a read-only mapping;
 * stale:    a write to an IOVA right after the device wrote it successfully
 *           and it was unmapped (V3 unmap invalidates synchronously): a
 *           translation the IOTLB held must be gone.
 */
enum fault_kind { FK_UNMAPPED, FK_READONLY, FK_STALE, FK_NR };
static const char *const fk_name[FK_NR] = { "unmapped", "readonly", "stale" };
static const uint8_t fk_reason[FK_NR] = {
	VTDP_FR_SM_SS_NOT_PRESENT, VTDP_FR_SM_WRITE, VTDP_FR_SM_SS_NOT_PRESENT,
};

static struct {
	const char *dev;
	double seconds;
	unsigned int threads;
	uint32_t min_len, max_len;
	bool churn;		/* map and unmap around every descriptor */
	double fault_rate;	/* share of descriptors aimed to fault */
	unsigned int kinds;	/* bitmask of enum fault_kind */
	uint64_t seed;
	bool json, quiet;
	bool hugepages;		/* buffers in 2 MiB huge pages */
	bool dma_api;		/* the driver is in dma-api mode (from INFO) */
	bool passthrough;	/* V3 PassThrough domain (from INFO) */
} opt = {
	.dev = "/dev/vtdp-testdev0",
	.seconds = 10,
	.threads = 4,
	.min_len = 1,
	.max_len = 256 * 1024,
	.kinds = (1U << FK_UNMAPPED) | (1U << FK_READONLY) | (1U << FK_STALE),
	.seed = 1,
};

struct stats {
	_Atomic uint64_t ops, bytes, corruptions, lost, unexpected;
	_Atomic uint64_t injected[FK_NR], observed[FK_NR];
};

static struct stats st;
static atomic_bool stop;

struct worker {
	unsigned int id;
	pthread_t thread;
	int fd;
	uint64_t rng;
	uint8_t *src, *dst, *ro, *stale;
	uint64_t src_iova, dst_iova;	/* where src and dst are mapped */
	size_t buf_len;		/* max_len + a page for alignment + guard */
	char err[160];
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
	return opt.min_len + rnd(w) % (opt.max_len - opt.min_len + 1);
}

/*
 * Map @buf at @iova (V3 Translate) or where the DMA API (dma-api mode) or the
 * physical address (PassThrough domain) puts it;
 * the address used ends up in *@at when @at is not NULL.
 */
static int map_one(struct worker *w, void *buf, uint64_t iova, uint32_t perms,
		   uint64_t *at)
{
	int32_t status;
	int ret = td_map(w->fd, buf, w->buf_len, iova, perms, &status, at);

	if (ret < 0 || status) {
		snprintf(w->err, sizeof(w->err),
			 "MAP %#" PRIx64 ": %s, V3 status %#x", iova,
			 ret < 0 ? strerror(-ret) : "ok", (uint32_t)status);
		return -1;
	}
	return 0;
}

static int unmap_one(struct worker *w, uint64_t iova)
{
	int32_t status;
	int ret = td_unmap(w->fd, iova, &status);

	if (ret < 0 || status) {
		snprintf(w->err, sizeof(w->err),
			 "UNMAP %#" PRIx64 ": %s, V3 status %#x", iova,
			 ret < 0 ? strerror(-ret) : "ok", (uint32_t)status);
		return -1;
	}
	return 0;
}

static int map_buffers(struct worker *w)
{
	uint64_t base = WINDOW(w->id);

	return map_one(w, w->src, base + SRC_OFF, VTDP_TD_MAP_READ,
		       &w->src_iova) ||
	       map_one(w, w->dst, base + DST_OFF, VTDP_TD_MAP_WRITE,
		       &w->dst_iova);
}

static int unmap_buffers(struct worker *w)
{
	return unmap_one(w, w->src_iova) || unmap_one(w, w->dst_iova);
}

/*
 * Map the stale decoy, let the device write the page of @dst through it
 * (so the IOTLB holds the translation), put the byte back and unmap: the
 * caller's write to @dst must now fault.
 */
static bool make_stale(struct worker *w, uint64_t dst)
{
	uint64_t iova = WINDOW(w->id) + STALE_OFF;
	uint64_t page = dst & ~(PAGE - 1);
	struct vtdp_td_submit s;
	int ret;

	if (map_one(w, w->stale, iova, VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE,
		    NULL))
		return false;
	ret = td_submit(w->fd, VTDP_TD_OP_WRITE_IMM, 1, 0, page, 0, &s);
	if (ret < 0 || !td_st_is(&s, VTDP_TD_ST_OK)) {
		snprintf(w->err, sizeof(w->err), "stale: priming write: %s",
			 ret < 0 ? strerror(-ret) : td_st_name(s.status));
		return false;
	}
	return !unmap_one(w, iova);
}

/* One descriptor, verified.  Returns false when the worker must stop. */
static bool one_op(struct worker *w)
{
	uint64_t base = WINDOW(w->id);
	uint32_t len = rnd_len(w);
	uint32_t soff = rnd(w) % PAGE, doff = rnd(w) % PAGE;
	uint64_t pattern = rnd(w);
	uint32_t op = VTDP_TD_OP_COPY + rnd(w) % 3;	/* COPY, FILL, CRC32C */
	uint64_t src, dst;
	int kind = -1;
	struct vtdp_td_submit s;
	int ret;

	/* With churn the buffers are mapped for this descriptor only. */
	if (opt.churn && map_buffers(w))
		return false;
	src = w->src_iova + soff;
	dst = w->dst_iova + doff;

	if (opt.fault_rate > 0 &&
	    (double)(rnd(w) >> 11) / (double)(1ULL << 53) < opt.fault_rate) {
		do
			kind = rnd(w) % FK_NR;
		while (!(opt.kinds & (1U << kind)));
		/* Only writes can hit the read-only decoy: COPY or FILL. */
		if (op == VTDP_TD_OP_CRC32C)
			op = VTDP_TD_OP_FILL;
		dst = base + doff + (kind == FK_UNMAPPED ? HOLE_OFF :
				     kind == FK_READONLY ? RO_OFF : STALE_OFF);
		if (kind == FK_STALE && !make_stale(w, dst))
			return false;
	}

	for (uint32_t i = 0; i < len; i++)
		w->src[soff + i] = (uint8_t)(pattern >> (8 * (i % 8))) ^ (uint8_t)i;
	memset(w->dst + doff, 0x5a, len + 1);

	ret = td_submit(w->fd, op, len, src, dst, pattern, &s);
	if (opt.churn && unmap_buffers(w))
		return false;
	if (ret < 0) {
		st.lost++;
		snprintf(w->err, sizeof(w->err), "SUBMIT: %s", strerror(-ret));
		return false;
	}

	if (kind >= 0) {
		st.injected[kind]++;
		if (td_st_is(&s, VTDP_TD_ST_DMA_FAULT) &&
		    (s.fault_info & VTDP_TD_FI_WRITE) && s.fault_addr >= dst &&
		    s.fault_addr < dst + len)
			st.observed[kind]++;
		else
			st.unexpected++;
		/* Nothing may have reached the decoys. */
		if (kind != FK_UNMAPPED) {
			const uint8_t *decoy = kind == FK_READONLY ? w->ro : w->stale;

			for (uint32_t i = 0; i < len; i++)
				if (decoy[doff + i]) {
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
			 "op %u len %u: status %#x (%s) fault_addr %#" PRIx64,
			 op, len, s.status, td_st_name(s.status),
			 (uint64_t)s.fault_addr);
		return false;
	}
	switch (op) {
	case VTDP_TD_OP_COPY:
		if (memcmp(w->dst + doff, w->src + soff, len))
			st.corruptions++;
		break;
	case VTDP_TD_OP_FILL:
		for (uint32_t i = 0; i < len; i++)
			if (w->dst[doff + i] != (uint8_t)(pattern >> (8 * (i % 8)))) {
				st.corruptions++;
				break;
			}
		break;
	default:
		if (s.result != td_crc32c(w->src + soff, len))
			st.corruptions++;
		break;
	}
	if (op != VTDP_TD_OP_CRC32C && w->dst[doff + len] != 0x5a)
		st.corruptions++;	/* written past the end */
	st.ops++;
	st.bytes += len;
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (!opt.churn && map_buffers(w))
		goto out;
	/* The decoy is mapped read-only for the whole run. */
	if ((opt.kinds & (1U << FK_READONLY)) && opt.fault_rate > 0 &&
	    map_one(w, w->ro, WINDOW(w->id) + RO_OFF, VTDP_TD_MAP_READ, NULL))
		goto out;
	while (!atomic_load(&stop))
		if (!one_op(w))
			break;
out:
	if (w->err[0])
		atomic_store(&stop, true);
	return NULL;
}

static void *alloc_buf(size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;

	if (opt.hugepages)
		flags |= MAP_HUGETLB;
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool parse_len(const char *arg)
{
	char *end;
	unsigned long a = strtoul(arg, &end, 0), b = a;

	if (*end == '-')
		b = strtoul(end + 1, &end, 0);
	if (*end || a < 1 || b < a || b > VTDP_TD_MAX_LEN)
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vtdp-stress [options]\n"
		"  -d, --device PATH      endpoint (default /dev/vtdp-testdev0)\n"
		"  -t, --seconds S        duration (default 10)\n"
		"  -j, --threads N        threads, 1..%d (default 4)\n"
		"  -s, --size N|MIN-MAX   transfer bytes, fixed or uniform in a range\n"
		"                         (default 1-262144; at most %u)\n"
		"  -c, --churn            map and unmap around every descriptor\n"
		"                         (default: long-lived mappings)\n"
		"  -f, --fault-rate R     share of descriptors aimed to fault, 0..1\n"
		"  -k, --fault-kinds L    of: unmapped,readonly,stale (default all)\n"
		"      --seed N           random seed (default 1)\n"
		"      --hugepages        buffers in 2 MiB huge pages (reserve them in\n"
		"                         /proc/sys/vm/nr_hugepages): physically\n"
		"                         contiguous, so up to 1 MiB works without\n"
		"                         an IOMMU in dma-api mode and on a\n"
		"                         PassThrough domain\n"
		"      --json             print the summary as one JSON object\n"
		"  -q, --quiet            no live progress line\n",
		MAX_THREADS, VTDP_TD_MAX_LEN);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'j' },
		{ "size", required_argument, NULL, 's' },
		{ "churn", no_argument, NULL, 'c' },
		{ "fault-rate", required_argument, NULL, 'f' },
		{ "fault-kinds", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct worker *w;
	uint64_t faults_before = 0, faults_after = 0;
	double t0, t1, last = 0;
	bool ok;
	int c, probe;

	while ((c = getopt_long(argc, argv, "d:t:j:s:cf:k:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 't': opt.seconds = atof(optarg); break;
		case 'j': opt.threads = atoi(optarg); break;
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
		case 'S': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'J': opt.json = true; break;
		case 'q': opt.quiet = true; break;
		case 'H': opt.hugepages = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opt.seconds <= 0 || opt.threads < 1 || opt.threads > MAX_THREADS ||
	    opt.fault_rate < 0 || opt.fault_rate > 1) {
		usage(stderr);
		return 2;
	}

	/* The guest driver's own count of the faults vtdp.ko reported. */
	probe = open(opt.dev, O_RDWR | O_CLOEXEC);
	if (probe < 0 || td_faults_total(probe, &faults_before) < 0) {
		fprintf(stderr, "vtdp-stress: %s: %s\n", opt.dev, strerror(errno));
		return 1;
	}
	{
		struct vtdp_td_info info = { 0 };

		if (ioctl(probe, VTDP_TD_IOC_INFO, &info) < 0) {
			fprintf(stderr, "vtdp-stress: INFO: %s\n", strerror(errno));
			return 1;
		}
		/*
		 * With the DMA API the kernel picks the addresses: there is no
		 * IOVA window to aim faults at.
		 */
		opt.dma_api = info.mode == VTDP_TD_MODE_DMA_API;
		opt.passthrough = info.flags & VTDP_TD_INFO_PASSTHROUGH;
		if ((opt.dma_api || opt.passthrough) && opt.fault_rate > 0) {
			fprintf(stderr, "vtdp-stress: fault injection needs the V3 mode "
				"(vtdp-iommu) with a Translate domain; the driver is in %s mode\n",
				opt.dma_api ? "dma-api" : "passthrough");
			return 2;
		}
	}

	w = calloc(opt.threads, sizeof(*w));
	for (unsigned int i = 0; i < opt.threads; i++) {
		w[i].id = i;
		w[i].rng = opt.seed * 0x9e3779b97f4a7c15ULL + i + 1;
		w[i].buf_len = (opt.max_len + 2 * PAGE) & ~(PAGE - 1);
		if (opt.hugepages)
			w[i].buf_len = (w[i].buf_len + HUGE - 1) & ~(HUGE - 1);
		w[i].fd = open(opt.dev, O_RDWR | O_CLOEXEC);
		w[i].src = alloc_buf(w[i].buf_len);
		w[i].dst = alloc_buf(w[i].buf_len);
		w[i].ro = mmap(NULL, w[i].buf_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		w[i].stale = mmap(NULL, w[i].buf_len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (w[i].fd < 0 || w[i].src == MAP_FAILED ||
		    w[i].dst == MAP_FAILED || w[i].ro == MAP_FAILED ||
		    w[i].stale == MAP_FAILED) {
			fprintf(stderr, "vtdp-stress: thread %u setup: %s\n", i,
				strerror(errno));
			return 1;
		}
	}

	t0 = now();
	for (unsigned int i = 0; i < opt.threads; i++)
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	while (!atomic_load(&stop) && (t1 = now()) - t0 < opt.seconds) {
		usleep(100 * 1000);
		if (!opt.quiet && t1 - last >= 1) {
			uint64_t inj = 0;

			for (int k = 0; k < FK_NR; k++)
				inj += st.injected[k];
			fprintf(stderr, "\r[%5.1fs] %" PRIu64 " ops, %.0f ops/s, %.2f MB/s, %" PRIu64
				" faults injected   ", t1 - t0, (uint64_t)st.ops,
				st.ops / (t1 - t0), st.bytes / (t1 - t0) / 1e6, inj);
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

	uint64_t injected = 0, observed = 0;

	for (int k = 0; k < FK_NR; k++) {
		injected += st.injected[k];
		observed += st.observed[k];
	}
	ok = !st.corruptions && !st.lost && !st.unexpected &&
	     injected == observed && faults_after - faults_before == injected;
	for (unsigned int i = 0; i < opt.threads; i++) {
		if (w[i].err[0]) {
			fprintf(stderr, "vtdp-stress: thread %u: %s\n", i, w[i].err);
			ok = false;
		}
		close(w[i].fd);	/* unmaps whatever the thread left mapped */
	}

	if (opt.json) {
		printf("{\"seconds\": %.3f, \"mode\": \"%s\", \"min_len\": %u"
		       ", \"max_len\": %u, \"threads\": %u, \"ops\": %" PRIu64
		       ", \"bytes\": %" PRIu64 ", \"mb_per_s\": %.3f, \"ops_per_s\": %.1f"
		       ", \"corruptions\": %" PRIu64 ", \"lost\": %" PRIu64
		       ", \"unexpected\": %" PRIu64 ", \"driver_faults\": %" PRIu64,
		       t1 - t0, opt.dma_api ? "dma-api" :
		       opt.passthrough ? "v3-passthrough" : "v3", opt.min_len,
		       opt.max_len, opt.threads, (uint64_t)st.ops, (uint64_t)st.bytes,
		       st.bytes / (t1 - t0) / 1e6, st.ops / (t1 - t0),
		       (uint64_t)st.corruptions, (uint64_t)st.lost,
		       (uint64_t)st.unexpected, faults_after - faults_before);
		for (int k = 0; k < FK_NR; k++)
			printf(", \"injected_%s\": %" PRIu64 ", \"observed_%s\": %" PRIu64
			       ", \"reason_%s\": %u", fk_name[k], (uint64_t)st.injected[k],
			       fk_name[k], (uint64_t)st.observed[k], fk_name[k],
			       fk_reason[k]);
		printf(", \"ok\": %s}\n", ok ? "true" : "false");
	} else {
		printf("vtdp-stress: %.1f s, %u thread(s), %" PRIu64 " descriptors, %"
		       PRIu64 " bytes, %.2f MB/s, %.0f ops/s\n", t1 - t0,
		       opt.threads, (uint64_t)st.ops, (uint64_t)st.bytes,
		       st.bytes / (t1 - t0) / 1e6, st.ops / (t1 - t0));
		for (int k = 0; k < FK_NR; k++)
			printf("  faults %-9s injected %" PRIu64 ", observed %" PRIu64
			       " (VT-d reason %#x, %s)\n", fk_name[k],
			       (uint64_t)st.injected[k], (uint64_t)st.observed[k],
			       fk_reason[k], td_reason_name(fk_reason[k]));
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
