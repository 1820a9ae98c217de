// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-maplat - map+unmap latency of the endpoint's buffers, measured in
 * the kernel (vtdp_testdev.ko's MAP_BENCH ioctl): the V3 interface's
 * MapLogicalRangeEx + UnmapLogicalRange in V3 mode (MapIdentityRangeEx +
 * UnmapIdentityRangeEx on a PassThrough domain), dma_map_sgtable +
 * dma_unmap_sgtable in dma-api mode (behind intel-iommu, or no IOMMU).
 *
 * For each size: a few untimed warm-up cycles, then N timed ones; prints
 * mean, median and 99th percentile of map+unmap, and the means of map and
 * unmap alone.  Exit status non-zero if any call failed.
 *
 * --selftest checks the ioctl itself instead (TAP, for scripts/test).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vtdp/testdev.h>

#include "td-lib.h"
#include "vtdp-tap.h"

#define HUGE		(2UL << 20)
#define MAX_SIZES	16
#define WARMUP		16
/* V3 Translate: where the buffer is mapped (below the driver's rings). */
#define BENCH_IOVA	0x40000000ULL
/*
 * Each size in a 1 GiB window of its own: vtdp.ko keeps the (empty) leaf
 * table a 4 KiB mapping left, so a 2 MiB buffer mapped where a smaller one
 * was would get 4 KiB leaves instead of one 2 MiB leaf.
 */
#define SIZE_IOVA(k)	(BENCH_IOVA + ((uint64_t)(k) << 30))

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v[n]. */
static uint64_t pct(const uint64_t *v, uint32_t n, double p)
{
	uint32_t rank = (uint32_t)(p / 100.0 * n + 0.999999);

	return v[rank ? rank - 1 : 0];
}

/* Physical frame of the page at @p (root reads /proc/self/pagemap), or 0. */
static uint64_t pfn_of(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (pread(fd, &e, 8, (uintptr_t)p / 4096 * 8) != 8)
			e = 0;
		close(fd);
	}
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

/*
 * The IOMMU page (leaf) size vtdp.ko gives @len bytes of @buf at @iova:
 * one MAP_EX and UNMAP_EX outside the timed cycles, through the same V3
 * call (MapLogicalRangeEx) MAP_BENCH makes.  0 when not in V3
 * Translate mode (or on failure, reported).
 */
static uint64_t leaf_size(int fd, bool v3, void *buf, size_t len, uint64_t iova)
{
	struct vtdp_td_map_ex m;
	int32_t status;
	int ret;

	if (!v3)
		return 0;
	ret = td_map_ex(fd, 0, buf, len, iova, VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE, &m);
	if (ret < 0 || m.status) {
		fprintf(stderr, "vtdp-maplat: MAP_EX of %zu bytes: %s, status %#x\n",
			len, ret < 0 ? strerror(-ret) : "ok", (uint32_t)m.status);
		return 0;
	}
	if (td_unmap_ex(fd, 0, m.iova, &status) < 0 || status) {
		fprintf(stderr, "vtdp-maplat: UNMAP_EX of %zu bytes failed\n", len);
		return 0;
	}
	return m.page_size;
}

/* MAP_BENCH with every field given; returns 0 or -errno. */
static int raw_bench(int fd, struct vtdp_td_map_bench *b)
{
	return ioctl(fd, VTDP_TD_IOC_MAP_BENCH, b) < 0 ? -errno : 0;
}

/*
 * The ioctl's promises: arguments checked, every cycle timed, nothing left
 * mapped or pinned.  @buf: a 2 MiB huge page (physically contiguous).
 */
static int selftest(int fd, const struct vtdp_td_info *info, uint8_t *buf)
{
	bool pt = info->flags & VTDP_TD_INFO_PASSTHROUGH;
	struct vtdp_td_bench_sample smp[64];
	struct vtdp_td_map_bench b, good = {
		.user_addr = (uintptr_t)buf, .length = 65536, .iova = BENCH_IOVA,
		.samples_ptr = (uintptr_t)smp, .iterations = 64,
		.perms = VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE,
	};
	uint64_t iova;
	int32_t status = -1;
	uint32_t i, zero = 0;
	int ret;

	diag("MAP_BENCH in %s mode", info->mode == VTDP_TD_MODE_DMA_API ?
	     "dma-api" : pt ? "v3 passthrough" : "v3");
	b = good;
	b.iterations = 0;
	tap(raw_bench(fd, &b) == -EINVAL, "0 iterations: EINVAL");
	b = good;
	b.iterations = VTDP_TD_BENCH_MAX_ITER + 1;
	tap(raw_bench(fd, &b) == -EINVAL, "%u iterations: EINVAL", b.iterations);
	b = good;
	b.length = 2ULL << 20;
	b.iterations = VTDP_TD_BENCH_MAX_PAGES / 512 + 1;
	b.samples_ptr = 0x1000;	/* refused before it is used */
	tap(raw_bench(fd, &b) == -EINVAL, "%u x 2 MiB, over %u pages: EINVAL",
	    b.iterations, VTDP_TD_BENCH_MAX_PAGES);
	b = good;
	b.length = 6000;
	tap(raw_bench(fd, &b) == -EINVAL, "length not whole pages: EINVAL");
	b = good;
	b.perms = 0;
	tap(raw_bench(fd, &b) == -EINVAL, "no permissions: EINVAL");
	b = good;
	b.samples_ptr = 0;
	tap(raw_bench(fd, &b) == -EINVAL, "no sample buffer: EINVAL");
	b = good;
	b.done = 1;
	tap(raw_bench(fd, &b) == -EINVAL, "output fields not zero: EINVAL");
	b = good;
	b.samples_ptr = 8;
	tap(raw_bench(fd, &b) == -EFAULT, "unwritable sample buffer: EFAULT");

	memset(smp, 0, sizeof(smp));
	b = good;
	ret = raw_bench(fd, &b);
	for (i = 0; i < 64; i++)
		if (!smp[i].map_ns || !smp[i].unmap_ns)
			zero++;
	tap(ret == 0 && b.status == 0 && b.done == 64 && !zero,
	    "64 cycles of 64 KiB: done %u, status %#x, %u empty samples",
	    b.done, (uint32_t)b.status, zero);

	/* Nothing stays mapped: the same range maps (and unmaps) again. */
	ret = td_map(fd, buf, 65536, BENCH_IOVA, VTDP_TD_MAP_READ, &status, &iova);
	tap(ret == 0 && status == 0 && td_unmap(fd, iova, &status) == 0 &&
	    status == 0, "the range is free after the run");

	if (pt) {
		/* Device addresses are physical: one range or nothing. */
		uint8_t *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				    -1, 0);
		uint64_t p0 = two == MAP_FAILED ? 0 : pfn_of(two);
		uint64_t p1 = two == MAP_FAILED ? 0 : pfn_of(two + 4096);

		b = good;
		b.user_addr = (uintptr_t)two;
		b.length = 8192;
		ret = raw_bench(fd, &b);
		tap(p0 && p1 && ret == (p1 == p0 + 1 ? 0 : -EINVAL),
		    "PassThrough, two 4 KiB pages (pfn %#llx, %#llx): %s",
		    (unsigned long long)p0, (unsigned long long)p1,
		    p1 == p0 + 1 ? "contiguous, runs" : "EINVAL");
	} else if (info->mode == VTDP_TD_MODE_V3) {
		b = good;
		b.iova = info->iova_limit;
		tap(raw_bench(fd, &b) == -EINVAL, "iova at the driver's rings: EINVAL");
		/* A busy range: the V3 status comes back, no cycle is done. */
		ret = td_map(fd, buf, 4096, BENCH_IOVA, VTDP_TD_MAP_READ,
			     &status, &iova);
		b = good;
		if (!ret && !status)
			ret = raw_bench(fd, &b);
		tap(ret == 0 && status == 0 && b.status != 0 && b.done == 0,
		    "iova in use: V3 status %#x, 0 cycles", (uint32_t)b.status);
		td_unmap(fd, BENCH_IOVA, &status);
	}
	printf("1..%d\n", test_no);
	return failures ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vtdp-maplat [options]\n"
		"  -d, --device PATH    endpoint (default /dev/vtdp-testdev0)\n"
		"  -n, --iterations N   timed cycles per size, 1..%u (default 2000)\n"
		"  -s, --sizes LIST     bytes, comma separated, multiples of 4096\n"
		"                       (default 4096,16384,65536,262144,1048576,2097152)\n"
		"      --hugepages      buffer in a 2 MiB huge page (physically\n"
		"                       contiguous; needed on a PassThrough domain)\n"
		"      --json           one JSON object per size\n"
		"      --selftest       check the MAP_BENCH ioctl (TAP) instead\n",
		VTDP_TD_BENCH_MAX_ITER);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "sizes", required_argument, NULL, 's' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'J' },
		{ "selftest", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *dev = "/dev/vtdp-testdev0", *mode;
	char sizes_arg[256] = "4096,16384,65536,262144,1048576,2097152";
	unsigned long sizes[MAX_SIZES], max = 0;
	struct vtdp_td_info info = { 0 };
	struct vtdp_td_bench_sample *smp;
	uint64_t *tot;
	uint32_t iters = 2000;
	bool huge = false, json = false, self = false;
	int c, fd, nsizes = 0, rc = 0;
	void *buf;
	size_t buflen;

	while ((c = getopt_long(argc, argv, "d:n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'n': iters = strtoul(optarg, NULL, 0); break;
		case 's': snprintf(sizes_arg, sizeof(sizes_arg), "%s", optarg); break;
		case 'H': huge = true; break;
		case 'J': json = true; break;
		case 'T': self = true; huge = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (char *save = NULL, *tok = strtok_r(sizes_arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long s = strtoul(tok, &end, 0);

		if (*end || !s || s % 4096 || nsizes == MAX_SIZES) {
			fprintf(stderr, "vtdp-maplat: bad size '%s'\n", tok);
			return 2;
		}
		sizes[nsizes++] = s;
		if (s > max)
			max = s;
	}
	if (!nsizes || !iters || iters > VTDP_TD_BENCH_MAX_ITER) {
		usage(stderr);
		return 2;
	}

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, VTDP_TD_IOC_INFO, &info) < 0) {
		fprintf(stderr, "vtdp-maplat: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	mode = info.mode == VTDP_TD_MODE_DMA_API ? "dma-api" :
	       (info.flags & VTDP_TD_INFO_PASSTHROUGH) ? "v3-passthrough" : "v3";

	buflen = huge ? (max + HUGE - 1) & ~(HUGE - 1) : max;
	buf = mmap(NULL, buflen, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE |
		   (huge ? MAP_HUGETLB : 0), -1, 0);
	if (self && buf != MAP_FAILED)
		return selftest(fd, &info, buf);
	smp = calloc(iters, sizeof(*smp));
	tot = calloc(iters, sizeof(*tot));
	if (buf == MAP_FAILED || !smp || !tot) {
		fprintf(stderr, "vtdp-maplat: %lu-byte buffer%s: %s\n", max,
			huge ? " (huge pages reserved?)" : "", strerror(errno));
		return 1;
	}

	for (int k = 0; k < nsizes; k++) {
		uint64_t sum = 0, msum = 0, usum = 0;
		uint32_t done = 0;
		int32_t status = 0;
		uint64_t leaf;
		int ret;

		ret = td_map_bench(fd, buf, sizes[k], SIZE_IOVA(k),
				   VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE,
				   iters < WARMUP ? iters : WARMUP, smp,
				   &status, &done);
		if (!ret)
			ret = td_map_bench(fd, buf, sizes[k], SIZE_IOVA(k),
					   VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE,
					   iters, smp, &status, &done);
		if (ret < 0 || status || done != iters) {
			fprintf(stderr, "vtdp-maplat: %lu bytes: %s, status %#x, %u of %u cycles\n",
				sizes[k], ret < 0 ? strerror(-ret) : "ok",
				(uint32_t)status, done, iters);
			rc = 1;
			continue;
		}
		for (uint32_t i = 0; i < iters; i++) {
			tot[i] = (uint64_t)smp[i].map_ns + smp[i].unmap_ns;
			sum += tot[i];
			msum += smp[i].map_ns;
			usum += smp[i].unmap_ns;
		}
		qsort(tot, iters, sizeof(*tot), cmp_u64);
		leaf = leaf_size(fd, !strcmp(mode, "v3"), buf, sizes[k],
				 SIZE_IOVA(k));
		if (json)
			printf("{\"maplat\": \"%s\", \"size\": %lu, \"n\": %u"
			       ", \"mean_ns\": %.0f, \"p50_ns\": %" PRIu64
			       ", \"p99_ns\": %" PRIu64 ", \"min_ns\": %" PRIu64
			       ", \"max_ns\": %" PRIu64 ", \"map_mean_ns\": %.0f"
			       ", \"unmap_mean_ns\": %.0f, \"iommu_page_size\": %" PRIu64
			       "}\n", mode, sizes[k],
			       iters, (double)sum / iters, pct(tot, iters, 50),
			       pct(tot, iters, 99), tot[0], tot[iters - 1],
			       (double)msum / iters, (double)usum / iters, leaf);
		else
			printf("%-15s %8lu bytes: map+unmap mean %8.0f ns, p50 %8" PRIu64
			       " ns, p99 %8" PRIu64 " ns (map %.0f, unmap %.0f)"
			       "%s%" PRIu64 "\n",
			       mode, sizes[k], (double)sum / iters,
			       pct(tot, iters, 50), pct(tot, iters, 99),
			       (double)msum / iters, (double)usum / iters,
			       leaf ? ", IOMMU pages of " : "", leaf);
		fflush(stdout);
	}
	close(fd);
	return rc;
}
