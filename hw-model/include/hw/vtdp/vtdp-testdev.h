/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp-testdev: the DMA test endpoint as the rest of QEMU sees it.  The
 * guest-visible interface is vtdp/testdev-hw.h.
 *
 * Read-only QOM properties (qom-get, and the monitor's query-vtdp):
 *   "descriptors", "bytes", "faults"  uint64 counters since reset
 *   "queues"                          the number of descriptor queues
 *   "peak-active-queues"              uint32, the most queues that executed
 *                                     a descriptor at the same instant
 *                                     since reset (each queue has its own
 *                                     worker thread)
 */
#ifndef HW_VTDP_VTDP_TESTDEV_H
#define HW_VTDP_VTDP_TESTDEV_H

#define TYPE_VTDP_TESTDEV "vtdp-testdev"

#endif /* HW_VTDP_VTDP_TESTDEV_H */
