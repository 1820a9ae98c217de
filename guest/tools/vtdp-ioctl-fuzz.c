// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-ioctl-fuzz - hostile user space against vtdp.ko and vtdp_testdev.ko.
 *
 * Random sequences of ioctls on /dev/vtdp-v3 and /dev/vtdp-testdev<N>, two
 * open files of each: arguments are biased towards valid values so that
 * objects really get created, attached, mapped and torn down, and mixed
 * with live handles of the other file or of another kind, stale handles
 * (deleted ones), garbage, random sizes and flags, unknown ioctl numbers
 * and bad user pointers (NULL, unmapped, kernel addresses, read-only
 * memory, a structure running into an unmapped page), both for the
 * argument and for the pointers inside it.  Now and then a file is closed
 * with whatever it still owns and reopened.
 *
 * The tool checks nothing in the kernel itself: it must simply survive.
 * Whoever runs it compares the modules' live-object counters (debugfs
 * vtdp/objects, vtdp_testdev/objects) before and after, looks for oops,
 * WARN and BUG in dmesg and unloads the modules (docs/hostile.md).  It
 * fails (exit 1) only if an ioctl takes longer than the submit timeout of
 * the driver plus a margin, or a device file cannot be reopened.
 *
 * Left out on purpose: the interface's "slow" callback and fault handler
 * (300 ms per call, VTDP_V3_CB_SLOW, VTDP_V3_FR_CONFIG_SLOW_HANDLER) and
 * identity-mapped reserved regions of more than 64 Ki pages: both are
 * slow by design, not hostile (the region map stays killable).
 *
 * With -u the endpoint is first taken from its driver (td-lib), so that
 * /dev/vtdp-v3 can make a V3 device of it with PASID sub-devices; only
 * /dev/vtdp-v3 is fuzzed then.  The endpoint stays unbound.
 *
 * usage: vtdp-ioctl-fuzz [-n CALLS] [-s SEED] [-d TESTDEV] [-u] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <vtdp/testdev-hw.h>
#include <vtdp/testdev.h>
#include <vtdp/v3.h>

#include "td-lib.h"

#define PAGE		4096UL
#define ARENA_PAGES	256		/* user memory pinned and mapped */
#define MAX_HANDLES	64		/* remembered per kind and file */
#define SLOW_NS		(10ULL * 1000000000)	/* one ioctl: 10 s */

/* ---- random numbers (xorshift64*, reproducible from the seed) ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

/* A number a parameter might plausibly hold, or any 64-bit value. */
static uint64_t any64(void)
{
	static const uint64_t edges[] = {
		0, 1, 2, 3, 4, 7, 8, 0xfff, 0x1000, 0x1001, 0x7fffffff,
		0x80000000, 0xffffffff, 0x100000000ULL, 1ULL << 40,
		(1ULL << 48) - 0x1000, 1ULL << 48, 1ULL << 57, 1ULL << 63,
		~0ULL, ~0ULL - 0xfff, 0xfee00000, 0xfeefffff,
	};

	switch (below(4)) {
	case 0:
		return edges[below(sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return below(64);
	case 2:
		return below(1ULL << 24) * PAGE;
	default:
		return rnd();
	}
}

/* ---- user memory: good, read-only, unmapped ---- */

static uint8_t *arena;		/* ARENA_PAGES pages, read-write */
static uint8_t *ro_page;	/* one read-only page */
static uint8_t *guard_edge;	/* last page before an unmapped one */
static uint8_t *hole;		/* an unmapped page */

static void memory_init(void)
{
	uint8_t *m;

	arena = mmap(NULL, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (arena == MAP_FAILED || m == MAP_FAILED) {
		perror("vtdp-ioctl-fuzz: mmap");
		exit(2);
	}
	memset(arena, 0x5a, ARENA_PAGES * PAGE);
	ro_page = m;
	guard_edge = m + PAGE;
	hole = m + 2 * PAGE;
	mprotect(ro_page, PAGE, PROT_READ);
	munmap(hole, PAGE);
}

/* A page-aligned range of the arena, of @max pages at most. */
static uint64_t arena_range(unsigned int max, uint64_t *len)
{
	uint64_t first = below(ARENA_PAGES), n = 1 + below(max);

	if (first + n > ARENA_PAGES)
		n = ARENA_PAGES - first;
	*len = n * PAGE;
	return (uintptr_t)(arena + first * PAGE);
}

/*
 * A user pointer for @size bytes: mostly @good, else something bad.
 * Bad pointers make the kernel fail its copies, never crash.
 */
static uint64_t uptr(void *good, size_t size)
{
	if (!chance(8))
		return (uintptr_t)good;
	switch (below(6)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)hole + below(PAGE);
	case 2:
		return 0xffff888000000000ULL + below(1ULL << 30);	/* kernel */
	case 3:
		return (uintptr_t)ro_page;	/* readable, not writable */
	case 4:	/* runs into the unmapped page */
		if (size > PAGE)
			size = PAGE;
		return (uintptr_t)guard_edge + PAGE - (size > 1 ? 1 + below(size - 1) : 1);
	default:
		return rnd();
	}
}

/* ---- handles ---- */

enum kind { K_DEV, K_DOM, K_PASID, K_TOKEN, K_SEG, K_BUF, K_NKINDS };

struct pool {
	uint32_t live[K_NKINDS][MAX_HANDLES];
	unsigned int n[K_NKINDS];
};

#define NFILES	2
static int v3fd[NFILES] = { -1, -1 }, tdfd[NFILES] = { -1, -1 };
static struct pool pools[NFILES];
static uint64_t created[K_NKINDS];	/* objects made, by kind */
static const char *const kind_name[K_NKINDS] = {
	"devices", "domains", "PASID devices", "tokens", "segments", "buffers",
};
static uint32_t stale[64];	/* handles deleted at some point */
static unsigned int nstale;

static void forget_all(int f)
{
	memset(&pools[f], 0, sizeof(pools[f]));
}

static void remember(int f, enum kind k, uint32_t h)
{
	struct pool *p = &pools[f];

	if (!h)
		return;
	created[k]++;
	if (p->n[k] < MAX_HANDLES)
		p->live[k][p->n[k]++] = h;
	else
		p->live[k][below(MAX_HANDLES)] = h;	/* forgotten: freed at close */
}

static void forget(int f, enum kind k, uint32_t h)
{
	struct pool *p = &pools[f];

	for (unsigned int i = 0; i < p->n[k]; i++)
		if (p->live[k][i] == h) {
			p->live[k][i] = p->live[k][--p->n[k]];
			break;
		}
	stale[nstale++ % 64] = h;
}

/* A handle for an argument of kind @k on file @f. */
static uint32_t handle(int f, enum kind k)
{
	struct pool *p = &pools[f];
	unsigned int r = below(100);

	if (r < 75 && p->n[k])
		return p->live[k][below(p->n[k])];
	if (r < 82) {			/* another kind, or the other file's */
		struct pool *q = &pools[below(NFILES)];
		enum kind o = below(K_NKINDS);

		if (q->n[o])
			return q->live[o][below(q->n[o])];
	}
	if (r < 90 && nstale)
		return stale[below(nstale < 64 ? nstale : 64)];
	return chance(50) ? 0 : (uint32_t)any64();
}

/* ---- ioctl wrapper: timing and statistics ---- */

static uint64_t calls, ok_calls, slow_calls;
static bool verbose;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* One ioctl; its argument goes through uptr() unless @raw. */
static int call(int fd, unsigned long cmd, void *arg, size_t size)
{
	uint64_t t0 = now_ns(), p = uptr(arg, size), dt;
	int ret;

	ret = ioctl(fd, cmd, (void *)(uintptr_t)p);
	dt = now_ns() - t0;
	calls++;
	if (!ret && p == (uintptr_t)arg)
		ok_calls++;
	if (dt > SLOW_NS) {
		slow_calls++;
		printf("vtdp-ioctl-fuzz: call %" PRIu64 " cmd %#lx took %" PRIu64 " ms\n",
		       calls, cmd, dt / 1000000);
	}
	if (verbose)
		printf("%" PRIu64 " fd %d cmd %#lx -> %d %s\n", calls, fd, cmd,
		       ret, ret ? strerror(errno) : "");
	/* only a call whose argument was the real one may be trusted */
	return p == (uintptr_t)arg ? ret : -1;
}

/* ---- /dev/vtdp-v3 ---- */

static uint32_t bdf_of_testdev;

static uint32_t any_bdf(void)
{
	static const uint32_t bdfs[] = {
		0x0008, 0x0010, 0x00f8, 0x00fa, 0x00fb, 0x0000, 0x0018,
	};

	if (chance(10))
		return (uint32_t)any64();
	if (chance(20))
		return bdf_of_testdev;
	return bdfs[below(sizeof(bdfs) / sizeof(bdfs[0]))];
}

static uint32_t any_perms(void)
{
	return chance(85) ? 1 + below(3) : (uint32_t)any64();
}

static void any_phys(int f, struct vtdp_v3_phys *ph)
{
	ph->type = chance(90) ? below(VTDP_V3_PHYS_MAX) :
		   chance(50) ? VTDP_V3_PHYS_NULL : (uint32_t)any64();
	ph->buffer = handle(f, K_BUF);
	if (chance(85)) {
		ph->offset = below(8) * PAGE + (chance(10) ? below(PAGE) : 0);
		ph->length = (1 + below(8)) * PAGE + (chance(10) ? below(PAGE) : 0);
	} else {
		ph->offset = any64();
		ph->length = any64();
	}
}

/* LA arguments: mostly small, page aligned, inside the 48-bit space. */
static uint64_t any_la(void)
{
	return chance(80) ? below(1 << 16) * PAGE : any64();
}

/* An ioctl number no one defined, or a known one with a wrong size. */
static void fuzz_junk(int fd)
{
	/*
	 * Our own magics and two nobody uses: other magics include the
	 * VFS's own ioctls (FIFREEZE...), which never reach the drivers.
	 */
	static const unsigned int magics[] = { 0xDA, 0xDB, 0x00, 0xFF };
	uint8_t junk[512];
	unsigned long cmd = _IOC(below(4), magics[below(4)], below(0x40),
				 below(sizeof(junk)));

	for (unsigned int i = 0; i < sizeof(junk); i++)
		junk[i] = rnd();
	call(fd, cmd, junk, sizeof(junk));
}

static void fuzz_v3(int f)
{
	int fd = v3fd[f];
	unsigned int op = below(0x20);
	uint32_t h;

	switch (op) {
	case 0x00: {
		struct vtdp_v3_info a;

		call(fd, VTDP_V3_IOC_INFO, &a, sizeof(a));
		break;
	}
	case 0x01: {
		struct vtdp_v3_get_interface a = {
			.version = chance(70) ? 3 : (uint32_t)any64(),
			.opt = chance(90) ? below(2) : (uint32_t)any64(),
			.flags = chance(80) ? 0 : any64(),
			.remapping_compatible = below(4),
		};

		call(fd, VTDP_V3_IOC_GET_INTERFACE, &a, sizeof(a));
		break;
	}
	case 0x02: {
		/* room for the largest pin the interface accepts */
		static uint64_t phys[VTDP_V3_MAX_PIN_BYTES / PAGE];
		uint64_t len, addr = arena_range(16, &len);
		struct vtdp_v3_pin a = { .user_addr = addr, .length = len,
					 .phys_ptr = chance(50) ? uptr(phys, len / PAGE * 8) : 0 };

		if (chance(10))
			a.user_addr = chance(50) ? uptr(arena, len) : any64();
		if (chance(10))
			a.length = any64();
		if (chance(3))
			a.pad = 1;
		if (!call(fd, VTDP_V3_IOC_PIN, &a, sizeof(a)))
			remember(f, K_BUF, a.handle);
		break;
	}
	case 0x03: {
		struct vtdp_v3_region r[4];
		uint32_t nr = chance(70) ? 0 : 1 + below(4);
		struct vtdp_v3_create_domain a = {
			.type = chance(90) ? below(VTDP_V3_DOMAIN_MAX) : (uint32_t)any64(),
			.opt = chance(90) ? below(2) : (uint32_t)any64(),
			.flags = chance(80) ? 0 : any64(),
			.allocator_type = chance(90) ? below(2) : (uint32_t)any64(),
			.address_width = chance(80) ? 20 + below(29) : (uint32_t)any64(),
			.nregions = chance(95) ? nr : (uint32_t)any64(),
		};

		for (unsigned int i = 0; i < 4; i++) {
			r[i].base = any_la() + (1ULL << 30);
			r[i].should_map = chance(50);
			r[i].number_of_pages = r[i].should_map ? below(1 << 16) :
					       chance(80) ? below(1 << 16) : any64();
			r[i].pad = chance(3);
		}
		a.regions_ptr = uptr(r, sizeof(r));
		if (!call(fd, VTDP_V3_IOC_CREATE_DOMAIN, &a, sizeof(a)))
			remember(f, K_DOM, a.handle);
		break;
	}
	case 0x04: case 0x06: case 0x07: case 0x14: case 0x18: case 0x1a:
	case 0x1c: {
		static const struct { unsigned long cmd; enum kind k; bool del; } t[] = {
			[0x04] = { VTDP_V3_IOC_DELETE_DOMAIN, K_DOM, true },
			[0x06] = { VTDP_V3_IOC_DETACH_DEVICE, K_DEV, false },
			[0x07] = { VTDP_V3_IOC_FLUSH_DOMAIN, K_DOM, false },
			[0x14] = { VTDP_V3_IOC_FREE_RESERVED, K_TOKEN, true },
			[0x18] = { VTDP_V3_IOC_DELETE_DEVICE, K_DEV, true },
			[0x1a] = { VTDP_V3_IOC_DELETE_PASID_DEVICE, K_PASID, true },
			[0x1c] = { VTDP_V3_IOC_DETACH_PASID_DEVICE, K_PASID, false },
		};
		struct vtdp_v3_handle_op a = { .handle = handle(f, t[op].k) };

		/* deleting is rarer than creating, so that objects pile up */
		if (t[op].del && chance(50))
			break;
		h = a.handle;
		if (!call(fd, t[op].cmd, &a, sizeof(a)) && t[op].del &&
		    a.status == VTDP_V3_STATUS_SUCCESS)
			forget(f, t[op].k, h);
		break;
	}
	case 0x05: case 0x1b: {
		struct vtdp_v3_attach a = {
			.domain = handle(f, K_DOM),
			.device = handle(f, op == 0x05 ? K_DEV : K_PASID),
			.pad = chance(3),
		};

		call(fd, op == 0x05 ? VTDP_V3_IOC_ATTACH_DEVICE :
		     VTDP_V3_IOC_ATTACH_PASID_DEVICE, &a, sizeof(a));
		break;
	}
	case 0x08: {
		uint64_t va[8];
		struct vtdp_v3_flush_va_list a = {
			.domain = handle(f, K_DOM),
			.last_level = below(2),
			.number = chance(90) ? below(9) : (uint32_t)any64(),
			.opt = chance(90) ? 0 : (uint32_t)any64(),
		};

		for (unsigned int i = 0; i < 8; i++)
			va[i] = any_la();
		a.va_ptr = uptr(va, sizeof(va));
		call(fd, VTDP_V3_IOC_FLUSH_VA_LIST, &a, sizeof(a));
		break;
	}
	case 0x09: {
		uint8_t buf[4096];
		struct vtdp_v3_query_input_mappings a = {
			.bdf = any_bdf(),
			.buffer_length = chance(90) ? below(sizeof(buf) + 1) : (uint32_t)any64(),
			.opt = chance(90) ? 0 : (uint32_t)any64(),
		};

		a.buf_ptr = uptr(buf, a.buffer_length < sizeof(buf) ? a.buffer_length : sizeof(buf));
		call(fd, VTDP_V3_IOC_QUERY_INPUT_MAPPINGS, &a, sizeof(a));
		break;
	}
	case 0x0a: {
		struct vtdp_v3_map_logical a = {
			.domain = handle(f, K_DOM),
			.perms = any_perms(),
			.opt = chance(90) ? below(16) : (uint32_t)any64(),
			.explicit_la = any_la(),
			.min_la = any_la(),
			.max_la = chance(50) ? any_la() : any64(),
		};

		any_phys(f, &a.phys);
		call(fd, VTDP_V3_IOC_MAP_LOGICAL, &a, sizeof(a));
		break;
	}
	case 0x0b: {
		struct vtdp_v3_unmap_logical a = {
			.domain = handle(f, K_DOM),
			.la = any_la(),
			.number_of_pages = chance(80) ? 1 + below(16) : any64(),
		};

		call(fd, VTDP_V3_IOC_UNMAP_LOGICAL, &a, sizeof(a));
		break;
	}
	case 0x0c: case 0x0d: {
		struct vtdp_v3_identity a = {
			.domain = handle(f, K_DOM),
			.perms = any_perms(),
			.pad = chance(3),
		};

		any_phys(f, &a.phys);
		call(fd, op == 0x0c ? VTDP_V3_IOC_MAP_IDENTITY :
		     VTDP_V3_IOC_UNMAP_IDENTITY, &a, sizeof(a));
		break;
	}
	case 0x0e: {
		struct vtdp_v3_fault_reporting a = {
			.device = handle(f, K_DEV),
			.input_mapping_id_base = chance(80) ? 0 : (uint32_t)any64(),
			.enable = chance(90) ? below(2) : (uint32_t)any64(),
			.config = chance(90) ? below(3) : (uint32_t)any64(),
		};

		if (a.config == VTDP_V3_FR_CONFIG_SLOW_HANDLER)
			a.config = VTDP_V3_FR_CONFIG_HANDLER;
		call(fd, VTDP_V3_IOC_FAULT_REPORTING, &a, sizeof(a));
		break;
	}
	case 0x0f: {
		struct vtdp_v3_configure_domain a = {
			.domain = handle(f, K_DOM),
			.opt = chance(90) ? below(2) : (uint32_t)any64(),
			.type = below(4),
			.translation_enabled = below(3),
			.root = any64(),
		};

		call(fd, VTDP_V3_IOC_CONFIGURE_DOMAIN, &a, sizeof(a));
		break;
	}
	case 0x10: {
		struct vtdp_v3_query_domain_types a = { .device = handle(f, K_DEV) };

		call(fd, VTDP_V3_IOC_QUERY_DOMAIN_TYPES, &a, sizeof(a));
		break;
	}
	case 0x11: case 0x12: {
		struct vtdp_v3_state_cb a = {
			.device = handle(f, K_DEV),
			.fields = chance(80) ? below(2) : (uint32_t)any64(),
			.opt = (chance(80) ? below(8) : (uint32_t)any64()) &
			       ~VTDP_V3_CB_SLOW,
		};

		call(fd, op == 0x11 ? VTDP_V3_IOC_REGISTER_CB :
		     VTDP_V3_IOC_UNREGISTER_CB, &a, sizeof(a));
		break;
	}
	case 0x13: {
		struct vtdp_v3_reserve a = {
			.domain = handle(f, K_DOM),
			.opt = chance(90) ? below(16) : (uint32_t)any64(),
			.size = chance(85) ? (1 + below(64)) * PAGE : any64(),
			.explicit_la = any_la(),
			.min_la = any_la(),
			.max_la = chance(50) ? any_la() : any64(),
		};

		if (!call(fd, VTDP_V3_IOC_RESERVE, &a, sizeof(a)))
			remember(f, K_TOKEN, a.handle);
		break;
	}
	case 0x15: {
		struct vtdp_v3_map_reserved a = {
			.token = handle(f, K_TOKEN),
			.perms = any_perms(),
			.offset = chance(80) ? below(16) * PAGE : any64(),
			.opt = chance(90) ? below(4) : (uint32_t)any64(),
			.pad = chance(3),
		};

		any_phys(f, &a.phys);
		if (!call(fd, VTDP_V3_IOC_MAP_RESERVED, &a, sizeof(a)))
			remember(f, K_SEG, a.segment);
		break;
	}
	case 0x16: {
		struct vtdp_v3_unmap_reserved a = {
			.segment = handle(f, K_SEG),
			.opt = chance(90) ? below(16) : (uint32_t)any64(),
			.offset = chance(80) ? below(16) * PAGE : any64(),
			.size = chance(80) ? below(16) * PAGE : any64(),
		};

		h = a.segment;
		if (!call(fd, VTDP_V3_IOC_UNMAP_RESERVED, &a, sizeof(a)) &&
		    a.status == VTDP_V3_STATUS_SUCCESS &&
		    !(a.opt & VTDP_V3_UR_KEEP))
			forget(f, K_SEG, h);
		break;
	}
	case 0x17: {
		struct vtdp_v3_create_device a = {
			.bdf = any_bdf(),
			.opt = chance(90) ? 0 : (uint32_t)any64(),
			.nconfigs = chance(90) ? below(4) : (uint32_t)any64(),
		};

		for (unsigned int i = 0; i < VTDP_V3_MAX_CONFIGS; i++) {
			a.configs[i].type = chance(90) ? below(VTDP_V3_DEVCFG_MAX) : (uint32_t)any64();
			a.configs[i].pasid_type = below(3);
			a.configs[i].suppress_pasid_faults = below(2);
			a.configs[i].pad = chance(3);
		}
		if (!call(fd, VTDP_V3_IOC_CREATE_DEVICE, &a, sizeof(a)))
			remember(f, K_DEV, a.handle);
		break;
	}
	case 0x19: {
		struct vtdp_v3_create_pasid_device a = {
			.device = handle(f, K_DEV),
			.opt = chance(90) ? 0 : (uint32_t)any64(),
		};

		if (!call(fd, VTDP_V3_IOC_CREATE_PASID_DEVICE, &a, sizeof(a)))
			remember(f, K_PASID, a.handle);
		break;
	}
	case 0x1d: {
		struct vtdp_v3_query_device_info a = {
			.device = handle(f, K_DEV),
			.size = chance(80) ? below(16) : (uint32_t)any64(),
			.opt = chance(90) ? below(4) : (uint32_t)any64(),
		};

		call(fd, VTDP_V3_IOC_QUERY_DEVICE_INFO, &a, sizeof(a));
		break;
	}
	case 0x1e: {
		struct vtdp_v3_device_state a = { .device = handle(f, K_DEV) };

		call(fd, VTDP_V3_IOC_DEVICE_STATE, &a, sizeof(a));
		break;
	}
	default:	/* 0x1f */
		fuzz_junk(fd);
		break;
	}
}

/* ---- /dev/vtdp-testdev<N> ---- */

static uint64_t td_iova[NFILES][32];	/* IOVAs mapped through each file */
static uint64_t td_maps;
static unsigned int td_niova[NFILES];

static uint64_t td_any_iova(int f)
{
	if (td_niova[f] && chance(70))
		return td_iova[f][below(td_niova[f])] + (chance(70) ? below(8) * PAGE : below(1 << 20));
	return chance(70) ? below(1 << 12) * PAGE : any64();
}

static void fuzz_td(int f)
{
	int fd = tdfd[f];

	switch (below(9)) {
	case 8:
		fuzz_junk(fd);
		break;
	case 0: {
		struct vtdp_td_info a;

		call(fd, VTDP_TD_IOC_INFO, &a, sizeof(a));
		break;
	}
	case 1: case 2: {
		uint64_t len, addr = arena_range(16, &len);
		struct vtdp_td_map a = {
			.user_addr = chance(90) ? addr : uptr(arena, len),
			.length = chance(90) ? len : any64(),
			.iova = chance(85) ? below(1 << 12) * PAGE : any64(),
			.perms = chance(90) ? 1 + below(3) : (uint32_t)any64(),
		};

		if (!call(fd, VTDP_TD_IOC_MAP, &a, sizeof(a)) &&
		    a.status == VTDP_V3_STATUS_SUCCESS) {
			td_iova[f][td_niova[f]++ % 32] = a.iova;
			td_maps++;
		}
		if (td_niova[f] > 32)
			td_niova[f] = 32;
		break;
	}
	case 3: {
		struct vtdp_td_unmap a = { .iova = td_any_iova(f), .pad = chance(3) };

		call(fd, VTDP_TD_IOC_UNMAP, &a, sizeof(a));
		break;
	}
	case 4: case 5: case 6: {
		static const uint32_t ops[] = {
			VTDP_TD_OP_NOP, VTDP_TD_OP_COPY, VTDP_TD_OP_FILL,
			VTDP_TD_OP_CRC32C, VTDP_TD_OP_COMPARE, VTDP_TD_OP_WRITE_IMM,
		};
		struct vtdp_td_submit a = {
			.opcode = chance(90) ? ops[below(6)] : (uint32_t)any64(),
			.flags = chance(95) ? 0 : (uint32_t)any64(),
			.len = chance(85) ? 1 + below(4 * PAGE) : (uint32_t)any64(),
			.queue = chance(95) ? 0 : (uint32_t)any64(),
			.src = td_any_iova(f),
			.dst = td_any_iova(f),
			.pattern = rnd(),
		};

		call(fd, VTDP_TD_IOC_SUBMIT, &a, sizeof(a));
		break;
	}
	case 7: {
		/* the driver never returns more than its ring */
		static struct vtdp_td_fault buf[VTDP_TD_FAULT_RING];
		struct vtdp_td_faults a = {
			.max = chance(90) ? below(9) : (uint32_t)any64(),
		};

		a.faults_ptr = uptr(buf, sizeof(buf));
		call(fd, VTDP_TD_IOC_FAULTS, &a, sizeof(a));
		break;
	}
	}
}

/* ---- main ---- */

static int reopen(int *fd, const char *path)
{
	if (*fd >= 0)
		close(*fd);
	*fd = open(path, O_RDWR);
	if (*fd < 0) {
		printf("vtdp-ioctl-fuzz: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *td_path = "/dev/vtdp-testdev0";
	uint64_t n = 100000, seed = 0, reopens = 0;
	struct vtdp_td_info info;
	bool unbind = false;
	int c, f;

	while ((c = getopt(argc, argv, "n:s:d:uvh")) != -1) {
		switch (c) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			td_path = optarg;
			break;
		case 'u':
			unbind = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-n CALLS] [-s SEED] [-d TESTDEV] [-u] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (!seed)
		seed = now_ns();
	rng_state = seed | 1;
	printf("vtdp-ioctl-fuzz: %" PRIu64 " calls, seed %" PRIu64 "\n", n, seed);
	fflush(stdout);
	memory_init();

	if (unbind) {
		char sysfs[300];

		if (td_ep_find(0, sysfs, sizeof(sysfs), &bdf_of_testdev) ||
		    td_ep_unbind(sysfs)) {
			printf("vtdp-ioctl-fuzz: no endpoint to unbind: %s\n",
			       strerror(errno));
			return 1;
		}
		printf("vtdp-ioctl-fuzz: %s unbound, /dev/vtdp-v3 only\n", sysfs);
	}
	for (f = 0; f < NFILES; f++)
		if (reopen(&v3fd[f], "/dev/" VTDP_V3_DEVICE_NAME) ||
		    (!unbind && reopen(&tdfd[f], td_path)))
			return 1;
	if (!unbind && ioctl(tdfd[0], VTDP_TD_IOC_INFO, &info) == 0)
		bdf_of_testdev = info.bdf;

	while (calls < n) {
		f = below(NFILES);
		if (unbind || chance(60))
			fuzz_v3(f);
		else
			fuzz_td(f);
		/* a close with everything still live: the release paths */
		if (chance(1) && chance(20)) {
			reopens++;
			if (unbind || chance(50)) {
				if (reopen(&v3fd[f], "/dev/" VTDP_V3_DEVICE_NAME))
					return 1;
				forget_all(f);
			} else {
				if (reopen(&tdfd[f], td_path))
					return 1;
				td_niova[f] = 0;
			}
		}
	}
	for (f = 0; f < NFILES; f++) {
		close(v3fd[f]);
		if (tdfd[f] >= 0)
			close(tdfd[f]);
	}
	printf("vtdp-ioctl-fuzz: %" PRIu64 " calls, %" PRIu64 " returned 0, %" PRIu64
	       " reopens, %" PRIu64 " slower than %llu s\n", calls, ok_calls, reopens,
	       slow_calls, SLOW_NS / 1000000000ULL);
	printf("vtdp-ioctl-fuzz: made");
	for (int k = 0; k < K_NKINDS; k++)
		printf("%s %" PRIu64 " %s", k ? "," : "", created[k], kind_name[k]);
	printf("; %" PRIu64 " testdev mappings\n", td_maps);
	return slow_calls ? 1 : 0;
}
