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
 * Threading and locking
 * ---------------------
 * Each queue has its own worker thread ("vtdp-td-q<N>"), so queues run in
 * parallel and a descriptor runs neither in the vCPU that rang the
 * doorbell nor in the main loop.  All device state (registers, counters,
 * the fields of VtdpTdQueue) is protected by the BQL.  A worker holds the
 * BQL only at descriptor boundaries: it takes a snapshot of what the next
 * descriptor needs and marks the queue busy (td_job_start), drops the BQL
 * for the descriptor fetch, the data transfer and the completion fields
 * (td_job_run: address_space_* calls, RCU-safe for RAM; an MMIO target
 * takes the BQL itself in the memory core; an IOMMU on the way translates
 * under its own lock), then takes the BQL again to write the status word,
 * advance QHEAD, count, and raise the MSI-X vector (td_job_finish).  So a
 * guest that sees DONE also sees the queue registers and the counters
 * that include the descriptor.  Within a queue descriptors run one at a
 * time, in ring order.
 *
 * Anything that changes a queue under its worker first waits until the
 * queue is not busy (td_quiesce_begin): disabling a queue, CTRL.RESET,
 * device reset, stopping the VM and saving the device state.  The wait
 * drops the BQL (qemu_cond_wait_bql), because the worker may itself wait
 * for the BQL (an MMIO DMA target, the completion); while a quiesce is
 * pending the worker starts no new descriptor.  After it, a descriptor
 * has either completed (status written, counted) or not started: there
 * is no state in flight, and the registers are the whole device state for
 * migration.  A stopped VM sees no DMA: workers start descriptors only
 * while the VM runs.  Unrealize quiesces, then stops and joins the
 * threads.
 *
 * With the property "worker-threads" off there are no threads: a
 * main-loop bottom half runs the queues round robin, one descriptor of
 * each per turn and a bounded number per run, with the BQL held
 * throughout, so nothing is ever in flight outside it.  That is for
 * users who need the device deterministic (record/replay, QEMU's
 * generic-fuzz, whose DMA hooks are not thread safe); it gives up the
 * parallelism.
 *
 * The device's own workers may not access its registers by DMA (the
 * access fails, as QEMU's re-entrancy guard would fail it), and a
 * quiesce reached from a worker thread in any other way (a reset through
 * DMA to a config space window, say) does not wait for busy queues, which
 * could never finish; the descriptors in progress then complete without
 * effect on the new queue state (QGEN below).
 */

#include "qemu/osdep.h"
#include "qemu/crc32c.h"
#include "qemu/main-loop.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
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
    /* Registers (migrated) */
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

    /*
     * Execution (not migrated; all under the BQL but @bounce, which only
     * the worker touches).  @busy: a descriptor of this queue is between
     * td_job_start() and td_job_finish().  @quiesce: waiters that need the
     * queue idle; the worker starts nothing while it is non-zero.  @gen
     * counts the times the queue was stopped, so that a descriptor that
     * could not be waited for (see the header comment) cannot complete
     * into the queue's next life.
     */
    VtdpTestdevState *s;
    uint32_t index;
    QemuThread thread;
    QemuCond wake;              /* work, a lifted quiesce, or @exit */
    bool busy;
    uint32_t quiesce;
    uint32_t gen;
    bool exit;                  /* unrealize: the worker returns */
    bool exited;
    uint8_t *bounce;            /* 2 * TD_BOUNCE_SIZE */
} VtdpTdQueue;

struct VtdpTestdevState {
    PCIDevice parent_obj;

    MemoryRegion regs;
    VMChangeStateEntry *vmstate_change;

    uint32_t nqueues;           /* property "queues" */
    uint8_t pasid_bits;         /* property "pasid-bits": 0 = no PASID cap */
    bool ats;                   /* property "ats": ATS capability */
    bool worker_threads;        /* property "worker-threads" */
    uint32_t max_len;           /* property "max-len": longer is BAD_LEN */
    QEMUBH *bh;                 /* worker-threads=off: runs the queues */
    /*
     * Kept in the migration stream (version 1 had it for the bottom half
     * that served queues round robin); unused since queues run in their
     * own threads.
     */
    uint32_t rr_next;
    uint64_t stat_desc;
    uint64_t stat_bytes;
    uint64_t stat_faults;
    VtdpTdQueue q[VTDP_TD_MAX_QUEUES];

    QemuCond idle;              /* a queue stopped being busy, or exited */
    uint32_t active;            /* queues busy right now */
    uint32_t peak_active;       /* QOM "peak-active-queues" */
};

/* The queue whose worker runs on this thread; NULL on other threads. */
static __thread VtdpTdQueue *td_current_queue;

/* Where and how the first failing DMA access of a descriptor failed. */
typedef struct TdFault {
    uint64_t addr;
    bool write;
    MemTxResult res;
} TdFault;

/*
 * One descriptor as a worker runs it: what td_job_start() took from the
 * queue under the BQL, and what td_job_run() found without it.
 */
typedef struct TdJob {
    VtdpTdQueue *q;
    uint32_t head;              /* the slot */
    uint32_t gen;               /* q->gen at the start */
    uint32_t ctrl;              /* QCTRL at the start */
    uint64_t daddr;             /* DMA address of the slot */
    AddressSpace *data_as;      /* NULL: tagged requests may not be issued */
    MemTxAttrs data_attrs;
    uint8_t *bounce[2];
    /* results */
    bool ring_fault;            /* the slot could not be read/written */
    bool ring_write;
    MemTxResult ring_res;
    uint8_t opcode;
    uint8_t flags;
    uint32_t len;
    uint32_t status;
    TdFault f;
} TdJob;

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

/* Whether q's worker may start its next descriptor now.  BQL held. */
static bool td_queue_may_start(const VtdpTdQueue *q)
{
    return !q->quiesce && runstate_is_running() && td_queue_runnable(q);
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
    if (!(q->ctrl & VTDP_TD_QCTRL_PASID_EN)) {
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
 * Move @len bytes between guest DMA address @addr and @buf as a data
 * request of job @j, one page-bounded access at a time, stopping at the
 * first failure.  A request that may not be issued fails with
 * MEMTX_ACCESS_ERROR.  Runs without the BQL.
 */
static bool td_dma(TdJob *j, uint64_t addr, uint8_t *buf, uint32_t len,
                   bool write)
{
    while (len) {
        uint32_t n = MIN(len, TD_DMA_PAGE - (addr & (TD_DMA_PAGE - 1)));
        MemTxResult r = !j->data_as ? MEMTX_ACCESS_ERROR :
            dma_memory_rw(j->data_as, addr, buf, n,
                          write ? DMA_DIRECTION_FROM_DEVICE :
                          DMA_DIRECTION_TO_DEVICE, j->data_attrs);

        if (r != MEMTX_OK) {
            j->f.addr = addr;
            j->f.write = write;
            j->f.res = r;
            return false;
        }
        addr += n;
        buf += n;
        len -= n;
    }
    return true;
}

static uint32_t td_op_copy(TdJob *j, uint64_t src, uint64_t dst, uint32_t len)
{
    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(j, src + off, j->bounce[0], n, false) ||
            !td_dma(j, dst + off, j->bounce[0], n, true)) {
            return VTDP_TD_ST_DMA_FAULT;
        }
    }
    return VTDP_TD_ST_OK;
}

static uint32_t td_op_fill(TdJob *j, uint64_t dst, uint32_t len,
                           uint64_t pattern)
{
    uint8_t pat[8];

    /*
     * Byte i of the destination is byte (i % 8) of the little-endian
     * pattern.  TD_BOUNCE_SIZE is a multiple of 8, so every chunk starts
     * at pattern phase 0.
     */
    stq_le_p(pat, pattern);
    for (uint32_t i = 0; i < TD_BOUNCE_SIZE; i++) {
        j->bounce[0][i] = pat[i % 8];
    }
    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(j, dst + off, j->bounce[0], n, true)) {
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
static uint32_t td_op_crc32c(TdJob *j, uint64_t src, uint32_t len,
                             uint64_t *result)
{
    uint32_t crc = 0xffffffff;

    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(j, src + off, j->bounce[0], n, false)) {
            return VTDP_TD_ST_DMA_FAULT;
        }
        crc = crc32c(crc, j->bounce[0], n) ^ 0xffffffff;
    }
    *result = crc ^ 0xffffffff;
    return VTDP_TD_ST_OK;
}

static uint32_t td_op_compare(TdJob *j, uint64_t src, uint64_t dst,
                              uint32_t len, uint64_t *result)
{
    for (uint32_t off = 0; off < len; off += TD_BOUNCE_SIZE) {
        uint32_t n = MIN(len - off, TD_BOUNCE_SIZE);

        if (!td_dma(j, src + off, j->bounce[0], n, false) ||
            !td_dma(j, dst + off, j->bounce[1], n, false)) {
            return VTDP_TD_ST_DMA_FAULT;
        }
        if (memcmp(j->bounce[0], j->bounce[1], n)) {
            uint32_t i = 0;

            while (j->bounce[0][i] == j->bounce[1][i]) {
                i++;
            }
            *result = off + i;
            return VTDP_TD_ST_MISMATCH;
        }
    }
    *result = len;
    return VTDP_TD_ST_OK;
}

/*
 * Take the next descriptor of @q for its worker: snapshot what it needs
 * and mark the queue busy.  BQL held; td_queue_may_start(q).
 */
static void td_job_start(VtdpTestdevState *s, VtdpTdQueue *q, TdJob *j)
{
    *j = (TdJob) {
        .q = q,
        .head = q->head,
        .gen = q->gen,
        .ctrl = q->ctrl,
        .daddr = q->ring_base + (uint64_t)q->head * VTDP_TD_DESC_SIZE,
        .bounce = { q->bounce, q->bounce + TD_BOUNCE_SIZE },
    };
    j->data_as = td_data_as(s, q, &j->data_attrs);
    q->busy = true;
    s->active++;
    s->peak_active = MAX(s->peak_active, s->active);
}

/*
 * Fetch and execute the descriptor and write its completion fields, all
 * but the status word (td_job_finish).  Runs without the BQL and touches
 * no device state: only the job and guest memory.
 */
static void td_job_run(VtdpTestdevState *s, TdJob *j)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint8_t d[VTDP_TD_DESC_SIZE];
    uint8_t wb[20];
    uint64_t result = 0, src, dst, pattern;
    uint32_t fault_info = 0;

    j->ring_res = pci_dma_read(pdev, j->daddr, d, sizeof(d));
    if (j->ring_res != MEMTX_OK) {
        j->ring_fault = true;
        return;
    }
    j->opcode = d[TD_D_OPCODE];
    j->flags = d[TD_D_FLAGS];
    j->len = ldl_le_p(d + TD_D_LEN);
    src = ldq_le_p(d + TD_D_SRC);
    dst = ldq_le_p(d + TD_D_DST);
    pattern = ldq_le_p(d + TD_D_PATTERN);
    trace_vtdp_testdev_desc(j->q->index, j->head, j->opcode, j->len, src, dst);

    if (j->opcode == VTDP_TD_OP_NOP) {
        j->status = VTDP_TD_ST_OK;
    } else if (j->opcode > VTDP_TD_OP_WRITE_IMM) {
        j->status = VTDP_TD_ST_BAD_OPCODE;
    } else if (j->len == 0 || j->len > s->max_len ||
               (j->opcode == VTDP_TD_OP_WRITE_IMM && j->len > 8)) {
        j->status = VTDP_TD_ST_BAD_LEN;
    } else {
        switch (j->opcode) {
        case VTDP_TD_OP_COPY:
            j->status = td_op_copy(j, src, dst, j->len);
            break;
        case VTDP_TD_OP_FILL:
            j->status = td_op_fill(j, dst, j->len, pattern);
            break;
        case VTDP_TD_OP_CRC32C:
            j->status = td_op_crc32c(j, src, j->len, &result);
            break;
        case VTDP_TD_OP_COMPARE:
            j->status = td_op_compare(j, src, dst, j->len, &result);
            break;
        default: /* VTDP_TD_OP_WRITE_IMM */
            stq_le_p(j->bounce[0], pattern);
            j->status = td_dma(j, dst, j->bounce[0], j->len, true) ?
                        VTDP_TD_ST_OK : VTDP_TD_ST_DMA_FAULT;
            break;
        }
    }

    if (j->status == VTDP_TD_ST_DMA_FAULT) {
        fault_info = (j->f.write ? VTDP_TD_FI_WRITE : 0) |
                     (j->ctrl & VTDP_TD_QCTRL_PASID_EN ? VTDP_TD_FI_PASID : 0) |
                     ((uint32_t)(j->f.res & 0xff) << 8);
        trace_vtdp_testdev_dma_fault(j->q->index, j->f.addr, j->f.write,
                                     j->f.res);
    }

    /* Completion: fault_info, result, fault_addr here; status last. */
    stl_le_p(wb, fault_info);
    stq_le_p(wb + 4, result);
    stq_le_p(wb + 12, j->status == VTDP_TD_ST_DMA_FAULT ? j->f.addr : 0);
    j->ring_res = pci_dma_write(pdev, j->daddr + TD_D_FAULT_INFO, wb,
                                sizeof(wb));
    if (j->ring_res != MEMTX_OK) {
        j->ring_fault = true;
        j->ring_write = true;
    }
}

/*
 * Complete the job: write the status word, advance QHEAD, count, halt on
 * error, raise the queue's vector; then the queue is idle again.  BQL
 * held.  A job whose queue was stopped meanwhile (only possible when the
 * stop could not wait for it) leaves no trace.
 */
static void td_job_finish(VtdpTestdevState *s, TdJob *j)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    VtdpTdQueue *q = j->q;
    uint32_t qi = q->index;
    uint8_t st[4];

    q->busy = false;
    s->active--;
    qemu_cond_broadcast(&s->idle);
    if (j->gen != q->gen) {
        return;
    }

    if (!j->ring_fault) {
        stl_le_p(st, j->status | VTDP_TD_ST_DONE);
        j->ring_res = pci_dma_write(pdev, j->daddr + TD_D_STATUS, st,
                                    sizeof(st));
        if (j->ring_res != MEMTX_OK) {
            j->ring_fault = true;
            j->ring_write = true;
        }
    }
    if (j->ring_fault) {
        /* The descriptor slot itself is unreachable: stop the queue. */
        trace_vtdp_testdev_dma_fault(qi, j->daddr, j->ring_write, j->ring_res);
        q->status |= VTDP_TD_QSTATUS_RING_FAULT | VTDP_TD_QSTATUS_HALTED;
        s->stat_faults++;
        trace_vtdp_testdev_halt(qi, q->status);
        return;
    }
    trace_vtdp_testdev_complete(qi, j->head, j->status);

    q->head = (j->head + 1) & (q->ring_size - 1);
    q->completed++;
    s->stat_desc++;
    if ((j->status == VTDP_TD_ST_OK || j->status == VTDP_TD_ST_MISMATCH) &&
        j->opcode != VTDP_TD_OP_NOP) {
        s->stat_bytes += j->len;
    }
    if (j->status == VTDP_TD_ST_DMA_FAULT) {
        s->stat_faults++;
        if (j->ctrl & VTDP_TD_QCTRL_HALT_ON_ERROR) {
            q->status |= VTDP_TD_QSTATUS_HALTED;
            trace_vtdp_testdev_halt(qi, q->status);
        }
    }
    if ((j->flags & VTDP_TD_DF_IRQ) && msix_enabled(pdev)) {
        msix_notify(pdev, qi);
    }
}

/* A queue's worker thread: its descriptors, one at a time, in order. */
static void *td_worker(void *opaque)
{
    VtdpTdQueue *q = opaque;
    VtdpTestdevState *s = q->s;
    TdJob j;

    rcu_register_thread();
    td_current_queue = q;
    bql_lock();
    while (!q->exit) {
        if (!td_queue_may_start(q)) {
            qemu_cond_wait_bql(&q->wake);
            continue;
        }
        td_job_start(s, q, &j);
        bql_unlock();
        td_job_run(s, &j);
        bql_lock();
        td_job_finish(s, &j);
    }
    q->exited = true;
    qemu_cond_broadcast(&s->idle);
    bql_unlock();
    rcu_unregister_thread();
    return NULL;
}

/* Descriptors per bottom-half run (worker-threads=off): then it yields. */
#define TD_BH_MAX_DESC      64

/*
 * worker-threads=off: one descriptor of each queue with work per turn,
 * round robin, with the BQL held throughout; reschedule if work is left.
 */
static void td_bh(void *opaque)
{
    VtdpTestdevState *s = opaque;
    unsigned int done = 0;
    bool progress = true;
    TdJob j;

    while (progress && done < TD_BH_MAX_DESC) {
        progress = false;
        for (uint32_t i = 0; i < s->nqueues && done < TD_BH_MAX_DESC; i++) {
            VtdpTdQueue *q = &s->q[i];

            if (!td_queue_may_start(q)) {
                continue;
            }
            td_job_start(s, q, &j);
            td_job_run(s, &j);
            td_job_finish(s, &j);
            progress = true;
            done++;
        }
    }
    if (progress) {
        qemu_bh_schedule(s->bh);
    }
}

/* Wake q's worker if it has something to do.  BQL held. */
static void td_kick(VtdpTdQueue *q)
{
    if (td_queue_may_start(q)) {
        if (q->s->bh) {
            qemu_bh_schedule(q->s->bh);
        } else {
            qemu_cond_signal(&q->wake);
        }
    }
}

/*
 * Wait until queues [first, first + n) are idle, and keep their workers
 * from starting anything until td_quiesce_end().  BQL held; it is
 * dropped while waiting, as a busy worker may need it to finish.  On a
 * worker thread nothing is waited for (see the header comment).
 */
static void td_quiesce_begin(VtdpTestdevState *s, uint32_t first, uint32_t n)
{
    bool busy;

    for (uint32_t i = first; i < first + n; i++) {
        s->q[i].quiesce++;
    }
    if (td_current_queue) {
        return;
    }
    trace_vtdp_testdev_quiesce(first, n, s->active);
    do {
        busy = false;
        for (uint32_t i = first; i < first + n; i++) {
            busy |= s->q[i].busy;
        }
        if (busy) {
            qemu_cond_wait_bql(&s->idle);
        }
    } while (busy);
}

static void td_quiesce_end(VtdpTestdevState *s, uint32_t first, uint32_t n)
{
    for (uint32_t i = first; i < first + n; i++) {
        s->q[i].quiesce--;
        td_kick(&s->q[i]);
    }
}

/*
 * Disabled queue: not running, no error state, indices back to 0.  The
 * queue is quiesced.
 */
static void td_queue_stop(VtdpTdQueue *q)
{
    q->ctrl &= ~VTDP_TD_QCTRL_ENABLE;
    q->status = 0;
    q->head = 0;
    q->tail = 0;
    q->gen++;
}

/* CTRL.RESET; the queues are quiesced. */
static void td_reset_queues(VtdpTestdevState *s)
{
    for (uint32_t i = 0; i < VTDP_TD_MAX_QUEUES; i++) {
        td_queue_stop(&s->q[i]);
        s->q[i].completed = 0;
    }
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
    bool on = val & VTDP_TD_QCTRL_ENABLE;
    bool was_on;

    /*
     * A disabled queue does no more DMA: the descriptor in progress
     * completes first.  The wait may drop the BQL, so read the state
     * after it.
     */
    if (!on) {
        td_quiesce_begin(s, qi, 1);
    }
    was_on = q->ctrl & VTDP_TD_QCTRL_ENABLE;
    if (was_on && !on) {
        td_queue_stop(q);
    }
    q->ctrl = val & td_qctrl_mask(s);
    td_queue_bind_pasid(s, q);
    if (on && !was_on) {
        q->status = td_queue_config_valid(q) ? 0 : VTDP_TD_QSTATUS_BAD_CONFIG;
        q->tail &= q->ring_size - 1;
    }
    if (!on) {
        td_quiesce_end(s, qi, 1);
    } else {
        td_kick(q);
    }
}

static void td_write32(VtdpTestdevState *s, hwaddr off, uint32_t val)
{
    uint32_t qi, r;
    VtdpTdQueue *q;

    if (off == VTDP_TD_REG_CTRL) {
        if (val & VTDP_TD_CTRL_RESET) {
            td_quiesce_begin(s, 0, s->nqueues);
            td_reset_queues(s);
            td_quiesce_end(s, 0, s->nqueues);
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
        td_kick(q);
        break;
    }
}

/*
 * DMA of the device's own queues into its registers fails, as QEMU's
 * re-entrancy guard fails it for devices that do DMA in the main loop: a
 * worker would otherwise wait for itself to go idle (CTRL.RESET, QCTRL).
 */
static bool td_mmio_reentrant(VtdpTestdevState *s, hwaddr addr)
{
    if (td_current_queue && td_current_queue->s == s) {
        qemu_log_mask(LOG_GUEST_ERROR, "vtdp-testdev: queue %u DMA to the "
                      "device's own register 0x%" HWADDR_PRIx " refused\n",
                      td_current_queue->index, addr);
        return true;
    }
    return false;
}

/* 4- and 8-byte naturally aligned accesses; anything else reads 0. */
static MemTxResult td_mmio_read(void *opaque, hwaddr addr, uint64_t *data,
                                unsigned size, MemTxAttrs attrs)
{
    VtdpTestdevState *s = opaque;

    *data = 0;
    if (td_mmio_reentrant(s, addr)) {
        return MEMTX_ACCESS_ERROR;
    }
    if ((size != 4 && size != 8) || (addr & (size - 1))) {
        return MEMTX_OK;
    }
    *data = td_read32(s, addr);
    if (size == 8) {
        *data |= (uint64_t)td_read32(s, addr + 4) << 32;
    }
    return MEMTX_OK;
}

static MemTxResult td_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size, MemTxAttrs attrs)
{
    VtdpTestdevState *s = opaque;

    if (td_mmio_reentrant(s, addr)) {
        return MEMTX_ACCESS_ERROR;
    }
    if ((size != 4 && size != 8) || (addr & (size - 1))) {
        return MEMTX_OK;
    }
    td_write32(s, addr, val);
    if (size == 8) {
        td_write32(s, addr + 4, val >> 32);
    }
    return MEMTX_OK;
}

static const MemoryRegionOps td_mmio_ops = {
    .read_with_attrs = td_mmio_read,
    .write_with_attrs = td_mmio_write,
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

/*
 * A stopped VM (stop, the end of a migration, savevm) sees no DMA: the
 * descriptors in progress complete, no new one starts until the VM runs
 * again (td_queue_may_start() checks the run state).
 */
static void td_vm_state_change(void *opaque, bool running, RunState state)
{
    VtdpTestdevState *s = opaque;

    if (running) {
        for (uint32_t i = 0; i < s->nqueues; i++) {
            td_kick(&s->q[i]);
        }
    } else {
        td_quiesce_begin(s, 0, s->nqueues);
        td_quiesce_end(s, 0, s->nqueues);
    }
}

static void td_start_workers(VtdpTestdevState *s)
{
    qemu_cond_init(&s->idle);
    if (!s->worker_threads) {
        s->bh = qemu_bh_new_guarded(td_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);
    }
    for (uint32_t i = 0; i < s->nqueues; i++) {
        VtdpTdQueue *q = &s->q[i];
        g_autofree char *name = g_strdup_printf("vtdp-td-q%u", i);

        q->s = s;
        q->index = i;
        q->bounce = g_malloc(2 * TD_BOUNCE_SIZE);
        qemu_cond_init(&q->wake);
        if (s->worker_threads) {
            qemu_thread_create(&q->thread, name, td_worker, q,
                               QEMU_THREAD_JOINABLE);
        } else {
            q->exited = true;
        }
    }
}

/* Let the descriptors in progress complete, then end the workers. */
static void td_stop_workers(VtdpTestdevState *s)
{
    bool running;

    td_quiesce_begin(s, 0, s->nqueues);
    for (uint32_t i = 0; i < s->nqueues; i++) {
        s->q[i].exit = true;
        qemu_cond_signal(&s->q[i].wake);
    }
    do {
        running = false;
        for (uint32_t i = 0; i < s->nqueues; i++) {
            running |= !s->q[i].exited;
        }
        if (running) {
            qemu_cond_wait_bql(&s->idle);
        }
    } while (running);
    for (uint32_t i = 0; i < s->nqueues; i++) {
        VtdpTdQueue *q = &s->q[i];

        if (s->worker_threads) {
            qemu_thread_join(&q->thread);
        }
        qemu_cond_destroy(&q->wake);
        g_free(q->bounce);
        q->bounce = NULL;
    }
    qemu_cond_destroy(&s->idle);
    if (s->bh) {
        qemu_bh_delete(s->bh);
        s->bh = NULL;
    }
}

static void td_realize(PCIDevice *pdev, Error **errp)
{
    VtdpTestdevState *s = VTDP_TESTDEV(pdev);

    if (s->nqueues < 1 || s->nqueues > VTDP_TD_MAX_QUEUES) {
        error_setg(errp, "queues must be 1..%d", VTDP_TD_MAX_QUEUES);
        return;
    }
    if (s->max_len < 8 || s->max_len > VTDP_TD_MAX_LEN) {
        error_setg(errp, "max-len must be 8..%u", VTDP_TD_MAX_LEN);
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
    /* FLR, so that a guest can reset the function alone (sysfs reset) */
    pcie_cap_flr_init(pdev);

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

    td_start_workers(s);
    s->vmstate_change = qemu_add_vm_change_state_handler(td_vm_state_change,
                                                         s);
}

static void td_exit(PCIDevice *pdev)
{
    VtdpTestdevState *s = VTDP_TESTDEV(pdev);

    qemu_del_vm_change_state_handler(s->vmstate_change);
    td_stop_workers(s);
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
    pcie_cap_exit(pdev);
}

/* Initiate Function Level Reset in Device Control: td_reset() and more. */
static void td_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                            int len)
{
    pci_default_write_config(pdev, addr, val, len);
    pcie_cap_flr_write_config(pdev, addr, val, len);
}

/* Device reset: queues, their configuration and the counters all cleared. */
static void td_reset(DeviceState *dev)
{
    VtdpTestdevState *s = VTDP_TESTDEV(dev);

    td_quiesce_begin(s, 0, s->nqueues);
    td_reset_queues(s);
    for (uint32_t i = 0; i < VTDP_TD_MAX_QUEUES; i++) {
        VtdpTdQueue *q = &s->q[i];

        q->ring_base = 0;
        q->ring_size = 0;
        q->ctrl = 0;
        q->pasid = 0;
        q->pasid_as = NULL;
    }
    s->rr_next = 0;
    s->stat_desc = 0;
    s->stat_bytes = 0;
    s->stat_faults = 0;
    s->peak_active = s->active;
    td_quiesce_end(s, 0, s->nqueues);
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
    s->rr_next = 0;
    for (uint32_t i = 0; i < s->nqueues; i++) {
        /* Nothing runs while a VM loads; should it, it ends without trace. */
        s->q[i].gen++;
        td_kick(&s->q[i]);
    }
    return 0;
}

/* No descriptor in flight in the stream: in progress ones complete first. */
static int td_pre_save(void *opaque)
{
    VtdpTestdevState *s = opaque;

    td_quiesce_begin(s, 0, s->nqueues);
    td_quiesce_end(s, 0, s->nqueues);
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
    .pre_save = td_pre_save,
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
    /* off: a main-loop bottom half runs the queues (deterministic) */
    DEFINE_PROP_BOOL("worker-threads", VtdpTestdevState, worker_threads,
                     true),
    /*
     * Longest descriptor executed, 8..VTDP_TD_MAX_LEN; a longer one
     * completes with BAD_LEN.  A smaller bound keeps the work a fuzzer's
     * few-hundred-byte input can queue small (scripts/fuzz --qemu).
     */
    DEFINE_PROP_UINT32("max-len", VtdpTestdevState, max_len, VTDP_TD_MAX_LEN),
};

static void td_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = td_realize;
    k->exit = td_exit;
    k->config_write = td_config_write;
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
    /* Host-side, not migrated: queues that ran descriptors at once. */
    object_property_add_uint32_ptr(obj, "peak-active-queues",
                                   &s->peak_active, OBJ_PROP_FLAG_READ);
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
