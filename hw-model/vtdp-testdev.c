/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp-testdev: a PCIe DMA test endpoint with descriptor rings.
 *
 * The guest-visible interface is include/vtdp/testdev-hw.h.  Every DMA
 * access goes through pci_dma_read()/pci_dma_write(), i.e. through the
 * device's bus-master address space and therefore through an IOMMU when
 * one is present, and every MemTxResult is checked: the first failing
 * (page-bounded) access ends the descriptor with VTDP_TD_ST_DMA_FAULT.
 *
 * Descriptors are executed in a bottom half, never from the MMIO handler,
 * and each BH run is bounded so a huge or cyclic workload cannot stall the
 * vCPU or the main loop.  No state is in flight between two BH runs, so the
 * registers and queue indices below are the whole device state.
 */

#include "qemu/osdep.h"
#include "qemu/crc32c.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/dma.h"
#include "system/runstate.h"
#include "hw/vtdp/vtdp-testdev.h"
#include "vtdp/iommu-hw.h"
#include "vtdp/testdev-hw.h"
#include "trace.h"

OBJECT_DECLARE_SIMPLE_TYPE(VtdpTestdevState, VTDP_TESTDEV)

/* DMA transfers are split at this boundary (IOMMU page granularity). */
#define TD_DMA_PAGE         4096u
/* Bounce buffer: data moves through it in chunks, never len at once. */
#define TD_BOUNCE_SIZE      (64 * KiB)
/* Per-BH-run budget; the BH re-schedules itself when work is left. */
#define TD_BH_MAX_DESC      64
#define TD_BH_MAX_BYTES     (4 * MiB)

#define TD_QCTRL_STORED     (VTDP_TD_QCTRL_ENABLE | VTDP_TD_QCTRL_PRIV | \
                             VTDP_TD_QCTRL_HALT_ON_ERROR)

/*
 * PCIe PASID extended capability.  pcie_add_capability() needs the first
 * extended capability at 0x100; later ones chain after it.
 */
#define TD_PASID_CAP_OFFSET 0x100
/*
 * ATS extended capability, after PASID when there is one.  ATS is accepted
 * and harmless: the device never issues translation requests, so with ATS
 * enabled it still sends untranslated requests through the IOMMU, which a
 * function may always do.  A guest IOMMU driver that enables ATS (and then
 * issues device-TLB invalidations) therefore sees a well-behaved device.
 */
#define TD_ATS_CAP_OFFSET(s) \
    ((s)->pasid_bits ? TD_PASID_CAP_OFFSET + PCI_EXT_CAP_PASID_SIZEOF : 0x100)

/* Descriptor field offsets (struct vtdp_td_desc, little endian). */
#define TD_D_OPCODE         0x00
#define TD_D_FLAGS          0x01
#define TD_D_LEN            0x04
#define TD_D_SRC            0x08
#define TD_D_DST            0x10
#define TD_D_PATTERN        0x18
#define TD_D_STATUS         0x28
#define TD_D_FAULT_INFO     0x2c

typedef struct VtdpTdQueue {
    uint64_t ring_base;
    uint32_t ring_size;
    uint32_t ctrl;
    uint32_t pasid;
    uint32_t status;
    uint32_t head;
    uint32_t tail;
    uint64_t completed;
    /*
     * Address space of QPASID while PASID_EN is set (NULL if none exists
     * upstream).  Looked up under the BQL when QCTRL or QPASID is written
     * and after migration; not migrated itself.
     */
    AddressSpace *pasid_as;
} VtdpTdQueue;

struct VtdpTestdevState {
    PCIDevice parent_obj;

    MemoryRegion regs;
    QEMUBH *bh;
    VMChangeStateEntry *vmstate_change;

    uint32_t nqueues;           /* property "queues" */
    uint8_t pasid_bits;         /* property "pasid-bits": 0 = no PASID cap */
    bool ats;                   /* property "ats": ATS capability */
    uint32_t rr_next;           /* round-robin start for the next BH run */
    uint64_t stat_desc;
    uint64_t stat_bytes;
    uint64_t stat_faults;
    VtdpTdQueue q[VTDP_TD_MAX_QUEUES];

    uint8_t bounce[2][TD_BOUNCE_SIZE];
};

/*
 * The queue a descriptor's data requests belong to (how they are tagged),
 * and where and how the first failing DMA access of it failed.
 */
typedef struct TdFault {
    const VtdpTdQueue *q;
    uint64_t addr;
    bool write;
    MemTxResult res;
} TdFault;

static bool td_ring_size_valid(uint32_t size)
{
    return size >= 2 && size <= VTDP_TD_MAX_RING_ENTRIES && is_power_of_2(size);
}

static bool td_queue_config_valid(const VtdpTdQueue *q)
{
    return td_ring_size_valid(q->ring_size) &&
           !(q->ring_base & (VTDP_TD_DESC_SIZE - 1));
}

static bool td_queue_runnable(const VtdpTdQueue *q)
{
    return (q->ctrl & VTDP_TD_QCTRL_ENABLE) &&
           !(q->status & (VTDP_TD_QSTATUS_HALTED |
                          VTDP_TD_QSTATUS_BAD_CONFIG)) &&
           td_queue_config_valid(q) &&
           q->head != (q->tail & (q->ring_size - 1));
}

static bool td_any_runnable(VtdpTestdevState *s)
{
    for (uint32_t i = 0; i < s->nqueues; i++) {
        if (td_queue_runnable(&s->q[i])) {
            return true;
        }
    }
    return false;
}

static uint32_t td_qctrl_mask(const VtdpTestdevState *s)
{
    return TD_QCTRL_STORED | (s->pasid_bits ? VTDP_TD_QCTRL_PASID_EN : 0);
}

/* Bind the queue to QPASID's address space; needs the BQL. */
static void td_queue_bind_pasid(VtdpTestdevState *s, VtdpTdQueue *q)
{
    q->pasid_as = (q->ctrl & VTDP_TD_QCTRL_PASID_EN) ?
        pci_device_iommu_address_space_pasid(PCI_DEVICE(s), q->pasid) : NULL;
}

/*
 * Address space and attributes of a queue's data requests.  With PASID_EN
 * they carry QPASID (and, with QCTRL.PRIV, Privileged Mode Requested,
 * as specified attributes with the user bit clear); the ring itself is
 * always accessed untagged, as it belongs to the driver.  NULL when a
 * tagged request may not be issued: bus mastering or PASID Enable off,
 * Privileged Mode Enable off for a privileged queue, or no address space
 * for the PASID upstream (e.g. no IOMMU).
 */
static AddressSpace *td_data_as(VtdpTestdevState *s, const VtdpTdQueue *q,
                                MemTxAttrs *attrs)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint16_t ctl;

    *attrs = MEMTXATTRS_UNSPECIFIED;
    if (!q || !(q->ctrl & VTDP_TD_QCTRL_PASID_EN)) {
        return pci_get_address_space(pdev);
    }
    ctl = pci_get_word(pdev->config + TD_PASID_CAP_OFFSET + PCI_PASID_CTRL);
    if (!(pci_get_word(pdev->config + PCI_COMMAND) & PCI_COMMAND_MASTER) ||
        !(ctl & PCI_PASID_CTRL_ENABLE)) {
        return NULL;
    }
    if (q->ctrl & VTDP_TD_QCTRL_PRIV) {
        if (!(ctl & PCI_PASID_CTRL_PRIV)) {
            return NULL;
        }
        *attrs = (MemTxAttrs) { .requester_id = pci_requester_id(pdev) };
    } else {
        *attrs = (MemTxAttrs) { .user = 1,
                                .requester_id = pci_requester_id(pdev) };
    }
    return q->pasid_as;
}

/*
 * Move @len bytes between guest DMA address @addr and @buf, one
 * page-bounded access at a time, stopping at the first failure.  A
 * request that may not be issued fails with MEMTX_ACCESS_ERROR.
 */
static bool td_dma(VtdpTestdevState *s, uint64_t addr, uint8_t *buf,
                   uint32_t len, bool write, TdFault *f)
{
    MemTxAttrs attrs;
    AddressSpace *as = td_data_as(s, f->q, &attrs);

    while (len) {
        uint32_t n = MIN(len, TD_DMA_PAGE - (addr & (TD_DMA_PAGE - 1)));
        MemTxResult r = !as ? MEMTX_ACCESS_ERROR :
            dma_memory_rw(as, addr, buf, n, write ? DMA_DIRECTION_FROM_DEVICE :
                          DMA_DIRECTION_TO_DEVICE, attrs);

        if (r != MEMTX_OK) {
            f->addr = addr;
            f->write = write;
            f->res = r;
            return false;
        }
        addr += n;
        buf += n;
        len -= n;
    }
    return true;
}

static uint32_t td_op_copy(VtdpTestdevState *s, uint64_t src, uint64_t dst,
                           uint32_t len, TdFault *f)
{
    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(s, src + off, s->bounce[0], n, false, f) ||
            !td_dma(s, dst + off, s->bounce[0], n, true, f)) {
            return VTDP_TD_ST_DMA_FAULT;
        }
    }
    return VTDP_TD_ST_OK;
}

static uint32_t td_op_fill(VtdpTestdevState *s, uint64_t dst, uint32_t len,
                           uint64_t pattern, TdFault *f)
{
    uint8_t pat[8];

    /*
     * Byte i of the destination is byte (i % 8) of the little-endian
     * pattern.  TD_BOUNCE_SIZE is a multiple of 8, so every chunk starts
     * at pattern phase 0.
     */
    stq_le_p(pat, pattern);
    for (uint32_t i = 0; i < TD_BOUNCE_SIZE; i++) {
        s->bounce[0][i] = pat[i % 8];
    }
    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(s, dst + off, s->bounce[0], n, true, f)) {
            return VTDP_TD_ST_DMA_FAULT;
        }
    }
    return VTDP_TD_ST_OK;
}

/*
 * CRC32C (Castagnoli, reflected, initial ~0, final xor ~0; "123456789"
 * gives 0xe3069283).  QEMU's crc32c() takes the running register and
 * returns it xor ~0, so the xor is undone between chunks.
 */
static uint32_t td_op_crc32c(VtdpTestdevState *s, uint64_t src, uint32_t len,
                             uint64_t *result, TdFault *f)
{
    uint32_t crc = 0xffffffff;

    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(s, src + off, s->bounce[0], n, false, f)) {
            return VTDP_TD_ST_DMA_FAULT;
        }
        crc = crc32c(crc, s->bounce[0], n) ^ 0xffffffff;
    }
    *result = crc ^ 0xffffffff;
    return VTDP_TD_ST_OK;
}

static uint32_t td_op_compare(VtdpTestdevState *s, uint64_t src, uint64_t dst,
                              uint32_t len, uint64_t *result, TdFault *f)
{
    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(s, src + off, s->bounce[0], n, false, f) ||
            !td_dma(s, dst + off, s->bounce[1], n, false, f)) {
            return VTDP_TD_ST_DMA_FAULT;
        }
        if (memcmp(s->bounce[0], s->bounce[1], n)) {
            uint32_t i = 0;

            while (s->bounce[0][i] == s->bounce[1][i]) {
                i++;
            }
            *result = off + i;
            return VTDP_TD_ST_MISMATCH;
        }
    }
    *result = len;
    return VTDP_TD_ST_OK;
}

/* Run one descriptor; false if the queue stopped on a ring fault. */
static bool td_run_one(VtdpTestdevState *s, uint32_t qi, uint64_t *bytes)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    VtdpTdQueue *q = &s->q[qi];
    uint64_t daddr = q->ring_base + (uint64_t)q->head * VTDP_TD_DESC_SIZE;
    uint8_t d[VTDP_TD_DESC_SIZE];
    uint8_t wb[20];
    uint8_t st[4];
    TdFault f = { .q = q };
    uint64_t result = 0, src, dst, pattern;
    uint32_t status, fault_info = 0, len;
    uint8_t opcode, flags;
    bool ring_write = false;
    MemTxResult r;

    r = pci_dma_read(pdev, daddr, d, sizeof(d));
    if (r != MEMTX_OK) {
        goto ring_fault;
    }
    opcode = d[TD_D_OPCODE];
    flags = d[TD_D_FLAGS];
    len = ldl_le_p(d + TD_D_LEN);
    src = ldq_le_p(d + TD_D_SRC);
    dst = ldq_le_p(d + TD_D_DST);
    pattern = ldq_le_p(d + TD_D_PATTERN);
    trace_vtdp_testdev_desc(qi, q->head, opcode, len, src, dst);

    if (opcode == VTDP_TD_OP_NOP) {
        status = VTDP_TD_ST_OK;
    } else if (opcode > VTDP_TD_OP_WRITE_IMM) {
        status = VTDP_TD_ST_BAD_OPCODE;
    } else if (len == 0 || len > VTDP_TD_MAX_LEN ||
               (opcode == VTDP_TD_OP_WRITE_IMM && len > 8)) {
        status = VTDP_TD_ST_BAD_LEN;
    } else {
        switch (opcode) {
        case VTDP_TD_OP_COPY:
            status = td_op_copy(s, src, dst, len, &f);
            break;
        case VTDP_TD_OP_FILL:
            status = td_op_fill(s, dst, len, pattern, &f);
            break;
        case VTDP_TD_OP_CRC32C:
            status = td_op_crc32c(s, src, len, &result, &f);
            break;
        case VTDP_TD_OP_COMPARE:
            status = td_op_compare(s, src, dst, len, &result, &f);
            break;
        default: /* VTDP_TD_OP_WRITE_IMM */
            stq_le_p(s->bounce[0], pattern);
            status = td_dma(s, dst, s->bounce[0], len, true, &f) ?
                     VTDP_TD_ST_OK : VTDP_TD_ST_DMA_FAULT;
            break;
        }
    }

    if (status == VTDP_TD_ST_DMA_FAULT) {
        fault_info = (f.write ? VTDP_TD_FI_WRITE : 0) |
                     (q->ctrl & VTDP_TD_QCTRL_PASID_EN ? VTDP_TD_FI_PASID : 0) |
                     ((uint32_t)(f.res & 0xff) << 8);
        trace_vtdp_testdev_dma_fault(qi, f.addr, f.write, f.res);
    } else if (status == VTDP_TD_ST_OK || status == VTDP_TD_ST_MISMATCH) {
        *bytes += opcode == VTDP_TD_OP_NOP ? 0 : len;
    }

    /* Completion: fault_info, result, fault_addr first, status last. */
    stl_le_p(wb, fault_info);
    stq_le_p(wb + 4, result);
    stq_le_p(wb + 12, status == VTDP_TD_ST_DMA_FAULT ? f.addr : 0);
    stl_le_p(st, status | VTDP_TD_ST_DONE);
    r = pci_dma_write(pdev, daddr + TD_D_FAULT_INFO, wb, sizeof(wb));
    if (r == MEMTX_OK) {
        r = pci_dma_write(pdev, daddr + TD_D_STATUS, st, sizeof(st));
    }
    if (r != MEMTX_OK) {
        ring_write = true;
        goto ring_fault;
    }
    trace_vtdp_testdev_complete(qi, q->head, status);

    q->head = (q->head + 1) & (q->ring_size - 1);
    q->completed++;
    s->stat_desc++;
    if (status == VTDP_TD_ST_OK || status == VTDP_TD_ST_MISMATCH) {
        s->stat_bytes += opcode == VTDP_TD_OP_NOP ? 0 : len;
    }
    if (status == VTDP_TD_ST_DMA_FAULT) {
        s->stat_faults++;
        if (q->ctrl & VTDP_TD_QCTRL_HALT_ON_ERROR) {
            q->status |= VTDP_TD_QSTATUS_HALTED;
            trace_vtdp_testdev_halt(qi, q->status);
        }
    }
    if ((flags & VTDP_TD_DF_IRQ) && msix_enabled(pdev)) {
        msix_notify(pdev, qi);
    }
    return true;

ring_fault:
    /* The descriptor slot itself is unreachable: stop the queue. */
    trace_vtdp_testdev_dma_fault(qi, daddr, ring_write, r);
    q->status |= VTDP_TD_QSTATUS_RING_FAULT | VTDP_TD_QSTATUS_HALTED;
    s->stat_faults++;
    trace_vtdp_testdev_halt(qi, q->status);
    return false;
}

static void td_bh(void *opaque)
{
    VtdpTestdevState *s = opaque;
    uint32_t ndesc = 0;
    uint64_t bytes = 0;
    bool progress = true;

    /*
     * A stopped VM (stop, the end of a migration, savevm) sees no DMA:
     * guest memory and the queues stay as they were, and the work goes on
     * when the VM runs again (td_vm_state_change).
     */
    if (!runstate_is_running()) {
        return;
    }

    /* One descriptor per runnable queue per pass: round robin. */
    while (progress && ndesc < TD_BH_MAX_DESC && bytes < TD_BH_MAX_BYTES) {
        progress = false;
        for (uint32_t n = 0; n < s->nqueues; n++) {
            uint32_t qi = (s->rr_next + n) % s->nqueues;

            if (!td_queue_runnable(&s->q[qi])) {
                continue;
            }
            td_run_one(s, qi, &bytes);
            progress = true;
            if (++ndesc >= TD_BH_MAX_DESC || bytes >= TD_BH_MAX_BYTES) {
                s->rr_next = (qi + 1) % s->nqueues;
                break;
            }
        }
    }
    if (td_any_runnable(s)) {
        qemu_bh_schedule(s->bh);
    }
}

static void td_kick(VtdpTestdevState *s, uint32_t qi)
{
    if (td_queue_runnable(&s->q[qi])) {
        qemu_bh_schedule(s->bh);
    }
}

/* Disabled queue: not running, no error state, indices back to 0. */
static void td_queue_stop(VtdpTdQueue *q)
{
    q->ctrl &= ~VTDP_TD_QCTRL_ENABLE;
    q->status = 0;
    q->head = 0;
    q->tail = 0;
}

static void td_reset_queues(VtdpTestdevState *s)
{
    for (uint32_t i = 0; i < VTDP_TD_MAX_QUEUES; i++) {
        td_queue_stop(&s->q[i]);
        s->q[i].completed = 0;
    }
    s->rr_next = 0;
    qemu_bh_cancel(s->bh);
}

static uint32_t td_read32(VtdpTestdevState *s, hwaddr off)
{
    uint32_t qi, r;
    VtdpTdQueue *q;

    switch (off) {
    case VTDP_TD_REG_ID:
        return VTDP_TD_ID_MAGIC;
    case VTDP_TD_REG_VERSION:
        return VTDP_TD_VERSION;
    case VTDP_TD_REG_CAPS:
        return s->nqueues | (s->pasid_bits ? VTDP_TD_CAPS_PASID |
                             (uint32_t)s->pasid_bits << 16 : 0);
    case VTDP_TD_REG_CTRL:
        return 0;
    case VTDP_TD_REG_STAT_DESC:
    case VTDP_TD_REG_STAT_DESC + 4:
        return extract64(s->stat_desc, (off & 4) * 8, 32);
    case VTDP_TD_REG_STAT_BYTES:
    case VTDP_TD_REG_STAT_BYTES + 4:
        return extract64(s->stat_bytes, (off & 4) * 8, 32);
    case VTDP_TD_REG_STAT_FAULTS:
    case VTDP_TD_REG_STAT_FAULTS + 4:
        return extract64(s->stat_faults, (off & 4) * 8, 32);
    }
    if (off < VTDP_TD_QUEUE_BASE) {
        return 0;
    }
    qi = (off - VTDP_TD_QUEUE_BASE) / VTDP_TD_QUEUE_STRIDE;
    r = (off - VTDP_TD_QUEUE_BASE) % VTDP_TD_QUEUE_STRIDE;
    if (qi >= s->nqueues) {
        return 0;
    }
    q = &s->q[qi];
    switch (r) {
    case VTDP_TD_QRING_BASE:
    case VTDP_TD_QRING_BASE + 4:
        return extract64(q->ring_base, (r & 4) * 8, 32);
    case VTDP_TD_QRING_SIZE:
        return q->ring_size;
    case VTDP_TD_QCTRL:
        return q->ctrl;
    case VTDP_TD_QPASID:
        return q->pasid;
    case VTDP_TD_QSTATUS:
        return q->status;
    case VTDP_TD_QHEAD:
        return q->head;
    case VTDP_TD_QTAIL:
        return q->tail;
    case VTDP_TD_QCOMPLETED:
    case VTDP_TD_QCOMPLETED + 4:
        return extract64(q->completed, (r & 4) * 8, 32);
    }
    return 0;
}

static void td_write_qctrl(VtdpTestdevState *s, uint32_t qi, uint32_t val)
{
    VtdpTdQueue *q = &s->q[qi];
    bool was_on = q->ctrl & VTDP_TD_QCTRL_ENABLE;
    bool on = val & VTDP_TD_QCTRL_ENABLE;

    if (was_on && !on) {
        td_queue_stop(q);
    }
    q->ctrl = val & td_qctrl_mask(s);
    td_queue_bind_pasid(s, q);
    if (on && !was_on) {
        q->status = td_queue_config_valid(q) ? 0 : VTDP_TD_QSTATUS_BAD_CONFIG;
        q->tail &= q->ring_size - 1;
    }
    td_kick(s, qi);
}

static void td_write32(VtdpTestdevState *s, hwaddr off, uint32_t val)
{
    uint32_t qi, r;
    VtdpTdQueue *q;

    if (off == VTDP_TD_REG_CTRL) {
        if (val & VTDP_TD_CTRL_RESET) {
            td_reset_queues(s);
        }
        return;
    }
    if (off < VTDP_TD_QUEUE_BASE) {
        return;                 /* RO or reserved */
    }
    qi = (off - VTDP_TD_QUEUE_BASE) / VTDP_TD_QUEUE_STRIDE;
    r = (off - VTDP_TD_QUEUE_BASE) % VTDP_TD_QUEUE_STRIDE;
    if (qi >= s->nqueues) {
        return;
    }
    q = &s->q[qi];
    switch (r) {
    case VTDP_TD_QRING_BASE:
    case VTDP_TD_QRING_BASE + 4:
    case VTDP_TD_QRING_SIZE:
        /* The ring cannot move under a running queue. */
        if (q->ctrl & VTDP_TD_QCTRL_ENABLE) {
            return;
        }
        if (r == VTDP_TD_QRING_SIZE) {
            q->ring_size = val;
        } else {
            q->ring_base = deposit64(q->ring_base, (r & 4) * 8, 32, val);
        }
        break;
    case VTDP_TD_QCTRL:
        td_write_qctrl(s, qi, val);
        break;
    case VTDP_TD_QPASID:
        /* The register is as wide as the PASID capability says. */
        q->pasid = val & ((1u << s->pasid_bits) - 1);
        td_queue_bind_pasid(s, q);
        break;
    case VTDP_TD_QTAIL:
        q->tail = val & (td_ring_size_valid(q->ring_size) ?
                         q->ring_size - 1 : VTDP_TD_MAX_RING_ENTRIES - 1);
        trace_vtdp_testdev_doorbell(qi, q->tail, q->head);
        td_kick(s, qi);
        break;
    }
}

/* 4- and 8-byte naturally aligned accesses; anything else reads 0. */
static uint64_t td_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    VtdpTestdevState *s = opaque;

    if ((size != 4 && size != 8) || (addr & (size - 1))) {
        return 0;
    }
    if (size == 4) {
        return td_read32(s, addr);
    }
    return td_read32(s, addr) | ((uint64_t)td_read32(s, addr + 4) << 32);
}

static void td_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    VtdpTestdevState *s = opaque;

    if ((size != 4 && size != 8) || (addr & (size - 1))) {
        return;
    }
    td_write32(s, addr, val);
    if (size == 8) {
        td_write32(s, addr + 4, val >> 32);
    }
}

static const MemoryRegionOps td_mmio_ops = {
    .read = td_mmio_read,
    .write = td_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

static void td_vm_state_change(void *opaque, bool running, RunState state)
{
    VtdpTestdevState *s = opaque;

    if (running && td_any_runnable(s)) {
        qemu_bh_schedule(s->bh);
    }
}

static void td_realize(PCIDevice *pdev, Error **errp)
{
    VtdpTestdevState *s = VTDP_TESTDEV(pdev);
    DeviceState *dev = DEVICE(pdev);

    if (s->nqueues < 1 || s->nqueues > VTDP_TD_MAX_QUEUES) {
        error_setg(errp, "queues must be 1..%d", VTDP_TD_MAX_QUEUES);
        return;
    }
    if (s->pasid_bits > VTDP_PASID_MAX_BITS) {
        error_setg(errp, "pasid-bits must be 0..%d (0: no PASID capability)",
                   VTDP_PASID_MAX_BITS);
        return;
    }

    if (pcie_endpoint_cap_init(pdev, 0x80) < 0) {
        error_setg(errp, "cannot add the PCIe capability");
        return;
    }

    if (s->pasid_bits) {
        /* Max PASID Width; no execute permission, privileged mode yes. */
        pcie_add_capability(pdev, PCI_EXT_CAP_ID_PASID, 1,
                            TD_PASID_CAP_OFFSET, PCI_EXT_CAP_PASID_SIZEOF);
        pci_set_word(pdev->config + TD_PASID_CAP_OFFSET + PCI_PASID_CAP,
                     (s->pasid_bits << 8) | PCI_PASID_CAP_PRIV);
        pci_set_word(pdev->wmask + TD_PASID_CAP_OFFSET + PCI_PASID_CTRL,
                     PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV);
    }

    if (s->ats) {
        pcie_ats_init(pdev, TD_ATS_CAP_OFFSET(s), true);
    }

    memory_region_init_io(&s->regs, OBJECT(s), &td_mmio_ops, s,
                          "vtdp-testdev-regs", VTDP_TESTDEV_REG_SIZE);
    pci_register_bar(pdev, VTDP_TESTDEV_REG_BAR,
                     PCI_BASE_ADDRESS_SPACE_MEMORY, &s->regs);

    if (msix_init_exclusive_bar(pdev, s->nqueues, VTDP_TESTDEV_MSIX_BAR,
                                errp)) {
        pcie_cap_exit(pdev);
        return;
    }
    for (uint32_t i = 0; i < s->nqueues; i++) {
        msix_vector_use(pdev, i);
    }

    s->bh = qemu_bh_new_guarded(td_bh, s, &dev->mem_reentrancy_guard);
    s->vmstate_change = qemu_add_vm_change_state_handler(td_vm_state_change,
                                                         s);
}

static void td_exit(PCIDevice *pdev)
{
    VtdpTestdevState *s = VTDP_TESTDEV(pdev);

    qemu_del_vm_change_state_handler(s->vmstate_change);
    qemu_bh_delete(s->bh);
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
    pcie_cap_exit(pdev);
}

/* Device reset: queues, their configuration and the counters all cleared. */
static void td_reset(DeviceState *dev)
{
    VtdpTestdevState *s = VTDP_TESTDEV(dev);

    td_reset_queues(s);
    memset(s->q, 0, sizeof(s->q));
    s->stat_desc = 0;
    s->stat_bytes = 0;
    s->stat_faults = 0;
    if (s->pasid_bits) {
        /* PCI config reset leaves extended capabilities alone. */
        pci_set_word(PCI_DEVICE(dev)->config + TD_PASID_CAP_OFFSET +
                     PCI_PASID_CTRL, 0);
    }
    msix_reset(PCI_DEVICE(dev));  /* keeps the vectors in use */
}

static int td_post_load(void *opaque, int version_id)
{
    VtdpTestdevState *s = opaque;

    /* Indices from the stream are kept inside the ring; work resumes. */
    for (uint32_t i = 0; i < VTDP_TD_MAX_QUEUES; i++) {
        VtdpTdQueue *q = &s->q[i];

        if (td_ring_size_valid(q->ring_size)) {
            q->head &= q->ring_size - 1;
            q->tail &= q->ring_size - 1;
        }
        q->ctrl &= td_qctrl_mask(s);
        q->pasid &= ((1u << s->pasid_bits) - 1);
        td_queue_bind_pasid(s, q);
    }
    s->rr_next %= s->nqueues;
    if (td_any_runnable(s)) {
        qemu_bh_schedule(s->bh);
    }
    return 0;
}

static const VMStateDescription vmstate_td_queue = {
    .name = "vtdp-testdev/queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(ring_base, VtdpTdQueue),
        VMSTATE_UINT32(ring_size, VtdpTdQueue),
        VMSTATE_UINT32(ctrl, VtdpTdQueue),
        VMSTATE_UINT32(pasid, VtdpTdQueue),
        VMSTATE_UINT32(status, VtdpTdQueue),
        VMSTATE_UINT32(head, VtdpTdQueue),
        VMSTATE_UINT32(tail, VtdpTdQueue),
        VMSTATE_UINT64(completed, VtdpTdQueue),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_td = {
    .name = TYPE_VTDP_TESTDEV,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = td_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, VtdpTestdevState),
        VMSTATE_MSIX(parent_obj, VtdpTestdevState),
        VMSTATE_UINT32_EQUAL(nqueues, VtdpTestdevState, NULL),
        VMSTATE_UINT32(rr_next, VtdpTestdevState),
        VMSTATE_UINT64(stat_desc, VtdpTestdevState),
        VMSTATE_UINT64(stat_bytes, VtdpTestdevState),
        VMSTATE_UINT64(stat_faults, VtdpTestdevState),
        VMSTATE_STRUCT_ARRAY(q, VtdpTestdevState, VTDP_TD_MAX_QUEUES, 1,
                             vmstate_td_queue, VtdpTdQueue),
        VMSTATE_END_OF_LIST()
    },
};

static const Property td_properties[] = {
    DEFINE_PROP_UINT32("queues", VtdpTestdevState, nqueues, 8),
    /* Max PASID Width of the PASID capability; match the IOMMU's. */
    DEFINE_PROP_UINT8("pasid-bits", VtdpTestdevState, pasid_bits, 20),
    DEFINE_PROP_BOOL("ats", VtdpTestdevState, ats, true),
};

static void td_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = td_realize;
    k->exit = td_exit;
    k->vendor_id = VTDP_PCI_VENDOR_ID;
    k->device_id = VTDP_TESTDEV_PCI_DEVICE_ID;
    k->revision = VTDP_TD_VERSION;
    k->class_id = VTDP_TESTDEV_PCI_CLASS;
    dc->desc = "vtdp DMA test endpoint";
    dc->vmsd = &vmstate_td;
    device_class_set_legacy_reset(dc, td_reset);
    device_class_set_props(dc, td_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

/* The counters, read-only, for qom-get and the monitor's query-vtdp. */
static void td_instance_init(Object *obj)
{
    VtdpTestdevState *s = VTDP_TESTDEV(obj);

    object_property_add_uint64_ptr(obj, "descriptors", &s->stat_desc,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "bytes", &s->stat_bytes,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "faults", &s->stat_faults,
                                   OBJ_PROP_FLAG_READ);
}

static const TypeInfo td_info = {
    .name = TYPE_VTDP_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(VtdpTestdevState),
    .instance_init = td_instance_init,
    .class_init = td_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { },
    },
};

static void td_register_types(void)
{
    type_register_static(&td_info);
}

type_init(td_register_types)
