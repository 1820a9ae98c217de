// SPDX-License-Identifier: GPL-2.0-or-later
/* td-lib: helpers shared by the vtdp guest tools (see td-lib.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <vtdp/iommu-hw.h>
#include <vtdp/testdev-hw.h>

#include "td-lib.h"

uint32_t td_crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1));
	}
	return crc ^ 0xffffffff;
}

int td_map(int fd, void *buf, size_t len, uint64_t iova, uint32_t perms,
	   int32_t *status, uint64_t *iova_out)
{
	struct vtdp_td_map m = {
		.user_addr = (uintptr_t)buf,
		.length = len,
		.iova = iova,
		.perms = perms,
	};

	if (ioctl(fd, VTDP_TD_IOC_MAP, &m) < 0)
		return -errno;
	*status = m.status;
	if (iova_out)
		*iova_out = m.iova;
	return 0;
}

int td_unmap(int fd, uint64_t iova, int32_t *status)
{
	struct vtdp_td_unmap u = { .iova = iova };

	if (ioctl(fd, VTDP_TD_IOC_UNMAP, &u) < 0)
		return -errno;
	*status = u.status;
	return 0;
}

int td_map_bench(int fd, void *buf, size_t len, uint64_t iova, uint32_t perms,
		 uint32_t iterations, struct vtdp_td_bench_sample *smp,
		 int32_t *status, uint32_t *done)
{
	struct vtdp_td_map_bench b = {
		.user_addr = (uintptr_t)buf,
		.length = len,
		.iova = iova,
		.samples_ptr = (uintptr_t)smp,
		.iterations = iterations,
		.perms = perms,
	};

	if (ioctl(fd, VTDP_TD_IOC_MAP_BENCH, &b) < 0)
		return -errno;
	*status = b.status;
	*done = b.done;
	return 0;
}

int td_submit(int fd, uint32_t opcode, uint32_t len, uint64_t src,
	      uint64_t dst, uint64_t pattern, struct vtdp_td_submit *s)
{
	memset(s, 0, sizeof(*s));
	s->opcode = opcode;
	s->len = len;
	s->src = src;
	s->dst = dst;
	s->pattern = pattern;
	return ioctl(fd, VTDP_TD_IOC_SUBMIT, s) < 0 ? -errno : 0;
}

int td_map_ex(int fd, uint32_t handle, void *buf, size_t len, uint64_t iova,
	      uint32_t perms, struct vtdp_td_map_ex *out)
{
	memset(out, 0, sizeof(*out));
	out->user_addr = (uintptr_t)buf;
	out->length = len;
	out->iova = iova;
	out->perms = perms;
	out->handle = handle;
	return ioctl(fd, VTDP_TD_IOC_MAP_EX, out) < 0 ? -errno : 0;
}

int td_unmap_ex(int fd, uint32_t handle, uint64_t iova, int32_t *status)
{
	struct vtdp_td_unmap_ex u = { .iova = iova, .handle = handle };

	if (ioctl(fd, VTDP_TD_IOC_UNMAP_EX, &u) < 0)
		return -errno;
	*status = u.status;
	return 0;
}

int td_submit_ex(int fd, uint32_t queue, uint32_t handle, uint32_t opcode,
		 uint32_t len, uint64_t src, uint64_t dst, uint64_t pattern,
		 struct vtdp_td_submit_ex *s)
{
	memset(s, 0, sizeof(*s));
	s->desc.opcode = opcode;
	s->desc.len = len;
	s->desc.queue = queue;
	s->desc.src = src;
	s->desc.dst = dst;
	s->desc.pattern = pattern;
	s->handle = handle;
	return ioctl(fd, VTDP_TD_IOC_SUBMIT_EX, s) < 0 ? -errno : 0;
}

int td_pasid_create(int fd, uint32_t domain_type, uint32_t *handle,
		    uint32_t *pasid, int32_t *status)
{
	struct vtdp_td_pasid_create c = { .domain_type = domain_type };

	if (ioctl(fd, VTDP_TD_IOC_PASID_CREATE, &c) < 0)
		return -errno;
	*status = c.status;
	*handle = c.handle;
	*pasid = c.pasid;
	return 0;
}

int td_pasid_op(int fd, unsigned long cmd, uint32_t handle, int32_t *status)
{
	struct vtdp_td_pasid_op o = { .handle = handle };

	if (ioctl(fd, cmd, &o) < 0)
		return -errno;
	*status = o.status;
	return 0;
}

int td_faults(int fd, struct vtdp_td_fault *buf, uint32_t max,
	      uint32_t *count, uint64_t *total)
{
	struct vtdp_td_faults f = { .max = max, .faults_ptr = (uintptr_t)buf };

	if (ioctl(fd, VTDP_TD_IOC_FAULTS, &f) < 0)
		return -errno;
	*count = f.count;
	*total = f.total_faults;
	return 0;
}

bool td_st_is(const struct vtdp_td_submit *s, uint32_t code)
{
	return (s->status & VTDP_TD_ST_DONE) && VTDP_TD_ST_CODE(s->status) == code;
}

int td_faults_total(int fd, uint64_t *total)
{
	struct vtdp_td_faults f = { 0 };

	if (ioctl(fd, VTDP_TD_IOC_FAULTS, &f) < 0)
		return -errno;
	*total = f.total_faults;
	return 0;
}

int td_pci_hex(const char *name, const char *attr, unsigned int *v)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", name, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%x", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int td_is_ep(const struct dirent *e)
{
	unsigned int ven, dev;

	return e->d_name[0] != '.' && !td_pci_hex(e->d_name, "vendor", &ven) &&
	       !td_pci_hex(e->d_name, "device", &dev) && ven == VTDP_PCI_VENDOR_ID &&
	       dev == VTDP_TESTDEV_PCI_DEVICE_ID;
}

int td_ep_find(unsigned int n, char *sysfs, size_t len, uint32_t *bdf)
{
	unsigned int seg, bus, slot, fn;
	struct dirent **list;
	int count, i, ret = -1;

	/* alphasort: "0000:00:02.0" names sort in bus order */
	count = scandir("/sys/bus/pci/devices", &list, td_is_ep, alphasort);
	if (count < 0)
		return -1;
	if ((int)n < count &&
	    sscanf(list[n]->d_name, "%x:%x:%x.%x", &seg, &bus, &slot, &fn) == 4) {
		snprintf(sysfs, len, "/sys/bus/pci/devices/%s", list[n]->d_name);
		*bdf = seg << 16 | bus << 8 | slot << 3 | fn;
		ret = 0;
	}
	for (i = 0; i < count; i++)
		free(list[i]);
	free(list);
	if (ret)
		errno = ENODEV;
	return ret;
}

int td_ep_unbind(const char *sysfs)
{
	const char *name = strrchr(sysfs, '/') + 1;
	char path[512];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/driver/unbind", sysfs);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ok = write(fd, name, strlen(name)) == (ssize_t)strlen(name);
	close(fd);
	return ok ? 0 : -1;
}

volatile uint32_t *td_bar_open(const char *sysfs)
{
	char path[512];
	uint16_t cmd;
	void *bar;
	int fd;

	snprintf(path, sizeof(path), "%s/config", sysfs);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return NULL;
	/* memory space + bus master: no driver did it */
	if (pread(fd, &cmd, 2, 4) != 2 ||
	    (cmd |= 0x6, pwrite(fd, &cmd, 2, 4) != 2)) {
		close(fd);
		return NULL;
	}
	close(fd);
	snprintf(path, sizeof(path), "%s/resource%d", sysfs, VTDP_TESTDEV_REG_BAR);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return NULL;
	bar = mmap(NULL, VTDP_TESTDEV_REG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	close(fd);
	return bar == MAP_FAILED ? NULL : bar;
}

static void bar_wr(volatile uint32_t *bar, uint32_t off, uint32_t v)
{
	bar[off / 4] = v;
}

int td_bar_run(volatile uint32_t *bar, void *ring, uint64_t ring_iova,
	       const struct vtdp_td_desc *desc, bool tagged, uint32_t pasid,
	       struct vtdp_td_desc *done)
{
	struct vtdp_td_desc *d = ring;
	int ret = TD_RUN_TIMEOUT;

	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QCTRL), 0);
	memset(ring, 0, 4096);
	*d = *desc;
	d->status = 0;
	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QRING_BASE), (uint32_t)ring_iova);
	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QRING_BASE) + 4, (uint32_t)(ring_iova >> 32));
	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QRING_SIZE), 4096 / VTDP_TD_DESC_SIZE);
	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QPASID), pasid);
	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QCTRL), VTDP_TD_QCTRL_ENABLE |
	       (tagged ? VTDP_TD_QCTRL_PASID_EN : 0));
	__sync_synchronize();
	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QTAIL), 1);
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&d->status, __ATOMIC_ACQUIRE) & VTDP_TD_ST_DONE) {
			if (done)
				*done = *d;
			ret = VTDP_TD_ST_CODE(d->status);
			break;
		}
		if (bar[VTDP_TD_QREG(0, VTDP_TD_QSTATUS) / 4] & VTDP_TD_QSTATUS_RING_FAULT) {
			ret = TD_RUN_RING_FAULT;
			break;
		}
		usleep(1000);
	}
	bar_wr(bar, VTDP_TD_QREG(0, VTDP_TD_QCTRL), 0);
	return ret;
}

const char *td_st_name(uint32_t status)
{
	switch (VTDP_TD_ST_CODE(status)) {
	case VTDP_TD_ST_OK:
		return "OK";
	case VTDP_TD_ST_DMA_FAULT:
		return "DMA_FAULT";
	case VTDP_TD_ST_BAD_OPCODE:
		return "BAD_OPCODE";
	case VTDP_TD_ST_BAD_LEN:
		return "BAD_LEN";
	case VTDP_TD_ST_MISMATCH:
		return "MISMATCH";
	}
	return "?";
}

const char *td_reason_name(uint32_t reason)
{
	switch (reason) {
#define TD_REASON_CASE(code, name) case code: return name;
	VTDP_FAULT_REASONS(TD_REASON_CASE)
#undef TD_REASON_CASE
	}
	return "?";
}
