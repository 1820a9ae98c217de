// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-isolation - what a device or PASID must never reach, checked by DMA.
 *
 * Takes the first vtdp-testdev away from its driver, builds domains on
 * /dev/vtdp-v3 and drives the endpoint's BAR from user space (td-lib), as
 * vtdp-v3-conformance does.  Each "attempt" is one DMA the IOMMU must
 * stop: to memory of another domain or of another PASID's domain, with an
 * unallocated PASID, from a detached device and from a device in a
 * domain with nothing mapped, after unmap and flush (logical map and
 * token segment), a write through a read-only mapping, and a guest
 * physical address used as a device address, and - with a second
 * endpoint - from one device into the other's domain.  For each attempt the tool
 * checks that the device saw a DMA error (or could not even fetch its
 * ring), that the target memory is unchanged, and that vtdp.ko reported
 * exactly one fault for it to the device's V3 fault handler, with the
 * address attempted.  Positive controls (the same DMA where it is
 * allowed) show that each attempt was meaningful.
 *
 * Output is TAP; the last lines give the counts of attempts, blocked and
 * reported, which must be equal.  Exit status 0 only if every test passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <vtdp/iommu-hw.h>
#include <vtdp/v3.h>

#include "td-lib.h"
#include "vtdp-tap.h"

#define PAGE	4096ULL
/* Device addresses far above guest RAM: never a physical address too. */
#define LA(n)	(0x100000000ULL + (uint64_t)(n) * 0x100000)

struct buf {
	uint32_t handle;
	uint8_t *mem;
	uint64_t phys;
};

/* An endpoint driven from here: its BAR, its ring, its V3 device. */
struct endpoint {
	volatile uint32_t *bar;
	struct buf ring;
	uint32_t dev;
};

static int fd;
static struct endpoint ep1, ep2;
static struct endpoint *ep = &ep1;	/* the one copy() and attempt() use */
static unsigned int attempts, blocked, reported;

/* ---- /dev/vtdp-v3 ---- */

static int32_t v3(unsigned long cmd, void *arg, int32_t *status)
{
	if (ioctl(fd, cmd, arg) < 0) {
		diag("ioctl %#lx: %s", cmd, strerror(errno));
		return -1;
	}
	return *status;
}

static uint32_t domain(uint32_t type)
{
	struct vtdp_v3_create_domain a = { .type = type };

	return v3(VTDP_V3_IOC_CREATE_DOMAIN, &a, &a.status) ? 0 : a.handle;
}

static int32_t handle_op(unsigned long cmd, uint32_t h)
{
	struct vtdp_v3_handle_op a = { .handle = h };

	return v3(cmd, &a, &a.status);
}

static int32_t attach(unsigned long cmd, uint32_t dom, uint32_t d)
{
	struct vtdp_v3_attach a = { .domain = dom, .device = d };

	return v3(cmd, &a, &a.status);
}

static int pin(struct buf *b)
{
	struct vtdp_v3_pin a = { .length = PAGE };

	b->mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->mem == MAP_FAILED)
		return -1;
	a.user_addr = (uintptr_t)b->mem;
	a.phys_ptr = (uintptr_t)&b->phys;
	if (ioctl(fd, VTDP_V3_IOC_PIN, &a) < 0)
		return -1;
	b->handle = a.handle;
	return 0;
}

static int32_t map(uint32_t dom, uint32_t perms, const struct buf *b, uint64_t la)
{
	struct vtdp_v3_map_logical a = {
		.domain = dom, .perms = perms, .opt = VTDP_V3_ML_EXPLICIT,
		.explicit_la = la,
		.phys = { .type = VTDP_V3_PHYS_MDL, .buffer = b->handle, .length = PAGE },
	};

	return v3(VTDP_V3_IOC_MAP_LOGICAL, &a, &a.status);
}

static int32_t unmap(uint32_t dom, uint64_t la)
{
	struct vtdp_v3_unmap_logical a = { .domain = dom, .la = la, .number_of_pages = 1 };

	return v3(VTDP_V3_IOC_UNMAP_LOGICAL, &a, &a.status);
}

/* The interface's counting handler; vtdp.ko takes it for attached devices. */
static int32_t fault_reporting_on(uint32_t dev)
{
	struct vtdp_v3_fault_reporting fr = {
		.device = dev, .enable = 1, .config = VTDP_V3_FR_CONFIG_HANDLER,
	};

	return v3(VTDP_V3_IOC_FAULT_REPORTING, &fr, &fr.status);
}

static struct vtdp_v3_device_state state(void)
{
	struct vtdp_v3_device_state s = { .device = ep->dev };

	ioctl(fd, VTDP_V3_IOC_DEVICE_STATE, &s);
	return s;
}

/* ---- DMA ---- */

static uint64_t ring_la = LA(0);	/* every endpoint's ring, in its domain */

/* COPY one page @src -> @dst; the completion status or TD_RUN_*. */
static int copy(uint64_t src, uint64_t dst, bool tagged, uint32_t pasid,
		struct vtdp_td_desc *done)
{
	struct vtdp_td_desc d = {
		.opcode = VTDP_TD_OP_COPY, .len = PAGE, .src = src, .dst = dst,
	};

	return td_bar_run(ep->bar, ep->ring.mem, ring_la, &d, tagged, pasid, done);
}

static bool all(const uint8_t *p, uint8_t v)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * One attempt that must be stopped: COPY @src -> @dst (tagged with @pasid
 * if @tagged).  @victim (may be NULL) is memory that must stay filled
 * with 0x77; @fault_addr is the address the report must name.
 */
static void attempt(const char *what, uint64_t src, uint64_t dst, bool tagged,
		    uint32_t pasid, struct buf *victim, uint64_t fault_addr)
{
	struct vtdp_v3_device_state s0 = state(), s;
	struct vtdp_td_desc done = { 0 };
	bool stopped, untouched, one_report;
	int st;

	if (victim)
		memset(victim->mem, 0x77, PAGE);
	st = copy(src, dst, tagged, pasid, &done);
	attempts++;
	stopped = st == VTDP_TD_ST_DMA_FAULT || st == TD_RUN_RING_FAULT;
	untouched = !victim || all(victim->mem, 0x77);
	if (stopped && untouched)
		blocked++;
	/* the report comes from the fault interrupt: wait for it (10 s) */
	s = state();
	for (int i = 0; i < 1000 && s.faults == s0.faults; i++) {
		usleep(10000);
		s = state();
	}
	usleep(20000);		/* a second report would arrive by now */
	s = state();
	one_report = s.faults == s0.faults + 1 && s.fault_last_address == fault_addr &&
		     (!tagged || (s.fault_last_pasid_valid && s.fault_last_pasid == pasid));
	if (one_report)
		reported++;
	tap(stopped && untouched, "%s: stopped (%s) and target memory untouched", what,
	    st == TD_RUN_RING_FAULT ? "ring fetch failed" :
	    st == TD_RUN_TIMEOUT ? "no completion!" : td_st_name(st));
	tap(one_report, "%s: one fault reported at %#" PRIx64 " (got %" PRIu64
	    " report(s), last at %#" PRIx64 " reason %#x%s)", what, fault_addr,
	    (uint64_t)(s.faults - s0.faults), (uint64_t)s.fault_last_address,
	    s.fault_last_reason, s.fault_last_pasid_valid ? ", tagged" : "");
}

/* A DMA that must work: shows that the matching attempt meant something. */
static void allowed(const char *what, uint64_t src, const struct buf *from,
		    uint64_t dst, const struct buf *to, bool tagged, uint32_t pasid)
{
	int st;

	memset(from->mem, 0x3c, PAGE);
	memset(to->mem, 0, PAGE);
	st = copy(src, dst, tagged, pasid, NULL);
	tap(st == VTDP_TD_ST_OK && all(to->mem, 0x3c), "control: %s works (%s)", what,
	    st < 0 ? "no completion" : td_st_name(st));
}

/*
 * Through its driver, the endpoint never writes to the interrupt window:
 * such a write is an MSI with any vector or delivery mode (NMI, INIT)
 * there, not memory, and no IOMMU translates it.  Regression test: the
 * ioctl fuzzer once reset the guest that way.
 */
static void interrupt_window(void)
{
	static const struct { uint32_t op, len; uint64_t dst; const char *what; } c[] = {
		{ VTDP_TD_OP_WRITE_IMM, 4, 0xfee00000, "WRITE_IMM to 0xfee00000" },
		{ VTDP_TD_OP_FILL, 2 * PAGE, 0xfedff000, "FILL running into 0xfee00000" },
		{ VTDP_TD_OP_COPY, PAGE, 0xfeeff000, "COPY to the window's last page" },
		{ VTDP_TD_OP_WRITE_IMM, 0, 0xfeeffffc, "WRITE_IMM with len 0 at its end" },
	};
	struct vtdp_td_submit s;
	int tdfd = open("/dev/vtdp-testdev0", O_RDWR);

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int ret = tdfd < 0 ? -ENODEV :
			  td_submit(tdfd, c[i].op, c[i].len, LA(1), c[i].dst, 0x4041, &s);

		tap(ret == -EINVAL, "driver: SUBMIT %s refused with EINVAL (got %s)",
		    c[i].what, ret ? strerror(-ret) : "submitted");
	}
	if (tdfd >= 0)
		close(tdfd);
}

int main(void)
{
	struct buf a_src, a_dst, b_mem, b_dst, c_mem, c_dst, ro, tok_mem, secret;
	uint32_t dom_a, dom_b, dom_c, dom_blk, dom_empty, pd1 = 0, pd2 = 0, pasid1 = 0, pasid2 = 0;
	char sysfs[300];
	uint32_t bdf;

	interrupt_window();
	if (td_ep_find(0, sysfs, sizeof(sysfs), &bdf) || td_ep_unbind(sysfs)) {
		printf("Bail out! no vtdp-testdev to take over: %s\n", strerror(errno));
		return 1;
	}
	fd = open("/dev/" VTDP_V3_DEVICE_NAME, O_RDWR);
	ep1.bar = td_bar_open(sysfs);
	if (fd < 0 || !ep1.bar || pin(&ep1.ring) || pin(&a_src) || pin(&a_dst) || pin(&b_mem) ||
	    pin(&b_dst) || pin(&c_mem) || pin(&c_dst) || pin(&ro) || pin(&tok_mem) ||
	    pin(&secret)) {
		printf("Bail out! /dev/vtdp-v3, BAR or buffers: %s\n", strerror(errno));
		return 1;
	}
	diag("endpoint %s", sysfs);
	{
		struct vtdp_v3_create_device c = {
			.bdf = bdf, .nconfigs = 1,
			.configs[0] = { .type = VTDP_V3_DEVCFG_PASID,
					.pasid_type = VTDP_V3_PASID_TAGGED_DMA },
		};

		if (v3(VTDP_V3_IOC_CREATE_DEVICE, &c, &c.status)) {
			printf("Bail out! CreateDevice for the endpoint failed\n");
			return 1;
		}
		ep1.dev = c.handle;
	}

	/*
	 * Domain A: the device's.  B: another domain, same addresses mapped
	 * to other pages.  C: a PASID's.  The ring is at LA(0) in A.
	 */
	dom_a = domain(VTDP_V3_DOMAIN_TRANSLATE);
	dom_b = domain(VTDP_V3_DOMAIN_TRANSLATE);
	dom_c = domain(VTDP_V3_DOMAIN_TRANSLATE);
	dom_blk = domain(VTDP_V3_DOMAIN_UNMANAGED);
	dom_empty = domain(VTDP_V3_DOMAIN_TRANSLATE);
	if (!dom_a || !dom_b || !dom_c || !dom_blk || !dom_empty ||
	    map(dom_a, 3, &ep1.ring, ring_la) || map(dom_a, 1, &a_src, LA(1)) ||
	    map(dom_a, 2, &a_dst, LA(2)) || map(dom_a, 1, &ro, LA(3)) ||
	    map(dom_b, 3, &b_mem, LA(4)) || map(dom_b, 3, &b_dst, LA(8)) ||
	    map(dom_c, 3, &c_mem, LA(5)) || map(dom_c, 3, &c_dst, LA(7)) ||
	    attach(VTDP_V3_IOC_ATTACH_DEVICE, dom_a, ep1.dev)) {
		printf("Bail out! building the domains failed\n");
		return 1;
	}
	if (fault_reporting_on(ep1.dev)) {
		printf("Bail out! SetDeviceFaultReportingEx failed\n");
		return 1;
	}

	/* another domain's memory, either way */
	allowed("COPY in the device's own domain", LA(1), &a_src, LA(2), &a_dst, false, 0);
	attempt("write to an address mapped only in another domain", LA(1), LA(4),
		false, 0, &b_mem, LA(4));
	attempt("read of an address mapped only in another domain", LA(4), LA(2),
		false, 0, &a_dst, LA(4));
	attempt("read of a guest physical address (no identity map)", secret.phys, LA(2),
		false, 0, &a_dst, secret.phys);

	/* read-only stays read-only */
	allowed("read through the read-only mapping", LA(3), &ro, LA(2), &a_dst, false, 0);
	attempt("write through a read-only mapping", LA(1), LA(3), false, 0, &ro, LA(3));

	/* PASIDs: each reaches its own domain only */
	{
		struct vtdp_v3_create_pasid_device p = { .device = ep1.dev };

		if (!v3(VTDP_V3_IOC_CREATE_PASID_DEVICE, &p, &p.status)) {
			pd1 = p.handle;
			pasid1 = p.pasid;
		}
		memset(&p, 0, sizeof(p));
		p.device = ep1.dev;
		if (!v3(VTDP_V3_IOC_CREATE_PASID_DEVICE, &p, &p.status)) {
			pd2 = p.handle;
			pasid2 = p.pasid;
		}
	}
	if (pd1 && pd2 && !attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, dom_c, pd1) &&
	    !attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, dom_b, pd2)) {
		diag("PASID %u in domain C, PASID %u in domain B", pasid1, pasid2);
		allowed("PASID 1 within its own domain", LA(5), &c_mem, LA(7), &c_dst,
			true, pasid1);
		allowed("PASID 2 within its own domain", LA(4), &b_mem, LA(8), &b_dst,
			true, pasid2);
		attempt("PASID 1 writes memory of PASID 2's domain", LA(5), LA(8), true,
			pasid1, &b_dst, LA(8));
		attempt("PASID 2 reads memory of PASID 1's domain", LA(5), LA(8), true,
			pasid2, &b_dst, LA(5));
		attempt("PASID 1 reads the device's (untagged) domain", LA(1), LA(5), true,
			pasid1, &c_mem, LA(1));
		attempt("untagged DMA to PASID 1's domain", LA(1), LA(5), false, 0,
			&c_mem, LA(5));
		attempt("a PASID never allocated", LA(5), LA(5), true,
			(pasid1 > pasid2 ? pasid1 : pasid2) + 7, &c_mem, LA(5));
		handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, pd1);
		attempt("PASID 1 after DetachPasidDevice", LA(5), LA(5), true, pasid1,
			&c_mem, LA(5));
	} else {
		tap(false, "PASID sub-devices: create and attach two");
	}

	/* after unmap (synchronous invalidation) and a flush, nothing is left */
	allowed("COPY before the unmap", LA(1), &a_src, LA(2), &a_dst, false, 0);
	unmap(dom_a, LA(2));
	handle_op(VTDP_V3_IOC_FLUSH_DOMAIN, dom_a);
	attempt("write after UnmapLogicalRange and FlushDomain", LA(1), LA(2), false, 0,
		&a_dst, LA(2));
	{
		struct vtdp_v3_reserve r = {
			.domain = dom_a, .opt = VTDP_V3_ML_EXPLICIT, .size = 4 * PAGE,
			.explicit_la = LA(6),
		};
		struct vtdp_v3_map_reserved m = {
			.perms = 3,
			.phys = { .type = VTDP_V3_PHYS_MDL, .buffer = tok_mem.handle,
				  .length = PAGE },
		};
		struct vtdp_v3_unmap_reserved u = { 0 };

		if (!v3(VTDP_V3_IOC_RESERVE, &r, &r.status) &&
		    (m.token = r.handle, !v3(VTDP_V3_IOC_MAP_RESERVED, &m, &m.status))) {
			allowed("COPY into a token segment", LA(1), &a_src, LA(6), &tok_mem,
				false, 0);
			u.segment = m.segment;
			v3(VTDP_V3_IOC_UNMAP_RESERVED, &u, &u.status);
			handle_op(VTDP_V3_IOC_FLUSH_DOMAIN, dom_a);
			attempt("write after UnmapReservedLogicalRange", LA(1), LA(6), false, 0,
				&tok_mem, LA(6));
			handle_op(VTDP_V3_IOC_FREE_RESERVED, r.handle);
		} else {
			tap(false, "token: reserve and map a segment");
		}
	}

	/* a blocking domain and no domain at all: even the ring is out of reach */
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, ep1.dev);
	map(dom_a, 2, &a_dst, LA(2));
	attempt("detached device", LA(1), LA(2), false, 0, &a_dst, ring_la);
	/*
	 * V3 on x86 has no attachable blocking domain (Unmanaged ones are
	 * refused, docs/v3-interface-notes.md): a Translate domain with
	 * nothing mapped is the blocked state.
	 */
	tap(attach(VTDP_V3_IOC_ATTACH_DEVICE, dom_blk, ep1.dev) == VTDP_V3_STATUS_ACCESS_DENIED,
	    "AttachDeviceEx to an Unmanaged domain is refused (ACCESS_DENIED)");
	if (attach(VTDP_V3_IOC_ATTACH_DEVICE, dom_empty, ep1.dev) == VTDP_V3_STATUS_SUCCESS) {
		attempt("device in a domain with nothing mapped (blocked)", LA(1), LA(2),
			false, 0, &a_dst, ring_la);
		handle_op(VTDP_V3_IOC_DETACH_DEVICE, ep1.dev);
	} else {
		tap(false, "AttachDeviceEx to an empty Translate domain");
	}

	/*
	 * Another device: a second endpoint in domain B reaches nothing of
	 * A, while the first, back in A, still does.  Needs two endpoints
	 * (scripts/boot-vm -n 2); without, these cases are not run (no
	 * result either way).
	 */
	if (!td_ep_find(1, sysfs, sizeof(sysfs), &bdf)) {
		struct vtdp_v3_create_device c = { .bdf = bdf };

		diag("second endpoint %s, in domain B", sysfs);
		if (td_ep_unbind(sysfs) || !(ep2.bar = td_bar_open(sysfs)) || pin(&ep2.ring) ||
		    v3(VTDP_V3_IOC_CREATE_DEVICE, &c, &c.status) ||
		    (ep2.dev = c.handle, map(dom_b, 3, &ep2.ring, ring_la)) ||
		    attach(VTDP_V3_IOC_ATTACH_DEVICE, dom_b, ep2.dev) ||
		    fault_reporting_on(ep2.dev) ||
		    attach(VTDP_V3_IOC_ATTACH_DEVICE, dom_a, ep1.dev)) {
			tap(false, "second endpoint: take it, make its device, attach it to B");
		} else {
			ep = &ep2;
			allowed("second device within its own domain", LA(4), &b_mem, LA(8),
				&b_dst, false, 0);
			attempt("second device reads the first device's domain", LA(1), LA(8),
				false, 0, &b_dst, LA(1));
			attempt("second device writes the first device's domain", LA(4), LA(2),
				false, 0, &a_dst, LA(2));
			ep = &ep1;
			allowed("first device within its domain, meanwhile", LA(1), &a_src,
				LA(2), &a_dst, false, 0);
			attempt("first device writes the second device's domain", LA(1), LA(8),
				false, 0, &b_dst, LA(8));
		}
	} else {
		diag("one endpoint: the cases with a second device were not run");
	}

	diag("attempts %u, blocked %u, reported %u", attempts, blocked, reported);
	tap(attempts > 0 && attempts == blocked && blocked == reported,
	    "isolation: attempts %u = blocked %u = reported %u", attempts, blocked, reported);
	/* closing the file tears everything down; the endpoint stays unbound */
	close(fd);
	printf("1..%d\n", test_no);
	return failures ? 1 : 0;
}
