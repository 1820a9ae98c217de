/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp-iommu: a VT-d style IOMMU with PASID, as a PCI function.
 *
 * This file is QEMU glue only.  Everything the guest can observe (register
 * file, table walks, caches, fault recording) is implemented by the
 * QEMU-independent translation core in core/vtdp-core.c; the glue provides
 * the PCI function (BAR 0 registers, MSI-X), the per-device IOMMU address
 * spaces handed to the PCI bus and guest memory access for the core.  The
 * monitor commands are in vtdp-monitor.c.
 *
 * Locking: every call into the core happens with s->lock held (the core is
 * not thread safe).  The lock is recursive only so that re-entry from a
 * core callback on the same thread (guest tables placed on our own BAR,
 * or DMA routed back into the IOMMU) is detected through s->in_core and
 * refused instead of deadlocking or corrupting a table walk in progress.
 *
 * Translation is also entered from threads that do not hold the BQL (an
 * endpoint's DMA worker, e.g. vtdp-testdev's queues), concurrently with
 * vCPUs that hold the BQL and then take s->lock in our MMIO handlers.  So
 * nothing done under s->lock may wait for the BQL on such a thread: the
 * core's memory accesses there reach RAM only (an MMIO target would take
 * the BQL; vtdp_iommu_ram_rw), and its interrupts are raised from a
 * bottom half (vtdp_iommu_irq_bh).
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/rcu.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qemu/timer.h"
#include "hw/vtdp/vtdp-iommu.h"
#include "trace.h"

struct VTDPAddressSpace {
    VTDPIOMMUState *s;
    PCIBus *bus;
    uint8_t devfn;
    uint32_t pasid;                 /* PCI_NO_PASID: untagged requests */
    MemoryRegion root;              /* untagged: IOMMU MR + interrupts */
    IOMMUMemoryRegion iommu;
    MemoryRegion irq_window;
    AddressSpace as;
};

/* IOMMU indexes: privilege of a PASID-tagged request */
enum {
    VTDP_IOMMU_IDX_USER,
    VTDP_IOMMU_IDX_PRIV,
    VTDP_IOMMU_NUM_IDX,
};

/*
 * The last fault of the requests translated on this thread (see
 * VTDPIOMMUState.fault_gen): QEMU splits a failing access into small ones,
 * each translated again on the same thread, and the rest of a faulted
 * access must neither be recorded again nor succeed.  Per thread, so that
 * requests of other threads (another queue of the endpoint, a vCPU)
 * translated meanwhile cannot break up one access.
 */
typedef struct VTDPLastFault {
    VTDPIOMMUState *s;              /* NULL: none */
    uint64_t gen;                   /* s->fault_gen when it was recorded */
    uint16_t sid;
    uint32_t pasid;
    bool write;
    uint64_t addr;
} VTDPLastFault;

static __thread VTDPLastFault vtdp_last_fault;

typedef struct VTDPASKey {
    PCIBus *bus;
    uint8_t devfn;
    uint32_t pasid;
} VTDPASKey;

/* ---------------------------------------------------------------------- */
/* Core callbacks                                                          */

/*
 * A table access of the core on a thread without the BQL (see the header
 * comment): RAM only, anything else fails like an unreachable address.
 * Reads copy straight from the RAM block found under RCU; writes map the
 * range, which gives RAM directly (and marks it dirty on unmap) or, for
 * anything else, a bounce buffer that is dropped unwritten.
 */
static int vtdp_iommu_ram_rw(uint64_t addr, void *buf, uint32_t len,
                             bool write)
{
    AddressSpace *as = &address_space_memory;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    uint8_t *b = buf;

    while (len) {
        hwaddr l = len, xlat;
        ram_addr_t off;

        if (write) {
            void *p = address_space_map(as, addr, &l, true, attrs);

            if (!p) {
                return -1;
            }
            if (!memory_region_from_host(p, &off)) {
                address_space_unmap(as, p, l, true, 0);
                return -1;
            }
            memcpy(p, b, l);
            address_space_unmap(as, p, l, true, l);
        } else {
            RCU_READ_LOCK_GUARD();
            MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l,
                                                       false, attrs);

            if (!memory_access_is_direct(mr, false, attrs)) {
                return -1;
            }
            memcpy(b, qemu_map_ram_ptr(mr->ram_block, xlat), l);
        }
        addr += l;
        b += l;
        len -= l;
    }
    return 0;
}

static int vtdp_iommu_dma_read(void *opaque, uint64_t addr, void *buf,
                               uint32_t len)
{
    MemTxResult r;

    if (!bql_locked()) {
        return vtdp_iommu_ram_rw(addr, buf, len, false);
    }
    r = address_space_read(&address_space_memory, addr,
                           MEMTXATTRS_UNSPECIFIED, buf, len);
    return r == MEMTX_OK ? 0 : -1;
}

static int vtdp_iommu_dma_write(void *opaque, uint64_t addr, const void *buf,
                                uint32_t len)
{
    MemTxResult r;

    if (!bql_locked()) {
        return vtdp_iommu_ram_rw(addr, (void *)buf, len, true);
    }
    r = address_space_write(&address_space_memory, addr,
                            MEMTXATTRS_UNSPECIFIED, buf, len);
    return r == MEMTX_OK ? 0 : -1;
}

static void vtdp_iommu_notify(VTDPIOMMUState *s, unsigned int vector)
{
    if (vector < VTDP_IOMMU_NR_VECTORS && msix_enabled(PCI_DEVICE(s))) {
        /* msix_notify() handles per-vector and function masking. */
        msix_notify(PCI_DEVICE(s), vector);
    }
}

/* Interrupts the core raised on threads without the BQL. */
static void vtdp_iommu_irq_bh(void *opaque)
{
    VTDPIOMMUState *s = opaque;
    uint32_t pending = qatomic_xchg(&s->irq_pending, 0);

    for (unsigned int v = 0; v < VTDP_IOMMU_NR_VECTORS; v++) {
        if (pending & BIT(v)) {
            vtdp_iommu_notify(s, v);
        }
    }
}

static void vtdp_iommu_raise_irq(void *opaque, unsigned int vector)
{
    VTDPIOMMUState *s = opaque;

    trace_vtdp_iommu_irq(vector);
    if (bql_locked()) {
        vtdp_iommu_notify(s, vector);
    } else if (vector < VTDP_IOMMU_NR_VECTORS) {
        /* MSI-X state belongs to the BQL, and we hold s->lock here. */
        qatomic_or(&s->irq_pending, BIT(vector));
        qemu_bh_schedule(s->irq_bh);
    }
}

/*
 * The fault log uses the virtual clock: it runs with the guest (stops when
 * the VM is paused, is deterministic under icount/replay), so fault times
 * can be compared with the guest's own timestamps.
 */
static uint64_t vtdp_iommu_clock_ns(void *opaque)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static void vtdp_iommu_trace_invalidation(void *opaque, unsigned int src,
                                          uint64_t lo, uint64_t hi, bool ok)
{
    switch (src) {
    case VTDP_INV_SRC_QUEUE:
        trace_vtdp_iommu_inv_desc(VTDP_INV_TYPE(lo), lo, hi, ok);
        break;
    case VTDP_INV_SRC_CCMD:
        trace_vtdp_iommu_inv_ccmd(lo, ok);
        break;
    default:
        trace_vtdp_iommu_inv_iotlb_reg(lo, hi, ok);
        break;
    }
}

static void vtdp_iommu_trace_fault(void *opaque,
                                   const struct vtdp_fault_record *f)
{
    trace_vtdp_iommu_fault_log(f->index, f->sid, f->pasid, f->pasid_valid,
                               f->addr, f->write, f->reason,
                               VTDP_FR_IS_SANITIZER(f->reason) ?
                               "sanitizer report" :
                               f->suppressed ? "suppressed (FPD)" :
                               f->dropped ? "dropped (overflow)" :
                               "recorded");
}

static const struct vtdp_core_ops vtdp_iommu_core_ops = {
    .dma_read = vtdp_iommu_dma_read,
    .dma_write = vtdp_iommu_dma_write,
    .raise_irq = vtdp_iommu_raise_irq,
    .clock_ns = vtdp_iommu_clock_ns,
    .invalidation = vtdp_iommu_trace_invalidation,
    .fault = vtdp_iommu_trace_fault,
};

/*
 * Enter the core.  Returns false (and takes no lock) when the core is not
 * initialised or when we are already inside it on this thread.
 */
static bool vtdp_iommu_enter(VTDPIOMMUState *s)
{
    if (!s->core_ready) {
        return false;
    }
    qemu_rec_mutex_lock(&s->lock);
    if (s->in_core) {
        qemu_rec_mutex_unlock(&s->lock);
        qemu_log_mask(LOG_GUEST_ERROR,
                      "vtdp-iommu: re-entrant access from a core callback "
                      "refused\n");
        return false;
    }
    s->in_core = true;
    return true;
}

static void vtdp_iommu_leave(VTDPIOMMUState *s)
{
    s->in_core = false;
    qemu_rec_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------------- */
/* BAR 0: register file                                                    */

static uint64_t vtdp_iommu_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    VTDPIOMMUState *s = opaque;
    uint64_t val = 0;

    if (vtdp_iommu_enter(s)) {
        val = vtdp_core_mmio_read(&s->core, addr, size);
        vtdp_iommu_leave(s);
    }
    trace_vtdp_iommu_reg_read(addr, size, val);
    return val;
}

/*
 * Whether a register write can change how a request translates, so that
 * the rest of a faulted access must be translated afresh.  Handling the
 * fault (fault status, event control, fault recording registers) cannot,
 * and a driver does that while the faulted access may still be going on
 * in a device thread.  Neither can the queued-invalidation interface
 * (IQH..IECTL): it only drops cached entries, and a driver queues
 * invalidations for other requesters' unmaps at any time; the rest of an
 * access that faulted must fail unrecorded whatever was invalidated
 * meanwhile (the device stops at the failing access anyway).
 */
static bool vtdp_iommu_write_forgets_faults(VTDPIOMMUState *s, hwaddr addr)
{
    hwaddr fro = VTDP_CAP_FRO(s->core.cap);

    if (addr >= VTDP_REG_FSTS && addr < VTDP_REG_FEUADDR + 4) {
        return false;
    }
    if (addr >= VTDP_REG_IQH && addr < VTDP_REG_IECTL + 4) {
        return false;
    }
    return addr < fro || addr >= fro + (hwaddr)s->nfr * VTDP_FRCD_SIZE;
}

static void vtdp_iommu_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                                  unsigned size)
{
    VTDPIOMMUState *s = opaque;

    trace_vtdp_iommu_reg_write(addr, size, val);
    if (vtdp_iommu_enter(s)) {
        if (vtdp_iommu_write_forgets_faults(s, addr)) {
            s->fault_gen++;
        }
        vtdp_core_mmio_write(&s->core, addr, val, size);
        vtdp_iommu_leave(s);
    }
}

/*
 * Every size and alignment reaches the core, which reads 0 / ignores what
 * is not a naturally aligned 4- or 8-byte register access.
 */
static const MemoryRegionOps vtdp_iommu_mmio_ops = {
    .read = vtdp_iommu_mmio_read,
    .write = vtdp_iommu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

/* ---------------------------------------------------------------------- */
/* Interrupt window: MSI writes bypass translation                         */

static MemTxResult vtdp_iommu_irq_read(void *opaque, hwaddr addr,
                                       uint64_t *data, unsigned size,
                                       MemTxAttrs attrs)
{
    /* Reads of the interrupt range are not DMA: the request fails. */
    *data = 0;
    return MEMTX_DECODE_ERROR;
}

static MemTxResult vtdp_iommu_irq_write(void *opaque, hwaddr addr,
                                        uint64_t data, unsigned size,
                                        MemTxAttrs attrs)
{
    VTDPAddressSpace *vas = opaque;
    uint8_t buf[8];

    stq_le_p(buf, data);
    trace_vtdp_iommu_irq_write(pci_bus_num(vas->bus), vas->devfn,
                               VTDP_INTERRUPT_RANGE_START + addr, data);
    return address_space_write(&address_space_memory,
                               VTDP_INTERRUPT_RANGE_START + addr, attrs,
                               buf, size);
}

static const MemoryRegionOps vtdp_iommu_irq_ops = {
    .read_with_attrs = vtdp_iommu_irq_read,
    .write_with_attrs = vtdp_iommu_irq_write,
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

/* ---------------------------------------------------------------------- */
/* IOMMU memory region                                                     */

static IOMMUTLBEntry vtdp_iommu_translate(IOMMUMemoryRegion *iommu,
                                          hwaddr addr, IOMMUAccessFlags flag,
                                          int iommu_idx)
{
    VTDPAddressSpace *vas = container_of(iommu, VTDPAddressSpace, iommu);
    VTDPIOMMUState *s = vas->s;
    VTDPLastFault *lf = &vtdp_last_fault;
    /* Bus numbers are assigned after realize: compute the SID now. */
    uint16_t sid = PCI_BUILD_BDF(pci_bus_num(vas->bus), vas->devfn);
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~(hwaddr)(VTDP_PAGE_SIZE - 1),
        .translated_addr = addr & ~(hwaddr)(VTDP_PAGE_SIZE - 1),
        .addr_mask = VTDP_PAGE_SIZE - 1,
        .perm = IOMMU_NONE,
    };
    struct vtdp_request req = {
        .sid = sid,
        .pasid_valid = vas->pasid != PCI_NO_PASID,
        .pasid = vas->pasid != PCI_NO_PASID ? vas->pasid : 0,
        .addr = addr,
        .write = flag & IOMMU_WO,
        .priv = iommu_idx == VTDP_IOMMU_IDX_PRIV,
    };
    struct vtdp_translation t;
    int fr;

    if (!vtdp_iommu_enter(s)) {
        /* Not realized yet, or DMA issued from inside a table walk. */
        return entry;
    }
    if (!vtdp_core_translation_enabled(&s->core)) {
        vtdp_iommu_leave(s);
        entry.perm = IOMMU_RW;
        return entry;
    }
    if (flag == IOMMU_NONE) {
        /*
         * Queries and replays must not record faults, and the core has no
         * side-effect-free lookup: report "no access".  Nobody needs more
         * as we refuse MAP notifiers (no caching mode).
         */
        vtdp_iommu_leave(s);
        return entry;
    }

    if (lf->s == s && lf->gen == s->fault_gen && lf->sid == sid &&
        lf->pasid == vas->pasid && lf->write == req.write &&
        addr > lf->addr &&
        (addr >> VTDP_PAGE_SHIFT) == (lf->addr >> VTDP_PAGE_SHIFT)) {
        /* The rest of an access that already faulted (VTDPLastFault) */
        lf->addr = addr;
        vtdp_iommu_leave(s);
        trace_vtdp_iommu_fault_coalesced(sid, addr, req.write);
        return entry;
    }

    fr = vtdp_core_translate(&s->core, &req, &t);
    if (fr) {
        *lf = (VTDPLastFault) {
            .s = s,
            .gen = s->fault_gen,
            .sid = sid,
            .pasid = vas->pasid,
            .write = req.write,
            .addr = addr,
        };
    } else if (lf->s == s) {
        lf->s = NULL;
    }
    vtdp_iommu_leave(s);

    if (fr) {
        trace_vtdp_iommu_fault(sid, req.pasid_valid ? req.pasid : 0,
                               req.pasid_valid, addr, req.write, fr);
        return entry;
    }

    entry.iova = addr & t.page_mask;
    entry.translated_addr = t.paddr & t.page_mask;
    entry.addr_mask = ~t.page_mask;
    entry.perm = (t.read ? IOMMU_RO : 0) | (t.write ? IOMMU_WO : 0);
    trace_vtdp_iommu_translate(sid, req.pasid_valid ? req.pasid : 0,
                               req.pasid_valid, addr, t.paddr, entry.perm);
    return entry;
}

/*
 * The Privileged Mode Requested bit of a PASID TLP prefix reaches
 * translate() as the IOMMU index: an endpoint marks a privileged request
 * with specified MemTxAttrs whose user bit is clear.  Untagged requests
 * carry no privilege in PCIe (VT-d takes it from the context entry's
 * RID_PRIV), and unspecified attributes are user requests.
 */
static int vtdp_iommu_attrs_to_index(IOMMUMemoryRegion *iommu,
                                     MemTxAttrs attrs)
{
    VTDPAddressSpace *vas = container_of(iommu, VTDPAddressSpace, iommu);

    if (vas->pasid != PCI_NO_PASID && !attrs.unspecified && !attrs.user) {
        return VTDP_IOMMU_IDX_PRIV;
    }
    return VTDP_IOMMU_IDX_USER;
}

static int vtdp_iommu_num_indexes(IOMMUMemoryRegion *iommu)
{
    return VTDP_IOMMU_NUM_IDX;
}

static int vtdp_iommu_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                          IOMMUNotifierFlag old,
                                          IOMMUNotifierFlag new,
                                          Error **errp)
{
    if (new & IOMMU_NOTIFIER_MAP) {
        /*
         * MAP notifiers (VFIO) need caching mode so that the guest reports
         * every new mapping; vtdp-iommu does not implement it.
         */
        error_setg(errp, "vtdp-iommu does not support MAP notifiers "
                   "(no caching mode), e.g. for vfio-pci");
        return -EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Address spaces handed to the PCI bus                                    */

static guint vtdp_as_hash(gconstpointer v)
{
    const VTDPASKey *k = v;

    return g_direct_hash(k->bus) ^ (k->devfn << 20 | k->pasid);
}

static gboolean vtdp_as_equal(gconstpointer a, gconstpointer b)
{
    const VTDPASKey *k1 = a, *k2 = b;

    return k1->bus == k2->bus && k1->devfn == k2->devfn &&
           k1->pasid == k2->pasid;
}

static VTDPAddressSpace *vtdp_iommu_find_add_as(VTDPIOMMUState *s,
                                                PCIBus *bus, int devfn,
                                                uint32_t pasid)
{
    VTDPASKey key = { .bus = bus, .devfn = devfn, .pasid = pasid };
    VTDPAddressSpace *vas = g_hash_table_lookup(s->as_by_devfn, &key);
    g_autofree char *name = NULL;
    VTDPASKey *new_key;

    if (vas) {
        return vas;
    }

    vas = g_new0(VTDPAddressSpace, 1);
    vas->s = s;
    vas->bus = bus;
    vas->devfn = devfn;
    vas->pasid = pasid;

    if (pasid == PCI_NO_PASID) {
        name = g_strdup_printf("vtdp-%s-%02x.%x", BUS(bus)->name,
                               PCI_SLOT(devfn), PCI_FUNC(devfn));
    } else {
        name = g_strdup_printf("vtdp-%s-%02x.%x-pasid-%u", BUS(bus)->name,
                               PCI_SLOT(devfn), PCI_FUNC(devfn), pasid);
    }

    memory_region_init_iommu(&vas->iommu, sizeof(vas->iommu),
                             TYPE_VTDP_IOMMU_MEMORY_REGION, OBJECT(s),
                             name, UINT64_MAX);
    if (pasid != PCI_NO_PASID) {
        /*
         * Only untagged writes to the interrupt range are interrupt
         * messages (MSI/MSI-X writes carry no PASID).  A PASID space has
         * no window: its requests there reach the core, which faults
         * them (0x87), so a PASID's owner cannot raise interrupts by DMA.
         * The IOMMU region is the root itself: adding a subregion would
         * commit a memory transaction that regenerates every address
         * space's flat view, which makes creating N PASID spaces O(N^2)
         * (tens of seconds for 4096).
         */
        address_space_init(&vas->as, MEMORY_REGION(&vas->iommu), name);
    } else {
        memory_region_init(&vas->root, OBJECT(s), name, UINT64_MAX);
        memory_region_init_io(&vas->irq_window, OBJECT(s),
                              &vtdp_iommu_irq_ops, vas,
                              "vtdp-interrupt-window",
                              VTDP_INTERRUPT_RANGE_END -
                              VTDP_INTERRUPT_RANGE_START + 1);
        memory_region_add_subregion_overlap(&vas->root, 0,
                                            MEMORY_REGION(&vas->iommu), 0);
        memory_region_add_subregion_overlap(&vas->root,
                                            VTDP_INTERRUPT_RANGE_START,
                                            &vas->irq_window, 1);
        address_space_init(&vas->as, &vas->root, name);
    }

    new_key = g_new(VTDPASKey, 1);
    *new_key = key;
    g_hash_table_insert(s->as_by_devfn, new_key, vas);
    return vas;
}

static AddressSpace *vtdp_iommu_get_address_space(PCIBus *bus, void *opaque,
                                                  int devfn)
{
    VTDPIOMMUState *s = opaque;
    PCIDevice *self = PCI_DEVICE(s);

    /* The IOMMU's own accesses are not translated. */
    if (bus == pci_get_bus(self) && devfn == self->devfn) {
        return &address_space_memory;
    }
    return &vtdp_iommu_find_add_as(s, bus, devfn, PCI_NO_PASID)->as;
}

/*
 * PASID-tagged requests (qemu-patches/0005): one address space per
 * (bus, devfn, PASID), so translate() sees the PASID of every request.
 * Any 20-bit PASID gets one, even beyond pasid-bits or with PASID support
 * off, so that such requests fault in the core (PASID too large, context
 * without PASIDE) and show in the fault registers and log instead of
 * vanishing.  Address spaces live as long as the IOMMU, so their number
 * is bounded by max-pasid-spaces against a guest sweeping PASIDs; past the
 * bound a new PASID gets no address space and its requests fail at the
 * endpoint.
 */
static AddressSpace *vtdp_iommu_get_address_space_pasid(PCIBus *bus,
                                                        void *opaque,
                                                        int devfn,
                                                        uint32_t pasid)
{
    VTDPIOMMUState *s = opaque;
    PCIDevice *self = PCI_DEVICE(s);
    VTDPASKey key = { .bus = bus, .devfn = devfn, .pasid = pasid };

    if (pasid >> VTDP_PASID_MAX_BITS ||
        (bus == pci_get_bus(self) && devfn == self->devfn)) {
        return NULL;
    }
    if (!g_hash_table_lookup(s->as_by_devfn, &key)) {
        if (s->pasid_spaces >= s->max_pasid_spaces) {
            qemu_log_mask(LOG_GUEST_ERROR, "vtdp-iommu: no address space for "
                          "PASID 0x%x of %02x.%x: max-pasid-spaces (%u) "
                          "reached\n", pasid, PCI_SLOT(devfn),
                          PCI_FUNC(devfn), s->max_pasid_spaces);
            return NULL;
        }
        s->pasid_spaces++;
        trace_vtdp_iommu_pasid_as(BUS(bus)->name, devfn, pasid,
                                  s->pasid_spaces);
    }
    return &vtdp_iommu_find_add_as(s, bus, devfn, pasid)->as;
}

static const PCIIOMMUOps vtdp_iommu_pci_ops = {
    .get_address_space = vtdp_iommu_get_address_space,
    .get_address_space_pasid = vtdp_iommu_get_address_space_pasid,
};

/* ---------------------------------------------------------------------- */
/* Device                                                                  */

static void vtdp_iommu_realize(PCIDevice *dev, Error **errp)
{
    VTDPIOMMUState *s = VTDP_IOMMU(dev);
    PCIBus *bus = pci_get_bus(dev);
    struct vtdp_core_config cfg = {
        .aw_bits = s->aw_bits,
        .pasid_bits = s->pasid_bits,
        .nfr = s->nfr,
        .fault_log_size = s->fault_log_size,
        .iotlb_size = s->iotlb_size,
        .pasid_cache_size = s->pasid_cache_size,
        .first_stage = s->first_stage,
        .second_stage = s->second_stage,
        .pass_through = s->pass_through,
        .sanitize = s->sanitizer,
    };
    char err[256] = "";
    int i;

    if (bus->iommu_ops) {
        /* pci_setup_iommu() would silently replace the other IOMMU. */
        error_setg(errp, "bus %s already has an IOMMU", BUS(bus)->name);
        return;
    }

    if (vtdp_core_init(&s->core, &cfg, &vtdp_iommu_core_ops, s,
                       err, sizeof(err)) < 0) {
        error_setg(errp, "%s", err[0] ? err : "invalid configuration");
        return;
    }

    pci_config_set_vendor_id(dev->config, VTDP_PCI_VENDOR_ID);
    pci_config_set_device_id(dev->config, VTDP_IOMMU_PCI_DEVICE_ID);
    pci_config_set_class(dev->config, VTDP_IOMMU_PCI_CLASS);
    pci_config_set_interrupt_pin(dev->config, 0);

    memory_region_init_io(&s->regs, OBJECT(s), &vtdp_iommu_mmio_ops, s,
                          "vtdp-iommu-regs", VTDP_IOMMU_REG_SIZE);
    pci_register_bar(dev, VTDP_IOMMU_REG_BAR,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->regs);

    if (msix_init_exclusive_bar(dev, VTDP_IOMMU_NR_VECTORS,
                                VTDP_IOMMU_MSIX_BAR, errp)) {
        vtdp_core_destroy(&s->core);
        return;
    }
    for (i = 0; i < VTDP_IOMMU_NR_VECTORS; i++) {
        msix_vector_use(dev, i);
    }

    qemu_rec_mutex_init(&s->lock);
    s->irq_bh = qemu_bh_new_guarded(vtdp_iommu_irq_bh, s,
                                    &DEVICE(dev)->mem_reentrancy_guard);
    s->as_by_devfn = g_hash_table_new_full(vtdp_as_hash, vtdp_as_equal,
                                           g_free, NULL);
    s->bus = bus;
    s->core_ready = true;
    pci_setup_iommu(bus, &vtdp_iommu_pci_ops, s);

    trace_vtdp_iommu_realize(BUS(bus)->name, PCI_SLOT(dev->devfn),
                             PCI_FUNC(dev->devfn));
    trace_vtdp_iommu_config(cfg.aw_bits, cfg.pasid_bits, cfg.nfr,
                            cfg.fault_log_size, cfg.iotlb_size,
                            cfg.pasid_cache_size,
                            cfg.first_stage, cfg.second_stage,
                            cfg.pass_through);
}

static void vtdp_iommu_exit(PCIDevice *dev)
{
    VTDPIOMMUState *s = VTDP_IOMMU(dev);

    /*
     * vtdp-iommu is not hot-pluggable (the bus would keep pointers to our
     * address spaces), so this runs only at QEMU exit or after a failed
     * realize of a later device.
     */
    msix_uninit_exclusive_bar(dev);
    if (s->irq_bh) {
        qemu_bh_delete(s->irq_bh);
        s->irq_bh = NULL;
    }
    if (s->core_ready) {
        qemu_rec_mutex_lock(&s->lock);
        s->core_ready = false;
        vtdp_core_destroy(&s->core);
        qemu_rec_mutex_unlock(&s->lock);
    }
}

static void vtdp_iommu_reset(DeviceState *dev)
{
    VTDPIOMMUState *s = VTDP_IOMMU(dev);

    qatomic_set(&s->irq_pending, 0);
    if (vtdp_iommu_enter(s)) {
        s->fault_gen++;
        vtdp_core_reset(&s->core);
        vtdp_iommu_leave(s);
    }
}

static const Property vtdp_iommu_properties[] = {
    DEFINE_PROP_UINT8("aw-bits", VTDPIOMMUState, aw_bits, 48),
    DEFINE_PROP_UINT8("pasid-bits", VTDPIOMMUState, pasid_bits, 20),
    DEFINE_PROP_UINT16("nfr", VTDPIOMMUState, nfr, 8),
    DEFINE_PROP_UINT32("fault-log-size", VTDPIOMMUState, fault_log_size,
                       1024),
    DEFINE_PROP_UINT32("iotlb-size", VTDPIOMMUState, iotlb_size, 4096),
    DEFINE_PROP_UINT32("pasid-cache-size", VTDPIOMMUState, pasid_cache_size,
                       256),
    DEFINE_PROP_BOOL("first-stage", VTDPIOMMUState, first_stage, true),
    DEFINE_PROP_BOOL("second-stage", VTDPIOMMUState, second_stage, true),
    DEFINE_PROP_BOOL("pass-through", VTDPIOMMUState, pass_through, true),
    /* DMA sanitizer: report uses of stale cached entries (vtdp-core.h) */
    DEFINE_PROP_BOOL("sanitizer", VTDPIOMMUState, sanitizer, false),
    DEFINE_PROP_UINT32("max-pasid-spaces", VTDPIOMMUState, max_pasid_spaces,
                       4096),
};

static int vtdp_iommu_post_load(void *opaque, int version_id)
{
    VTDPIOMMUState *s = opaque;

    if (vtdp_iommu_enter(s)) {
        s->fault_gen++;
        vtdp_core_post_load(&s->core);
        vtdp_iommu_leave(s);
    }
    return 0;
}

/* One entry of the host-side fault log (struct vtdp_fault_record). */
static const VMStateDescription vtdp_fault_record_vmstate = {
    .name = TYPE_VTDP_IOMMU "/fault-record",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(index, struct vtdp_fault_record),
        VMSTATE_UINT64(time_ns, struct vtdp_fault_record),
        VMSTATE_UINT16(sid, struct vtdp_fault_record),
        VMSTATE_BOOL(pasid_valid, struct vtdp_fault_record),
        VMSTATE_UINT32(pasid, struct vtdp_fault_record),
        VMSTATE_UINT64(addr, struct vtdp_fault_record),
        VMSTATE_BOOL(write, struct vtdp_fault_record),
        VMSTATE_BOOL(priv, struct vtdp_fault_record),
        VMSTATE_BOOL(exec, struct vtdp_fault_record),
        VMSTATE_UINT8(reason, struct vtdp_fault_record),
        VMSTATE_BOOL(suppressed, struct vtdp_fault_record),
        VMSTATE_BOOL(dropped, struct vtdp_fault_record),
        VMSTATE_END_OF_LIST()
    },
};

#define VMSTATE_CORE_U32(f) VMSTATE_UINT32(core.f, VTDPIOMMUState)
#define VMSTATE_CORE_U64(f) VMSTATE_UINT64(core.f, VTDPIOMMUState)

/*
 * Everything the guest can observe: the register file (fault recording
 * registers included; queued invalidation is processed synchronously, so
 * IQH/IQT are the whole queue state) and the statistics behind the
 * counter registers; and the host-side fault log the monitor shows, so
 * the fault history survives too.  CAP and ECAP encode the configuration,
 * which must match, as must fault-log-size.  The translation caches are
 * not migrated (an empty cache is always correct).
 */
static const VMStateDescription vtdp_iommu_vmstate = {
    .name = TYPE_VTDP_IOMMU,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = vtdp_iommu_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, VTDPIOMMUState),
        VMSTATE_MSIX(parent_obj, VTDPIOMMUState),
        VMSTATE_UINT64_EQUAL(core.cap, VTDPIOMMUState,
                             "vtdp-iommu: source and destination "
                             "properties differ (CAP)"),
        VMSTATE_UINT64_EQUAL(core.ecap, VTDPIOMMUState,
                             "vtdp-iommu: source and destination "
                             "properties differ (ECAP)"),
        VMSTATE_CORE_U32(gsts),
        VMSTATE_CORE_U64(rtaddr),
        VMSTATE_CORE_U64(rtaddr_active),
        VMSTATE_CORE_U64(ccmd),
        VMSTATE_CORE_U32(fsts),
        VMSTATE_CORE_U32(fectl),
        VMSTATE_CORE_U64(iqh),
        VMSTATE_CORE_U64(iqt),
        VMSTATE_CORE_U64(iqa),
        VMSTATE_CORE_U32(ics),
        VMSTATE_CORE_U32(iectl),
        VMSTATE_CORE_U64(iqercd),
        VMSTATE_CORE_U64(iva),
        VMSTATE_CORE_U64(iotlb_reg),
        VMSTATE_UINT64_2DARRAY(core.frcd, VTDPIOMMUState, VTDP_FRCD_MAX, 2),
        VMSTATE_CORE_U32(frcd_next),
        VMSTATE_CORE_U64(stats.translations),
        VMSTATE_CORE_U64(stats.iotlb_hits),
        VMSTATE_CORE_U64(stats.iotlb_misses),
        VMSTATE_CORE_U64(stats.iotlb_evictions),
        VMSTATE_CORE_U64(stats.ctx_hits),
        VMSTATE_CORE_U64(stats.ctx_misses),
        VMSTATE_CORE_U64(stats.pc_hits),
        VMSTATE_CORE_U64(stats.pc_misses),
        VMSTATE_CORE_U64(stats.faults_recorded),
        VMSTATE_CORE_U64(stats.faults_suppressed),
        VMSTATE_CORE_U64(stats.faults_dropped),
        VMSTATE_CORE_U64(stats.inv_context),
        VMSTATE_CORE_U64(stats.inv_pasid_cache),
        VMSTATE_CORE_U64(stats.inv_iotlb),
        VMSTATE_CORE_U64(stats.inv_piotlb),
        VMSTATE_CORE_U64(stats.inv_devtlb),
        VMSTATE_CORE_U64(stats.inv_wait),
        VMSTATE_CORE_U64(stats.inv_errors),
        VMSTATE_CORE_U64(stats.inv_iec),
        VMSTATE_CORE_U64(stats.sanitizer_reports),
        VMSTATE_UINT32_EQUAL(core.cfg.fault_log_size, VTDPIOMMUState,
                             "vtdp-iommu: source and destination "
                             "fault-log-size differ"),
        VMSTATE_CORE_U64(log_total),
        VMSTATE_CORE_U64(log_clear_base),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(core.log, VTDPIOMMUState,
                                             core.cfg.fault_log_size,
                                             vtdp_fault_record_vmstate,
                                             struct vtdp_fault_record),
        VMSTATE_END_OF_LIST()
    },
};

static void vtdp_iommu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = vtdp_iommu_realize;
    k->exit = vtdp_iommu_exit;
    k->vendor_id = VTDP_PCI_VENDOR_ID;
    k->device_id = VTDP_IOMMU_PCI_DEVICE_ID;
    k->class_id = VTDP_IOMMU_PCI_CLASS;
    k->revision = 0;
    dc->desc = "vtdp VT-d style IOMMU with PASID";
    dc->vmsd = &vtdp_iommu_vmstate;
    dc->hotpluggable = false;
    device_class_set_legacy_reset(dc, vtdp_iommu_reset);
    device_class_set_props(dc, vtdp_iommu_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static void vtdp_iommu_memory_region_class_init(ObjectClass *klass,
                                                void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vtdp_iommu_translate;
    imrc->attrs_to_index = vtdp_iommu_attrs_to_index;
    imrc->num_indexes = vtdp_iommu_num_indexes;
    imrc->notify_flag_changed = vtdp_iommu_notify_flag_changed;
}

static const TypeInfo vtdp_iommu_types[] = {
    {
        .name = TYPE_VTDP_IOMMU,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(VTDPIOMMUState),
        .class_init = vtdp_iommu_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    }, {
        .name = TYPE_VTDP_IOMMU_MEMORY_REGION,
        .parent = TYPE_IOMMU_MEMORY_REGION,
        .class_init = vtdp_iommu_memory_region_class_init,
    },
};

DEFINE_TYPES(vtdp_iommu_types)

/* ---------------------------------------------------------------------- */
/* For the monitor (vtdp-monitor.c)                                        */

static gint vtdp_as_compare(gconstpointer a, gconstpointer b)
{
    const VTDPAddressSpace *x = *(VTDPAddressSpace * const *)a;
    const VTDPAddressSpace *y = *(VTDPAddressSpace * const *)b;
    uint32_t kx = PCI_BUILD_BDF(pci_bus_num(x->bus), x->devfn);
    uint32_t ky = PCI_BUILD_BDF(pci_bus_num(y->bus), y->devfn);

    if (kx != ky) {
        return kx < ky ? -1 : 1;
    }
    /* Untagged (PCI_NO_PASID) before the PASIDs, then by PASID. */
    if (x->pasid != y->pasid) {
        return x->pasid == PCI_NO_PASID ? -1 :
               y->pasid == PCI_NO_PASID ? 1 : (x->pasid < y->pasid ? -1 : 1);
    }
    return 0;
}

void vtdp_iommu_foreach_address_space(VTDPIOMMUState *s,
                                      VTDPAddressSpaceFn fn, void *opaque)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    GHashTableIter iter;
    gpointer vas_ptr;

    g_hash_table_iter_init(&iter, s->as_by_devfn);
    while (g_hash_table_iter_next(&iter, NULL, &vas_ptr)) {
        g_ptr_array_add(all, vas_ptr);
    }

    /* By requester id and PASID, so the monitor's output is stable. */
    g_ptr_array_sort(all, vtdp_as_compare);
    for (guint i = 0; i < all->len; i++) {
        VTDPAddressSpace *vas = all->pdata[i];

        fn(PCI_BUILD_BDF(pci_bus_num(vas->bus), vas->devfn),
           vas->pasid != PCI_NO_PASID,
           vas->pasid != PCI_NO_PASID ? vas->pasid : 0, opaque);
    }
}
