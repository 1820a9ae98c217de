// SPDX-License-Identifier: GPL-2.0-or-later
/* td-lib: helpers shared by the vtdp guest tools (see td-lib.h). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

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
