/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vtdp qtest environment: q35 with vtdp-iommu and vtdp-testdev, the
 * translation tables built in guest RAM by a bump allocator, DMA issued
 * by the testdev, and the invalidation queue.  Shared by the qtests that
 * drive both devices (vtdp-iommu-test, vtdp-hostile-test).
 */
#ifndef VTDP_QTEST_ENV_H
#define VTDP_QTEST_ENV_H

#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "standard-headers/linux/pci_regs.h"
#include "vtdp-qtest.h"
#include "../../include/vtdp/iommu-hw.h"
#include "../../include/vtdp/testdev-hw.h"

#define VTDP_TEST_SLOT  4
#define VTDP_TD_SLOT    5

/* Guest-physical layout of the DMA test (q35 default RAM is 128 MiB). */
#define T_ROOT          0x100000ULL
#define T_CTX           0x101000ULL
#define T_PDIR          0x102000ULL
#define T_PTBL          0x103000ULL
#define T_RING          0x200000ULL
#define T_DST           0x300000ULL
#define T_MSI           0x400000ULL     /* fault event MSI lands in RAM */
#define T_MSI_DATA      0x4d5349

typedef struct VtdpTest {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
} VtdpTest;

/*
 * Start q35 with vtdp-iommu and vtdp-testdev, each with extra properties,
 * and @extra QEMU arguments.
 */
static inline void vtdp_test_start3(VtdpTest *t, const char *props,
                                    const char *td_props, const char *extra)
{
    t->qts = qtest_initf("-M q35 -nodefaults "
                         "-device vtdp-iommu,addr=%02x.0%s%s "
                         "-device vtdp-testdev,addr=%02x.0%s%s %s",
                         VTDP_TEST_SLOT, props ? "," : "",
                         props ? props : "", VTDP_TD_SLOT,
                         td_props ? "," : "", td_props ? td_props : "",
                         extra ? extra : "");
    t->bus = qpci_new_pc(t->qts, NULL);
    t->dev = qpci_device_find(t->bus, QPCI_DEVFN(VTDP_TEST_SLOT, 0));
    g_assert(t->dev);
    qpci_device_enable(t->dev);
    t->bar = qpci_iomap(t->dev, VTDP_IOMMU_REG_BAR, NULL);
}

static inline void vtdp_test_start2(VtdpTest *t, const char *props,
                                    const char *td_props)
{
    vtdp_test_start3(t, props, td_props, NULL);
}

static inline void vtdp_test_start(VtdpTest *t, const char *props)
{
    vtdp_test_start2(t, props, NULL);
}

static inline void vtdp_test_stop(VtdpTest *t)
{
    g_free(t->dev);
    qpci_free_pc(t->bus);
    qtest_quit(t->qts);
}

static inline uint32_t rd32(VtdpTest *t, uint64_t off)
{
    return qpci_io_readl(t->dev, t->bar, off);
}

static inline uint64_t rd64(VtdpTest *t, uint64_t off)
{
    return qpci_io_readq(t->dev, t->bar, off);
}

static inline void wr32(VtdpTest *t, uint64_t off, uint32_t val)
{
    qpci_io_writel(t->dev, t->bar, off, val);
}

static inline void wr64(VtdpTest *t, uint64_t off, uint64_t val)
{
    qpci_io_writeq(t->dev, t->bar, off, val);
}

/*
 * Guest-physical layout (q35 default RAM is 128 MiB): translation tables
 * from a bump allocator at T_TABLES, one ring page per testdev queue, the
 * invalidation queue, and data pages.  T_ECAM is where the tests map the
 * PCIe extended configuration space (the PASID capability lives there,
 * out of reach of the 0xcf8/0xcfc accesses libqos uses).
 */
#define T_TABLES        0x1000000ULL
#define T_TABLES_END    0x3000000ULL
#define T_QRING(q)      (0x500000ULL + (q) * 0x1000ULL)
#define T_IQ            0x600000ULL
#define T_STATUS        0x602000ULL
#define T_MSI_INV       (T_MSI + 0x10)
#define T_MSI_INV_DATA  0x494e56
#define T_DATA(n)       (0x3000000ULL + (n) * 0x1000ULL)
#define T_VA            T_DATA(64)      /* IOVA the PASIDs map differently */
#define T_ECAM          VTDP_QTEST_ECAM
#define T_SS_RW         (VTDP_SS_R | VTDP_SS_W)

typedef struct Env {
    VtdpTest t;
    QPCIDevice *td;
    QPCIBar tdbar;
    uint16_t sid;
    uint64_t next;                  /* bump allocator */
    uint64_t root, ctx, pdir;
    uint16_t pasid_cap;             /* testdev PASID capability, ECAM offset */
    uint32_t iq_tail;               /* 128-bit slots */
    bool iq_dw;
} Env;

typedef struct TdResult {
    uint32_t qstatus;
    uint32_t status;
    uint32_t fault_info;
    uint64_t fault_addr;
} TdResult;

static inline uint64_t env_alloc(Env *e, unsigned int pages)
{
    uint64_t a = e->next;

    e->next += pages * 0x1000ULL;
    g_assert_cmphex(e->next, <=, T_TABLES_END);
    qtest_memset(e->t.qts, a, 0, pages * 0x1000ULL);
    return a;
}

static inline uint64_t ctx_default(Env *e)
{
    /* PASIDs enabled, PDTS 7: a 2^14-entry directory for 20-bit PASIDs */
    return e->pdir | VTDP_CTX_P | VTDP_CTX_PASIDE |
           (7ULL << VTDP_CTX_PDTS_SHIFT);
}

static inline uint64_t ctx_addr(Env *e)
{
    return e->ctx + (e->sid & 0x7f) * 32;
}

/* PASID table entry of @pasid, creating its PASID table if needed. */
static inline uint64_t pe_addr(Env *e, uint32_t pasid)
{
    uint64_t de = e->pdir + VTDP_PASID_DIR_INDEX(pasid) * 8;
    uint64_t d = qtest_readq(e->t.qts, de);

    if (!(d & VTDP_PDIR_P)) {
        d = env_alloc(e, 1) | VTDP_PDIR_P;
        qtest_writeq(e->t.qts, de, d);
    }
    return (d & VTDP_ADDR_MASK) + VTDP_PASID_TBL_INDEX(pasid) * 64;
}

static inline void set_pe(Env *e, uint32_t pasid, uint64_t q0, uint64_t q1,
                          uint64_t q2)
{
    uint64_t a = pe_addr(e, pasid);

    qtest_memset(e->t.qts, a, 0, 64);
    qtest_writeq(e->t.qts, a + 8, q1);
    qtest_writeq(e->t.qts, a + 16, q2);
    qtest_writeq(e->t.qts, a, q0);
}

/* Second-stage-only PASID entry: 4-level table @l4, domain @did. */
static inline void set_pe_ss(Env *e, uint32_t pasid, uint16_t did,
                             uint64_t l4, uint64_t q2)
{
    set_pe(e, pasid, l4 | VTDP_PE0_P |
           ((uint64_t)VTDP_PE_AW_48 << VTDP_PE0_AW_SHIFT) |
           ((uint64_t)VTDP_PGTT_SS << VTDP_PE0_PGTT_SHIFT), did, q2);
}

/* Map the 4 KiB page @iova to @pa with @perm; returns the leaf's GPA. */
static inline uint64_t ss_map(Env *e, uint64_t l4, uint64_t iova,
                              uint64_t pa, uint64_t perm)
{
    uint64_t table = l4, leaf;
    int level;

    for (level = 4; level > 1; level--) {
        uint64_t ea = table + 8 * VTDP_LEVEL_INDEX(iova, level);
        uint64_t ent = qtest_readq(e->t.qts, ea);

        if (!(ent & T_SS_RW)) {
            ent = env_alloc(e, 1) | T_SS_RW;
            qtest_writeq(e->t.qts, ea, ent);
        }
        table = ent & VTDP_ADDR_MASK;
    }
    leaf = table + 8 * VTDP_LEVEL_INDEX(iova, 1);
    qtest_writeq(e->t.qts, leaf, pa | perm);
    return leaf;
}

/* MSI-X vector @v of the IOMMU writes @data to @addr. */
static inline void msix_vector(VtdpTest *t, int v, uint64_t addr,
                               uint32_t data)
{
    uint64_t off = t->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   off + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr);
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   off + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   off + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(t->dev, t->dev->msix_table_bar,
                   off + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

/* MSI-X vector @v of the IOMMU writes @data to RAM at @addr (cleared). */
static inline void msix_to_ram(VtdpTest *t, int v, uint64_t addr,
                               uint32_t data)
{
    msix_vector(t, v, addr, data);
    qtest_writel(t->qts, addr, 0);
}

static inline void td_pasid_ctrl(Env *e, uint16_t val)
{
    qtest_writew(e->t.qts, vtdp_ecam(e->sid, e->pasid_cap + PCI_PASID_CTRL),
                 val);
}

/*
 * Root, context and PASID directory for the testdev, RID_PASID (0) as a
 * pass-through entry (rings and untagged DMA are identity mapped), both
 * IOMMU vectors delivered to RAM, translation on, fault and invalidation
 * events unmasked, the testdev's PASID capability enabled.
 */
static inline void env_start3(Env *e, const char *props, const char *td_props,
                              const char *extra)
{
    QTestState *qts;

    memset(e, 0, sizeof(*e));
    vtdp_test_start3(&e->t, props, td_props, extra);
    qts = e->t.qts;
    e->td = qpci_device_find(e->t.bus, QPCI_DEVFN(VTDP_TD_SLOT, 0));
    g_assert(e->td);
    qpci_device_enable(e->td);
    e->tdbar = qpci_iomap(e->td, VTDP_TESTDEV_REG_BAR, NULL);
    e->sid = QPCI_DEVFN(VTDP_TD_SLOT, 0);           /* bus 0 */

    vtdp_ecam_enable(e->t.bus);
    e->pasid_cap = vtdp_find_ext_cap(qts, e->sid, PCI_EXT_CAP_ID_PASID);
    if (e->pasid_cap) {
        td_pasid_ctrl(e, PCI_PASID_CTRL_ENABLE);
    }

    e->next = T_TABLES;
    e->root = env_alloc(e, 1);
    e->ctx = env_alloc(e, 1);
    e->pdir = env_alloc(e, 32);
    qtest_writeq(qts, e->root, e->ctx | VTDP_ROOT_P);
    qtest_writeq(qts, ctx_addr(e), ctx_default(e));
    set_pe(e, 0, VTDP_PE0_P | ((uint64_t)VTDP_PGTT_PT << VTDP_PE0_PGTT_SHIFT),
           1, 0);

    qpci_msix_enable(e->t.dev);
    msix_to_ram(&e->t, VTDP_IOMMU_VEC_FAULT, T_MSI, T_MSI_DATA);
    msix_to_ram(&e->t, VTDP_IOMMU_VEC_INV, T_MSI_INV, T_MSI_INV_DATA);
    wr32(&e->t, VTDP_REG_FECTL, 0);
    wr32(&e->t, VTDP_REG_IECTL, 0);

    wr64(&e->t, VTDP_REG_RTADDR, e->root | VTDP_RTADDR_TTM_SM);
    wr32(&e->t, VTDP_REG_GCMD, VTDP_GCMD_SRTP);
    wr32(&e->t, VTDP_REG_GCMD, VTDP_GCMD_TE);
    g_assert_true(rd32(&e->t, VTDP_REG_GSTS) & VTDP_GSTS_TES);
}

static inline void env_start(Env *e, const char *props, const char *td_props)
{
    env_start3(e, props, td_props, NULL);
}

static inline void env_stop(Env *e)
{
    g_free(e->td);
    vtdp_test_stop(&e->t);
}

/*
 * Wait, at most 20 s, until queue @q of the testdev behind @bar completed
 * the first descriptor of its ring (QHEAD 1) or stopped (HALTED,
 * RING_FAULT), and return QSTATUS read after that: the queue's worker
 * completes a descriptor (QHEAD, QSTATUS, one BQL section) possibly
 * between two of our reads.
 */
static inline uint32_t td_wait_first(QPCIDevice *td, QPCIBar bar,
                                     unsigned int q)
{
    uint32_t st;
    int i;

    for (i = 0; i < 20000; i++) {
        st = qpci_io_readl(td, bar, VTDP_TD_QREG(q, VTDP_TD_QSTATUS));
        if ((st & (VTDP_TD_QSTATUS_HALTED | VTDP_TD_QSTATUS_RING_FAULT)) ||
            qpci_io_readl(td, bar, VTDP_TD_QREG(q, VTDP_TD_QHEAD)) == 1) {
            return qpci_io_readl(td, bar, VTDP_TD_QREG(q, VTDP_TD_QSTATUS));
        }
        g_usleep(1000);
    }
    g_assert_not_reached();
}

/*
 * Run one 8-byte WRITE_IMM of @val to @dst on testdev queue @q (its own
 * 2-entry ring); @qctrl adds QCTRL bits (PASID_EN, PRIV), @pasid goes to
 * QPASID.  The queue halts on a DMA error.
 */
static inline TdResult td_imm(Env *e, unsigned int q, uint32_t qctrl,
                              uint32_t pasid, uint64_t dst, uint64_t val)
{
    QPCIDevice *td = e->td;
    uint64_t ring = T_QRING(q);
    uint8_t desc[VTDP_TD_DESC_SIZE] = { 0 };
    TdResult r = { 0 };

    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QCTRL), 0);
    qpci_io_writeq(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QRING_BASE), ring);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QRING_SIZE), 2);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QPASID), pasid);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QCTRL),
                   VTDP_TD_QCTRL_ENABLE | VTDP_TD_QCTRL_HALT_ON_ERROR | qctrl);

    desc[0] = VTDP_TD_OP_WRITE_IMM;
    desc[4] = 8;
    stq_le_p(&desc[16], dst);
    stq_le_p(&desc[24], val);
    qtest_memwrite(e->t.qts, ring, desc, sizeof(desc));
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QTAIL), 1);
    r.qstatus = td_wait_first(td, e->tdbar, q);
    g_assert_false(r.qstatus & VTDP_TD_QSTATUS_RING_FAULT);
    r.status = qtest_readl(e->t.qts, ring + 40);
    r.fault_info = qtest_readl(e->t.qts, ring + 44);
    r.fault_addr = qtest_readq(e->t.qts, ring + 56);
    g_assert_true(r.status & VTDP_TD_ST_DONE);
    return r;
}

static inline bool td_imm_ok(Env *e, unsigned int q, uint32_t qctrl,
                             uint32_t pasid, uint64_t dst, uint64_t val)
{
    TdResult r = td_imm(e, q, qctrl, pasid, dst, val);

    return VTDP_TD_ST_CODE(r.status) == VTDP_TD_ST_OK;
}

static inline uint64_t frcd(Env *e, unsigned int i, bool hi)
{
    return rd64(&e->t, VTDP_REG_FRCD_BASE + i * VTDP_FRCD_SIZE + (hi ? 8 : 0));
}

static inline void frcd_clear(Env *e, unsigned int i)
{
    wr64(&e->t, VTDP_REG_FRCD_BASE + i * VTDP_FRCD_SIZE + 8, VTDP_FRCD_HI_F);
}


/* Queued invalidation */

#define IQ_SLOTS        256             /* QS 0: one 4 KiB page */

#define D_CC(g, did, sid, fm)   (VTDP_INV_TYPE_CC | (g) |               \
                                 (uint64_t)(did) << 16 |                \
                                 (uint64_t)(sid) << 32 |                \
                                 (uint64_t)(fm) << 48)
#define D_IOTLB(g, did)         (VTDP_INV_TYPE_IOTLB | (g) |            \
                                 VTDP_INV_IOTLB_DR | VTDP_INV_IOTLB_DW | \
                                 (uint64_t)(did) << 16)
#define D_PIOTLB(g, did, pasid) (VTDP_INV_TYPE_PIOTLB | (g) |           \
                                 (uint64_t)(did) << 16 |                \
                                 (uint64_t)(pasid) << 32)
#define D_PC(g, did, pasid)     (VTDP_INV_TYPE_PC | (g) |               \
                                 (uint64_t)(did) << 16 |                \
                                 (uint64_t)(pasid) << 32)
#define D_WAIT(flags, data)     (VTDP_INV_TYPE_WAIT | (flags) |         \
                                 (uint64_t)(data) << 32)

/* GCMD write that keeps the other persistent enables as they are. */
static inline void gcmd_set(Env *e, uint32_t bit, bool on)
{
    uint32_t keep = rd32(&e->t, VTDP_REG_GSTS) &
                    (VTDP_GSTS_TES | VTDP_GSTS_QIES);

    wr32(&e->t, VTDP_REG_GCMD, on ? keep | bit : keep & ~bit);
}

static inline void qi_enable(Env *e, bool dw)
{
    gcmd_set(e, VTDP_GCMD_QIE, false);
    qtest_memset(e->t.qts, T_IQ, 0, 0x1000);
    wr64(&e->t, VTDP_REG_IQT, 0);
    wr64(&e->t, VTDP_REG_IQA, T_IQ | (dw ? VTDP_IQA_DW : 0));
    gcmd_set(e, VTDP_GCMD_QIE, true);
    g_assert_true(rd32(&e->t, VTDP_REG_GSTS) & VTDP_GSTS_QIES);
    g_assert_true(rd32(&e->t, VTDP_REG_GSTS) & VTDP_GSTS_TES);
    g_assert_cmphex(rd64(&e->t, VTDP_REG_IQH), ==, 0);
    e->iq_tail = 0;
    e->iq_dw = dw;
}

/* Write a descriptor at the tail (upper half zero in 256-bit mode). */
static inline uint64_t qi_put(Env *e, uint64_t lo, uint64_t hi)
{
    uint64_t a = T_IQ + e->iq_tail * 16ULL;

    qtest_writeq(e->t.qts, a, lo);
    qtest_writeq(e->t.qts, a + 8, hi);
    if (e->iq_dw) {
        qtest_writeq(e->t.qts, a + 16, 0);
        qtest_writeq(e->t.qts, a + 24, 0);
    }
    e->iq_tail = (e->iq_tail + (e->iq_dw ? 2 : 1)) % IQ_SLOTS;
    return a;
}

static inline void qi_kick(Env *e)
{
    wr64(&e->t, VTDP_REG_IQT, (uint64_t)e->iq_tail << VTDP_IQ_INDEX_SHIFT);
}

/* Submit one descriptor; the queue must consume it without error. */
static inline void qi_run(Env *e, uint64_t lo, uint64_t hi)
{
    qi_put(e, lo, hi);
    qi_kick(e);
    g_assert_cmphex(rd32(&e->t, VTDP_REG_FSTS) & VTDP_FSTS_IQE, ==, 0);
    g_assert_cmphex(rd64(&e->t, VTDP_REG_IQH), ==,
                    (uint64_t)e->iq_tail << VTDP_IQ_INDEX_SHIFT);
}

static inline uint32_t msi_taken(Env *e)
{
    uint32_t v = qtest_readl(e->t.qts, T_MSI);

    qtest_writel(e->t.qts, T_MSI, 0);
    return v;
}

#endif /* VTDP_QTEST_ENV_H */
