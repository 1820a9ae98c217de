// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-vtdp-core - host microbenchmark of the vtdp translation core.
 *
 * Measures the cost of vtdp_core_translate() without QEMU around it:
 *   - an IOTLB hit (the same page over and over),
 *   - a full walk (IOTLB disabled) through 4- and 5-level second-stage and
 *     first-stage tables,
 *   - a working set that fits the IOTLB and one four times larger, cycled
 *     (every access a miss and an eviction), reporting the hit rate,
 *   - what a guest's unmap costs the unit: a page-selective IOTLB
 *     invalidation through the invalidation queue plus the walk that
 *     refills the page, with 1 and with 4 Ki other translations cached.
 * Guest memory is the host unit tests' fake (table-builder), so a walk's
 * table reads are memcpy()s: the figures are the core's own cost.  Time is
 * the thread's CPU time, so that other processes on a shared machine do
 * not count (their effect on the caches still does).
 *
 * Output: one line per case, "name ns_per_translation iterations [extra]",
 * for scripts/bench to collect.  Usage: bench-vtdp-core [SECONDS_PER_CASE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vtdp-core.h"
#include "table-builder.h"

#define MEM_SIZE	(256ULL << 20)
#define SID		0x0108
#define DID		7
#define PASID		0x42
#define PAGES		(16 * 1024)	/* working set of the eviction case */

struct bench {
	struct tb_mem m;
	struct vtdp_core c;
	struct vtdp_core_ops ops;
	uint64_t root, pdir;
};

static void no_irq(void *opaque, unsigned int vector)
{
	(void)opaque;
	(void)vector;
}

static uint64_t now_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* CPU time of this thread: what the measured loop itself consumed. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * A core with translation on, and PASID 0x42 of SID using a @levels-level
 * table of the given stage in which @pages consecutive 4 KiB pages from
 * IOVA 0x40000000 are mapped.
 */
static struct bench *bench_new(unsigned int levels, bool first_stage,
			       uint32_t iotlb_size, unsigned int pages)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct bench *b = calloc(1, sizeof(*b));
	struct vtdp_pasid_entry pe;
	char err[128];
	uint64_t pt;

	if (!b || tb_mem_init(&b->m, MEM_SIZE))
		abort();
	cfg.aw_bits = levels == 5 ? 57 : 48;
	cfg.iotlb_size = iotlb_size;
	b->ops.dma_read = tb_dma_read;
	b->ops.dma_write = tb_dma_write;
	b->ops.raise_irq = no_irq;
	b->ops.clock_ns = now_ns;
	if (vtdp_core_init(&b->c, &cfg, &b->ops, &b->m, err, sizeof(err))) {
		fprintf(stderr, "bench-vtdp-core: %s\n", err);
		exit(1);
	}
	b->root = tb_root_table(&b->m);
	b->pdir = tb_pasid_dir(&b->m);
	tb_context_sm(&b->m, b->root, SID, b->pdir, 0, false);
	pt = tb_pt_new(&b->m);
	pe = first_stage ? tb_pe_fs(DID, pt, levels, false) :
			   tb_pe_ss(DID, pt, levels);
	tb_set_pasid_entry(&b->m, b->pdir, PASID, &pe);
	for (unsigned int i = 0; i < pages; i++) {
		uint64_t iova = 0x40000000ULL + (uint64_t)i * 4096;
		uint64_t leaf = first_stage ?
			VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US | VTDP_FS_A | VTDP_FS_D :
			VTDP_SS_R | VTDP_SS_W;

		if (!tb_map(&b->m, pt, levels, iova, 0x1000000ULL + i * 4096ULL,
			    1, leaf, first_stage ? TB_FS_DIR : TB_SS_DIR,
			    first_stage)) {
			fprintf(stderr, "bench-vtdp-core: out of table memory\n");
			exit(1);
		}
	}
	vtdp_core_mmio_write(&b->c, VTDP_REG_RTADDR,
			     b->root | VTDP_RTADDR_TTM_SM, 8);
	vtdp_core_mmio_write(&b->c, VTDP_REG_GCMD, VTDP_GCMD_SRTP, 4);
	vtdp_core_mmio_write(&b->c, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);
	return b;
}

/* Invalidation queue: one page of 128-bit descriptors, QI enabled. */
static uint64_t bench_qi(struct bench *b)
{
	uint64_t iq = tb_alloc_page(&b->m);

	vtdp_core_mmio_write(&b->c, VTDP_REG_IQA, iq, 8);
	vtdp_core_mmio_write(&b->c, VTDP_REG_GCMD,
			     VTDP_GCMD_TE | VTDP_GCMD_QIE, 4);
	return iq;
}

static void bench_free(struct bench *b)
{
	vtdp_core_destroy(&b->c);
	tb_mem_free(&b->m);
	free(b);
}

/*
 * Translate pages 0..@span-1 round robin for about @seconds; print the
 * mean cost.  Every translation must succeed: a fault would be measuring
 * the fault path, so it ends the benchmark with an error.
 */
/* One result line: ns per iteration and the IOTLB hit rate since hits0/miss0. */
static void report(const char *name, const struct bench *b, uint64_t ns,
		   uint64_t iters, uint64_t hits0, uint64_t miss0)
{
	uint64_t hits = b->c.stats.iotlb_hits - hits0;
	uint64_t misses = b->c.stats.iotlb_misses - miss0;

	printf("%-28s %8.1f ns %12llu iterations  iotlb hit rate %.4f\n", name,
	       (double)ns / iters, (unsigned long long)iters,
	       hits + misses ? (double)hits / (hits + misses) : 0.0);
}

static void run_case(const char *name, struct bench *b, unsigned int span,
		     double seconds)
{
	struct vtdp_request req = {
		.sid = SID, .pasid_valid = true, .pasid = PASID, .write = true,
	};
	struct vtdp_translation t;
	uint64_t iters = 0, start, end, batch = 4096;
	uint64_t hits0 = b->c.stats.iotlb_hits, miss0 = b->c.stats.iotlb_misses;

	start = cpu_ns();
	do {
		for (uint64_t i = 0; i < batch; i++, iters++) {
			req.addr = 0x40000000ULL + (iters % span) * 4096 + 0x10;
			if (vtdp_core_translate(&b->c, &req, &t)) {
				fprintf(stderr, "bench-vtdp-core: %s: fault at %#llx\n",
					name, (unsigned long long)req.addr);
				exit(1);
			}
		}
		end = cpu_ns();
	} while (end - start < (uint64_t)(seconds * 1e9));

	report(name, b, end - start, iters, hits0, miss0);
}

/*
 * Fill the IOTLB with pages 0..@cached-1, then for about @seconds: a
 * page-selective invalidation of page 0 (one descriptor, doorbell) and a
 * translation of page 0, which misses and walks.
 */
static void run_inv_case(const char *name, struct bench *b,
			 unsigned int cached, double seconds)
{
	struct vtdp_request req = {
		.sid = SID, .pasid_valid = true, .pasid = PASID, .write = true,
	};
	struct vtdp_translation t;
	uint64_t iq = bench_qi(b), tail = 0, iters = 0, start, end;
	uint64_t hits0, miss0;

	for (unsigned int i = 0; i < cached; i++) {
		req.addr = 0x40000000ULL + (uint64_t)i * 4096;
		if (vtdp_core_translate(&b->c, &req, &t))
			abort();
	}
	hits0 = b->c.stats.iotlb_hits;
	miss0 = b->c.stats.iotlb_misses;
	req.addr = 0x40000000ULL;
	start = cpu_ns();
	do {
		for (unsigned int i = 0; i < 256; i++, iters++) {
			tb_write64(&b->m, iq + tail * 16, VTDP_INV_TYPE_IOTLB |
				   VTDP_INV_IOTLB_PAGE | ((uint64_t)DID << 16));
			tb_write64(&b->m, iq + tail * 16 + 8, req.addr);
			tail = (tail + 1) % 256;
			vtdp_core_mmio_write(&b->c, VTDP_REG_IQT, tail << 4, 8);
			if (vtdp_core_translate(&b->c, &req, &t)) {
				fprintf(stderr, "bench-vtdp-core: %s: fault\n",
					name);
				exit(1);
			}
		}
		end = cpu_ns();
	} while (end - start < (uint64_t)(seconds * 1e9));

	report(name, b, end - start, iters, hits0, miss0);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	struct bench *b;

	if (seconds <= 0) {
		fprintf(stderr, "usage: bench-vtdp-core [SECONDS_PER_CASE]\n");
		return 2;
	}

	b = bench_new(4, false, 4096, 1);
	run_case("iotlb-hit", b, 1, seconds);
	bench_free(b);

	static const struct { const char *name; unsigned int levels; bool fs; } walks[] = {
		{ "walk-ss-4level", 4, false },
		{ "walk-ss-5level", 5, false },
		{ "walk-fs-4level", 4, true },
		{ "walk-fs-5level", 5, true },
	};
	for (size_t i = 0; i < sizeof(walks) / sizeof(walks[0]); i++) {
		b = bench_new(walks[i].levels, walks[i].fs, 0, 64);
		run_case(walks[i].name, b, 64, seconds);
		bench_free(b);
	}

	/* 2 Ki pages fit the 4 Ki-entry IOTLB: hits after the first pass. */
	b = bench_new(4, false, 4096, PAGES / 8);
	run_case("working-set-2k-pages", b, PAGES / 8, seconds);
	bench_free(b);
	/*
	 * 16 Ki pages cycled through the 4 Ki-entry IOTLB: every access
	 * misses and evicts (the worst case of any recency-based policy).
	 */
	b = bench_new(4, false, 4096, PAGES);
	run_case("working-set-16k-pages", b, PAGES, seconds);
	bench_free(b);

	b = bench_new(4, false, 4096, 1);
	run_inv_case("inv-page+walk-1-cached", b, 1, seconds);
	bench_free(b);
	b = bench_new(4, false, 4096, 4096);
	run_inv_case("inv-page+walk-4k-cached", b, 4096, seconds);
	bench_free(b);
	return 0;
}
