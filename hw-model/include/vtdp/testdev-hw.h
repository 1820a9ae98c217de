/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp-testdev hardware interface: the DMA test endpoint's registers,
 * descriptor ring and completion format.  Shared by the QEMU model
 * (hw-model/vtdp-testdev.c) and the guest driver (guest/testdev/).
 *
 * Programming model
 * -----------------
 * The device has VTDP_TD_CAPS_NQUEUES(caps) DMA queues.  Each queue is a
 * ring of 64-byte descriptors in guest memory (read by DMA, so the ring must
 * be reachable through the IOMMU like any other buffer).  The driver fills
 * descriptors, then writes the producer index to QTAIL (the doorbell).  The
 * device executes descriptors in order, writes each descriptor's completion
 * fields back into the descriptor slot by DMA, advances QHEAD and raises the
 * queue's MSI-X vector when the descriptor asked for it.
 *
 * A DMA error (IOMMU translation fault or any other failed transaction)
 * stops the descriptor at the first failing access: nothing is written
 * after it.  The completion carries VTDP_TD_ST_DMA_FAULT, the failing
 * address and the access direction.  With VTDP_TD_QCTRL_HALT_ON_ERROR the
 * queue then halts (QSTATUS.HALTED) until it is disabled and re-enabled;
 * otherwise it goes on with the next descriptor.
 *
 * Indices and queue life cycle
 * ----------------------------
 * QHEAD and QTAIL are ring indices 0..RING_SIZE-1 (not free-running): the
 * queue holds work while QHEAD != QTAIL, so at most RING_SIZE-1 descriptors
 * are outstanding.  A QTAIL write is taken modulo RING_SIZE.  RING_BASE
 * (64-byte aligned) and RING_SIZE can only be written while the queue is
 * disabled.  Setting QCTRL.ENABLE with an invalid base or size sets
 * QSTATUS.BAD_CONFIG and the queue does not run.  Clearing QCTRL.ENABLE
 * clears QSTATUS (HALTED, RING_FAULT, BAD_CONFIG) and resets QHEAD and
 * QTAIL to 0.  If a descriptor slot cannot be read or its completion cannot
 * be written, the queue stops with QSTATUS.RING_FAULT | HALTED and QHEAD
 * stays on that slot.  NOP ignores len.
 *
 * CTRL.RESET disables every queue as above and clears QCOMPLETED; ring
 * base/size and the global STAT_* counters are kept.  A device (PCI)
 * reset clears everything, counters included.
 *
 * PASID-tagged DMA
 * ----------------
 * With the "pasid-bits" property N > 0 (default 20; match the IOMMU's) the
 * device has the PCIe PASID extended capability (Max PASID Width N,
 * Privileged Mode Supported), CAPS.PASID is set and CAPS.PASID_BITS is N.
 * A queue with QCTRL.PASID_EN tags the data requests of its descriptors
 * (src/dst accesses) with QPASID, an N-bit register; with QCTRL.PRIV as
 * well they are privileged requests.  The ring (descriptor fetch and
 * completion write-back) is always accessed untagged: it belongs to the
 * driver, the buffers to the PASID.  A tagged request is only issued
 * while PASID Enable (and for PRIV, Privileged Mode Enable) is set in the
 * capability and an address space for the PASID exists upstream (an
 * IOMMU that takes PASID-tagged requests); otherwise it fails with
 * VTDP_TD_FI_MEMTX = MEMTX_ACCESS_ERROR (4).  Every failing tagged
 * request sets VTDP_TD_FI_PASID.  With N = 0 CAPS.PASID is 0 and
 * QCTRL.PASID_EN and QPASID are reserved (read 0).
 */
#ifndef VTDP_TESTDEV_HW_H
#define VTDP_TESTDEV_HW_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define VTDP_TESTDEV_PCI_DEVICE_ID	0x7d11	/* vendor VTDP_PCI_VENDOR_ID */
#define VTDP_TESTDEV_PCI_CLASS		0x00ff	/* unclassified device */
#define VTDP_TESTDEV_REG_BAR		0
#define VTDP_TESTDEV_MSIX_BAR		4
#define VTDP_TESTDEV_REG_SIZE		0x1000

#define VTDP_TD_MAX_QUEUES		32
#define VTDP_TD_MAX_LEN			(16U << 20)	/* bytes per descriptor */
#define VTDP_TD_MAX_RING_ENTRIES	4096

/* Global registers (32-bit unless stated) */
#define VTDP_TD_REG_ID		0x000	/* reads VTDP_TD_ID_MAGIC */
#define VTDP_TD_REG_VERSION	0x004	/* interface version */
#define VTDP_TD_REG_CAPS	0x008
#define VTDP_TD_REG_CTRL	0x00c
#define VTDP_TD_REG_STAT_DESC	0x010	/* 64: descriptors completed */
#define VTDP_TD_REG_STAT_BYTES	0x018	/* 64: bytes transferred */
#define VTDP_TD_REG_STAT_FAULTS	0x020	/* 64: descriptors failed by DMA error */

#define VTDP_TD_ID_MAGIC	0x56544454	/* "VTDT" */
#define VTDP_TD_VERSION		1

#define VTDP_TD_CAPS_NQUEUES(c)	((c) & 0xff)
#define VTDP_TD_CAPS_PASID	(1U << 8)	/* PASID-tagged requests supported */
#define VTDP_TD_CAPS_PASID_BITS(c) (((c) >> 16) & 0x1f)

#define VTDP_TD_CTRL_RESET	(1U << 0)	/* write 1: reset all queues */

/* Per-queue register block */
#define VTDP_TD_QUEUE_BASE	0x100
#define VTDP_TD_QUEUE_STRIDE	0x40
#define VTDP_TD_QREG(q, r)	(VTDP_TD_QUEUE_BASE + (q) * VTDP_TD_QUEUE_STRIDE + (r))

#define VTDP_TD_QRING_BASE	0x00	/* 64: DMA address of ring (64-byte aligned) */
#define VTDP_TD_QRING_SIZE	0x08	/* entries, power of two, 2..4096 */
#define VTDP_TD_QCTRL		0x0c
#define VTDP_TD_QPASID		0x10	/* PASID used when QCTRL.PASID_EN */
#define VTDP_TD_QSTATUS		0x14
#define VTDP_TD_QHEAD		0x18	/* RO: next descriptor the device runs */
#define VTDP_TD_QTAIL		0x1c	/* doorbell: producer index */
#define VTDP_TD_QCOMPLETED	0x20	/* 64, RO: descriptors completed */

#define VTDP_TD_QCTRL_ENABLE		(1U << 0)
#define VTDP_TD_QCTRL_PASID_EN		(1U << 1)	/* tag requests with QPASID */
#define VTDP_TD_QCTRL_PRIV		(1U << 2)	/* privileged (supervisor) requests */
#define VTDP_TD_QCTRL_HALT_ON_ERROR	(1U << 3)

#define VTDP_TD_QSTATUS_HALTED		(1U << 0)	/* stopped after an error */
#define VTDP_TD_QSTATUS_RING_FAULT	(1U << 1)	/* ring read/write failed */
#define VTDP_TD_QSTATUS_BAD_CONFIG	(1U << 2)	/* ring base/size invalid */

/* Descriptor: 64 bytes, little endian. */
struct vtdp_td_desc {
	uint8_t  opcode;
	uint8_t  flags;
	uint16_t rsvd0;
	uint32_t len;		/* bytes, 1..VTDP_TD_MAX_LEN */
	uint64_t src;		/* DMA address read from */
	uint64_t dst;		/* DMA address written to */
	uint64_t pattern;	/* FILL pattern (repeated), WRITE_IMM value */
	uint64_t cookie;	/* driver's, untouched by the device */
	/* completion, written back by the device */
	uint32_t status;
	uint32_t fault_info;	/* VTDP_TD_FI_* */
	uint64_t result;	/* CRC32C, or COMPARE: offset of first difference */
	uint64_t fault_addr;	/* DMA address that failed */
};

#define VTDP_TD_DESC_SIZE	64

/* opcodes */
#define VTDP_TD_OP_NOP		0x00
#define VTDP_TD_OP_COPY		0x01	/* src -> dst, len bytes */
#define VTDP_TD_OP_FILL		0x02	/* pattern -> dst, len bytes */
#define VTDP_TD_OP_CRC32C	0x03	/* CRC32C of src, len bytes -> result */
#define VTDP_TD_OP_COMPARE	0x04	/* src vs dst, len bytes -> result */
#define VTDP_TD_OP_WRITE_IMM	0x05	/* low len (1..8) bytes of pattern -> dst */

/* flags */
#define VTDP_TD_DF_IRQ		(1U << 0)	/* raise the queue's vector on completion */

/* status (written last; the driver polls bit DONE) */
#define VTDP_TD_ST_DONE		(1U << 31)
#define VTDP_TD_ST_CODE(s)	((s) & 0xff)
#define VTDP_TD_ST_OK		0x00
#define VTDP_TD_ST_DMA_FAULT	0x01	/* a DMA access failed: see fault_* */
#define VTDP_TD_ST_BAD_OPCODE	0x02
#define VTDP_TD_ST_BAD_LEN	0x03
#define VTDP_TD_ST_MISMATCH	0x04	/* COMPARE found a difference */

/* fault_info */
#define VTDP_TD_FI_WRITE	(1U << 0)	/* failing access was a write */
#define VTDP_TD_FI_PASID	(1U << 1)	/* request carried a PASID */
#define VTDP_TD_FI_MEMTX(f)	(((f) >> 8) & 0xff)	/* QEMU MemTxResult bits */

#endif /* VTDP_TESTDEV_HW_H */
