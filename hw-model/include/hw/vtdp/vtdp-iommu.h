/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp-iommu: QEMU device state of the PCI IOMMU function.
 *
 * The guest-visible behaviour lives in the translation core
 * (core/vtdp-core.h); this is the QOM/PCI wrapper around it.
 */
#ifndef HW_VTDP_VTDP_IOMMU_H
#define HW_VTDP_VTDP_IOMMU_H

#include "hw/pci/pci_device.h"
#include "exec/memory.h"
#include "qemu/thread.h"
#include "vtdp-core.h"

#define TYPE_VTDP_IOMMU "vtdp-iommu"
OBJECT_DECLARE_SIMPLE_TYPE(VTDPIOMMUState, VTDP_IOMMU)

#define TYPE_VTDP_IOMMU_MEMORY_REGION "vtdp-iommu-memory-region"

typedef struct VTDPAddressSpace VTDPAddressSpace;

struct VTDPIOMMUState {
    PCIDevice parent_obj;

    MemoryRegion regs;              /* BAR 0: register file */

    /* Properties, copied into the core at realize. */
    uint8_t aw_bits;
    uint8_t pasid_bits;
    uint16_t nfr;
    uint32_t fault_log_size;
    uint32_t iotlb_size;
    uint32_t pasid_cache_size;
    bool first_stage;
    bool second_stage;
    bool pass_through;
    bool sanitizer;
    uint32_t max_pasid_spaces;      /* bound on PASID address spaces */

    /*
     * Serialises every call into the core.  Recursive so that a core
     * callback re-entering the device from the same thread (guest tables
     * placed on our own BAR) is detected through @in_core instead of
     * deadlocking.
     */
    QemuRecMutex lock;
    bool in_core;
    bool core_ready;
    struct vtdp_core core;

    /*
     * QEMU splits a failing DMA access into 4-byte accesses, each
     * translated again on the same thread; without this one request to an
     * unmapped page would record up to 1024 faults.  The last fault of
     * each thread is remembered (VTDPLastFault in vtdp-iommu.c) and a
     * translation continuing it (same requester, direction and page,
     * higher address) fails without being recorded again.  A successful
     * translation on that thread forgets it; a register write that can
     * change translations (not the fault status and recording registers),
     * a reset or a migration forget every thread's by advancing this.
     */
    uint64_t fault_gen;

    /* Vectors raised without the BQL, notified by @irq_bh (BIT(vector)) */
    QEMUBH *irq_bh;
    uint32_t irq_pending;

    PCIBus *bus;                    /* the bus we translate for */
    GHashTable *as_by_devfn;        /* (bus, devfn, pasid) -> address space */
    uint32_t pasid_spaces;          /* PASID-tagged entries in as_by_devfn */
};

/*
 * Call @fn for every DMA address space handed out so far: requester id,
 * whether it is PASID-tagged, and the PASID.  Needs the BQL.
 */
typedef void (*VTDPAddressSpaceFn)(uint16_t sid, bool has_pasid,
                                   uint32_t pasid, void *opaque);
void vtdp_iommu_foreach_address_space(VTDPIOMMUState *s,
                                      VTDPAddressSpaceFn fn, void *opaque);

#endif /* HW_VTDP_VTDP_IOMMU_H */
