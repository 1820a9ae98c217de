/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for vtdp-iommu: register-level checks on bare metal (no firmware
 * tables, no guest driver).
 *
 * Build: scripts/build-qemu tests/qtest/vtdp-iommu-test
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "standard-headers/linux/pci_regs.h"
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

static void vtdp_test_start(VtdpTest *t, const char *props)
{
    t->qts = qtest_initf("-M q35 -nodefaults "
                         "-device vtdp-iommu,addr=%02x.0%s%s "
                         "-device vtdp-testdev,addr=%02x.0",
                         VTDP_TEST_SLOT, props ? "," : "",
                         props ? props : "", VTDP_TD_SLOT);
    t->bus = qpci_new_pc(t->qts, NULL);
    t->dev = qpci_device_find(t->bus, QPCI_DEVFN(VTDP_TEST_SLOT, 0));
    g_assert(t->dev);
    qpci_device_enable(t->dev);
    t->bar = qpci_iomap(t->dev, VTDP_IOMMU_REG_BAR, NULL);
}

static void vtdp_test_stop(VtdpTest *t)
{
    g_free(t->dev);
    qpci_free_pc(t->bus);
    qtest_quit(t->qts);
}

static uint32_t rd32(VtdpTest *t, uint64_t off)
{
    return qpci_io_readl(t->dev, t->bar, off);
}

static uint64_t rd64(VtdpTest *t, uint64_t off)
{
    return qpci_io_readq(t->dev, t->bar, off);
}

static void wr32(VtdpTest *t, uint64_t off, uint32_t val)
{
    qpci_io_writel(t->dev, t->bar, off, val);
}

static void wr64(VtdpTest *t, uint64_t off, uint64_t val)
{
    qpci_io_writeq(t->dev, t->bar, off, val);
}

static void test_pci_identity(void)
{
    VtdpTest t;

    vtdp_test_start(&t, NULL);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_VENDOR_ID), ==,
                    VTDP_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_DEVICE_ID), ==,
                    VTDP_IOMMU_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_CLASS_DEVICE), ==,
                    VTDP_IOMMU_PCI_CLASS);
    g_assert_cmpint(qpci_msix_table_size(t.dev), ==, VTDP_IOMMU_NR_VECTORS);
    vtdp_test_stop(&t);
}

static void test_cap_ecap(void)
{
    VtdpTest t;
    uint64_t cap, ecap;

    vtdp_test_start(&t, NULL);
    g_assert_cmphex(rd32(&t, VTDP_REG_VER), ==, VTDP_VERSION);

    cap = rd64(&t, VTDP_REG_CAP);
    g_assert_cmpint(VTDP_CAP_MGAW(cap), ==, 48);
    g_assert_true(cap & VTDP_CAP_SAGAW_48);
    g_assert_cmpint(VTDP_CAP_NFR(cap), ==, 8);
    g_assert_cmphex(VTDP_CAP_FRO(cap), ==, VTDP_REG_FRCD_BASE);
    /* 32-bit halves agree with the 64-bit view */
    g_assert_cmphex(rd32(&t, VTDP_REG_CAP), ==, (uint32_t)cap);
    g_assert_cmphex(rd32(&t, VTDP_REG_CAP + 4), ==, cap >> 32);

    ecap = rd64(&t, VTDP_REG_ECAP);
    g_assert_cmphex(VTDP_ECAP_IRO(ecap), ==, VTDP_IOTLB_REG_OFFSET);
    g_assert_true(ecap & VTDP_ECAP_QI);
    g_assert_true(ecap & VTDP_ECAP_SMTS);
    g_assert_true(ecap & VTDP_ECAP_PASID);
    g_assert_cmpint(VTDP_ECAP_PSS(ecap), ==, 20 - 1);
    g_assert_true(ecap & VTDP_ECAP_FLTS);
    g_assert_true(ecap & VTDP_ECAP_SLTS);
    g_assert_true(ecap & VTDP_ECAP_PT);

    /* Nothing enabled at reset */
    g_assert_cmphex(rd32(&t, VTDP_REG_GSTS), ==, 0);
    g_assert_cmphex(rd32(&t, VTDP_REG_FSTS), ==, 0);
    vtdp_test_stop(&t);
}

static void test_properties(void)
{
    VtdpTest t;
    uint64_t cap, ecap;

    vtdp_test_start(&t, "nfr=4,pasid-bits=8,first-stage=off,"
                    "pass-through=off");
    cap = rd64(&t, VTDP_REG_CAP);
    ecap = rd64(&t, VTDP_REG_ECAP);
    g_assert_cmpint(VTDP_CAP_NFR(cap), ==, 4);
    g_assert_cmpint(VTDP_ECAP_PSS(ecap), ==, 8 - 1);
    g_assert_false(ecap & VTDP_ECAP_FLTS);
    g_assert_true(ecap & VTDP_ECAP_SLTS);
    g_assert_false(ecap & VTDP_ECAP_PT);
    vtdp_test_stop(&t);
}

static void test_gcmd_gsts(void)
{
    VtdpTest t;
    const uint64_t rt = 0x100000 | VTDP_RTADDR_TTM_SM;

    vtdp_test_start(&t, NULL);
    wr64(&t, VTDP_REG_RTADDR, rt);
    g_assert_cmphex(rd64(&t, VTDP_REG_RTADDR), ==, rt);

    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_SRTP);
    g_assert_true(rd32(&t, VTDP_REG_GSTS) & VTDP_GSTS_RTPS);
    g_assert_false(rd32(&t, VTDP_REG_GSTS) & VTDP_GSTS_TES);

    /* Software writes GSTS's persistent bits back with the new one. */
    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_TE);
    g_assert_true(rd32(&t, VTDP_REG_GSTS) & VTDP_GSTS_TES);

    wr32(&t, VTDP_REG_GCMD, 0);
    g_assert_false(rd32(&t, VTDP_REG_GSTS) & VTDP_GSTS_TES);
    vtdp_test_stop(&t);
}

/* Accesses a driver would never make must not crash or change state. */
static void test_hostile_access(void)
{
    VtdpTest t;
    uint64_t cap;
    uint64_t off;

    vtdp_test_start(&t, NULL);
    cap = rd64(&t, VTDP_REG_CAP);

    for (off = 0; off < 0x20; off++) {
        qpci_io_readb(t.dev, t.bar, off);
        qpci_io_writeb(t.dev, t.bar, off, 0xff);
        qpci_io_readw(t.dev, t.bar, off);
        qpci_io_writew(t.dev, t.bar, off, 0xffff);
    }
    /* misaligned 4- and 8-byte accesses */
    qpci_io_readl(t.dev, t.bar, VTDP_REG_GCMD + 1);
    qpci_io_writel(t.dev, t.bar, VTDP_REG_GCMD + 2, 0xffffffff);
    qpci_io_readq(t.dev, t.bar, VTDP_REG_RTADDR + 4);
    qpci_io_writeq(t.dev, t.bar, VTDP_REG_RTADDR + 3, ~0ULL);
    /* last bytes of the register file, and unimplemented offsets */
    qpci_io_writel(t.dev, t.bar, VTDP_IOMMU_REG_SIZE - 4, 0xffffffff);
    qpci_io_readq(t.dev, t.bar, VTDP_IOMMU_REG_SIZE - 8);
    qpci_io_writeq(t.dev, t.bar, 0xff8, ~0ULL);
    /* read-only registers ignore writes */
    wr64(&t, VTDP_REG_CAP, 0);
    wr32(&t, VTDP_REG_VER, 0);

    g_assert_cmphex(rd64(&t, VTDP_REG_CAP), ==, cap);
    g_assert_cmphex(rd32(&t, VTDP_REG_VER), ==, VTDP_VERSION);
    g_assert_false(rd32(&t, VTDP_REG_GSTS) & VTDP_GSTS_TES);
    vtdp_test_stop(&t);
}

static void test_hmp_no_faults(void)
{
    VtdpTest t;
    g_autofree char *out = NULL;

    vtdp_test_start(&t, NULL);
    out = qtest_hmp(t.qts, "info vtdp-faults");
    g_assert_nonnull(strstr(out, "no faults"));
    g_assert_nonnull(strstr(out, "recorded 0, suppressed 0, dropped 0"));
    vtdp_test_stop(&t);
}

static void test_hmp_no_device(void)
{
    QTestState *qts = qtest_init("-M q35 -nodefaults");
    g_autofree char *out = qtest_hmp(qts, "info vtdp-faults");

    g_assert_nonnull(strstr(out, "No vtdp-iommu device"));
    qtest_quit(qts);
}

/* Run one WRITE_IMM descriptor on testdev queue 0; returns QSTATUS. */
static uint32_t td_write_imm(VtdpTest *t, QPCIDevice *td, QPCIBar bar,
                             uint64_t dst, uint64_t val)
{
    uint8_t desc[VTDP_TD_DESC_SIZE] = { 0 };
    uint32_t st = 0;
    int i;

    qpci_io_writel(td, bar, VTDP_TD_QREG(0, VTDP_TD_QCTRL), 0);
    qpci_io_writeq(td, bar, VTDP_TD_QREG(0, VTDP_TD_QRING_BASE), T_RING);
    qpci_io_writel(td, bar, VTDP_TD_QREG(0, VTDP_TD_QRING_SIZE), 2);
    qpci_io_writel(td, bar, VTDP_TD_QREG(0, VTDP_TD_QCTRL),
                   VTDP_TD_QCTRL_ENABLE | VTDP_TD_QCTRL_HALT_ON_ERROR);

    desc[0] = VTDP_TD_OP_WRITE_IMM;
    desc[4] = 8;                                    /* len */
    stq_le_p(&desc[16], dst);                       /* dst */
    stq_le_p(&desc[24], val);                       /* pattern */
    qtest_memwrite(t->qts, T_RING, desc, sizeof(desc));
    qtest_memset(t->qts, T_RING + VTDP_TD_DESC_SIZE, 0, VTDP_TD_DESC_SIZE);

    qpci_io_writel(td, bar, VTDP_TD_QREG(0, VTDP_TD_QTAIL), 1);
    /* The device runs descriptors in a bottom half: poll, bounded. */
    for (i = 0; i < 2000; i++) {
        st = qpci_io_readl(td, bar, VTDP_TD_QREG(0, VTDP_TD_QSTATUS));
        if (st & VTDP_TD_QSTATUS_HALTED ||
            qpci_io_readl(td, bar, VTDP_TD_QREG(0, VTDP_TD_QHEAD)) == 1) {
            break;
        }
        g_usleep(1000);
    }
    return st;
}

/*
 * Real DMA from vtdp-testdev through the IOMMU: with an empty root table
 * the ring fetch faults (recorded in FRCD, shown by the monitor); with a
 * scalable-mode pass-through PASID entry for RID_PASID the same
 * descriptor completes.
 */
static void test_dma_fault_and_passthrough(void)
{
    VtdpTest t;
    QPCIDevice *td;
    QPCIBar tdbar;
    const uint16_t sid = QPCI_DEVFN(VTDP_TD_SLOT, 0) /* bus 0 */;
    uint64_t hi, lo, cap;
    uint32_t st;
    g_autofree char *out = NULL;

    vtdp_test_start(&t, NULL);
    td = qpci_device_find(t.bus, QPCI_DEVFN(VTDP_TD_SLOT, 0));
    g_assert(td);
    qpci_device_enable(td);
    tdbar = qpci_iomap(td, VTDP_TESTDEV_REG_BAR, NULL);

    /* Translation off: identity. */
    st = td_write_imm(&t, td, tdbar, T_DST, 0x1122334455667788ULL);
    g_assert_cmphex(st, ==, 0);
    g_assert_cmphex(qtest_readq(t.qts, T_DST), ==, 0x1122334455667788ULL);

    /*
     * Fault event vector 0 -> a RAM address, so the interrupt message the
     * IOMMU sends becomes a memory write the test can see.
     */
    qpci_msix_enable(t.dev);
    qpci_io_writel(t.dev, t.dev->msix_table_bar, t.dev->msix_table_off +
                   PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)T_MSI);
    qpci_io_writel(t.dev, t.dev->msix_table_bar, t.dev->msix_table_off +
                   PCI_MSIX_ENTRY_UPPER_ADDR, 0);
    qpci_io_writel(t.dev, t.dev->msix_table_bar, t.dev->msix_table_off +
                   PCI_MSIX_ENTRY_DATA, T_MSI_DATA);
    qpci_io_writel(t.dev, t.dev->msix_table_bar, t.dev->msix_table_off +
                   PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    qtest_writel(t.qts, T_MSI, 0);
    wr32(&t, VTDP_REG_FECTL, 0);

    /* Empty scalable-mode root table, translation on. */
    qtest_memset(t.qts, T_ROOT, 0, 0x4000);
    wr64(&t, VTDP_REG_RTADDR, T_ROOT | VTDP_RTADDR_TTM_SM);
    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_SRTP);
    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_TE);

    st = td_write_imm(&t, td, tdbar, T_DST, 0xdeadbeefULL);
    g_assert_true(st & VTDP_TD_QSTATUS_HALTED);
    g_assert_true(st & VTDP_TD_QSTATUS_RING_FAULT);

    g_assert_true(rd32(&t, VTDP_REG_FSTS) & VTDP_FSTS_PPF);
    cap = rd64(&t, VTDP_REG_CAP);
    lo = rd64(&t, VTDP_CAP_FRO(cap));
    hi = rd64(&t, VTDP_CAP_FRO(cap) + 8);
    g_assert_true(hi & VTDP_FRCD_HI_F);
    g_assert_cmphex(VTDP_FRCD_HI_SID(hi), ==, sid);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_SM_ROOT_NOT_PRESENT);
    g_assert_true(hi & VTDP_FRCD_HI_T1);            /* a read */
    g_assert_cmphex(lo & VTDP_FRCD_LO_FI_MASK, ==, T_RING);
    g_assert_cmphex(qtest_readl(t.qts, T_MSI), ==, T_MSI_DATA);
    g_assert_cmphex(qtest_readq(t.qts, T_DST), ==, 0x1122334455667788ULL);

    out = qtest_hmp(t.qts, "info vtdp-faults");
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "00:05.0"));
    g_assert_nonnull(strstr(out, "0x39"));
    g_assert_nonnull(strstr(out, "recorded 1,"));

    /* Clear the fault and map RID_PASID of the testdev pass-through. */
    wr64(&t, VTDP_CAP_FRO(cap) + 8, VTDP_FRCD_HI_F);
    qtest_writeq(t.qts, T_ROOT, T_CTX | VTDP_ROOT_P);
    qtest_writeq(t.qts, T_CTX + (sid & 0x7f) * 32, T_PDIR | VTDP_CTX_P);
    qtest_writeq(t.qts, T_PDIR, T_PTBL | VTDP_PDIR_P);
    qtest_writeq(t.qts, T_PTBL,
                 VTDP_PE0_P | ((uint64_t)VTDP_PGTT_PT << VTDP_PE0_PGTT_SHIFT));

    st = td_write_imm(&t, td, tdbar, T_DST, 0xcafef00dULL);
    g_assert_cmphex(st, ==, 0);
    g_assert_cmphex(qtest_readq(t.qts, T_DST), ==, 0xcafef00dULL);

    g_free(td);
    vtdp_test_stop(&t);
}

/*
 * Second-stage translation of untagged DMA (RID_PASID 0): the ring is
 * identity mapped, the destination IOVA is remapped to another page, and
 * a read-only page refuses the write with a fault.
 */
#define T_SS_L4         0x104000ULL
#define T_SS_L3         0x105000ULL
#define T_SS_L2         0x106000ULL
#define T_SS_L1_RING    0x107000ULL
#define T_SS_L1_DST     0x108000ULL
#define T_IOVA          0x10000000ULL   /* -> T_DST */

static void test_dma_second_stage(void)
{
    VtdpTest t;
    QPCIDevice *td;
    QPCIBar tdbar;
    const uint16_t sid = QPCI_DEVFN(VTDP_TD_SLOT, 0);  /* bus 0 */
    const uint64_t rw = VTDP_SS_R | VTDP_SS_W;
    uint64_t cap, hi;
    uint32_t st;

    vtdp_test_start(&t, NULL);
    td = qpci_device_find(t.bus, QPCI_DEVFN(VTDP_TD_SLOT, 0));
    g_assert(td);
    qpci_device_enable(td);
    tdbar = qpci_iomap(td, VTDP_TESTDEV_REG_BAR, NULL);

    qtest_memset(t.qts, T_ROOT, 0, 0x9000);
    qtest_writeq(t.qts, T_ROOT, T_CTX | VTDP_ROOT_P);
    qtest_writeq(t.qts, T_CTX + (sid & 0x7f) * 32, T_PDIR | VTDP_CTX_P);
    qtest_writeq(t.qts, T_PDIR, T_PTBL | VTDP_PDIR_P);
    qtest_writeq(t.qts, T_PTBL, VTDP_PE0_P | T_SS_L4 |
                 ((uint64_t)VTDP_PE_AW_48 << VTDP_PE0_AW_SHIFT) |
                 ((uint64_t)VTDP_PGTT_SS << VTDP_PE0_PGTT_SHIFT));
    qtest_writeq(t.qts, T_PTBL + 8, 1);             /* DID */
    qtest_writeq(t.qts, T_SS_L4, T_SS_L3 | rw);
    qtest_writeq(t.qts, T_SS_L3, T_SS_L2 | rw);
    qtest_writeq(t.qts, T_SS_L2 + 8 * VTDP_LEVEL_INDEX(T_RING, 2),
                 T_SS_L1_RING | rw);
    qtest_writeq(t.qts, T_SS_L2 + 8 * VTDP_LEVEL_INDEX(T_IOVA, 2),
                 T_SS_L1_DST | rw);
    qtest_writeq(t.qts, T_SS_L1_RING + 8 * VTDP_LEVEL_INDEX(T_RING, 1),
                 T_RING | rw);
    qtest_writeq(t.qts, T_SS_L1_DST + 8 * VTDP_LEVEL_INDEX(T_IOVA, 1),
                 T_DST | rw);
    /* the next IOVA page is read-only */
    qtest_writeq(t.qts, T_SS_L1_DST + 8 * VTDP_LEVEL_INDEX(T_IOVA, 1) + 8,
                 (T_DST + 0x1000) | VTDP_SS_R);

    wr64(&t, VTDP_REG_RTADDR, T_ROOT | VTDP_RTADDR_TTM_SM);
    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_SRTP);
    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_TE);

    qtest_writeq(t.qts, T_DST, 0);
    st = td_write_imm(&t, td, tdbar, T_IOVA + 0x10, 0x5eedULL);
    g_assert_cmphex(st, ==, 0);
    g_assert_cmphex(qtest_readq(t.qts, T_DST + 0x10), ==, 0x5eedULL);
    g_assert_cmphex(rd32(&t, VTDP_REG_FSTS), ==, 0);

    st = td_write_imm(&t, td, tdbar, T_IOVA + 0x1000, 0xbadULL);
    g_assert_true(st & VTDP_TD_QSTATUS_HALTED);
    g_assert_false(st & VTDP_TD_QSTATUS_RING_FAULT);
    g_assert_cmphex(qtest_readq(t.qts, T_DST + 0x1000), ==, 0);
    cap = rd64(&t, VTDP_REG_CAP);
    hi = rd64(&t, VTDP_CAP_FRO(cap) + 8);
    g_assert_true(hi & VTDP_FRCD_HI_F);
    g_assert_false(hi & VTDP_FRCD_HI_T1);           /* a write */
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_SM_WRITE);
    g_assert_cmphex(rd64(&t, VTDP_CAP_FRO(cap)), ==, T_IOVA + 0x1000);

    g_free(td);
    vtdp_test_stop(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vtdp-iommu/pci-identity", test_pci_identity);
    qtest_add_func("/vtdp-iommu/cap-ecap", test_cap_ecap);
    qtest_add_func("/vtdp-iommu/properties", test_properties);
    qtest_add_func("/vtdp-iommu/gcmd-gsts", test_gcmd_gsts);
    qtest_add_func("/vtdp-iommu/hostile-access", test_hostile_access);
    qtest_add_func("/vtdp-iommu/hmp-no-faults", test_hmp_no_faults);
    qtest_add_func("/vtdp-iommu/hmp-no-device", test_hmp_no_device);
    qtest_add_func("/vtdp-iommu/dma-fault-and-passthrough",
                   test_dma_fault_and_passthrough);
    qtest_add_func("/vtdp-iommu/dma-second-stage", test_dma_second_stage);
    return g_test_run();
}
