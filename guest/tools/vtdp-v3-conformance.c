// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp-v3-conformance - the V3 interface's statuses, checked in the guest.
 *
 * Drives /dev/vtdp-v3 (uapi/vtdp/v3.h), which calls each V3 function of
 * vtdp.ko with exactly the arguments given and returns the exact status.
 * Every documented status of every function has at least one case here
 * (the table is docs/v3-conformance.md); then a property test of the buddy
 * allocator against a model of it, and map/unmap from several threads.
 *
 * The DMA device used is a vtdp-testdev endpoint, unbound from its driver
 * first (only one DMA-device token per device may exist), plus a second
 * PCI function on the same root bus.
 *
 * Output is TAP; the exit status is 0 only when every test passed.
 *
 * With --commit-invalidation-bugs only one section runs: vtdp.ko is made
 * to leave out one invalidation of each kind (its debugfs fault
 * injection) where the V3 calls need it, and the endpoint then DMAs
 * through the stale caches.  That is the guest half of the DMA sanitizer
 * test: the host half checks the vtdp-iommu's reports through QMP.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vtdp/iommu-hw.h>
#include <vtdp/testdev-hw.h>
#include <vtdp/v3.h>

#include "td-lib.h"
#include "vtdp-tap.h"

#define PAGE		4096ULL
#define BUF_PAGES	64
#define PARAM_PT	"/sys/module/vtdp/parameters/allow_passthrough"

static int fd = -1;
static uint32_t ep_pasid_width, unit_pasid_bits;	/* 0: no PASID */
static uint32_t high_pd, high_pasid;	/* a kept PASID sub-device */
static char ep_sysfs[300];
static uint32_t bdf_ep, bdf_other, bdf_iommu;
static uint32_t buf;		/* pinned buffer, BUF_PAGES pages */
static uint8_t *buf_mem;

static const char *sname(int32_t s)
{
	switch (s) {
#define S(x) case VTDP_V3_STATUS_##x: return #x;
	S(SUCCESS) S(UNSUCCESSFUL) S(NOT_IMPLEMENTED) S(INVALID_PARAMETER)
	S(ACCESS_DENIED) S(BUFFER_TOO_SMALL) S(INVALID_PARAMETER_MIX)
	S(NONE_MAPPED) S(INSUFFICIENT_RESOURCES) S(NOT_SUPPORTED)
	S(INVALID_PARAMETER_1) S(INVALID_PARAMETER_2) S(INVALID_PARAMETER_3)
	S(INVALID_PARAMETER_4) S(NOT_FOUND) S(RESOURCE_IN_USE) S(IN_USE)
#undef S
	}
	return "?";
}

/* ioctl that must reach the V3 function; -1 means the transport failed */
static int xioctl(unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg) < 0) {
		diag("%s: ioctl failed: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

/* One status case: function, condition, the status it got. */
static void expect(int32_t got, int32_t want, const char *fn, const char *cond)
{
	if (got != want)
		diag("%s: got %s (%#x), want %s", fn, sname(got),
		     (uint32_t)got, sname(want));
	tap(got == want, "%s: %s -> %s", fn, cond, sname(want));
}

/* ---- wrappers: each returns the status (or a poison on transport error) */

#define TRANSPORT_ERR	((int32_t)0x7fffffff)

static int32_t get_interface_opt_in(uint32_t version, uint64_t flags, uint32_t opt,
				    uint32_t opt_in)
{
	struct vtdp_v3_get_interface a = { .version = version, .flags = flags, .opt = opt,
					   .remapping_compatible = opt_in };

	return xioctl(VTDP_V3_IOC_GET_INTERFACE, &a, "GET_INTERFACE") ? TRANSPORT_ERR : a.status;
}

static int32_t get_interface(uint32_t version, uint64_t flags, uint32_t opt)
{
	struct vtdp_v3_get_interface a = { .version = version, .flags = flags, .opt = opt,
					   .remapping_compatible = 1 };

	return xioctl(VTDP_V3_IOC_GET_INTERFACE, &a, "GET_INTERFACE") ? TRANSPORT_ERR : a.status;
}

static int32_t create_domain_ex(uint32_t type, uint64_t flags, int alloc_type,
				uint32_t width, const struct vtdp_v3_region *r,
				uint32_t nr, uint32_t opt, uint32_t *h)
{
	struct vtdp_v3_create_domain a = {
		.type = type, .flags = flags, .opt = opt,
		.regions_ptr = (uintptr_t)r, .nregions = nr,
	};

	if (alloc_type >= 0) {
		a.opt |= VTDP_V3_DOM_ALLOCATOR;
		a.allocator_type = alloc_type;
		a.address_width = width;
	}
	if (xioctl(VTDP_V3_IOC_CREATE_DOMAIN, &a, "CREATE_DOMAIN"))
		return TRANSPORT_ERR;
	if (h)
		*h = a.handle;
	return a.status;
}

static uint32_t domain(uint32_t type)
{
	uint32_t h = 0;

	create_domain_ex(type, 0, -1, 0, NULL, 0, 0, &h);
	return h;
}

static uint32_t buddy_domain(uint32_t width)
{
	uint32_t h = 0;

	create_domain_ex(VTDP_V3_DOMAIN_TRANSLATE, 0, VTDP_V3_ALLOCATOR_BUDDY,
			 width, NULL, 0, 0, &h);
	return h;
}

static int32_t handle_op(unsigned long cmd, uint32_t h)
{
	struct vtdp_v3_handle_op a = { .handle = h };

	return xioctl(cmd, &a, "handle op") ? TRANSPORT_ERR : a.status;
}

static int32_t attach(unsigned long cmd, uint32_t dom, uint32_t dev)
{
	struct vtdp_v3_attach a = { .domain = dom, .device = dev };

	return xioctl(cmd, &a, "ATTACH") ? TRANSPORT_ERR : a.status;
}

static struct vtdp_v3_phys phys(uint32_t type, uint64_t off, uint64_t len)
{
	struct vtdp_v3_phys p = { .type = type, .buffer = buf, .offset = off,
				  .length = len };
	return p;
}

static struct vtdp_v3_phys mdl(uint64_t pages)
{
	return phys(VTDP_V3_PHYS_MDL, 0, pages * PAGE);
}

/* The optional ExplicitLogicalAddress / Min / Max pointers: NULL = absent */
#define SET_WINDOW(a, ex, mn, mx) do {				\
	if (ex) {						\
		(a).opt |= VTDP_V3_ML_EXPLICIT;			\
		(a).explicit_la = *(ex);			\
	}							\
	if (mn) {						\
		(a).opt |= VTDP_V3_ML_MIN;			\
		(a).min_la = *(mn);				\
	}							\
	if (mx) {						\
		(a).opt |= VTDP_V3_ML_MAX;			\
		(a).max_la = *(mx);				\
	}							\
} while (0)

static int32_t map_ex(uint32_t dom, uint32_t perms, struct vtdp_v3_phys p,
		      const uint64_t *ex, const uint64_t *mn, const uint64_t *mx,
		      uint32_t opt, uint64_t *la)
{
	struct vtdp_v3_map_logical a = { .domain = dom, .perms = perms,
					 .phys = p, .opt = opt };

	SET_WINDOW(a, ex, mn, mx);
	if (xioctl(VTDP_V3_IOC_MAP_LOGICAL, &a, "MAP_LOGICAL"))
		return TRANSPORT_ERR;
	if (la)
		*la = a.la;
	return a.status;
}

static int32_t map_at(uint32_t dom, uint64_t la, uint64_t pages)
{
	return map_ex(dom, 3, mdl(pages), &la, NULL, NULL, 0, NULL);
}

static int32_t unmap(uint32_t dom, uint64_t la, uint64_t pages)
{
	struct vtdp_v3_unmap_logical a = { .domain = dom, .la = la,
					   .number_of_pages = pages };

	return xioctl(VTDP_V3_IOC_UNMAP_LOGICAL, &a, "UNMAP_LOGICAL") ? TRANSPORT_ERR : a.status;
}

static int32_t identity(unsigned long cmd, uint32_t dom, uint32_t perms,
			struct vtdp_v3_phys p)
{
	struct vtdp_v3_identity a = { .domain = dom, .perms = perms, .phys = p };

	return xioctl(cmd, &a, "IDENTITY") ? TRANSPORT_ERR : a.status;
}

static int32_t reserve(uint32_t dom, uint64_t size, const uint64_t *ex,
		       const uint64_t *mn, const uint64_t *mx, uint32_t opt,
		       uint32_t *h, uint64_t *base)
{
	struct vtdp_v3_reserve a = { .domain = dom, .size = size, .opt = opt };

	SET_WINDOW(a, ex, mn, mx);
	if (xioctl(VTDP_V3_IOC_RESERVE, &a, "RESERVE"))
		return TRANSPORT_ERR;
	if (h)
		*h = a.handle;
	if (base)
		*base = a.base;
	return a.status;
}

static int32_t map_reserved(uint32_t tok, uint64_t off, uint32_t perms,
			    struct vtdp_v3_phys p, uint32_t opt, uint32_t *seg)
{
	struct vtdp_v3_map_reserved a = { .token = tok, .offset = off,
					  .perms = perms, .phys = p, .opt = opt };

	if (xioctl(VTDP_V3_IOC_MAP_RESERVED, &a, "MAP_RESERVED"))
		return TRANSPORT_ERR;
	if (seg)
		*seg = a.segment;
	return a.status;
}

static int32_t unmap_reserved(uint32_t seg, uint32_t opt, uint64_t off,
			      uint64_t size)
{
	struct vtdp_v3_unmap_reserved a = { .segment = seg, .opt = opt,
					    .offset = off, .size = size };

	return xioctl(VTDP_V3_IOC_UNMAP_RESERVED, &a, "UNMAP_RESERVED") ? TRANSPORT_ERR : a.status;
}

static int32_t create_device(uint32_t bdf, const struct vtdp_v3_devcfg *c,
			     uint32_t n, uint32_t opt, uint32_t *h)
{
	struct vtdp_v3_create_device a = { .bdf = bdf, .opt = opt, .nconfigs = n };

	if (n)
		memcpy(a.configs, c, n * sizeof(*c));
	if (xioctl(VTDP_V3_IOC_CREATE_DEVICE, &a, "CREATE_DEVICE"))
		return TRANSPORT_ERR;
	if (h)
		*h = a.handle;
	return a.status;
}

static int32_t pasid_cfg_device(uint32_t bdf, uint32_t type, uint32_t suppress,
				uint32_t *h)
{
	struct vtdp_v3_devcfg c = { .type = VTDP_V3_DEVCFG_PASID,
				    .pasid_type = type,
				    .suppress_pasid_faults = suppress };

	return create_device(bdf, &c, 1, 0, h);
}

static int32_t state_cb(unsigned long cmd, uint32_t dev, uint32_t fields,
			uint32_t opt)
{
	struct vtdp_v3_state_cb a = { .device = dev, .fields = fields, .opt = opt };

	return xioctl(cmd, &a, "STATE_CB") ? TRANSPORT_ERR : a.status;
}

static struct vtdp_v3_device_state dev_state(uint32_t dev)
{
	struct vtdp_v3_device_state a = { .device = dev };

	xioctl(VTDP_V3_IOC_DEVICE_STATE, &a, "DEVICE_STATE");
	return a;
}

static uint32_t query_types(uint32_t dev)
{
	struct vtdp_v3_query_domain_types a = { .device = dev };

	xioctl(VTDP_V3_IOC_QUERY_DOMAIN_TYPES, &a, "QUERY_DOMAIN_TYPES");
	return a.available;
}

static int32_t create_pasid(uint32_t dev, uint32_t opt, uint32_t *h, uint32_t *pasid)
{
	struct vtdp_v3_create_pasid_device a = { .device = dev, .opt = opt };

	if (xioctl(VTDP_V3_IOC_CREATE_PASID_DEVICE, &a, "CREATE_PASID"))
		return TRANSPORT_ERR;
	if (h)
		*h = a.handle;
	if (pasid)
		*pasid = a.pasid;
	return a.status;
}

static int set_param(const char *path, bool on)
{
	int pfd = open(path, O_WRONLY);
	int ok;

	if (pfd < 0)
		return -1;
	ok = write(pfd, on ? "Y" : "N", 1) == 1;
	close(pfd);
	return ok ? 0 : -1;
}

static int set_passthrough(bool on)
{
	return set_param(PARAM_PT, on);
}

/* ---- PCI discovery ---- */

static uint32_t parse_bdf(const char *name)
{
	unsigned int seg, bus, dev, fn;

	if (sscanf(name, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return 0xffffffff;
	return seg << 16 | bus << 8 | dev << 3 | fn;
}

/* Find the endpoint, the IOMMU and another function; unbind the endpoint. */
static int discover(void)
{
	char ep_name[256] = "";
	struct dirent *e;
	DIR *d = opendir("/sys/bus/pci/devices");

	bdf_ep = bdf_other = bdf_iommu = 0xffffffff;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		unsigned int ven, dev;

		if (e->d_name[0] == '.' ||
		    td_pci_hex(e->d_name, "vendor", &ven) ||
		    td_pci_hex(e->d_name, "device", &dev))
			continue;
		if (ven == VTDP_PCI_VENDOR_ID && dev == VTDP_TESTDEV_PCI_DEVICE_ID) {
			if (bdf_ep == 0xffffffff) {
				bdf_ep = parse_bdf(e->d_name);
				snprintf(ep_name, sizeof(ep_name), "%s", e->d_name);
				snprintf(ep_sysfs, sizeof(ep_sysfs),
					 "/sys/bus/pci/devices/%s", e->d_name);
			}
		} else if (ven == VTDP_PCI_VENDOR_ID && dev == VTDP_IOMMU_PCI_DEVICE_ID) {
			bdf_iommu = parse_bdf(e->d_name);
		} else if (!strcmp(e->d_name, "0000:00:00.0") ||
			   (bdf_other == 0xffffffff &&
			    strncmp(e->d_name, "0000:00:", 8) == 0)) {
			/* the host bridge if there is one: it does no DMA */
			bdf_other = parse_bdf(e->d_name);
		}
	}
	closedir(d);
	if (bdf_ep == 0xffffffff || bdf_iommu == 0xffffffff ||
	    bdf_other == 0xffffffff)
		return -1;
	{
		char path[512];
		int u;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
			 ep_name);
		u = open(path, O_WRONLY);
		if (u >= 0) {
			if (write(u, ep_name, strlen(ep_name)) < 0)
				diag("unbind %s: %s", ep_name, strerror(errno));
			close(u);
		}
	}
	{
		/* Max PASID Width from the PASID extended capability */
		char path[512];
		uint32_t hdr, off = 0x100;
		int cfd;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", ep_name);
		cfd = open(path, O_RDONLY);
		while (cfd >= 0 && off && off < 0x1000 &&
		       pread(cfd, &hdr, 4, off) == 4 && hdr) {
			if ((hdr & 0xffff) == 0x1b) {
				uint16_t cap = 0;

				if (pread(cfd, &cap, 2, off + 4) == 2)
					ep_pasid_width = (cap >> 8) & 0x1f;
				break;
			}
			off = hdr >> 20;
		}
		if (cfd >= 0)
			close(cfd);
	}
	diag("endpoint %s (%#x), iommu %#x, other function %#x", ep_name,
	     bdf_ep, bdf_iommu, bdf_other);
	return 0;
}

/* ====================================================================== */

static void t_get_interface(void)
{
	const char *f = "IoGetIommuInterfaceEx";

	expect(get_interface(3, 0, 0), VTDP_V3_STATUS_SUCCESS, f, "version 3");
	expect(get_interface(2, 0, 0), VTDP_V3_STATUS_SUCCESS, f, "version 2 (prefix of 3)");
	expect(get_interface(4, 0, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1, f, "version 4");
	expect(get_interface(1, 0, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1, f, "version 1 (not a prefix)");
	expect(get_interface(3, 1, 0), VTDP_V3_STATUS_INVALID_PARAMETER_2, f, "flags != 0");
	expect(get_interface(3, 0, VTDP_V3_GI_NULL_OUT), VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "NULL InterfaceOut");
	expect(get_interface_opt_in(3, 0, 0, 0), VTDP_V3_STATUS_ACCESS_DENIED, f,
	       "caller opted out of DMA remapping");
	expect(get_interface_opt_in(3, 0, 0, 2), VTDP_V3_STATUS_ACCESS_DENIED, f,
	       "opted in for external devices only (there are none)");
}

static void t_create_delete_domain(uint32_t dev_ep)
{
	const char *f = "CreateDomainEx";
	struct vtdp_v3_region r[2];
	uint32_t h = 0;

	expect(create_domain_ex(VTDP_V3_DOMAIN_TRANSLATE, 0, -1, 0, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_SUCCESS, f, "Translate");
	expect(handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h), VTDP_V3_STATUS_SUCCESS,
	       "DeleteDomain", "empty Translate domain");
	expect(create_domain_ex(VTDP_V3_DOMAIN_PASS_THROUGH, 0, -1, 0, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_SUCCESS, f, "PassThrough");
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h);
	expect(create_domain_ex(VTDP_V3_DOMAIN_TRANSLATE, 0, VTDP_V3_ALLOCATOR_BUDDY, 32,
				NULL, 0, 0, &h),
	       VTDP_V3_STATUS_SUCCESS, f, "Translate with buddy allocator, width 32");
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h);
	expect(create_domain_ex(VTDP_V3_DOMAIN_TRANSLATE, 0, VTDP_V3_ALLOCATOR_NONE, 0,
				NULL, 0, 0, &h),
	       VTDP_V3_STATUS_SUCCESS, f, "allocator type None = no allocator");
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h);
	expect(create_domain_ex(4, 0, -1, 0, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_1, f, "DomainType Max");
	expect(create_domain_ex(0, 1, -1, 0, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_2, f, "Flags != 0");
	expect(create_domain_ex(0, 0, 2, 32, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "allocator type Max");
	expect(create_domain_ex(0, 0, VTDP_V3_ALLOCATOR_BUDDY, 12, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "AddressWidth 12");
	expect(create_domain_ex(0, 0, VTDP_V3_ALLOCATOR_BUDDY, 64, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "AddressWidth 64");
	expect(create_domain_ex(VTDP_V3_DOMAIN_PASS_THROUGH, 0, VTDP_V3_ALLOCATOR_BUDDY,
				32, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "allocator on a PassThrough domain");
	r[0] = (struct vtdp_v3_region){ .base = 0x10800, .number_of_pages = 1 };
	expect(create_domain_ex(0, 0, -1, 0, r, 1, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, f, "region base not page aligned");
	r[0] = (struct vtdp_v3_region){ .base = 0x10000, .number_of_pages = 0 };
	expect(create_domain_ex(0, 0, -1, 0, r, 1, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, f, "region of 0 pages");
	r[0] = (struct vtdp_v3_region){ .base = 0x10000, .number_of_pages = 4 };
	r[1] = (struct vtdp_v3_region){ .base = 0x12000, .number_of_pages = 4 };
	expect(create_domain_ex(0, 0, -1, 0, r, 2, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, f, "overlapping regions");
	r[0] = (struct vtdp_v3_region){ .base = 0x10000, .number_of_pages = 1 };
	expect(create_domain_ex(VTDP_V3_DOMAIN_UNMANAGED, 0, -1, 0, r, 1, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, f, "regions on an Unmanaged domain");
	expect(create_domain_ex(0, 0, -1, 0, NULL, 0, VTDP_V3_DOM_NULL_OUT, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER, f, "NULL DomainOut");
	expect(create_domain_ex(VTDP_V3_DOMAIN_TRANSLATE_S1, 0, -1, 0, NULL, 0, 0, &h),
	       VTDP_V3_STATUS_SUCCESS, f, "TranslateS1");
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h);
	expect(create_domain_ex(VTDP_V3_DOMAIN_TRANSLATE_S1, 0, VTDP_V3_ALLOCATOR_BUDDY, 48,
				NULL, 0, 0, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f,
	       "TranslateS1, AddressWidth 48 (first stage: 47-bit canonical half)");
	if (set_passthrough(false) == 0) {
		expect(create_domain_ex(VTDP_V3_DOMAIN_PASS_THROUGH, 0, -1, 0, NULL, 0, 0, &h),
		       VTDP_V3_STATUS_NOT_SUPPORTED, f, "PassThrough while policy forbids it");
		set_passthrough(true);
	} else {
		tap(false, "write %s", PARAM_PT);
	}

	/* DeleteDomain */
	expect(handle_op(VTDP_V3_IOC_DELETE_DOMAIN, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "DeleteDomain", "NULL domain");
	h = domain(VTDP_V3_DOMAIN_TRANSLATE);
	attach(VTDP_V3_IOC_ATTACH_DEVICE, h, dev_ep);
	expect(handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h), VTDP_V3_STATUS_RESOURCE_IN_USE,
	       "DeleteDomain", "device attached");
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev_ep);
	{
		uint64_t la = 0x400000;
		uint32_t tok;

		reserve(h, PAGE, &la, NULL, NULL, 0, &tok, NULL);
		expect(handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h), VTDP_V3_STATUS_RESOURCE_IN_USE,
		       "DeleteDomain", "token not freed");
		handle_op(VTDP_V3_IOC_FREE_RESERVED, tok);
		map_at(h, 0x800000, 2);
		expect(handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h), VTDP_V3_STATUS_SUCCESS,
		       "DeleteDomain", "with mappings left (dropped)");
	}
}

static void t_attach_detach(uint32_t dev_ep, uint32_t dev_other)
{
	uint32_t t = domain(VTDP_V3_DOMAIN_TRANSLATE), t2 = domain(VTDP_V3_DOMAIN_TRANSLATE);
	uint32_t pt = domain(VTDP_V3_DOMAIN_PASS_THROUGH), um = domain(VTDP_V3_DOMAIN_UNMANAGED);
	const char *f = "AttachDeviceEx";

	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev_ep), VTDP_V3_STATUS_SUCCESS, f, "Translate");
	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev_other), VTDP_V3_STATUS_SUCCESS, f,
	       "second device into the same domain");
	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev_ep), VTDP_V3_STATUS_INVALID_PARAMETER, f,
	       "already attached, same domain");
	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, t2, dev_ep), VTDP_V3_STATUS_INVALID_PARAMETER, f,
	       "already attached, other domain");
	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, 0, dev_ep), VTDP_V3_STATUS_INVALID_PARAMETER_1, f,
	       "NULL domain");
	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, t, 0), VTDP_V3_STATUS_INVALID_PARAMETER_2, f,
	       "NULL device");
	expect(handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev_ep), VTDP_V3_STATUS_SUCCESS,
	       "DetachDeviceEx", "attached device");
	expect(handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev_ep), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "DetachDeviceEx", "not attached");
	expect(handle_op(VTDP_V3_IOC_DETACH_DEVICE, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "DetachDeviceEx", "NULL device");
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev_other);
	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, um, dev_ep), VTDP_V3_STATUS_ACCESS_DENIED, f,
	       "Unmanaged (not an available type)");
	if (set_passthrough(false) == 0) {
		expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, pt, dev_ep), VTDP_V3_STATUS_ACCESS_DENIED, f,
		       "PassThrough while policy forbids it");
		set_passthrough(true);
	}
	expect(attach(VTDP_V3_IOC_ATTACH_DEVICE, pt, dev_ep), VTDP_V3_STATUS_SUCCESS, f,
	       "PassThrough while allowed");
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev_ep);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t2);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, pt);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, um);
}

static int32_t flush_va(uint32_t dom, uint32_t n, const uint64_t *va, uint32_t opt)
{
	struct vtdp_v3_flush_va_list a = { .domain = dom, .number = n,
					   .va_ptr = (uintptr_t)va, .opt = opt,
					   .last_level = 1 };

	return xioctl(VTDP_V3_IOC_FLUSH_VA_LIST, &a, "FLUSH_VA_LIST") ? TRANSPORT_ERR : a.status;
}

static int32_t configure(uint32_t dom, uint32_t type, uint32_t opt)
{
	struct vtdp_v3_configure_domain a = { .domain = dom, .type = type, .opt = opt,
					      .root = 0x100000, .translation_enabled = 1 };

	return xioctl(VTDP_V3_IOC_CONFIGURE_DOMAIN, &a, "CONFIGURE") ? TRANSPORT_ERR : a.status;
}

static void t_flush_configure_inputs(void)
{
	uint32_t um = domain(VTDP_V3_DOMAIN_UNMANAGED), t = domain(VTDP_V3_DOMAIN_TRANSLATE);
	uint64_t va[2] = { 0x1000, 0x2000 }, bad[2] = { 0x1000, 0x2800 };
	struct vtdp_v3_query_input_mappings q = { .bdf = bdf_ep, .buffer_length = 64,
						  .buf_ptr = (uintptr_t)buf_mem };

	expect(handle_op(VTDP_V3_IOC_FLUSH_DOMAIN, um), VTDP_V3_STATUS_SUCCESS,
	       "FlushDomain", "Unmanaged domain");
	expect(handle_op(VTDP_V3_IOC_FLUSH_DOMAIN, t), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "FlushDomain", "Translate domain (implementation-owned tables)");
	expect(handle_op(VTDP_V3_IOC_FLUSH_DOMAIN, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "FlushDomain", "NULL domain");
	expect(flush_va(um, 2, va, 0), VTDP_V3_STATUS_SUCCESS, "FlushDomainByVaList",
	       "Unmanaged, two pages");
	expect(flush_va(t, 2, va, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1, "FlushDomainByVaList",
	       "Translate domain");
	expect(flush_va(um, 0, va, 0), VTDP_V3_STATUS_INVALID_PARAMETER_3, "FlushDomainByVaList",
	       "Number 0");
	expect(flush_va(um, 2, NULL, VTDP_V3_FV_NULL_LIST), VTDP_V3_STATUS_INVALID_PARAMETER_4,
	       "FlushDomainByVaList", "NULL VaList");
	expect(flush_va(um, 2, bad, 0), VTDP_V3_STATUS_INVALID_PARAMETER_4, "FlushDomainByVaList",
	       "unaligned entry");

	expect(configure(t, VTDP_V3_DOMCFG_X64, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "ConfigureDomain", "Translate domain");
	expect(configure(0, VTDP_V3_DOMCFG_X64, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "ConfigureDomain", "NULL domain");
	expect(configure(um, VTDP_V3_DOMCFG_INVALID, 0), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       "ConfigureDomain", "Type Invalid");
	expect(configure(um, 0, VTDP_V3_CFG_NULL), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       "ConfigureDomain", "NULL Configuration");
	expect(configure(um, VTDP_V3_DOMCFG_X64, 0), VTDP_V3_STATUS_NOT_SUPPORTED,
	       "ConfigureDomain", "X64 (reserved for the system)");
	expect(configure(um, VTDP_V3_DOMCFG_ARM64, 0), VTDP_V3_STATUS_NOT_SUPPORTED,
	       "ConfigureDomain", "Arm64 on x86");

	q.return_length = 0x55;
	if (xioctl(VTDP_V3_IOC_QUERY_INPUT_MAPPINGS, &q, "QIM") == 0) {
		if (q.return_length)
			diag("ReturnLength %u", q.return_length);
		expect(q.status, VTDP_V3_STATUS_UNSUCCESSFUL, "QueryInputMappings",
		       "x86 (ARM64 only)");
		tap(q.return_length == 0, "QueryInputMappings: ReturnLength 0 on x86");
	} else {
		tap(false, "QueryInputMappings ioctl");
		tap(false, "QueryInputMappings ioctl");
	}
	/* the requester-id extension of §5.7 (module parameter) */
	if (set_param("/sys/module/vtdp/parameters/input_mappings_rid", true) == 0) {
		uint32_t *elem = (uint32_t *)buf_mem;

		*elem = 0;
		q.bdf = bdf_ep;
		q.buffer_length = 64;
		xioctl(VTDP_V3_IOC_QUERY_INPUT_MAPPINGS, &q, "QIM");
		expect(q.status, VTDP_V3_STATUS_SUCCESS, "QueryInputMappings",
		       "requester-id extension on");
		tap(q.return_length == 4 && *elem == (bdf_ep & 0xffff),
		    "QueryInputMappings: one element, the requester id %#x (got %#x, %u bytes)",
		    bdf_ep & 0xffff, *elem, q.return_length);
		q.buffer_length = 2;
		*elem = 0x5555;
		xioctl(VTDP_V3_IOC_QUERY_INPUT_MAPPINGS, &q, "QIM");
		expect(q.status, VTDP_V3_STATUS_BUFFER_TOO_SMALL, "QueryInputMappings",
		       "extension on, 2-byte buffer");
		tap(q.return_length == 4 && *elem == 0x5555,
		    "QueryInputMappings: ReturnLength = the size needed");
		q.bdf = bdf_iommu;
		q.buffer_length = 64;
		xioctl(VTDP_V3_IOC_QUERY_INPUT_MAPPINGS, &q, "QIM");
		expect(q.status, VTDP_V3_STATUS_UNSUCCESSFUL, "QueryInputMappings",
		       "extension on, the IOMMU itself (not behind it)");
		set_param("/sys/module/vtdp/parameters/input_mappings_rid", false);
	} else {
		tap(false, "turn on vtdp.input_mappings_rid");
	}
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, um);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
}

static void t_map_unmap(void)
{
	const char *f = "MapLogicalRangeEx", *u = "UnmapLogicalRange";
	uint32_t t = domain(VTDP_V3_DOMAIN_TRANSLATE), pt = domain(VTDP_V3_DOMAIN_PASS_THROUGH);
	uint32_t b = buddy_domain(32), tok;
	uint64_t la = 0x100000, x, mn, mx, out;
	struct vtdp_v3_region reg = { .base = 0x300000, .number_of_pages = 4, .should_map = 1 };
	uint32_t r = 0;

	create_domain_ex(0, 0, -1, 0, &reg, 1, 0, &r);
	expect(map_ex(t, 3, mdl(4), &la, NULL, NULL, 0, &out), VTDP_V3_STATUS_SUCCESS, f,
	       "explicit address, MDL");
	tap(out == la, "MapLogicalRangeEx: LogicalAddressOut = explicit address");
	x = 0x200000;
	expect(map_ex(t, 1, phys(VTDP_V3_PHYS_PFN, 0, 3 * PAGE), &x, NULL, NULL, 0, NULL),
	       VTDP_V3_STATUS_SUCCESS, f, "explicit address, PFN list");
	x = 0x280000;
	expect(map_ex(t, 2, phys(VTDP_V3_PHYS_CONTIGUOUS, 0, PAGE), &x, NULL, NULL, 0, NULL),
	       VTDP_V3_STATUS_SUCCESS, f, "explicit address, contiguous range");
	expect(map_ex(pt, 3, mdl(1), &la, NULL, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       f, "PassThrough domain");
	expect(map_ex(0, 3, mdl(1), &la, NULL, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       f, "NULL domain");
	x = 0x1000000;
	expect(map_ex(t, 0, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       f, "Permissions 0");
	expect(map_ex(t, 4, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       f, "reserved permission bit");
	expect(map_ex(t, 3, phys(VTDP_V3_PHYS_MDL, 0x800, PAGE), &x, NULL, NULL, 0, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "MDL with byte offset");
	expect(map_ex(t, 3, phys(VTDP_V3_PHYS_CONTIGUOUS, 0, 100), &x, NULL, NULL, 0, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "contiguous size not page multiple");
	expect(map_ex(t, 3, phys(VTDP_V3_PHYS_CONTIGUOUS, 0, 0), &x, NULL, NULL, 0, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "contiguous size 0");
	expect(map_ex(t, 3, phys(VTDP_V3_PHYS_MAX, 0, PAGE), &x, NULL, NULL, 0, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "MapType Max");
	expect(map_ex(t, 3, phys(VTDP_V3_PHYS_NULL, 0, 0), &x, NULL, NULL, 0, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "NULL description");
	x = 0x1000800;
	expect(map_ex(t, 3, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_4,
	       f, "explicit address not aligned");
	x = 1ULL << 48;
	expect(map_ex(t, 3, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_4,
	       f, "explicit address beyond the input width");
	{
		uint32_t s1 = domain(VTDP_V3_DOMAIN_TRANSLATE_S1);

		x = 1ULL << 47;
		expect(map_ex(s1, 3, mdl(1), &x, NULL, NULL, 0, NULL),
		       VTDP_V3_STATUS_INVALID_PARAMETER_4, f,
		       "TranslateS1, address above the canonical lower half");
		x -= PAGE;
		expect(map_ex(s1, 3, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_SUCCESS, f,
		       "TranslateS1, last page of the lower half");
		expect(unmap(s1, x, 1), VTDP_V3_STATUS_SUCCESS, u, "TranslateS1");
		handle_op(VTDP_V3_IOC_DELETE_DOMAIN, s1);
	}
	x = 0x1000000;
	expect(map_ex(t, 3, mdl(1), &x, NULL, NULL, VTDP_V3_ML_NULL_OUT, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER, f, "NULL LogicalAddressOut");
	x = 0x102000;
	expect(map_ex(t, 3, mdl(4), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_IN_USE, f,
	       "explicit range partly mapped");
	x = 0xfee00000;
	expect(map_ex(t, 3, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_IN_USE, f,
	       "interrupt window (always withheld)");
	x = 0x302000;
	expect(map_ex(r, 3, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_IN_USE, f,
	       "reserved region");
	expect(map_ex(t, 3, mdl(1), NULL, NULL, NULL, 0, NULL), VTDP_V3_STATUS_NOT_SUPPORTED, f,
	       "no explicit address without allocator");
	x = 0x100000;
	expect(map_ex(b, 3, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_NOT_SUPPORTED, f,
	       "explicit address with buddy allocator");
	mn = 0x10000, mx = 0x0ffff;
	expect(map_ex(b, 3, mdl(1), NULL, &mn, &mx, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_MIX,
	       f, "Min > Max");
	mn = 0x10000, mx = 0x11fff;
	expect(map_ex(b, 3, mdl(4), NULL, &mn, &mx, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_MIX,
	       f, "window narrower than the request");
	mn = 0x10800;
	expect(map_ex(b, 3, mdl(1), NULL, &mn, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_MIX,
	       f, "Min not page aligned");
	mn = 1ULL << 33;
	expect(map_ex(b, 3, mdl(1), NULL, &mn, NULL, 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_MIX,
	       f, "window above AddressWidth");
	mn = 0x20000, mx = 0x20fff;
	expect(map_ex(b, 3, mdl(1), NULL, &mn, &mx, 0, &out), VTDP_V3_STATUS_SUCCESS, f,
	       "buddy, one-page window");
	tap(out == 0x20000, "MapLogicalRangeEx: buddy result inside [Min, Max] (%#" PRIx64 ")", out);
	expect(map_ex(b, 3, mdl(1), NULL, &mn, &mx, 0, NULL),
	       VTDP_V3_STATUS_INSUFFICIENT_RESOURCES, f, "buddy window full");
	x = 0x600000;
	reserve(t, 2 * PAGE, &x, NULL, NULL, 0, &tok, NULL);
	expect(map_ex(t, 3, mdl(1), &x, NULL, NULL, 0, NULL), VTDP_V3_STATUS_IN_USE, f,
	       "token range");

	expect(unmap(t, 0x101000, 2), VTDP_V3_STATUS_SUCCESS, u, "middle of an extent (split)");
	expect(unmap(t, 0x101000, 1), VTDP_V3_STATUS_INVALID_PARAMETER, u, "not mapped");
	expect(unmap(t, 0x100000, 1), VTDP_V3_STATUS_SUCCESS, u, "left piece");
	expect(unmap(t, 0x103000, 1), VTDP_V3_STATUS_SUCCESS, u, "right piece");
	expect(unmap(pt, 0x100000, 1), VTDP_V3_STATUS_INVALID_PARAMETER_1, u, "PassThrough domain");
	expect(unmap(0, 0x100000, 1), VTDP_V3_STATUS_INVALID_PARAMETER_1, u, "NULL domain");
	expect(unmap(t, 0x200800, 1), VTDP_V3_STATUS_INVALID_PARAMETER_2, u, "unaligned address");
	expect(unmap(t, 0x200000, 0), VTDP_V3_STATUS_INVALID_PARAMETER_3, u, "0 pages");
	expect(unmap(t, 0x600000, 1), VTDP_V3_STATUS_INVALID_PARAMETER, u, "inside a token");
	expect(unmap(r, 0x300000, 1), VTDP_V3_STATUS_INVALID_PARAMETER, u,
	       "reserved-region identity map");
	expect(unmap(t, 0x200000, 4), VTDP_V3_STATUS_INVALID_PARAMETER, u,
	       "range running past the extent (nothing changed)");
	expect(unmap(t, 0x200000, 3), VTDP_V3_STATUS_SUCCESS, u, "whole extent");
	expect(unmap(b, 0x20000, 1), VTDP_V3_STATUS_SUCCESS, u, "buddy mapping");
	map_ex(b, 3, mdl(3), NULL, NULL, NULL, 0, &out);
	expect(unmap(b, out, 2), VTDP_V3_STATUS_INVALID_PARAMETER, u,
	       "part of a buddy mapping");
	handle_op(VTDP_V3_IOC_FREE_RESERVED, tok);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, pt);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, b);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, r);
}

static void t_identity(void)
{
	const char *f = "MapIdentityRangeEx", *u = "UnmapIdentityRangeEx";
	uint32_t t = domain(VTDP_V3_DOMAIN_TRANSLATE), pt = domain(VTDP_V3_DOMAIN_PASS_THROUGH);
	uint32_t um = domain(VTDP_V3_DOMAIN_UNMANAGED), b = buddy_domain(32);
	struct vtdp_v3_phys p = phys(VTDP_V3_PHYS_PFN, 0, 4 * PAGE);

	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, t, 3, p), VTDP_V3_STATUS_SUCCESS, f,
	       "Translate, 4 PFNs");
	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, pt, 3, p), VTDP_V3_STATUS_SUCCESS, f,
	       "PassThrough (recorded)");
	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, t, 3, phys(VTDP_V3_PHYS_PFN, PAGE, PAGE)),
	       VTDP_V3_STATUS_IN_USE, f, "page already identity-mapped");
	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, pt, 3, p), VTDP_V3_STATUS_IN_USE, f,
	       "PassThrough, pages already recorded");
	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, um, 3, p), VTDP_V3_STATUS_INVALID_PARAMETER_1, f,
	       "Unmanaged domain");
	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, t, 0, phys(VTDP_V3_PHYS_PFN, 8 * PAGE, PAGE)),
	       VTDP_V3_STATUS_INVALID_PARAMETER_2, f, "Permissions 0");
	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, t, 3, phys(VTDP_V3_PHYS_MDL, 8 * PAGE + 16, PAGE)),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, f, "MDL with byte offset");
	expect(identity(VTDP_V3_IOC_MAP_IDENTITY, b, 3, phys(VTDP_V3_PHYS_PFN, 8 * PAGE, PAGE)),
	       VTDP_V3_STATUS_NOT_SUPPORTED, f, "buddy-allocator domain");

	expect(identity(VTDP_V3_IOC_UNMAP_IDENTITY, t, 0, phys(VTDP_V3_PHYS_MDL, 0, 2 * PAGE)),
	       VTDP_V3_STATUS_SUCCESS, u, "two pages, described as an MDL");
	expect(identity(VTDP_V3_IOC_UNMAP_IDENTITY, t, 0, phys(VTDP_V3_PHYS_PFN, 0, PAGE)),
	       VTDP_V3_STATUS_INVALID_PARAMETER_2, u, "page not identity-mapped");
	expect(identity(VTDP_V3_IOC_UNMAP_IDENTITY, t, 0, phys(VTDP_V3_PHYS_MDL, 2 * PAGE + 8, PAGE)),
	       VTDP_V3_STATUS_INVALID_PARAMETER_2, u, "description not page aligned");
	expect(identity(VTDP_V3_IOC_UNMAP_IDENTITY, um, 0, p), VTDP_V3_STATUS_INVALID_PARAMETER_1, u,
	       "Unmanaged domain");
	expect(identity(VTDP_V3_IOC_UNMAP_IDENTITY, b, 0, p), VTDP_V3_STATUS_NOT_SUPPORTED, u,
	       "buddy-allocator domain");
	expect(identity(VTDP_V3_IOC_UNMAP_IDENTITY, t, 0, phys(VTDP_V3_PHYS_PFN, 2 * PAGE, 2 * PAGE)),
	       VTDP_V3_STATUS_SUCCESS, u, "the rest");
	expect(identity(VTDP_V3_IOC_UNMAP_IDENTITY, pt, 0, p), VTDP_V3_STATUS_SUCCESS, u,
	       "PassThrough");
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, pt);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, um);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, b);
}

static int32_t fault_reporting(uint32_t dev, uint32_t imid, uint32_t en, uint32_t cfg)
{
	struct vtdp_v3_fault_reporting a = { .device = dev, .input_mapping_id_base = imid,
					     .enable = en, .config = cfg };

	return xioctl(VTDP_V3_IOC_FAULT_REPORTING, &a, "FAULT_REPORTING") ? TRANSPORT_ERR : a.status;
}

static void t_fault_reporting(uint32_t dev_ep)
{
	const char *f = "SetDeviceFaultReportingEx";
	uint32_t t = domain(VTDP_V3_DOMAIN_TRANSLATE);

	expect(fault_reporting(dev_ep, 0, 1, VTDP_V3_FR_CONFIG_HANDLER),
	       VTDP_V3_STATUS_INVALID_PARAMETER_1, f, "device not attached (extension)");
	attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev_ep);
	expect(fault_reporting(dev_ep, 1, 1, VTDP_V3_FR_CONFIG_HANDLER),
	       VTDP_V3_STATUS_INVALID_PARAMETER_2, f, "InputMappingIdBase != 0 on x86");
	expect(fault_reporting(dev_ep, 0, 1, VTDP_V3_FR_CONFIG_NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, f, "enable with NULL FaultConfig");
	expect(fault_reporting(dev_ep, 0, 1, VTDP_V3_FR_CONFIG_NO_HANDLER),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, f, "enable with NULL handler");
	expect(fault_reporting(dev_ep, 0, 1, VTDP_V3_FR_CONFIG_HANDLER),
	       VTDP_V3_STATUS_SUCCESS, f, "enable");
	expect(fault_reporting(dev_ep, 0, 0, VTDP_V3_FR_CONFIG_NULL),
	       VTDP_V3_STATUS_SUCCESS, f, "disable");
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev_ep);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
}

static void *policy_off_thread(void *arg)
{
	(void)arg;
	set_passthrough(false);
	return NULL;
}

static void t_state_change(uint32_t dev_ep)
{
	const char *r = "RegisterInterfaceStateChangeCallback";
	const char *u = "UnregisterInterfaceStateChangeCallback";
	struct vtdp_v3_device_state s;
	uint32_t types = query_types(dev_ep);
	const uint32_t no_pt = 1U << VTDP_V3_DOMAIN_TRANSLATE | 1U << VTDP_V3_DOMAIN_TRANSLATE_S1;

	tap(types == (no_pt | 1U << VTDP_V3_DOMAIN_PASS_THROUGH),
	    "QueryAvailableDomainTypes: Translate, TranslateS1 and PassThrough (%#x)", types);
	tap(query_types(0) == 0, "QueryAvailableDomainTypes: NULL device -> 0 written");

	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_ep, 1, VTDP_V3_CB_NULL_CALLBACK),
	       VTDP_V3_STATUS_INVALID_PARAMETER_1, r, "NULL callback");
	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, 0, 1, 0),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, r, "NULL device");
	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_ep, 0, 0),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, r, "no field selected");
	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_ep, 2, 0),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, r, "reserved field bit");
	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_ep, 1, VTDP_V3_CB_NULL_FIELDS),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, r, "NULL StateFields");
	s = dev_state(dev_ep);
	tap(s.cb_calls == 0, "no callback call after failed registrations");
	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_ep, 1, 0), VTDP_V3_STATUS_SUCCESS, r,
	       "AvailableDomainTypes");
	s = dev_state(dev_ep);
	tap(s.cb_calls == 1 && s.cb_last_present == 1 && s.cb_last_types == types,
	    "Register called the callback once, synchronously, with current types (calls %" PRIu64
	    ", present %#x, types %#x)", (uint64_t)s.cb_calls, s.cb_last_present, s.cb_last_types);
	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_ep, 1, 0), VTDP_V3_STATUS_UNSUCCESSFUL, r,
	       "second registration for the device");
	expect(handle_op(VTDP_V3_IOC_DELETE_DEVICE, dev_ep), VTDP_V3_STATUS_RESOURCE_IN_USE,
	       "DeleteDevice", "callback still registered");
	set_passthrough(false);
	s = dev_state(dev_ep);
	tap(s.cb_calls == 2 && s.cb_last_present == 1 && s.cb_last_types == no_pt &&
	    query_types(dev_ep) == no_pt,
	    "policy change: callback with PassThrough gone (calls %" PRIu64 ", types %#x)",
	    (uint64_t)s.cb_calls, s.cb_last_types);
	set_passthrough(false);
	s = dev_state(dev_ep);
	tap(s.cb_calls == 2, "no call when nothing changed");
	set_passthrough(true);
	s = dev_state(dev_ep);
	tap(s.cb_calls == 3 && s.cb_last_types == types,
	    "policy restored: callback with PassThrough back");

	expect(state_cb(VTDP_V3_IOC_UNREGISTER_CB, dev_ep, 0, VTDP_V3_CB_OTHER_CALLBACK),
	       VTDP_V3_STATUS_UNSUCCESSFUL, u, "another callback function");
	expect(state_cb(VTDP_V3_IOC_UNREGISTER_CB, dev_ep, 0, VTDP_V3_CB_NULL_CALLBACK),
	       VTDP_V3_STATUS_INVALID_PARAMETER_1, u, "NULL callback");
	expect(state_cb(VTDP_V3_IOC_UNREGISTER_CB, 0, 0, 0),
	       VTDP_V3_STATUS_INVALID_PARAMETER_2, u, "NULL device");
	expect(state_cb(VTDP_V3_IOC_UNREGISTER_CB, dev_ep, 0, 0), VTDP_V3_STATUS_SUCCESS, u,
	       "the registered callback");
	expect(state_cb(VTDP_V3_IOC_UNREGISTER_CB, dev_ep, 0, 0), VTDP_V3_STATUS_UNSUCCESSFUL, u,
	       "nothing registered");
	set_passthrough(false);
	set_passthrough(true);
	s = dev_state(dev_ep);
	tap(s.cb_calls == 3, "no call after Unregister");

	/* Unregister waits for a call in flight (a callback that sleeps) */
	{
		pthread_t th;
		struct timespec ts;
		uint64_t done_ns;
		int i;

		expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_ep, 1, VTDP_V3_CB_SLOW),
		       VTDP_V3_STATUS_SUCCESS, r, "a callback that sleeps");
		pthread_create(&th, NULL, policy_off_thread, NULL);
		for (i = 0; i < 500 && !dev_state(dev_ep).cb_active; i++)
			usleep(10000);
		expect(state_cb(VTDP_V3_IOC_UNREGISTER_CB, dev_ep, 0, VTDP_V3_CB_SLOW),
		       VTDP_V3_STATUS_SUCCESS, u, "while that callback runs");
		clock_gettime(CLOCK_MONOTONIC, &ts);
		done_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		s = dev_state(dev_ep);
		tap(i < 500 && !s.cb_active && s.cb_calls == 5 && s.cb_last_end_ns <= done_ns,
		    "Unregister returned only after the call in flight had finished (%" PRIu64
		    " calls)", (uint64_t)s.cb_calls);
		pthread_join(th, NULL);
		set_passthrough(true);
	}
}

static void t_tokens(void)
{
	const char *r = "ReserveLogicalAddressRange", *fr = "FreeReservedLogicalAddressRange";
	const char *m = "MapReservedLogicalRange", *u = "UnmapReservedLogicalRange";
	uint32_t t = domain(VTDP_V3_DOMAIN_TRANSLATE), pt = domain(VTDP_V3_DOMAIN_PASS_THROUGH);
	uint32_t b = buddy_domain(24), tok = 0, tok2 = 0, s1 = 0, s2 = 0, s3 = 0;
	uint64_t x = 0x1000000, base = 0, mn, mx;

	/* 1 MiB + 2 pages across a leaf-table boundary */
	x = 0x11fe000;
	expect(reserve(t, (256 + 2) * PAGE, &x, NULL, NULL, 0, &tok, &base),
	       VTDP_V3_STATUS_SUCCESS, r, "explicit, 258 pages across a table boundary");
	tap(base == x, "Reserve: token base = explicit address");
	expect(reserve(b, 3 * PAGE, NULL, NULL, NULL, 0, &tok2, &base), VTDP_V3_STATUS_SUCCESS,
	       r, "buddy");
	tap(base % (4 * PAGE) == 0, "Reserve: buddy token aligned to its block (%#" PRIx64 ")", base);
	expect(reserve(pt, PAGE, &x, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       r, "PassThrough domain");
	expect(reserve(0, PAGE, &x, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       r, "NULL domain");
	x = 0x3000000;
	expect(reserve(t, 0, &x, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       r, "Size 0");
	expect(reserve(t, PAGE + 1, &x, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       r, "Size not a page multiple");
	x = 0x3000010;
	expect(reserve(t, PAGE, &x, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_3,
	       r, "explicit address not aligned");
	x = 0x3000000;
	expect(reserve(t, PAGE, &x, NULL, NULL, VTDP_V3_ML_NULL_OUT, NULL, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER, r, "NULL token out");
	mn = 0x8000, mx = 0x7fff;
	expect(reserve(b, PAGE, NULL, &mn, &mx, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_MIX,
	       r, "Min > Max");
	x = 0x1200000;
	expect(reserve(t, PAGE, &x, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_IN_USE, r,
	       "explicit range inside another token");
	expect(reserve(t, PAGE, NULL, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_NOT_SUPPORTED, r,
	       "no explicit address without allocator");
	expect(reserve(b, PAGE, &x, NULL, NULL, 0, NULL, NULL), VTDP_V3_STATUS_NOT_SUPPORTED, r,
	       "explicit address with buddy allocator");
	mn = base, mx = base + 4 * PAGE - 1;
	expect(reserve(b, PAGE, NULL, &mn, &mx, 0, NULL, NULL),
	       VTDP_V3_STATUS_INSUFFICIENT_RESOURCES, r, "buddy window already taken");

	expect(map_reserved(tok, 0, 3, mdl(4), 0, &s1), VTDP_V3_STATUS_SUCCESS, m,
	       "4 pages at offset 0");
	expect(map_reserved(tok, 254 * PAGE, 3, mdl(4), VTDP_V3_MR_ATOMIC, &s2),
	       VTDP_V3_STATUS_SUCCESS, m, "across the table boundary, under a spinlock");
	expect(map_reserved(tok, 4 * PAGE, 1, phys(VTDP_V3_PHYS_PFN, 0, 2 * PAGE), 0, &s3),
	       VTDP_V3_STATUS_SUCCESS, m, "adjacent segment, PFN list");
	expect(map_reserved(tok, 2 * PAGE, 3, mdl(1), 0, NULL), VTDP_V3_STATUS_RESOURCE_IN_USE, m,
	       "overlapping a live segment");
	expect(map_reserved(0, 0, 3, mdl(1), 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_1, m,
	       "NULL token");
	expect(map_reserved(tok, 0x10, 3, mdl(1), 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_2, m,
	       "Offset not aligned");
	expect(map_reserved(tok, 258 * PAGE, 3, mdl(1), 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       m, "Offset at the token's end");
	expect(map_reserved(tok, 100 * PAGE, 0, mdl(1), 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_3,
	       m, "Permissions 0");
	expect(map_reserved(tok, 100 * PAGE, 3, phys(VTDP_V3_PHYS_MDL, 4, PAGE), 0, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_4, m, "MDL with byte offset");
	expect(map_reserved(tok, 256 * PAGE, 3, mdl(4), 0, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_4,
	       m, "running past the token's end");
	expect(map_reserved(tok, 100 * PAGE, 3, mdl(1), VTDP_V3_MR_NULL_OUT, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER, m, "NULL MappedSegment");

	expect(handle_op(VTDP_V3_IOC_FREE_RESERVED, tok), VTDP_V3_STATUS_RESOURCE_IN_USE, fr,
	       "segments still mapped");
	expect(unmap_reserved(s1, VTDP_V3_UR_OVERRIDE, 0, 2 * PAGE),
	       VTDP_V3_STATUS_INVALID_PARAMETER, u, "part of a segment");
	expect(unmap_reserved(s1, VTDP_V3_UR_OVERRIDE, 0, 6 * PAGE),
	       VTDP_V3_STATUS_INVALID_PARAMETER, u, "two segments at once");
	expect(unmap_reserved(s1, VTDP_V3_UR_KEEP | VTDP_V3_UR_ATOMIC, 0, 0),
	       VTDP_V3_STATUS_SUCCESS, u, "a segment, under a spinlock");
	expect(unmap_reserved(s1, 0, 0, 0), VTDP_V3_STATUS_INVALID_PARAMETER, u,
	       "the same structure again");
	expect(unmap_reserved(0, VTDP_V3_UR_NULL, 0, 0), VTDP_V3_STATUS_INVALID_PARAMETER, u,
	       "NULL MappedSegment");
	expect(map_reserved(tok, 0, 3, mdl(4), VTDP_V3_MR_ATOMIC, &s1), VTDP_V3_STATUS_SUCCESS, m,
	       "remap the freed part (no allocation)");
	expect(unmap_reserved(s1, 0, 0, 0), VTDP_V3_STATUS_SUCCESS, u, "first");
	expect(unmap_reserved(s2, 0, 0, 0), VTDP_V3_STATUS_SUCCESS, u, "second");
	expect(unmap_reserved(s3, 0, 0, 0), VTDP_V3_STATUS_SUCCESS, u, "third");
	expect(handle_op(VTDP_V3_IOC_FREE_RESERVED, tok), VTDP_V3_STATUS_SUCCESS, fr,
	       "no segments left");
	expect(handle_op(VTDP_V3_IOC_FREE_RESERVED, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1, fr,
	       "NULL token");
	x = 0x1200000;
	expect(map_at(t, x, 1), VTDP_V3_STATUS_SUCCESS,
	       "MapLogicalRangeEx", "range of a freed token is free again");
	handle_op(VTDP_V3_IOC_FREE_RESERVED, tok2);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, pt);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, b);
}

static void t_devices(uint32_t *dev_ep, uint32_t *dev_other)
{
	const char *c = "CreateDevice", *d = "DeleteDevice", *q = "QueryDeviceInfo";
	struct vtdp_v3_devcfg cfg[3] = {
		{ .type = VTDP_V3_DEVCFG_PASID, .pasid_type = VTDP_V3_PASID_DEFAULT_ONLY },
		{ .type = VTDP_V3_DEVCFG_PASID, .pasid_type = VTDP_V3_PASID_DEFAULT_ONLY },
	};
	struct vtdp_v3_query_device_info qi;
	uint32_t h = 0;

	expect(create_device(bdf_ep, NULL, 0, 0, dev_ep), VTDP_V3_STATUS_SUCCESS, c,
	       "endpoint, no configuration");
	expect(create_device(bdf_ep, NULL, 0, 0, &h), VTDP_V3_STATUS_RESOURCE_IN_USE, c,
	       "second token for the same device");
	expect(create_device(bdf_other, NULL, 0, 0, dev_other), VTDP_V3_STATUS_SUCCESS, c,
	       "another function on the root bus");
	expect(create_device(0, NULL, 0, VTDP_V3_CD_NULL_DEVICE, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER, c, "NULL DeviceObject");
	expect(create_device(bdf_iommu, NULL, 0, 0, &h), VTDP_V3_STATUS_NOT_FOUND, c,
	       "the IOMMU itself (not behind an IOMMU)");
	cfg[2] = (struct vtdp_v3_devcfg){ .type = VTDP_V3_DEVCFG_ACPI };
	expect(create_device(bdf_ep, &cfg[2], 1, 0, &h), VTDP_V3_STATUS_INVALID_PARAMETER_2, c,
	       "Acpi configuration on x86");
	cfg[2].type = VTDP_V3_DEVCFG_DEVICE_ID;
	expect(create_device(bdf_ep, &cfg[2], 1, 0, &h), VTDP_V3_STATUS_INVALID_PARAMETER_2, c,
	       "DeviceId configuration");
	cfg[2].type = VTDP_V3_DEVCFG_MAX;
	expect(create_device(bdf_ep, &cfg[2], 1, 0, &h), VTDP_V3_STATUS_INVALID_PARAMETER_2, c,
	       "ConfigType Max");
	expect(create_device(bdf_ep, cfg, 2, 0, &h), VTDP_V3_STATUS_INVALID_PARAMETER_2, c,
	       "two PASID configurations in the ring");
	cfg[2] = (struct vtdp_v3_devcfg){ .type = VTDP_V3_DEVCFG_PASID, .pasid_type = 2 };
	expect(create_device(bdf_ep, &cfg[2], 1, 0, &h), VTDP_V3_STATUS_INVALID_PARAMETER_2, c,
	       "PASID type Max");
	expect(create_device(bdf_ep, NULL, 0, VTDP_V3_CD_NULL_OUT, &h),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, c, "NULL DmaDeviceOut");

	memset(&qi, 0, sizeof(qi));
	qi.device = *dev_ep;
	qi.size = 3;
	xioctl(VTDP_V3_IOC_QUERY_DEVICE_INFO, &qi, "QDI");
	expect(qi.status, VTDP_V3_STATUS_SUCCESS, q, "Size 3");
	tap(qi.written == 3 && !qi.info[0] && !qi.info[1] && !qi.info[2] && qi.info[3] == 0xa5,
	    "QueryDeviceInfo: 3 bytes written, all FALSE without PASID config");
	qi.size = 8;
	xioctl(VTDP_V3_IOC_QUERY_DEVICE_INFO, &qi, "QDI");
	tap(qi.status == VTDP_V3_STATUS_SUCCESS && qi.written == 3 && qi.info[3] == 0xa5,
	    "QueryDeviceInfo: larger buffer accepted, still 3 bytes");
	qi.size = 2;
	xioctl(VTDP_V3_IOC_QUERY_DEVICE_INFO, &qi, "QDI");
	expect(qi.status, VTDP_V3_STATUS_BUFFER_TOO_SMALL, q, "Size 2");
	tap(qi.written == 0 && qi.info[0] == 0xa5, "QueryDeviceInfo: nothing written when too small");
	qi.device = 0;
	qi.size = 3;
	xioctl(VTDP_V3_IOC_QUERY_DEVICE_INFO, &qi, "QDI");
	expect(qi.status, VTDP_V3_STATUS_INVALID_PARAMETER_1, q, "NULL device");

	expect(handle_op(VTDP_V3_IOC_DELETE_DEVICE, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1, d,
	       "NULL device");
	h = domain(VTDP_V3_DOMAIN_TRANSLATE);
	attach(VTDP_V3_IOC_ATTACH_DEVICE, h, *dev_other);
	expect(handle_op(VTDP_V3_IOC_DELETE_DEVICE, *dev_other), VTDP_V3_STATUS_RESOURCE_IN_USE, d,
	       "still attached");
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, *dev_other);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h);
	expect(handle_op(VTDP_V3_IOC_DELETE_DEVICE, *dev_other), VTDP_V3_STATUS_SUCCESS, d,
	       "detached device");
	expect(pasid_cfg_device(bdf_other, VTDP_V3_PASID_DEFAULT_ONLY, 0, dev_other),
	       VTDP_V3_STATUS_SUCCESS, c, "DefaultPasidOnly");
	memset(&qi, 0, sizeof(qi));
	qi.device = *dev_other;
	qi.size = 3;
	xioctl(VTDP_V3_IOC_QUERY_DEVICE_INFO, &qi, "QDI");
	tap(qi.status == VTDP_V3_STATUS_SUCCESS && qi.info[0] == 1 && qi.info[1] == 0 &&
	    qi.info[2] == 0, "QueryDeviceInfo: DefaultPasidOnly -> 1,0,0");
	expect(create_pasid(*dev_other, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "CreatePasidDevice", "parent without PasidTaggedDma");
	expect(create_pasid(0, 0, NULL, NULL), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "CreatePasidDevice", "NULL parent");
}

/* PASID sub-devices need an endpoint with a PASID capability. */
static void t_pasid(uint32_t *dev_ep)
{
	const char *c = "CreatePasidDevice";
	uint32_t tagged = 0, p1 = 0, p2 = 0, pasid1 = 0, pasid2 = 0, n, pasid;
	uint32_t t, pt, um, t2;
	int32_t st;

	handle_op(VTDP_V3_IOC_DELETE_DEVICE, *dev_ep);
	st = pasid_cfg_device(bdf_ep, VTDP_V3_PASID_TAGGED_DMA, 0, &tagged);
	if (st == VTDP_V3_STATUS_INVALID_PARAMETER_2) {
		expect(st, VTDP_V3_STATUS_INVALID_PARAMETER_2, "CreateDevice",
		       "PasidTaggedDma, endpoint without PASID capability");
		diag("endpoint has no PASID capability: PASID sub-device cases not run");
		create_device(bdf_ep, NULL, 0, 0, dev_ep);
		return;
	}
	expect(st, VTDP_V3_STATUS_SUCCESS, "CreateDevice", "PasidTaggedDma");
	{
		struct vtdp_v3_query_device_info qi = { .device = tagged, .size = 3 };

		xioctl(VTDP_V3_IOC_QUERY_DEVICE_INFO, &qi, "QDI");
		tap(qi.info[0] == 1 && qi.info[1] == 1 && qi.info[2] == 0,
		    "QueryDeviceInfo: PasidTaggedDma -> 1,1,0");
	}
	expect(create_pasid(tagged, 0, &p1, &pasid1), VTDP_V3_STATUS_SUCCESS, c, "first");
	expect(create_pasid(tagged, 0, &p2, &pasid2), VTDP_V3_STATUS_SUCCESS, c, "second");
	tap(pasid1 >= 1 && pasid2 >= 1 && pasid1 != pasid2,
	    "CreatePasidDevice: PASIDs %u and %u distinct and never 0", pasid1, pasid2);
	expect(create_pasid(tagged, VTDP_V3_CP_NULL_OUT, NULL, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_2, c, "NULL PasidDeviceOut");
	expect(create_pasid(tagged, VTDP_V3_CP_NULL_PASID, NULL, NULL),
	       VTDP_V3_STATUS_INVALID_PARAMETER_3, c, "NULL AsidOut");
	/*
	 * PASIDs come from [1, 2^w - 1], w = min(endpoint Max PASID Width,
	 * unit PASID width).  Up to 16 bits the space is exhausted exactly
	 * (scripts/test runs the tool once with a 12-bit endpoint for that);
	 * a 20-bit space is too big for the guest, so there PASIDs beyond
	 * one directory page (> 32767) must appear, and the highest is kept
	 * for a tagged DMA.
	 */
	{
		static uint32_t hs[1U << 16];
		uint32_t w = ep_pasid_width < unit_pasid_bits ? ep_pasid_width : unit_pasid_bits;
		uint32_t limit = (1U << w) - 1, want, i, maxp = 0, bad = 0;
		bool full = limit <= (1U << 16);

		want = full ? limit - 2 : 40000;	/* p1 and p2 are taken */
		for (n = 0; n < want + full; n++) {
			st = create_pasid(tagged, 0, &hs[n % (1U << 16)], &pasid);
			if (st != VTDP_V3_STATUS_SUCCESS)
				break;
			if (pasid == 0 || pasid > limit)
				bad++;
			if (pasid > maxp) {
				maxp = pasid;
				high_pd = hs[n % (1U << 16)];
				high_pasid = pasid;
			}
		}
		diag("PASID width %u: %u further PASIDs created, highest %u", w, n, maxp);
		tap(!bad, "CreatePasidDevice: every PASID in [1, %u]", limit);
		if (full) {
			expect(st, VTDP_V3_STATUS_NONE_MAPPED, c, "PASID space exhausted");
			tap(n == want, "CreatePasidDevice: exactly 2^%u - 1 PASIDs (%u + 2)", w, n);
		} else {
			tap(n == want && maxp > 32767,
			    "CreatePasidDevice: %u more PASIDs, beyond one directory page (highest %u)",
			    want, maxp);
		}
		for (i = 0; i < n && i < (1U << 16); i++)
			if (hs[i] != high_pd)
				handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, hs[i]);
	}

	t = domain(VTDP_V3_DOMAIN_TRANSLATE);
	t2 = domain(VTDP_V3_DOMAIN_TRANSLATE);
	pt = domain(VTDP_V3_DOMAIN_PASS_THROUGH);
	um = domain(VTDP_V3_DOMAIN_UNMANAGED);
	expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, t, p1), VTDP_V3_STATUS_SUCCESS,
	       "AttachPasidDevice", "Translate");
	expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, t2, p1), VTDP_V3_STATUS_UNSUCCESSFUL,
	       "AttachPasidDevice", "already attached");
	expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, um, p2), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "AttachPasidDevice", "Unmanaged domain");
	expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, t, 0), VTDP_V3_STATUS_INVALID_PARAMETER_2,
	       "AttachPasidDevice", "NULL PASID device");
	set_passthrough(false);
	expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, pt, p2), VTDP_V3_STATUS_ACCESS_DENIED,
	       "AttachPasidDevice", "PassThrough while policy forbids it");
	set_passthrough(true);
	expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, pt, p2), VTDP_V3_STATUS_SUCCESS,
	       "AttachPasidDevice", "PassThrough");
	expect(handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t), VTDP_V3_STATUS_RESOURCE_IN_USE,
	       "DeleteDomain", "PASID sub-device attached");
	expect(handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, p1), VTDP_V3_STATUS_RESOURCE_IN_USE,
	       "DeletePasidDevice", "still attached");
	expect(handle_op(VTDP_V3_IOC_DELETE_DEVICE, tagged), VTDP_V3_STATUS_RESOURCE_IN_USE,
	       "DeleteDevice", "PASID sub-devices alive");
	expect(handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, p1), VTDP_V3_STATUS_SUCCESS,
	       "DetachPasidDevice", "attached");
	expect(handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, p1), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "DetachPasidDevice", "not attached");
	expect(handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, p1), VTDP_V3_STATUS_SUCCESS,
	       "DeletePasidDevice", "detached");
	expect(handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, 0), VTDP_V3_STATUS_INVALID_PARAMETER_1,
	       "DeletePasidDevice", "NULL");
	expect(create_pasid(tagged, 0, &p1, &pasid), VTDP_V3_STATUS_SUCCESS, c,
	       "after a delete, the freed PASID is reusable");
	tap(pasid == pasid1, "CreatePasidDevice: got the freed PASID %u back (%u)", pasid1, pasid);
	handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, p2);
	handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, p1);
	handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, p2);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t2);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, pt);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, um);
	*dev_ep = tagged;
}

/* ---- DMA through every domain type, driven from user space ---- */

static volatile uint32_t *bar;		/* the endpoint's BAR 0 */

struct dmabuf {
	uint32_t handle;
	uint8_t *mem;
	uint64_t phys[4];
};

static int dmabuf_pin(struct dmabuf *b, unsigned int pages)
{
	struct vtdp_v3_pin pin = { .length = pages * PAGE };

	b->mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->mem == MAP_FAILED)
		return -1;
	pin.user_addr = (uintptr_t)b->mem;
	pin.phys_ptr = (uintptr_t)b->phys;
	if (xioctl(VTDP_V3_IOC_PIN, &pin, "PIN"))
		return -1;
	b->handle = pin.handle;
	return 0;
}

static struct vtdp_v3_phys bphys(const struct dmabuf *b, unsigned int page)
{
	struct vtdp_v3_phys p = { .type = VTDP_V3_PHYS_MDL, .buffer = b->handle,
				  .offset = page * PAGE, .length = PAGE };
	return p;
}

static int bar_open(void)
{
	bar = td_bar_open(ep_sysfs);
	return bar ? 0 : -1;
}

/*
 * One COPY of @len bytes on queue 0 whose ring is at @ring_iova (@ring the
 * CPU view), tagged with @pasid when @tagged.  Returns the completion
 * status code, or -1 if the device never completed.
 */
static int dma_copy(uint8_t *ring, uint64_t ring_iova, uint64_t src, uint64_t dst,
		    uint32_t len, bool tagged, uint32_t pasid, uint32_t *fi)
{
	struct vtdp_td_desc d = {
		.opcode = VTDP_TD_OP_COPY, .len = len, .src = src, .dst = dst,
	}, done;
	int st = td_bar_run(bar, ring, ring_iova, &d, tagged, pasid, &done);

	if (st < 0) {
		diag("COPY not completed: %s", st == TD_RUN_RING_FAULT ?
		     "ring fault" : "timeout");
		return -1;
	}
	*fi = done.fault_info;
	return st;
}

/* Fill src with a pattern unique to @seed, dst with 0; COPY; compare. */
static void dma_case(const char *what, struct dmabuf *ring, uint64_t ring_iova,
		     struct dmabuf *s, uint64_t src, struct dmabuf *d, uint64_t dst,
		     uint32_t len, bool tagged, uint32_t pasid, unsigned int seed)
{
	uint32_t fi = 0;
	size_t i;
	int st;

	for (i = 0; i < len; i++)
		s->mem[i] = (uint8_t)(i * 13 + seed * 101 + (i >> 9));
	memset(d->mem, 0, len);
	st = dma_copy(ring->mem, ring_iova, src, dst, len, tagged, pasid, &fi);
	for (i = 0; i < len && d->mem[i] == s->mem[i]; i++)
		;
	if (st != VTDP_TD_ST_OK || i != len)
		diag("%s: status %d fault_info %#x, first difference at %zu", what, st, fi, i);
	tap(st == VTDP_TD_ST_OK && i == len, "DMA %s: COPY %u bytes, every byte verified",
	    what, len);
}

/* Wait (up to 10 s) for the device's fault handler to have run @n times. */
static struct vtdp_v3_device_state wait_faults(uint32_t dev, uint64_t n)
{
	struct vtdp_v3_device_state s = dev_state(dev);

	for (int i = 0; i < 1000 && s.faults < n; i++) {
		usleep(10000);
		s = dev_state(dev);
	}
	return s;
}

/*
 * A one-page COPY that must fault while fault reporting is on: wait for
 * its report too, so that it cannot arrive during a later check.
 */
static int fault_copy(uint32_t dev, uint8_t *ring, uint64_t ring_iova, uint64_t src,
		      uint64_t dst, uint32_t *fi)
{
	uint64_t before = dev_state(dev).faults;
	int st = dma_copy(ring, ring_iova, src, dst, PAGE, false, 0, fi);

	wait_faults(dev, before + 1);
	return st;
}

static void t_dma(uint32_t *devp)
{
	uint32_t dev = *devp;
	struct vtdp_v3_device_state fs;
	struct dmabuf ring, src, dst, src2, dst2;
	uint64_t rla = 0x10000000, sla = 0x100000, dla = 0x200000;
	uint32_t t, b, pt, idt, t2, tok, seg, seg_ring = 0, seg_src = 0;
	uint32_t pd = 0, pasid = 0, fi = 0;
	uint64_t base;
	int st;

	if (bar_open() || dmabuf_pin(&ring, 1) || dmabuf_pin(&src, 4) ||
	    dmabuf_pin(&dst, 4) || dmabuf_pin(&src2, 1) || dmabuf_pin(&dst2, 1)) {
		tap(false, "DMA: map the endpoint's BAR and pin buffers: %s", strerror(errno));
		return;
	}

	/* Translate, explicit addresses, 16 KiB through 4 discontiguous pages */
	t = domain(VTDP_V3_DOMAIN_TRANSLATE);
	map_ex(t, 3, bphys(&ring, 0), &rla, NULL, NULL, 0, NULL);
	{
		struct vtdp_v3_phys ps = { .type = VTDP_V3_PHYS_PFN, .buffer = src.handle,
					   .length = 4 * PAGE };
		struct vtdp_v3_phys pdst = { .type = VTDP_V3_PHYS_MDL, .buffer = dst.handle,
					     .length = 4 * PAGE };

		map_ex(t, 1, ps, &sla, NULL, NULL, 0, NULL);
		map_ex(t, 2, pdst, &dla, NULL, NULL, 0, NULL);
	}
	attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev);
	fault_reporting(dev, 0, 1, VTDP_V3_FR_CONFIG_HANDLER);
	dma_case("Translate (explicit)", &ring, rla, &src, sla, &dst, dla, 4 * PAGE, false, 0, 1);
	unmap(t, dla, 4);
	st = dma_copy(ring.mem, rla, sla, dla, PAGE, false, 0, &fi);
	tap(st == VTDP_TD_ST_DMA_FAULT && (fi & VTDP_TD_FI_WRITE),
	    "DMA Translate: write after UnmapLogicalRange faults (synchronous invalidation)");
	fs = wait_faults(dev, 1);
	tap(fs.faults == 1 && fs.fault_last_address == dla &&
	    fs.fault_last_reason == VTDP_FR_SM_SS_NOT_PRESENT && !fs.fault_last_pasid_valid,
	    "fault handler: one fault, address %#" PRIx64 ", reason %#x, no PASID",
	    (uint64_t)fs.fault_last_address, fs.fault_last_reason);
	{
		/* disabling waits for a handler call in flight (a slow one) */
		struct timespec ts;
		uint64_t done_ns;
		int i;

		fault_reporting(dev, 0, 1, VTDP_V3_FR_CONFIG_SLOW_HANDLER);
		dma_copy(ring.mem, rla, sla, dla, PAGE, false, 0, &fi);
		for (i = 0; i < 500 && !dev_state(dev).fault_active; i++)
			usleep(10000);
		expect(fault_reporting(dev, 0, 0, VTDP_V3_FR_CONFIG_NULL), VTDP_V3_STATUS_SUCCESS,
		       "SetDeviceFaultReportingEx", "disable while the handler runs");
		clock_gettime(CLOCK_MONOTONIC, &ts);
		done_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		fs = dev_state(dev);
		tap(i < 500 && !fs.fault_active && fs.faults == 2 && fs.fault_last_end_ns <= done_ns,
		    "disabling returned only after the handler call had finished");
		fault_reporting(dev, 0, 1, VTDP_V3_FR_CONFIG_HANDLER);
	}
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);

	/* Translate with the buddy allocator */
	b = buddy_domain(32);
	map_ex(b, 3, bphys(&ring, 0), NULL, NULL, NULL, 0, &rla);
	map_ex(b, 1, bphys(&src, 0), NULL, NULL, NULL, 0, &sla);
	map_ex(b, 2, bphys(&dst, 0), NULL, NULL, NULL, 0, &dla);
	attach(VTDP_V3_IOC_ATTACH_DEVICE, b, dev);
	dma_case("Translate (buddy allocator)", &ring, rla, &src, sla, &dst, dla, PAGE, false, 0, 2);
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);

	/* tokens: ring, src and dst as segments of one reservation */
	reserve(b, 8 * PAGE, NULL, NULL, NULL, 0, &tok, &base);
	map_reserved(tok, 0, 3, bphys(&ring, 0), VTDP_V3_MR_ATOMIC, &seg_ring);
	map_reserved(tok, PAGE, 1, bphys(&src, 0), VTDP_V3_MR_ATOMIC, &seg_src);
	map_reserved(tok, 2 * PAGE, 2, bphys(&dst, 0), VTDP_V3_MR_ATOMIC, &seg);
	attach(VTDP_V3_IOC_ATTACH_DEVICE, b, dev);
	dma_case("Translate (reserved token segments)", &ring, base, &src, base + PAGE,
		 &dst, base + 2 * PAGE, PAGE, false, 0, 3);
	unmap_reserved(seg, VTDP_V3_UR_ATOMIC, 0, 0);
	st = fault_copy(dev, ring.mem, base, base + PAGE, base + 2 * PAGE, &fi);
	tap(st == VTDP_TD_ST_DMA_FAULT && (fi & VTDP_TD_FI_WRITE),
	    "DMA token: write after UnmapReservedLogicalRange faults");
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);
	unmap_reserved(seg_ring, 0, 0, 0);
	unmap_reserved(seg_src, 0, 0, 0);
	tap(handle_op(VTDP_V3_IOC_FREE_RESERVED, tok) == VTDP_V3_STATUS_SUCCESS,
	    "DMA token: freed after its segments");

	/* TranslateS1: first-stage tables, explicit addresses and a token */
	{
		uint32_t s1 = domain(VTDP_V3_DOMAIN_TRANSLATE_S1), stok = 0, sseg = 0;
		uint64_t sbase = 0x40000000;

		rla = 0x10000000;
		sla = 0x100000;
		dla = 0x200000;
		map_ex(s1, 3, bphys(&ring, 0), &rla, NULL, NULL, 0, NULL);
		map_ex(s1, 1, bphys(&src, 0), &sla, NULL, NULL, 0, NULL);
		map_ex(s1, 2, bphys(&dst, 0), &dla, NULL, NULL, 0, NULL);
		attach(VTDP_V3_IOC_ATTACH_DEVICE, s1, dev);
		dma_case("TranslateS1 (explicit)", &ring, rla, &src, sla, &dst, dla, PAGE, false, 0, 7);
		unmap(s1, dla, 1);
		st = fault_copy(dev, ring.mem, rla, sla, dla, &fi);
		tap(st == VTDP_TD_ST_DMA_FAULT && (fi & VTDP_TD_FI_WRITE),
		    "DMA TranslateS1: write after UnmapLogicalRange faults");
		reserve(s1, 4 * PAGE, &sbase, NULL, NULL, 0, &stok, NULL);
		map_reserved(stok, 0, 2, bphys(&dst, 0), VTDP_V3_MR_ATOMIC, &sseg);
		dma_case("TranslateS1 (token segment)", &ring, rla, &src, sla, &dst, sbase, PAGE,
			 false, 0, 8);
		unmap_reserved(sseg, VTDP_V3_UR_ATOMIC, 0, 0);
		st = fault_copy(dev, ring.mem, rla, sla, sbase, &fi);
		tap(st == VTDP_TD_ST_DMA_FAULT && (fi & VTDP_TD_FI_WRITE),
		    "DMA TranslateS1: write after UnmapReservedLogicalRange faults");
		handle_op(VTDP_V3_IOC_FREE_RESERVED, stok);
		handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);
		handle_op(VTDP_V3_IOC_DELETE_DOMAIN, s1);
	}

	/* PassThrough: device addresses are physical */
	pt = domain(VTDP_V3_DOMAIN_PASS_THROUGH);
	attach(VTDP_V3_IOC_ATTACH_DEVICE, pt, dev);
	dma_case("PassThrough", &ring, ring.phys[0], &src, src.phys[0], &dst, dst.phys[0],
		 PAGE, false, 0, 4);
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);

	/* identity maps in a Translate domain */
	idt = domain(VTDP_V3_DOMAIN_TRANSLATE);
	identity(VTDP_V3_IOC_MAP_IDENTITY, idt, 3, bphys(&ring, 0));
	identity(VTDP_V3_IOC_MAP_IDENTITY, idt, 1, bphys(&src, 0));
	identity(VTDP_V3_IOC_MAP_IDENTITY, idt, 2, bphys(&dst, 0));
	attach(VTDP_V3_IOC_ATTACH_DEVICE, idt, dev);
	dma_case("Translate (identity maps)", &ring, ring.phys[0], &src, src.phys[0],
		 &dst, dst.phys[0], PAGE, false, 0, 5);
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);

	/*
	 * PASID sub-device: the ring is untagged (domain t), the data is
	 * tagged and goes through t2, where the same IOVAs lead to other
	 * pages than in t.
	 */
	if (create_pasid(dev, 0, &pd, &pasid) != VTDP_V3_STATUS_SUCCESS) {
		tap(false, "DMA PASID: CreatePasidDevice");
		goto out;
	}
	sla = 0x100000;
	dla = 0x200000;
	t2 = domain(VTDP_V3_DOMAIN_TRANSLATE);
	map_ex(t, 2, bphys(&dst, 0), &dla, NULL, NULL, 0, NULL);
	map_ex(t2, 1, bphys(&src2, 0), &sla, NULL, NULL, 0, NULL);
	map_ex(t2, 2, bphys(&dst2, 0), &dla, NULL, NULL, 0, NULL);
	attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev);
	attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, t2, pd);
	rla = 0x10000000;
	memset(dst.mem, 0x77, PAGE);
	dma_case("PASID sub-device (tagged data, own domain)", &ring, rla, &src2, sla,
		 &dst2, dla, PAGE, true, pasid, 6);
	{
		size_t i;

		for (i = 0; i < PAGE && dst.mem[i] == 0x77; i++)
			;
		tap(i == PAGE, "DMA PASID: the untagged domain's page at the same IOVA is untouched");
	}
	handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, pd);
	fs = dev_state(dev);
	st = dma_copy(ring.mem, rla, sla, dla, PAGE, true, pasid, &fi);
	tap(st == VTDP_TD_ST_DMA_FAULT && (fi & VTDP_TD_FI_PASID),
	    "DMA PASID: tagged DMA after DetachPasidDevice faults (PASID in fault_info)");
	fs = wait_faults(dev, fs.faults + 1);
	tap(fs.fault_last_pasid_valid && fs.fault_last_pasid == pasid &&
	    fs.fault_last_reason == VTDP_FR_SM_PTE_NOT_PRESENT,
	    "fault handler: the tagged fault carries PASID %u (got %u, reason %#x)", pasid,
	    fs.fault_last_pasid, fs.fault_last_reason);
	if (high_pd) {
		/* the highest PASID handed out: the far end of the directory */
		expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, t2, high_pd), VTDP_V3_STATUS_SUCCESS,
		       "AttachPasidDevice", "the highest PASID handed out");
		memset(dst.mem, 0x77, PAGE);
		dma_case("PASID sub-device with the highest PASID", &ring, rla, &src2, sla,
			 &dst2, dla, PAGE, true, high_pasid, 10);
		handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, high_pd);
		handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, high_pd);
		high_pd = 0;
	}
	{
		/* the same through a first-stage domain */
		uint32_t s1 = domain(VTDP_V3_DOMAIN_TRANSLATE_S1);

		map_ex(s1, 1, bphys(&src2, 0), &sla, NULL, NULL, 0, NULL);
		map_ex(s1, 2, bphys(&dst2, 0), &dla, NULL, NULL, 0, NULL);
		expect(attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, s1, pd), VTDP_V3_STATUS_SUCCESS,
		       "AttachPasidDevice", "TranslateS1");
		dma_case("PASID sub-device in a TranslateS1 domain", &ring, rla, &src2, sla,
			 &dst2, dla, PAGE, true, pasid, 9);
		unmap(s1, dla, 1);
		fs = dev_state(dev);
		st = dma_copy(ring.mem, rla, sla, dla, PAGE, true, pasid, &fi);
		tap(st == VTDP_TD_ST_DMA_FAULT && (fi & VTDP_TD_FI_PASID),
		    "DMA PASID/TranslateS1: tagged write after unmap faults (PASID-based invalidation)");
		/* let its report arrive now, not after the device is re-created */
		wait_faults(dev, fs.faults + 1);
		handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, pd);
		handle_op(VTDP_V3_IOC_DELETE_DOMAIN, s1);
	}
	handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, pd);
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t2);

	/* SuppressPasidFaults: tagged faults are not reported, untagged ones are */
	fault_reporting(dev, 0, 0, VTDP_V3_FR_CONFIG_NULL);
	if (handle_op(VTDP_V3_IOC_DELETE_DEVICE, dev) == VTDP_V3_STATUS_SUCCESS &&
	    pasid_cfg_device(bdf_ep, VTDP_V3_PASID_TAGGED_DMA, 1, &dev) == VTDP_V3_STATUS_SUCCESS) {
		struct vtdp_v3_query_device_info qi = { .device = dev, .size = 3 };
		uint64_t before;

		*devp = dev;
		xioctl(VTDP_V3_IOC_QUERY_DEVICE_INFO, &qi, "QDI");
		tap(qi.info[0] == 1 && qi.info[1] == 1 && qi.info[2] == 1,
		    "QueryDeviceInfo: PasidTaggedDma with SuppressPasidFaults -> 1,1,1");
		create_pasid(dev, 0, &pd, &pasid);
		t2 = domain(VTDP_V3_DOMAIN_TRANSLATE);
		attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev);
		attach(VTDP_V3_IOC_ATTACH_PASID_DEVICE, t2, pd);
		fault_reporting(dev, 0, 1, VTDP_V3_FR_CONFIG_HANDLER);
		before = dev_state(dev).faults;
		st = dma_copy(ring.mem, rla, sla, dla, PAGE, true, pasid, &fi);
		usleep(200000);
		fs = dev_state(dev);
		tap(st == VTDP_TD_ST_DMA_FAULT && fs.faults == before,
		    "SuppressPasidFaults: tagged fault fails the DMA but is not reported (%" PRIu64
		    " reported)", (uint64_t)(fs.faults - before));
		st = dma_copy(ring.mem, rla, sla, 0x7000000, PAGE, false, 0, &fi);
		fs = wait_faults(dev, before + 1);
		tap(st == VTDP_TD_ST_DMA_FAULT && fs.faults == before + 1,
		    "SuppressPasidFaults: an untagged fault is still reported");
		fault_reporting(dev, 0, 0, VTDP_V3_FR_CONFIG_NULL);
		handle_op(VTDP_V3_IOC_DETACH_PASID_DEVICE, pd);
		handle_op(VTDP_V3_IOC_DELETE_PASID_DEVICE, pd);
		handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);
		handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t2);
	} else {
		tap(false, "recreate the endpoint with SuppressPasidFaults");
	}
out:
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, t);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, b);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, pt);
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, idt);
}

/* ---- buddy allocator property test against a model ---- */

/*
 * Large pages: a 2 MiB huge page mapped at a 2 MiB-aligned address gets
 * one large leaf (CAP.SLLPS / first-stage 2 MiB); unmapping one page in
 * its middle splits the leaf, and only that page stops translating.
 */
static void t_large_pages(uint32_t dev)
{
	static const uint32_t types[] = { VTDP_V3_DOMAIN_TRANSLATE,
					  VTDP_V3_DOMAIN_TRANSLATE_S1 };
	const uint64_t huge = 2ULL << 20, la = 0x40000000, rla = 0x10000000;
	struct vtdp_v3_pin pin = { .length = huge };
	struct vtdp_v3_phys ph = { .type = VTDP_V3_PHYS_MDL, .length = huge };
	struct dmabuf ring;
	uint8_t *mem;
	uint32_t fi;
	int st;

	fault_reporting(dev, 0, 0, VTDP_V3_FR_CONFIG_NULL);
	handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);
	if (system("echo 4 > /proc/sys/vm/nr_hugepages") != 0)
		diag("could not reserve huge pages");
	mem = mmap(NULL, huge, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_HUGETLB, -1, 0);
	pin.user_addr = (uintptr_t)mem;
	if (mem == MAP_FAILED || xioctl(VTDP_V3_IOC_PIN, &pin, "PIN") ||
	    dmabuf_pin(&ring, 1)) {
		tap(false, "large pages: pin a 2 MiB huge page: %s", strerror(errno));
		return;
	}
	ph.buffer = pin.handle;

	for (unsigned int k = 0; k < 2; k++) {
		const char *name = k ? "TranslateS1" : "Translate";
		uint32_t d = domain(types[k]);
		uint64_t r = rla, l = la;
		bool ok = true;

		expect(map_ex(d, 3, bphys(&ring, 0), &r, NULL, NULL, 0, NULL),
		       VTDP_V3_STATUS_SUCCESS, "MapLogicalRangeEx", "ring page");
		expect(map_ex(d, 3, ph, &l, NULL, NULL, 0, NULL), VTDP_V3_STATUS_SUCCESS,
		       "MapLogicalRangeEx", "a 2 MiB huge page at a 2 MiB-aligned address");
		attach(VTDP_V3_IOC_ATTACH_DEVICE, d, dev);
		memset(mem, 0, huge);
		memset(mem, 0xa5, PAGE);
		st = dma_copy(ring.mem, rla, la, la + huge - PAGE, PAGE, false, 0, &fi);
		tap(st == VTDP_TD_ST_OK && mem[huge - 1] == 0xa5,
		    "large pages, %s: COPY across the 2 MiB mapping (status %d)", name, st);
		expect(unmap(d, la + 4 * PAGE, 1), VTDP_V3_STATUS_SUCCESS,
		       "UnmapLogicalRange", "one page inside a large leaf (splits it)");
		st = dma_copy(ring.mem, rla, la, la + 4 * PAGE, PAGE, false, 0, &fi);
		tap(st == VTDP_TD_ST_DMA_FAULT && (fi & VTDP_TD_FI_WRITE),
		    "large pages, %s: the unmapped page faults (status %d)", name, st);
		for (unsigned int p = 1; p < 512; p += 1 + (p < 8 ? 0 : 37)) {
			if (p == 4)
				continue;
			memset(mem + p * PAGE, 0, PAGE);
			st = dma_copy(ring.mem, rla, la, la + p * PAGE, PAGE, false, 0, &fi);
			if (st != VTDP_TD_ST_OK || mem[p * PAGE + PAGE - 1] != 0xa5) {
				diag("page %u: status %d", p, st);
				ok = false;
			}
		}
		tap(ok, "large pages, %s: every other page still translates after the split", name);
		expect(unmap(d, la, 4), VTDP_V3_STATUS_SUCCESS, "UnmapLogicalRange",
		       "the pages before the hole");
		expect(unmap(d, la + 5 * PAGE, 507), VTDP_V3_STATUS_SUCCESS,
		       "UnmapLogicalRange", "the pages after the hole");
		st = dma_copy(ring.mem, rla, la, la + 300 * PAGE, PAGE, false, 0, &fi);
		tap(st == VTDP_TD_ST_DMA_FAULT,
		    "large pages, %s: nothing translates after the last unmap (status %d)", name, st);
		handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev);
		handle_op(VTDP_V3_IOC_DELETE_DOMAIN, d);
	}
}

struct blk { uint64_t first, span, npages; bool live; };

static bool model_free(const struct blk *b, int n, uint64_t first, uint64_t span)
{
	/* the interrupt window is withheld in every translate domain */
	uint64_t w0 = 0xfee00000ULL >> 12, w1 = 0xfeefffffULL >> 12;

	if (first <= w1 && first + span - 1 >= w0)
		return false;
	for (int i = 0; i < n; i++)
		if (b[i].live && first <= b[i].first + b[i].span - 1 &&
		    b[i].first <= first + span - 1)
			return false;
	return true;
}

static uint64_t model_alloc(const struct blk *b, int n, uint64_t npages,
			    uint64_t lo, uint64_t hi, uint64_t *span)
{
	uint64_t s = 1;

	while (s < npages)
		s <<= 1;
	*span = s;
	for (uint64_t p = (lo + s - 1) & ~(s - 1); p + s - 1 <= hi; p += s)
		if (model_free(b, n, p, s))
			return p;
	return UINT64_MAX;
}

#define NBLK 160

static void t_allocator(void)
{
	static struct blk b[NBLK];
	uint32_t width = 26, dom = buddy_domain(width);
	uint64_t limit = 1ULL << (width - 12);
	int mism = 0, align = 0, bounds = 0, overlap = 0, n = 0;
	unsigned int seed = 12345;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < NBLK; i++) {
			uint64_t np, la = 0, lo = 0, hi = limit - 1, span, want;
			bool win = rand_r(&seed) % 3 == 0;
			uint64_t mn, mx;
			int32_t st;

			if (b[i].live)
				continue;
			np = 1 + rand_r(&seed) % 40;
			if (win) {
				lo = rand_r(&seed) % (limit / 2);
				hi = lo + 64 + rand_r(&seed) % 4096;
				mn = lo << 12;
				mx = (hi << 12) + 4095;
			}
			want = model_alloc(b, NBLK, np, lo, hi, &span);
			st = map_ex(dom, 3, mdl(np), NULL, win ? &mn : NULL,
				    win ? &mx : NULL, 0, &la);
			n++;
			if (want == UINT64_MAX) {
				if (st != VTDP_V3_STATUS_INSUFFICIENT_RESOURCES) {
					mism++;
					diag("model: no block; kernel %s la %#" PRIx64, sname(st), la);
				}
				continue;
			}
			if (st != VTDP_V3_STATUS_SUCCESS || la >> 12 != want) {
				if (mism++ < 5)
					diag("np %" PRIu64 " window [%#" PRIx64 ", %#" PRIx64
					     "]: kernel %s %#" PRIx64 ", model %#" PRIx64,
					     np, lo << 12, (hi << 12) + 4095, sname(st), la,
					     want << 12);
				if (st != VTDP_V3_STATUS_SUCCESS)
					continue;
			}
			if (la & ((span << 12) - 1))
				align++;
			if ((la >> 12) < lo || (la >> 12) + np - 1 > hi ||
			    (la >> 12) + span > limit)
				bounds++;
			if (!model_free(b, NBLK, la >> 12, span))
				overlap++;
			b[i] = (struct blk){ la >> 12, span, np, true };
		}
		/* free about half */
		for (int i = 0; i < NBLK; i++)
			if (b[i].live && rand_r(&seed) % 2) {
				if (unmap(dom, b[i].first << 12, b[i].npages) != VTDP_V3_STATUS_SUCCESS)
					mism++;
				b[i].live = false;
			}
	}
	tap(!mism, "allocator: %d allocations equal the lowest free block of the model", n);
	tap(!align, "allocator: every block aligned to its power-of-two size");
	tap(!bounds, "allocator: every block inside [Min, Max] and AddressWidth");
	tap(!overlap, "allocator: no block overlaps a live one");
	for (int i = 0; i < NBLK; i++)
		if (b[i].live) {
			if (unmap(dom, b[i].first << 12, b[i].npages) != VTDP_V3_STATUS_SUCCESS)
				mism++;
			b[i].live = false;
		}
	{
		uint64_t la = 1;

		map_ex(dom, 3, mdl(64), NULL, NULL, NULL, 0, &la);
		tap(!mism && la == 0, "allocator: after freeing all, the lowest block is reused (%#" PRIx64 ")", la);
	}
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, dom);
}

/* ---- concurrent map/unmap ---- */

#define THREADS		4
#define OPS_PER_THREAD	25000	/* map + unmap = 2 ops; 4 x 25000 = 100k */

struct worker { uint32_t dom; int idx; long ok_map, ok_unmap, bad; };

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	uint64_t base = (uint64_t)(w->idx + 1) << 32;

	for (int i = 0; i < OPS_PER_THREAD / 2; i++) {
		uint64_t np = 1 + i % 4, la = base + (uint64_t)(i % 64) * 8 * PAGE;
		int32_t st = map_at(w->dom, la, np);

		if (st == VTDP_V3_STATUS_SUCCESS)
			w->ok_map++;
		else
			w->bad++;
		st = unmap(w->dom, la, np);
		if (st == VTDP_V3_STATUS_SUCCESS)
			w->ok_unmap++;
		else
			w->bad++;
	}
	return NULL;
}

static void t_concurrency(void)
{
	struct worker w[THREADS];
	pthread_t th[THREADS];
	uint32_t dom = domain(VTDP_V3_DOMAIN_TRANSLATE);
	long maps = 0, unmaps = 0, bad = 0;
	bool left = false;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .dom = dom, .idx = i };
		pthread_create(&th[i], NULL, worker_fn, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		maps += w[i].ok_map;
		unmaps += w[i].ok_unmap;
		bad += w[i].bad;
	}
	tap(bad == 0 && maps + unmaps == THREADS * OPS_PER_THREAD,
	    "concurrency: %d threads, %ld maps + %ld unmaps succeeded, %ld failed",
	    THREADS, maps, unmaps, bad);
	/* exact accounting: nothing left mapped in any thread's range */
	for (int i = 0; i < THREADS; i++)
		if (unmap(dom, (uint64_t)(i + 1) << 32, 1) != VTDP_V3_STATUS_INVALID_PARAMETER ||
		    map_at(dom, (uint64_t)(i + 1) << 32, 64) != VTDP_V3_STATUS_SUCCESS)
			left = true;
	tap(!left, "concurrency: afterwards every range is free again");
	handle_op(VTDP_V3_IOC_DELETE_DOMAIN, dom);
}

/*
 * Hostile input: a ShouldMap region of 2^34 pages (64 TiB) makes
 * CreateDomainEx build tables for a very long time; the caller must stay
 * killable, and nothing may be left behind.
 */
static void t_huge_region(void)
{
	struct vtdp_v3_region r = { .base = 1ULL << 40, .number_of_pages = 1ULL << 34,
				    .should_map = 1 };
	int status = 0, waited;
	pid_t pid = fork();

	if (pid == 0) {
		int cfd = open("/dev/vtdp-v3", O_RDWR);
		struct vtdp_v3_create_domain a = { .type = VTDP_V3_DOMAIN_TRANSLATE,
						   .regions_ptr = (uintptr_t)&r, .nregions = 1 };

		ioctl(cfd, VTDP_V3_IOC_CREATE_DOMAIN, &a);
		_exit(a.status == VTDP_V3_STATUS_INSUFFICIENT_RESOURCES ? 3 : 4);
	}
	sleep(1);
	kill(pid, SIGKILL);
	for (waited = 0; waited < 1000; waited++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	tap(waited < 1000 && ((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
			      (WIFEXITED(status) && WEXITSTATUS(status) == 3)),
	    "CreateDomainEx with a 64 TiB identity region: killable (status %#x)", status);
	tap(domain(VTDP_V3_DOMAIN_TRANSLATE) != 0, "a normal domain can be created afterwards");
}

/*
 * vtdp.ko's in-kernel self-test (debugfs vtdp/selftest): states that no
 * caller reaches on purpose, e.g. MapReserved racing FreeReserved.
 */
static void t_selftest(void)
{
	FILE *f = fopen("/sys/kernel/debug/vtdp/selftest", "r");
	char line[256];
	int n = 0;

	if (!f) {
		tap(false, "read /sys/kernel/debug/vtdp/selftest: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "ok - ", 5))
			tap(true, "%s", line + 5);
		else
			tap(false, "%s", line + (strncmp(line, "not ok - ", 9) ? 0 : 9));
		n++;
	}
	fclose(f);
	if (!n)
		tap(false, "vtdp selftest printed nothing");
}

/* DID exhaustion: CreateDomainEx runs out of hardware tags. */
static void t_did_exhaustion(void)
{
	int saved = fd, n = 0;
	int32_t st;

	fd = open("/dev/vtdp-v3", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		tap(false, "open a second /dev/vtdp-v3");
		fd = saved;
		return;
	}
	do {
		st = create_domain_ex(VTDP_V3_DOMAIN_UNMANAGED, 0, -1, 0, NULL, 0, 0, NULL);
		n++;
	} while (st == VTDP_V3_STATUS_SUCCESS && n < 70000);
	diag("%d Unmanaged domains created before the domain ids ran out", n - 1);
	expect(st, VTDP_V3_STATUS_INSUFFICIENT_RESOURCES, "CreateDomainEx",
	       "no hardware domain id left");
	close(fd);	/* deletes them all */
	fd = saved;
	{
		uint32_t h = domain(VTDP_V3_DOMAIN_UNMANAGED);

		tap(h != 0, "close gave every domain id back");
		handle_op(VTDP_V3_IOC_DELETE_DOMAIN, h);
	}
}

/* ---- invalidation bugs committed on purpose (--commit-invalidation-bugs) ---- */

#define INJECT_SKIP "/sys/kernel/debug/vtdp/inject_skip_invalidation"

/* Make vtdp.ko leave out its next @count invalidations of @kinds. */
static bool inject_skip(const char *kinds, unsigned int count)
{
	FILE *f = fopen(INJECT_SKIP, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%s %u\n", kinds, count) > 0;
	return fclose(f) == 0 && ok;
}

/*
 * Each bug leaves the IOMMU a stale cached entry, and the COPY after it
 * is served from that entry exactly as real hardware would serve it: the
 * copy succeeds.  Every buffer stays pinned by this process for the whole
 * section, so the stale translations only ever reach our own pages.
 * Expected sanitizer reports, in order: stale IOTLB entry (the unmapped
 * source page), stale PASID entry (RID_PASID after DetachDevice), stale
 * context entry (after DeleteDevice).
 */
static void t_invalidation_bugs(void)
{
	uint64_t rla = 0x10000000, sla = 0x100000, dla = 0x200000;
	struct dmabuf ring, src, dst;
	uint32_t dev = 0, t;

	if (bar_open() || dmabuf_pin(&ring, 1) || dmabuf_pin(&src, 1) ||
	    dmabuf_pin(&dst, 1)) {
		tap(false, "map the endpoint's BAR and pin buffers: %s", strerror(errno));
		return;
	}
	expect(create_device(bdf_ep, NULL, 0, 0, &dev), VTDP_V3_STATUS_SUCCESS,
	       "CreateDevice", "endpoint");
	t = domain(VTDP_V3_DOMAIN_TRANSLATE);
	map_ex(t, 3, bphys(&ring, 0), &rla, NULL, NULL, 0, NULL);
	map_ex(t, 1, bphys(&src, 0), &sla, NULL, NULL, 0, NULL);
	map_ex(t, 2, bphys(&dst, 0), &dla, NULL, NULL, 0, NULL);
	attach(VTDP_V3_IOC_ATTACH_DEVICE, t, dev);
	dma_case("with every invalidation (fills the caches)", &ring, rla, &src, sla,
		 &dst, dla, PAGE, false, 0, 1);

	/* 1: UnmapLogicalRange without its IOTLB invalidation */
	tap(inject_skip("iotlb", 1), "fault injection: skip the next IOTLB invalidation");
	expect(unmap(t, sla, 1), VTDP_V3_STATUS_SUCCESS, "UnmapLogicalRange",
	       "source page, its IOTLB invalidation skipped");
	dma_case("from an unmapped page through the stale IOTLB entry", &ring, rla,
		 &src, sla, &dst, dla, PAGE, false, 0, 2);

	/* 2: DetachDevice without its PASID-cache invalidation */
	map_ex(t, 1, bphys(&src, 0), &sla, NULL, NULL, 0, NULL);
	tap(inject_skip("pasid", 1), "fault injection: skip the next PASID-cache invalidation");
	expect(handle_op(VTDP_V3_IOC_DETACH_DEVICE, dev), VTDP_V3_STATUS_SUCCESS,
	       "DetachDevice", "its PASID-cache invalidation skipped");
	dma_case("of a detached device through the stale PASID entry", &ring, rla, &src,
		 sla, &dst, dla, PAGE, false, 0, 3);

	/* 3: DeleteDevice without its context- and PASID-cache invalidations */
	tap(inject_skip("context,pasid", 2),
	    "fault injection: skip the next context- and PASID-cache invalidations");
	expect(handle_op(VTDP_V3_IOC_DELETE_DEVICE, dev), VTDP_V3_STATUS_SUCCESS,
	       "DeleteDevice", "its cache invalidations skipped");
	dma_case("of a deleted device through the stale context entry", &ring, rla, &src,
		 sla, &dst, dla, PAGE, false, 0, 4);
	tap(inject_skip("none", 0), "fault injection off");
}

int main(int argc, char **argv)
{
	uint32_t dev_ep = 0, dev_other = 0;
	struct vtdp_v3_pin pin;
	struct vtdp_v3_info info = { 0 };

	printf("TAP version 13\n");
	if (discover()) {
		printf("1..1\n");
		tap(false, "find the vtdp-testdev endpoint, the IOMMU and another function");
		return 1;
	}
	fd = open("/dev/vtdp-v3", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, VTDP_V3_IOC_INFO, &info) < 0) {
		printf("1..1\n");
		tap(false, "open /dev/vtdp-v3: %s", strerror(errno));
		return 1;
	}
	unit_pasid_bits = info.pasid_bits;
	diag("uapi %u, interface max %u, AW %u, PASID bits %u, endpoint PASID width %u",
	     info.uapi_version, info.interface_max, info.aw_bits, info.pasid_bits,
	     ep_pasid_width);
	buf_mem = mmap(NULL, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	memset(&pin, 0, sizeof(pin));
	pin.user_addr = (uintptr_t)buf_mem;
	pin.length = BUF_PAGES * PAGE;
	if (buf_mem == MAP_FAILED || ioctl(fd, VTDP_V3_IOC_PIN, &pin) < 0) {
		printf("1..1\n");
		tap(false, "pin a buffer: %s", strerror(errno));
		return 1;
	}
	buf = pin.handle;

	if (argc > 1 && !strcmp(argv[1], "--commit-invalidation-bugs")) {
		t_invalidation_bugs();
		printf("1..%d\n", test_no);
		return failures ? 1 : 0;
	} else if (argc > 1) {
		fprintf(stderr, "usage: vtdp-v3-conformance [--commit-invalidation-bugs]\n");
		return 2;
	}

	t_get_interface();
	t_devices(&dev_ep, &dev_other);
	t_create_delete_domain(dev_ep);
	t_attach_detach(dev_ep, dev_other);
	t_flush_configure_inputs();
	t_map_unmap();
	t_identity();
	t_fault_reporting(dev_ep);
	t_state_change(dev_ep);
	expect(state_cb(VTDP_V3_IOC_REGISTER_CB, dev_other, 1, VTDP_V3_CB_OTHER_CALLBACK),
	       VTDP_V3_STATUS_SUCCESS, "RegisterInterfaceStateChangeCallback",
	       "another device and function (left for close to undo)");
	t_tokens();
	t_pasid(&dev_ep);
	t_dma(&dev_ep);
	t_large_pages(dev_ep);
	t_allocator();
	t_concurrency();
	t_huge_region();
	t_selftest();
	t_did_exhaustion();

	tap(system("rmmod vtdp 2>/dev/null") != 0,
	    "rmmod vtdp is refused while V3 objects are alive");
	tap(close(fd) == 0, "close tears everything down");
	fd = open("/dev/vtdp-v3", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		uint32_t h = 0;

		expect(create_device(bdf_ep, NULL, 0, 0, &h), VTDP_V3_STATUS_SUCCESS,
		       "CreateDevice", "endpoint again after the first file closed");
		expect(create_device(bdf_other, NULL, 0, 0, &h), VTDP_V3_STATUS_SUCCESS,
		       "CreateDevice", "the other function again (its callback was unregistered)");
		close(fd);
	} else {
		tap(false, "reopen /dev/vtdp-v3");
	}
	/* nothing left: the module unloads and comes back */
	tap(system("rmmod vtdp") == 0 && access("/dev/vtdp-v3", F_OK) != 0,
	    "rmmod vtdp succeeds once every object is gone");

	/* loaded, but with the vtdp-iommu kept from binding: no unit */
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd),
			 "echo none > /sys/bus/pci/devices/0000:%02x:%02x.%x/driver_override",
			 (bdf_iommu >> 8) & 0xff, (bdf_iommu >> 3) & 0x1f, bdf_iommu & 7);
		fd = -1;
		if (system(cmd) == 0 && system("insmod /lib/modules/vtdp/vtdp.ko") == 0)
			fd = open("/dev/vtdp-v3", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			expect(get_interface(3, 0, 0), VTDP_V3_STATUS_NOT_SUPPORTED,
			       "IoGetIommuInterfaceEx", "no vtdp-iommu bound");
			close(fd);
		} else {
			tap(false, "insmod vtdp with the IOMMU's driver_override set");
		}
		snprintf(cmd, sizeof(cmd),
			 "rmmod vtdp && echo > /sys/bus/pci/devices/0000:%02x:%02x.%x/driver_override",
			 (bdf_iommu >> 8) & 0xff, (bdf_iommu >> 3) & 0x1f, bdf_iommu & 7);
		if (system(cmd))
			diag("could not undo the driver_override");
	}
	fd = -1;
	if (system("insmod /lib/modules/vtdp/vtdp.ko") == 0)
		fd = open("/dev/vtdp-v3", O_RDWR | O_CLOEXEC);
	tap(fd >= 0 && get_interface(3, 0, 0) == VTDP_V3_STATUS_SUCCESS,
	    "insmod vtdp again: the unit is back and offers the interface");
	if (fd >= 0)
		close(fd);
	printf("1..%d\n", test_no);
	if (failures)
		diag("%d of %d test(s) failed", failures, test_no);
	return failures ? 1 : 0;
}
