/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * td-lib: what every guest tool needs to drive /dev/vtdp-testdev<N>
 * (vtdp_testdev.ko's uapi): thin ioctl wrappers that return -errno or the
 * status the kernel reported, a software CRC32C to check the device's, and
 * names for statuses and fault reasons.  Printing is left to the tools.
 */
#ifndef VTDP_TD_LIB_H
#define VTDP_TD_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vtdp/testdev-hw.h>
#include <vtdp/testdev.h>

/* CRC32C as the device computes it (initial ~0, final xor ~0). */
uint32_t td_crc32c(const void *buf, size_t len);

/*
 * MAP @len bytes at @buf for the device with @perms (VTDP_TD_MAP_*) at
 * @iova (V3 mode; the DMA API picks the address in dma-api mode).  Returns
 * 0 with the V3 status in *@status and the address in *@iova_out (if not
 * NULL), or -errno when the ioctl itself failed.
 */
int td_map(int fd, void *buf, size_t len, uint64_t iova, uint32_t perms,
	   int32_t *status, uint64_t *iova_out);
/* UNMAP the mapping at @iova; 0 with the V3 status, or -errno. */
int td_unmap(int fd, uint64_t iova, int32_t *status);
/* Run one descriptor on queue 0 and wait; 0 with *@s filled, or -errno. */
int td_submit(int fd, uint32_t opcode, uint32_t len, uint64_t src,
	      uint64_t dst, uint64_t pattern, struct vtdp_td_submit *s);
/*
 * MAP_EX: like td_map() into the domain of sub-device @handle (0: the RID
 * device's); *@out gets the kernel's answer (status, iova, page sizes).
 */
int td_map_ex(int fd, uint32_t handle, void *buf, size_t len, uint64_t iova,
	      uint32_t perms, struct vtdp_td_map_ex *out);
/* UNMAP_EX the mapping at @iova of @handle's domain; 0 with the status. */
int td_unmap_ex(int fd, uint32_t handle, uint64_t iova, int32_t *status);
/*
 * Run one descriptor on @queue, tagged with sub-device @handle's PASID
 * (0: untagged), and wait; 0 with *@s filled, or -errno.
 */
int td_submit_ex(int fd, uint32_t queue, uint32_t handle, uint32_t opcode,
		 uint32_t len, uint64_t src, uint64_t dst, uint64_t pattern,
		 struct vtdp_td_submit_ex *s);
/*
 * Make a PASID sub-device attached to a new domain of @domain_type; 0
 * with the V3 status (and, on success, *@handle and *@pasid), or -errno.
 */
int td_pasid_create(int fd, uint32_t domain_type, uint32_t *handle,
		    uint32_t *pasid, int32_t *status);
/* PASID_ATTACH, _DETACH or _DESTROY (@cmd); 0 with the status, or -errno. */
int td_pasid_op(int fd, unsigned long cmd, uint32_t handle, int32_t *status);
/*
 * The newest faults the driver kept (up to @max, oldest first) into @buf;
 * *@count entries written, *@total faults since the driver bound.
 */
int td_faults(int fd, struct vtdp_td_fault *buf, uint32_t max,
	      uint32_t *count, uint64_t *total);
/* The descriptor completed (DONE set) with status @code. */
bool td_st_is(const struct vtdp_td_submit *s, uint32_t code);
/*
 * MAP_BENCH: time @iterations map+unmap cycles of @len bytes at @buf in the
 * kernel; samples go to @smp[iterations].  Returns 0 with the first failed
 * call's V3 status in *@status and the cycles done in *@done, or -errno.
 */
int td_map_bench(int fd, void *buf, size_t len, uint64_t iova, uint32_t perms,
		 uint32_t iterations, struct vtdp_td_bench_sample *smp,
		 int32_t *status, uint32_t *done);
/* Total faults vtdp.ko's V3 fault handler delivered for the device. */
int td_faults_total(int fd, uint64_t *total);

/*
 * Driving the endpoint from user space, without its driver (the way
 * vtdp-v3-conformance and vtdp-isolation make it DMA through domains they
 * built on /dev/vtdp-v3).
 *
 * td_ep_find() finds the vtdp-testdev number @n (0: the first) in bus
 * order: its sysfs directory (into @sysfs) and segment << 16 | bus << 8 |
 * devfn; td_ep_unbind() unbinds it
 * from its driver (no error if it has none); td_bar_open() enables memory
 * space and bus mastering and maps BAR 0.  They return 0 or -1 (errno).
 */
int td_ep_find(unsigned int n, char *sysfs, size_t len, uint32_t *bdf);
/* A hex attribute ("vendor", "class", ...) of PCI device @name (e.g.
 * "0000:00:02.0") from sysfs; 0, or -1 if it cannot be read. */
int td_pci_hex(const char *name, const char *attr, unsigned int *v);
int td_ep_unbind(const char *sysfs);
volatile uint32_t *td_bar_open(const char *sysfs);

#define TD_RUN_RING_FAULT	(-1)	/* the device could not fetch the ring */
#define TD_RUN_TIMEOUT		(-2)	/* no completion within 10 s */
/*
 * Run @desc alone on queue 0 with a one-descriptor ring at @ring_iova
 * (@ring: the CPU's view of that page), tagged with @pasid when @tagged.
 * Returns the completion's status code (VTDP_TD_ST_*) with the completed
 * descriptor in *@done (if not NULL), or TD_RUN_*.  The queue is left
 * disabled.
 */
int td_bar_run(volatile uint32_t *bar, void *ring, uint64_t ring_iova,
	       const struct vtdp_td_desc *desc, bool tagged, uint32_t pasid,
	       struct vtdp_td_desc *done);

const char *td_st_name(uint32_t status);
const char *td_reason_name(uint32_t reason);

#endif /* VTDP_TD_LIB_H */
