/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for vtdp-iommu: register-level checks on bare metal (no firmware
 * tables, no guest driver).
 *
 * Build: scripts/build-qemu tests/qtest/vtdp-iommu-test
 */

#include "qemu/osdep.h"
#include "exec/memattrs.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "vtdp-qtest-env.h"

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
    return td_wait_first(td, bar, 0);
}

/*
 * The QMP view of a fault (qemu-patches/0006): query-vtdp-faults has
 * exactly the fault the hardware recorded, query-vtdp the counters and
 * address spaces, vtdp-faults-clear empties the log but not the counters,
 * and HMP shows the same data.
 */
static void test_monitor_qmp(void)
{
    VtdpTest t;
    QPCIDevice *td;
    QPCIBar tdbar;
    const uint16_t sid = QPCI_DEVFN(VTDP_TD_SLOT, 0);
    QDict *rsp, *log, *f, *iommu, *ep;
    QList *logs, *faults;
    g_autofree char *out = NULL;

    vtdp_test_start3(&t, NULL, NULL, NULL);
    td = qpci_device_find(t.bus, sid);
    g_assert(td);
    qpci_device_enable(td);
    tdbar = qpci_iomap(td, VTDP_TESTDEV_REG_BAR, NULL);

    rsp = qtest_qmp(t.qts, "{'execute': 'query-vtdp-faults'}");
    logs = qdict_get_qlist(rsp, "return");
    g_assert_cmpint(qlist_size(logs), ==, 1);
    log = qobject_to(QDict, qlist_peek(logs));
    g_assert_cmpstr(qdict_get_str(log, "id"), ==, "vtdp-iommu");
    g_assert_cmpint(qdict_get_int(log, "sid"), ==, QPCI_DEVFN(VTDP_TEST_SLOT, 0));
    g_assert_true(qlist_empty(qdict_get_qlist(log, "faults")));
    qobject_unref(rsp);

    /* Empty root table, translation on: the testdev's ring fetch faults. */
    qtest_memset(t.qts, T_ROOT, 0, 0x4000);
    wr64(&t, VTDP_REG_RTADDR, T_ROOT | VTDP_RTADDR_TTM_SM);
    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_SRTP);
    wr32(&t, VTDP_REG_GCMD, VTDP_GCMD_TE);
    g_assert_true(td_write_imm(&t, td, tdbar, T_DST, 1) &
                  VTDP_TD_QSTATUS_RING_FAULT);

    rsp = qtest_qmp(t.qts, "{'execute': 'query-vtdp-faults', "
                    "'arguments': {'count': 5}}");
    log = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp, "return")));
    g_assert_cmpint(qdict_get_int(log, "recorded"), ==, 1);
    g_assert_cmpint(qdict_get_int(log, "suppressed"), ==, 0);
    g_assert_cmpint(qdict_get_int(log, "dropped"), ==, 0);
    faults = qdict_get_qlist(log, "faults");
    g_assert_cmpint(qlist_size(faults), ==, 1);
    f = qobject_to(QDict, qlist_peek(faults));
    g_assert_cmpint(qdict_get_int(f, "index"), ==, 0);
    g_assert_cmpint(qdict_get_int(f, "sid"), ==, sid);
    g_assert_false(qdict_haskey(f, "pasid"));
    g_assert_cmphex(qdict_get_int(f, "address"), ==, T_RING);
    g_assert_false(qdict_get_bool(f, "write"));
    g_assert_cmpint(qdict_get_int(f, "reason"), ==,
                    VTDP_FR_SM_ROOT_NOT_PRESENT);
    g_assert_cmpstr(qdict_get_str(f, "reason-name"), ==,
                    "root entry not present");
    g_assert_false(qdict_get_bool(f, "suppressed"));
    g_assert_false(qdict_get_bool(f, "dropped"));
    qobject_unref(rsp);

    rsp = qtest_qmp(t.qts, "{'execute': 'query-vtdp'}");
    iommu = qobject_to(QDict, qlist_peek(qdict_get_qlist(
                qdict_get_qdict(rsp, "return"), "iommus")));
    ep = qobject_to(QDict, qlist_peek(qdict_get_qlist(
                qdict_get_qdict(rsp, "return"), "endpoints")));
    g_assert_true(qdict_get_bool(iommu, "translation-enabled"));
    g_assert_cmphex(qdict_get_int(iommu, "root-table"), ==, T_ROOT);
    g_assert_cmpint(qdict_get_int(iommu, "aw-bits"), ==, 48);
    g_assert_cmpint(qdict_get_int(iommu, "pasid-bits"), ==, 20);
    g_assert_cmpint(qdict_get_int(iommu, "faults-recorded"), ==, 1);
    g_assert_cmpint(qdict_get_int(ep, "sid"), ==, sid);
    g_assert_cmpint(qdict_get_int(ep, "queues"), ==, 8);
    g_assert_cmpint(qdict_get_int(ep, "faults"), ==, 1);
    g_assert_cmpint(qdict_get_int(ep, "descriptors"), ==, 0);
    qobject_unref(rsp);

    out = qtest_hmp(t.qts, "info vtdp");
    g_assert_nonnull(strstr(out, "translation enabled"));
    g_assert_nonnull(strstr(out, "faults: recorded 1, suppressed 0"));
    g_free(out);

    /* Clearing: an unknown id is an error; the log empties, counters stay. */
    rsp = qtest_qmp(t.qts, "{'execute': 'vtdp-faults-clear', "
                    "'arguments': {'id': 'nosuch'}}");
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    rsp = qtest_qmp(t.qts, "{'execute': 'vtdp-faults-clear', "
                    "'arguments': {'id': 'vtdp-iommu'}}");
    g_assert_false(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    rsp = qtest_qmp(t.qts, "{'execute': 'query-vtdp-faults'}");
    log = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp, "return")));
    g_assert_true(qlist_empty(qdict_get_qlist(log, "faults")));
    g_assert_cmpint(qdict_get_int(log, "recorded"), ==, 1);
    qobject_unref(rsp);
    out = qtest_hmp(t.qts, "info vtdp-faults");
    g_assert_nonnull(strstr(out, "no faults"));

    g_free(td);
    vtdp_test_stop(&t);
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
    /*
     * The fault happened in the testdev's queue thread, without the BQL:
     * the IOMMU sends the interrupt from a bottom half, shortly after.
     */
    for (int n = 0; n < 20000 && qtest_readl(t.qts, T_MSI) != T_MSI_DATA;
         n++) {
        g_usleep(1000);
    }
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

/* ====================================================================== */
/* Tables built in guest RAM, DMA issued by vtdp-testdev                   */
/* (the environment: vtdp-qtest-env.h)                                     */

/* PASID-tagged DMA at PASIDs 1, 2^10 and 2^20 - 1, each its own domain. */
static void test_pasid_dma(void)
{
    static const uint32_t pasids[] = { 1, 1u << 10, (1u << 20) - 1 };
    Env e;
    uint64_t hi;
    g_autofree char *out = NULL;
    TdResult r;
    unsigned int i, j;

    env_start(&e, NULL, NULL);
    g_assert_cmphex(e.pasid_cap, !=, 0);
    g_assert_cmphex(qtest_readw(e.t.qts, vtdp_ecam(e.sid, e.pasid_cap +
                                                 PCI_PASID_CAP)) &
                    PCI_PASID_CAP_WIDTH, ==, 20 << 8);
    g_assert_true(qpci_io_readl(e.td, e.tdbar, VTDP_TD_REG_CAPS) &
                  VTDP_TD_CAPS_PASID);

    /* The same IOVA means another page in each PASID. */
    for (i = 0; i < ARRAY_SIZE(pasids); i++) {
        uint64_t l4 = env_alloc(&e, 1);

        qtest_memset(e.t.qts, T_DATA(i), 0, 0x1000);
        ss_map(&e, l4, T_VA, T_DATA(i), T_SS_RW);
        set_pe_ss(&e, pasids[i], 10 + i, l4, 0);
    }
    qtest_memset(e.t.qts, T_VA, 0, 0x1000);

    for (i = 0; i < ARRAY_SIZE(pasids); i++) {
        g_assert_true(td_imm_ok(&e, i, VTDP_TD_QCTRL_PASID_EN, pasids[i],
                                T_VA + 8 * i, 0xa0a0 + i));
    }
    for (i = 0; i < ARRAY_SIZE(pasids); i++) {
        for (j = 0; j < ARRAY_SIZE(pasids); j++) {
            g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(i) + 8 * j), ==,
                            i == j ? 0xa0a0 + i : 0);
        }
    }
    /* Untagged requests use RID_PASID: pass-through, so the IOVA itself */
    g_assert_cmphex(qtest_readq(e.t.qts, T_VA), ==, 0);
    g_assert_true(td_imm_ok(&e, 3, 0, pasids[2], T_VA, 0x0707));
    g_assert_cmphex(qtest_readq(e.t.qts, T_VA), ==, 0x0707);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);

    /* A fault in PASID 2^20 - 1 is recorded with its PASID */
    r = td_imm(&e, 4, VTDP_TD_QCTRL_PASID_EN, pasids[2], T_VA + 0x1000, 1);
    g_assert_cmphex(r.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_DMA_FAULT);
    g_assert_true(r.fault_info & VTDP_TD_FI_PASID);
    g_assert_true(r.fault_info & VTDP_TD_FI_WRITE);
    g_assert_cmphex(r.fault_addr, ==, T_VA + 0x1000);
    g_assert_true(r.qstatus & VTDP_TD_QSTATUS_HALTED);
    hi = frcd(&e, 0, true);
    g_assert_true(hi & VTDP_FRCD_HI_F);
    g_assert_true(hi & VTDP_FRCD_HI_PP);
    g_assert_cmphex(VTDP_FRCD_HI_PV(hi), ==, pasids[2]);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_SM_SS_NOT_PRESENT);
    g_assert_cmphex(VTDP_FRCD_HI_SID(hi), ==, e.sid);
    g_assert_false(hi & VTDP_FRCD_HI_T1);
    g_assert_cmphex(frcd(&e, 0, false), ==, T_VA + 0x1000);
    g_assert_cmphex(qtest_readl(e.t.qts, T_MSI), ==, T_MSI_DATA);
    out = qtest_hmp(e.t.qts, "info vtdp-faults");
    g_assert_nonnull(strstr(out, "0xfffff"));
    env_stop(&e);
}

/*
 * Tagged requests the endpoint may not issue fail there (MEMTX access
 * error, no IOMMU fault); a PASID beyond the IOMMU's pasid-bits faults in
 * the IOMMU; privileged requests need Privileged Mode Enable and SRE.
 */
static void test_pasid_refused(void)
{
    Env e;
    TdResult r;
    uint64_t l4, hi;

    env_start(&e, "pasid-bits=8", NULL);
    l4 = env_alloc(&e, 1);
    ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    set_pe_ss(&e, 5, 3, l4, 0);

    /* PASID Enable clear in the capability */
    td_pasid_ctrl(&e, 0);
    r = td_imm(&e, 0, VTDP_TD_QCTRL_PASID_EN, 5, T_VA, 1);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_true(r.fault_info & VTDP_TD_FI_PASID);
    g_assert_cmphex(VTDP_TD_FI_MEMTX(r.fault_info), ==, MEMTX_ACCESS_ERROR);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    td_pasid_ctrl(&e, PCI_PASID_CTRL_ENABLE);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, 5, T_VA, 2));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 2);

    /* Privileged queue: refused without Privileged Mode Enable ... */
    r = td_imm(&e, 1, VTDP_TD_QCTRL_PASID_EN | VTDP_TD_QCTRL_PRIV, 5, T_VA, 3);
    g_assert_cmphex(VTDP_TD_FI_MEMTX(r.fault_info), ==, MEMTX_ACCESS_ERROR);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    /* ... a fault in the IOMMU while the PASID entry's SRE is clear ... */
    td_pasid_ctrl(&e, PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV);
    r = td_imm(&e, 1, VTDP_TD_QCTRL_PASID_EN | VTDP_TD_QCTRL_PRIV, 5, T_VA, 3);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    hi = frcd(&e, 0, true);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_SM_PTE_SRE_CLEAR);
    g_assert_true(hi & VTDP_FRCD_HI_PRIV);
    g_assert_cmphex(VTDP_FRCD_HI_PV(hi), ==, 5);
    frcd_clear(&e, 0);
    /* ... and translated in a PASID whose entry has SRE set */
    set_pe_ss(&e, 6, 3, l4, VTDP_PE2_SRE);
    g_assert_true(td_imm_ok(&e, 1, VTDP_TD_QCTRL_PASID_EN |
                            VTDP_TD_QCTRL_PRIV, 6, T_VA, 4));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 4);

    /* The endpoint has 20-bit PASIDs, the IOMMU 8: PASID too large */
    r = td_imm(&e, 2, VTDP_TD_QCTRL_PASID_EN, 0x100, T_VA, 5);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_cmphex(VTDP_TD_FI_MEMTX(r.fault_info), !=, MEMTX_ACCESS_ERROR);
    hi = frcd(&e, 1, true);
    g_assert_true(hi & VTDP_FRCD_HI_F);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_SM_PASID_TOO_LARGE);
    g_assert_cmphex(VTDP_FRCD_HI_PV(hi), ==, 0x100);
    frcd_clear(&e, 1);

    /*
     * A PASID-tagged write to the interrupt range is no interrupt
     * message: it faults (0x87) even where the PASID maps the page.
     */
    ss_map(&e, l4, VTDP_INTERRUPT_RANGE_START, T_DATA(1), T_SS_RW);
    qtest_writeq(e.t.qts, T_DATA(1), 0);
    r = td_imm(&e, 2, VTDP_TD_QCTRL_PASID_EN, 5,
               VTDP_INTERRUPT_RANGE_START, 0x4000);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_true(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_PPF);
    hi = frcd(&e, VTDP_FSTS_FRI(rd32(&e.t, VTDP_REG_FSTS)), true);
    g_assert_true(hi & VTDP_FRCD_HI_F);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_SM_INTERRUPT_ADDR);
    g_assert_true(hi & VTDP_FRCD_HI_PP);
    g_assert_cmphex(VTDP_FRCD_HI_PV(hi), ==, 5);
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(1)), ==, 0);
    env_stop(&e);
}

/*
 * A guest sweeping PASIDs cannot make the IOMMU create address spaces
 * without bound (max-pasid-spaces); a testdev without the PASID
 * capability (pasid-bits=0) has no PASID_EN and never tags.
 */
static void test_pasid_limits(void)
{
    Env e;
    TdResult r;
    uint64_t l4;
    uint32_t p;

    env_start(&e, "max-pasid-spaces=2", NULL);
    l4 = env_alloc(&e, 1);
    ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    for (p = 1; p <= 3; p++) {
        set_pe_ss(&e, p, 3, l4, 0);
    }
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, 1, T_VA, 1));
    g_assert_true(td_imm_ok(&e, 1, VTDP_TD_QCTRL_PASID_EN, 2, T_VA, 2));
    r = td_imm(&e, 2, VTDP_TD_QCTRL_PASID_EN, 3, T_VA, 3);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_cmphex(VTDP_TD_FI_MEMTX(r.fault_info), ==, MEMTX_ACCESS_ERROR);
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 2);
    /* the PASIDs that have one keep working */
    g_assert_true(td_imm_ok(&e, 3, VTDP_TD_QCTRL_PASID_EN, 1, T_VA, 4));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 4);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    env_stop(&e);

    env_start(&e, NULL, "pasid-bits=0");
    g_assert_cmphex(e.pasid_cap, ==, 0);
    g_assert_false(qpci_io_readl(e.td, e.tdbar, VTDP_TD_REG_CAPS) &
                   VTDP_TD_CAPS_PASID);
    qpci_io_writel(e.td, e.tdbar, VTDP_TD_QREG(0, VTDP_TD_QPASID), 5);
    g_assert_cmphex(qpci_io_readl(e.td, e.tdbar,
                                  VTDP_TD_QREG(0, VTDP_TD_QPASID)), ==, 0);
    qtest_writeq(e.t.qts, T_DATA(1), 0);
    r = td_imm(&e, 0, VTDP_TD_QCTRL_PASID_EN, 5, T_DATA(1), 0x55);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_OK);
    g_assert_false(qpci_io_readl(e.td, e.tdbar,
                                 VTDP_TD_QREG(0, VTDP_TD_QCTRL)) &
                   VTDP_TD_QCTRL_PASID_EN);
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(1)), ==, 0x55);
    env_stop(&e);
}

/*
 * A guest sweeping PASIDs through a queue: address spaces are created in
 * constant time (creating them through a memory transaction once cost
 * ~40 s of stalled QEMU for 4096) and stop at max-pasid-spaces (4096 by
 * default); the PASIDs that have one keep working.
 */
static void test_pasid_sweep(void)
{
    Env e;
    TdResult r;
    uint64_t l4;
    uint32_t p;
    gint64 t0, us;

    env_start(&e, NULL, NULL);
    l4 = env_alloc(&e, 1);
    ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    set_pe_ss(&e, 4095, 3, l4, 0);
    set_pe_ss(&e, 4096, 3, l4, 0);
    /* PASID_EN binds PASID 0 (QPASID's reset value), then 1..4095 */
    t0 = g_get_monotonic_time();
    qpci_io_writel(e.td, e.tdbar, VTDP_TD_QREG(1, VTDP_TD_QCTRL),
                   VTDP_TD_QCTRL_PASID_EN);
    for (p = 1; p < 4096; p++) {
        qpci_io_writel(e.td, e.tdbar, VTDP_TD_QREG(1, VTDP_TD_QPASID), p);
    }
    us = g_get_monotonic_time() - t0;
    g_test_message("4096 PASID address spaces in %.2f s", us / 1e6);
    g_assert_cmpint(us, <, 20 * G_USEC_PER_SEC);

    qtest_writeq(e.t.qts, T_DATA(0), 0);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, 4095, T_VA, 7));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 7);
    r = td_imm(&e, 0, VTDP_TD_QCTRL_PASID_EN, 4096, T_VA, 8);
    g_assert_cmphex(VTDP_TD_FI_MEMTX(r.fault_info), ==, MEMTX_ACCESS_ERROR);
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 7);
    env_stop(&e);
}

/* Without an IOMMU a PASID-tagged request has nowhere to go. */
static void test_pasid_no_iommu(void)
{
    QTestState *qts = qtest_init("-M q35 -nodefaults "
                                 "-device vtdp-testdev,addr=05.0");
    QPCIBus *bus = qpci_new_pc(qts, NULL);
    Env e = { .t.qts = qts, .t.bus = bus, .sid = QPCI_DEVFN(5, 0) };
    TdResult r;

    e.td = qpci_device_find(bus, e.sid);
    g_assert(e.td);
    qpci_device_enable(e.td);
    e.tdbar = qpci_iomap(e.td, VTDP_TESTDEV_REG_BAR, NULL);
    vtdp_ecam_enable(bus);
    e.pasid_cap = vtdp_find_ext_cap(qts, e.sid, PCI_EXT_CAP_ID_PASID);
    g_assert_cmphex(e.pasid_cap, !=, 0);
    td_pasid_ctrl(&e, PCI_PASID_CTRL_ENABLE);

    qtest_writeq(qts, T_DATA(0), 0);
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 0x11));
    g_assert_cmphex(qtest_readq(qts, T_DATA(0)), ==, 0x11);
    r = td_imm(&e, 1, VTDP_TD_QCTRL_PASID_EN, 1, T_DATA(0), 0x22);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_true(r.fault_info & VTDP_TD_FI_PASID);
    g_assert_cmphex(VTDP_TD_FI_MEMTX(r.fault_info), ==, MEMTX_ACCESS_ERROR);
    g_assert_cmphex(qtest_readq(qts, T_DATA(0)), ==, 0x11);

    g_free(e.td);
    qpci_free_pc(bus);
    qtest_quit(qts);
}

/* ---------------------------------------------------------------------- */
/* Queued invalidation                                                     */

/* Every descriptor type is accepted; wait descriptors write and signal. */
static void test_qi_descriptors(void)
{
    Env e;
    g_autofree char *out = NULL;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);

    qi_run(&e, D_CC(VTDP_INV_CC_GLOBAL, 0, 0, 0), 0);
    qi_run(&e, D_CC(VTDP_INV_CC_DOMAIN, 1, 0, 0), 0);
    qi_run(&e, D_CC(VTDP_INV_CC_DEVICE, 0, e.sid, 0), 0);
    qi_run(&e, D_PC(VTDP_INV_PC_GLOBAL, 0, 0), 0);
    qi_run(&e, D_PC(VTDP_INV_PC_DOMAIN, 1, 0), 0);
    qi_run(&e, D_PC(VTDP_INV_PC_PASID, 1, 7), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_DOMAIN, 1), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_PAGE, 1), T_VA | 2);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, 1, 7), 0);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_PAGE, 1, 7), T_VA | 1);
    qi_run(&e, VTDP_INV_TYPE_DEVTLB | (uint64_t)e.sid << 32, T_VA);
    qi_run(&e, VTDP_INV_TYPE_PDEVTLB | (uint64_t)e.sid << 16, T_VA);
    qi_run(&e, VTDP_INV_TYPE_IEC, 0);

    /* Wait: status write (with fence) */
    qtest_writel(e.t.qts, T_STATUS, 0);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_SW | VTDP_INV_WAIT_FN, 0x5a5a5a5a),
           T_STATUS);
    g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 0x5a5a5a5a);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_ICS), ==, 0);

    /* Wait: completion interrupt; none more while IWC is still set */
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_IF, 0), 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_ICS), ==, VTDP_ICS_IWC);
    g_assert_cmphex(qtest_readl(e.t.qts, T_MSI_INV), ==, T_MSI_INV_DATA);
    qtest_writel(e.t.qts, T_MSI_INV, 0);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_IF, 0), 0);
    g_assert_cmphex(qtest_readl(e.t.qts, T_MSI_INV), ==, 0);

    /* Masked: IP is set instead, and the unmask sends the interrupt */
    wr32(&e.t, VTDP_REG_ICS, VTDP_ICS_IWC);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_ICS), ==, 0);
    wr32(&e.t, VTDP_REG_IECTL, VTDP_IECTL_IM);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_IF, 0), 0);
    g_assert_true(rd32(&e.t, VTDP_REG_IECTL) & VTDP_IECTL_IP);
    g_assert_cmphex(qtest_readl(e.t.qts, T_MSI_INV), ==, 0);
    wr32(&e.t, VTDP_REG_IECTL, 0);
    g_assert_cmphex(qtest_readl(e.t.qts, T_MSI_INV), ==, T_MSI_INV_DATA);
    g_assert_false(rd32(&e.t, VTDP_REG_IECTL) & VTDP_IECTL_IP);

    /* The invalidations changed nothing that was not cached: DMA works */
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 0x77));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 0x77);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);

    /* The monitor counts every invalidation by type */
    out = qtest_hmp(e.t.qts, "info vtdp");
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "invalidations: context 3 pasid-cache 3 "
                            "iotlb 3 pasid-iotlb 2 dev-tlb 2 iec 1 wait 4 "
                            "errors 0"));
    env_stop(&e);
}

/*
 * A bad descriptor stops the queue on itself with IQE and a fault event;
 * nothing behind it runs until software fixes it and clears IQE.
 */
static void test_qi_errors(void)
{
    static const uint64_t bad[][2] = {
        { 0x9, 0 },                                         /* no such type */
        { D_CC(0, 0, 0, 0), 0 },                            /* CC, G = 0 */
        { D_IOTLB(VTDP_INV_IOTLB_PAGE, 1), T_VA | 19 },     /* AM > MAMV */
        { D_PIOTLB(0, 1, 1), 0 },                           /* PIOTLB G = 0 */
        { D_PC(2ULL << 4, 1, 1), 0 },                       /* PC G = 2 */
        { D_WAIT(1ULL << 8, 0), 0 },                        /* reserved bit */
        { D_WAIT(VTDP_INV_WAIT_SW, 0), T_STATUS | 1 },      /* unaligned */
    };
    Env e;
    unsigned int i;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        uint32_t at = e.iq_tail;
        uint64_t a;

        qtest_writel(e.t.qts, T_MSI, 0);
        qtest_writel(e.t.qts, T_STATUS, 0);
        a = qi_put(&e, bad[i][0], bad[i][1]);
        qi_put(&e, D_WAIT(VTDP_INV_WAIT_SW, 0x99), T_STATUS);
        qi_kick(&e);
        g_test_message("bad descriptor %u", i);
        g_assert_true(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
        g_assert_cmphex(VTDP_IQERCD_IQEI(rd64(&e.t, VTDP_REG_IQERCD)), ==,
                        VTDP_IQEI_DESC_TYPE);
        g_assert_cmphex(rd64(&e.t, VTDP_REG_IQH), ==,
                        (uint64_t)at << VTDP_IQ_INDEX_SHIFT);
        g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 0);
        g_assert_cmphex(qtest_readl(e.t.qts, T_MSI), ==, T_MSI_DATA);
        /* a new tail does not restart the queue while IQE is set */
        qi_kick(&e);
        g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 0);

        /* Fixed (a plain wait) and IQE cleared: the queue goes on. */
        qtest_writeq(e.t.qts, a, D_WAIT(0, 0));
        qtest_writeq(e.t.qts, a + 8, 0);
        wr32(&e.t, VTDP_REG_FSTS, VTDP_FSTS_IQE);
        g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
        qi_kick(&e);
        g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 0x99);
        g_assert_cmphex(rd64(&e.t, VTDP_REG_IQH), ==,
                        (uint64_t)e.iq_tail << VTDP_IQ_INDEX_SHIFT);
    }

    /* A tail beyond the queue */
    wr64(&e.t, VTDP_REG_IQT, (uint64_t)(IQ_SLOTS + 4) << VTDP_IQ_INDEX_SHIFT);
    g_assert_true(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
    g_assert_cmphex(VTDP_IQERCD_IQEI(rd64(&e.t, VTDP_REG_IQERCD)), ==,
                    VTDP_IQEI_TAIL);
    env_stop(&e);
}

/* 256-bit descriptors: the same types, the upper half must be zero. */
static void test_qi_256bit(void)
{
    Env e;
    uint64_t a;

    env_start(&e, NULL, NULL);
    qi_enable(&e, true);
    qtest_writel(e.t.qts, T_STATUS, 0);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, 1, 7), 0);
    qi_run(&e, D_PC(VTDP_INV_PC_GLOBAL, 0, 0), 0);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_SW, 0x256), T_STATUS);
    g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 0x256);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQH), ==, 6 << VTDP_IQ_INDEX_SHIFT);

    /* non-zero upper half */
    a = qi_put(&e, D_WAIT(VTDP_INV_WAIT_SW, 0x257), T_STATUS);
    qtest_writeq(e.t.qts, a + 16, 1);
    qi_kick(&e);
    g_assert_true(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
    g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 0x256);
    wr32(&e.t, VTDP_REG_FSTS, VTDP_FSTS_IQE);

    /* a tail in the middle of a 256-bit descriptor */
    wr64(&e.t, VTDP_REG_IQT, 9 << VTDP_IQ_INDEX_SHIFT);
    g_assert_true(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
    g_assert_cmphex(VTDP_IQERCD_IQEI(rd64(&e.t, VTDP_REG_IQERCD)), ==,
                    VTDP_IQEI_TAIL);

    /* disabling QI resets the head */
    gcmd_set(&e, VTDP_GCMD_QIE, false);
    g_assert_false(rd32(&e.t, VTDP_REG_GSTS) & VTDP_GSTS_QIES);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQH), ==, 0);
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Cache scope: a stale entry lives until exactly the right invalidation  */

#define SCOPE_PASID     9
#define SCOPE_DID       4

/* Tagged write of @v to T_VA: did it land in T_DATA(@page)? */
static void expect_page(Env *e, uint64_t v, unsigned int page)
{
    g_assert_true(td_imm_ok(e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID,
                            T_VA, v));
    g_assert_cmphex(qtest_readq(e->t.qts, T_DATA(page)), ==, v);
    g_assert_cmphex(qtest_readq(e->t.qts, T_DATA(!page)), !=, v);
}

static void test_iotlb_scope(void)
{
    Env e;
    uint64_t l4, leaf;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);
    l4 = env_alloc(&e, 1);
    leaf = ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    set_pe_ss(&e, SCOPE_PASID, SCOPE_DID, l4, 0);
    expect_page(&e, 1, 0);

    /* Retarget the page: the cached translation stays in effect ... */
    qtest_writeq(e.t.qts, leaf, T_DATA(1) | T_SS_RW);
    expect_page(&e, 2, 0);
    /* ... through every invalidation that does not cover it ... */
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_DOMAIN, SCOPE_DID + 1), 0);
    expect_page(&e, 3, 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_PAGE, SCOPE_DID), T_VA + 0x1000);
    expect_page(&e, 4, 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_PAGE, SCOPE_DID), (T_VA + 0x2000) | 1);
    expect_page(&e, 5, 0);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, SCOPE_DID,
                        SCOPE_PASID + 1), 0);
    expect_page(&e, 6, 0);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, SCOPE_DID + 1,
                        SCOPE_PASID), 0);
    expect_page(&e, 7, 0);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_PAGE, SCOPE_DID, SCOPE_PASID),
           T_VA + 0x1000);
    expect_page(&e, 8, 0);
    qi_run(&e, D_PC(VTDP_INV_PC_GLOBAL, 0, 0), 0);
    qi_run(&e, D_CC(VTDP_INV_CC_GLOBAL, 0, 0, 0), 0);
    qi_run(&e, VTDP_INV_TYPE_DEVTLB | (uint64_t)e.sid << 32, T_VA);
    expect_page(&e, 9, 0);
    /* ... and not after the one that does */
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_PAGE, SCOPE_DID, SCOPE_PASID), T_VA);
    expect_page(&e, 10, 1);

    /* Page-selective with an address mask covering the page */
    qtest_writeq(e.t.qts, leaf, T_DATA(0) | T_SS_RW);
    expect_page(&e, 11, 1);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_PAGE, SCOPE_DID), (T_VA + 0x3000) | 2);
    expect_page(&e, 12, 0);

    /* Domain-selective */
    qtest_writeq(e.t.qts, leaf, T_DATA(1) | T_SS_RW);
    expect_page(&e, 13, 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_DOMAIN, SCOPE_DID), 0);
    expect_page(&e, 14, 1);

    /* All PASIDs of a domain ... */
    qtest_writeq(e.t.qts, leaf, T_DATA(0) | T_SS_RW);
    expect_page(&e, 15, 1);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, SCOPE_DID, SCOPE_PASID),
           0);
    expect_page(&e, 16, 0);

    /* ... and global */
    qtest_writeq(e.t.qts, leaf, T_DATA(1) | T_SS_RW);
    expect_page(&e, 17, 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 18, 1);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    env_stop(&e);
}

static void test_context_pasid_cache_scope(void)
{
    Env e;
    uint64_t la, lb, hi;
    TdResult r;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);
    la = env_alloc(&e, 1);
    lb = env_alloc(&e, 1);
    ss_map(&e, la, T_VA, T_DATA(0), T_SS_RW);
    ss_map(&e, lb, T_VA, T_DATA(1), T_SS_RW);
    set_pe_ss(&e, SCOPE_PASID, SCOPE_DID, la, 0);
    expect_page(&e, 1, 0);

    /*
     * PASID cache: the PASID entry now points at table B; with the IOTLB
     * flushed each time, the cached entry (table A) stays in effect until
     * the PASID-cache invalidation that covers it.
     */
    set_pe_ss(&e, SCOPE_PASID, SCOPE_DID, lb, 0);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, SCOPE_DID, SCOPE_PASID),
           0);
    expect_page(&e, 2, 0);
    qi_run(&e, D_PC(VTDP_INV_PC_PASID, SCOPE_DID, SCOPE_PASID + 1), 0);
    qi_run(&e, D_PC(VTDP_INV_PC_PASID, SCOPE_DID + 1, SCOPE_PASID), 0);
    qi_run(&e, D_PC(VTDP_INV_PC_DOMAIN, SCOPE_DID + 1, 0), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 3, 0);
    qi_run(&e, D_PC(VTDP_INV_PC_PASID, SCOPE_DID, SCOPE_PASID), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 4, 1);

    set_pe_ss(&e, SCOPE_PASID, SCOPE_DID, la, 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 5, 1);
    qi_run(&e, D_PC(VTDP_INV_PC_DOMAIN, SCOPE_DID, 0), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 6, 0);

    set_pe_ss(&e, SCOPE_PASID, SCOPE_DID, lb, 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 7, 0);
    qi_run(&e, D_PC(VTDP_INV_PC_GLOBAL, 0, 0), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 8, 1);

    /*
     * Context cache: with PASIDE cleared in the context entry, tagged
     * requests go on until the device's context entry is invalidated
     * (device-selective, function mask honoured).
     */
    qtest_writeq(e.t.qts, ctx_addr(&e), ctx_default(&e) & ~VTDP_CTX_PASIDE);
    expect_page(&e, 9, 1);
    qi_run(&e, D_CC(VTDP_INV_CC_DEVICE, 0, e.sid + 1, 0), 0);
    qi_run(&e, D_CC(VTDP_INV_CC_DEVICE, 0, e.sid | 4, 0), 0);
    qi_run(&e, D_PC(VTDP_INV_PC_GLOBAL, 0, 0), 0);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    expect_page(&e, 10, 1);
    /* function mask 1 ignores function bit 2: covers function 0 too */
    qi_run(&e, D_CC(VTDP_INV_CC_DEVICE, 0, e.sid | 4, 1), 0);
    r = td_imm(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID, T_VA, 11);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    hi = frcd(&e, 0, true);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_SM_CTX_INVALID);
    frcd_clear(&e, 0);

    /* restored in memory, but the cached copy still says PASIDE = 0 */
    qtest_writeq(e.t.qts, ctx_addr(&e), ctx_default(&e));
    r = td_imm(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID, T_VA, 12);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    qi_run(&e, D_CC(VTDP_INV_CC_DOMAIN, 0, 0, 0), 0);
    expect_page(&e, 13, 1);
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* First stage and IOTLB eviction, through the endpoint                   */

/*
 * Map @iova to @pa in the 4-level first-stage table @l4 with a leaf at
 * @level (1: 4 KiB, 2: 2 MiB) carrying @flags; returns the leaf's GPA.
 */
static uint64_t fs_map(Env *e, uint64_t l4, uint64_t iova, uint64_t pa,
                       int level, uint64_t flags)
{
    const uint64_t dir = VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US;
    uint64_t table = l4, leaf;
    int l;

    for (l = 4; l > level; l--) {
        uint64_t ea = table + 8 * VTDP_LEVEL_INDEX(iova, l);
        uint64_t ent = qtest_readq(e->t.qts, ea);

        if (!(ent & VTDP_FS_P)) {
            ent = env_alloc(e, 1) | dir;
            qtest_writeq(e->t.qts, ea, ent);
        }
        table = ent & VTDP_ADDR_MASK;
    }
    leaf = table + 8 * VTDP_LEVEL_INDEX(iova, level);
    qtest_writeq(e->t.qts, leaf, pa | flags | (level > 1 ? VTDP_FS_PS : 0));
    return leaf;
}

static uint8_t fs_fault_reason(Env *e, uint32_t qctrl, uint32_t pasid,
                               uint64_t iova)
{
    TdResult r = td_imm(e, 0, VTDP_TD_QCTRL_PASID_EN | qctrl, pasid, iova,
                        0xfa);
    uint32_t fsts = rd32(&e->t, VTDP_REG_FSTS);
    unsigned int i = VTDP_FSTS_FRI(fsts);
    uint64_t hi = frcd(e, i, true);

    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_true(fsts & VTDP_FSTS_PPF);
    g_assert_cmphex(VTDP_FRCD_HI_PV(hi), ==, pasid);
    frcd_clear(e, i);
    return VTDP_FRCD_HI_FR(hi);
}

/*
 * A PASID with a first-stage table: A/D set in guest RAM by the walk,
 * U/S against user and privileged requests, R/W, 2 MiB pages, and the
 * canonical-address check.
 */
static void test_first_stage_dma(void)
{
    const uint32_t pasid = 0x400;
    const uint64_t urw = VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US;
    const uint64_t va = 0x7f0000001000ULL, big = 0x40000000ULL;
    Env e;
    uint64_t l4, leaf, l4e;

    env_start(&e, NULL, NULL);
    td_pasid_ctrl(&e, PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV);
    l4 = env_alloc(&e, 1);
    set_pe(&e, pasid, VTDP_PE0_P |
           ((uint64_t)VTDP_PGTT_FS << VTDP_PE0_PGTT_SHIFT), 7,
           l4 | VTDP_PE2_FLPM_4LVL | VTDP_PE2_SRE | VTDP_PE2_WPE);
    leaf = fs_map(&e, l4, va, T_DATA(0), 1, urw);
    fs_map(&e, l4, va + 0x1000, T_DATA(1), 1, VTDP_FS_P | VTDP_FS_US);
    fs_map(&e, l4, va + 0x2000, T_DATA(2), 1, VTDP_FS_P | VTDP_FS_RW);
    /* 2 MiB page at 1 GiB -> T_DATA(512) (2 MiB aligned: 0x3200000) */
    fs_map(&e, l4, big, T_DATA(512), 2, urw);
    l4e = l4 + 8 * VTDP_LEVEL_INDEX(va, 4);

    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid,
                            va + 0x18, 0xf1));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0) + 0x18), ==, 0xf1);
    g_assert_true(qtest_readq(e.t.qts, leaf) & VTDP_FS_A);
    g_assert_true(qtest_readq(e.t.qts, leaf) & VTDP_FS_D);
    g_assert_true(qtest_readq(e.t.qts, l4e) & VTDP_FS_A);
    g_assert_false(qtest_readq(e.t.qts, l4e) & VTDP_FS_D);

    /* read-only page: user write refused; WPE also refuses supervisor */
    g_assert_cmphex(fs_fault_reason(&e, 0, pasid, va + 0x1000), ==,
                    VTDP_FR_SM_WRITE);
    g_assert_cmphex(fs_fault_reason(&e, VTDP_TD_QCTRL_PRIV, pasid,
                                    va + 0x1000), ==, VTDP_FR_SM_WRITE);
    /* supervisor page: user request refused, privileged one allowed */
    g_assert_cmphex(fs_fault_reason(&e, 0, pasid, va + 0x2000), ==,
                    VTDP_FR_SM_FS_USER);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN |
                            VTDP_TD_QCTRL_PRIV, pasid, va + 0x2000, 0xf2));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(2)), ==, 0xf2);
    /* 2 MiB page */
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid,
                            big + 0x1ff000, 0xf3));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(512) + 0x1ff000), ==, 0xf3);
    /* not canonical (bit 47 set, 63:48 clear); not present */
    g_assert_cmphex(fs_fault_reason(&e, 0, pasid, 0x0000800000000000ULL),
                    ==, VTDP_FR_SM_FS_NON_CANONICAL);
    g_assert_cmphex(fs_fault_reason(&e, 0, pasid, va + 0x3000), ==,
                    VTDP_FR_SM_FS_NOT_PRESENT);
    env_stop(&e);
}

/* A full IOTLB evicts one entry (least recently used), never all. */
static void test_iotlb_eviction(void)
{
    Env e;
    uint64_t l4, leaf[3];
    int i;

    env_start(&e, "iotlb-size=2", NULL);
    l4 = env_alloc(&e, 1);
    for (i = 0; i < 3; i++) {
        leaf[i] = ss_map(&e, l4, T_VA + i * 0x1000, T_DATA(i), T_SS_RW);
    }
    set_pe_ss(&e, SCOPE_PASID, SCOPE_DID, l4, 0);
    /* pass-through (RID_PASID) translations are not cached: 2 entries */
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID,
                            T_VA, 1));
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID,
                            T_VA + 0x1000, 2));
    qtest_writeq(e.t.qts, leaf[0], T_DATA(3) | T_SS_RW);
    qtest_writeq(e.t.qts, leaf[1], T_DATA(4) | T_SS_RW);
    /* page 1 used again (stale), so page 0 is the least recently used */
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID,
                            T_VA + 0x1000, 3));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(1)), ==, 3);
    /* a third page evicts page 0 only */
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID,
                            T_VA + 0x2000, 4));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(2)), ==, 4);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID,
                            T_VA + 0x1000, 5));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(1)), ==, 5);   /* stale */
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID,
                            T_VA, 6));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(3)), ==, 6);   /* re-walked */
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 1);
    env_stop(&e);
}

/*
 * Legacy mode (RTADDR.TTM = 00) through the endpoint: 128-bit root and
 * context entries, a second-stage table (ring identity mapped, an IOVA
 * remapped), legacy fault reasons in the fault recording register, and
 * pass-through by the context entry's translation type.
 */
static void test_legacy_dma(void)
{
    Env e;
    uint64_t root, ctx, l4, hi;
    TdResult r;

    env_start(&e, NULL, NULL);
    root = env_alloc(&e, 1);
    ctx = env_alloc(&e, 1);
    l4 = env_alloc(&e, 1);
    qtest_writeq(e.t.qts, root, ctx | VTDP_ROOT_P);
    qtest_writeq(e.t.qts, ctx + e.sid * 16 + 8, VTDP_PE_AW_48 |
                 (12ULL << VTDP_LCTX1_DID_SHIFT));
    qtest_writeq(e.t.qts, ctx + e.sid * 16, l4 | VTDP_CTX_P);
    ss_map(&e, l4, T_QRING(0), T_QRING(0), T_SS_RW);
    ss_map(&e, l4, T_VA, T_DATA(5), T_SS_RW);
    ss_map(&e, l4, T_VA + 0x1000, T_DATA(6), VTDP_SS_R);
    wr64(&e.t, VTDP_REG_RTADDR, root | VTDP_RTADDR_TTM_LEGACY);
    gcmd_set(&e, VTDP_GCMD_SRTP, true);

    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_VA + 8, 0x1e6));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(5) + 8), ==, 0x1e6);

    r = td_imm(&e, 0, 0, 0, T_VA + 0x1000, 1);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    hi = frcd(&e, 0, true);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, VTDP_FR_WRITE);
    g_assert_false(hi & VTDP_FRCD_HI_PP);
    frcd_clear(&e, 0);
    r = td_imm(&e, 0, 0, 0, T_VA + 0x2000, 1);
    g_assert_cmphex(VTDP_FRCD_HI_FR(frcd(&e, 1, true)), ==, VTDP_FR_WRITE);
    frcd_clear(&e, 1);
    /* tagged requests are not taken in legacy mode */
    r = td_imm(&e, 0, VTDP_TD_QCTRL_PASID_EN, 3, T_VA, 1);
    g_assert_cmphex(VTDP_FRCD_HI_FR(frcd(&e, 2, true)), ==,
                    VTDP_FR_CTX_INVALID);
    frcd_clear(&e, 2);

    /* pass-through by translation type, after a context invalidation */
    qtest_writeq(e.t.qts, ctx + e.sid * 16, VTDP_CTX_P |
                 ((uint64_t)VTDP_LCTX_TT_PT << 2));
    wr64(&e.t, VTDP_REG_CCMD, VTDP_CCMD_ICC | VTDP_CCMD_DEVICE |
         (uint64_t)e.sid << 16);
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(7), 0x77));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(7)), ==, 0x77);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    env_stop(&e);
}

/* Register-based invalidation (queued invalidation off). */
static void test_register_invalidation(void)
{
    Env e;
    uint64_t l4, leaf, v;
    TdResult r;

    env_start(&e, NULL, NULL);
    l4 = env_alloc(&e, 1);
    leaf = ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    set_pe_ss(&e, SCOPE_PASID, SCOPE_DID, l4, 0);
    expect_page(&e, 1, 0);
    qtest_writeq(e.t.qts, leaf, T_DATA(1) | T_SS_RW);
    expect_page(&e, 2, 0);

    /* page-selective for another domain: stale */
    wr64(&e.t, VTDP_REG_IVA, T_VA);
    wr64(&e.t, VTDP_REG_IOTLB, VTDP_IOTLB_IVT | VTDP_IOTLB_PAGE |
         (uint64_t)(SCOPE_DID + 1) << VTDP_IOTLB_DID_SHIFT);
    v = rd64(&e.t, VTDP_REG_IOTLB);
    g_assert_false(v & VTDP_IOTLB_IVT);                 /* done */
    g_assert_cmphex((v >> VTDP_IOTLB_IAIG_SHIFT) & 3, ==, 3);
    expect_page(&e, 3, 0);
    /* another page of the domain: stale */
    wr64(&e.t, VTDP_REG_IVA, T_VA + 0x1000);
    wr64(&e.t, VTDP_REG_IOTLB, VTDP_IOTLB_IVT | VTDP_IOTLB_PAGE |
         (uint64_t)SCOPE_DID << VTDP_IOTLB_DID_SHIFT);
    expect_page(&e, 4, 0);
    /* the page */
    wr64(&e.t, VTDP_REG_IVA, T_VA);
    wr64(&e.t, VTDP_REG_IOTLB, VTDP_IOTLB_IVT | VTDP_IOTLB_PAGE |
         (uint64_t)SCOPE_DID << VTDP_IOTLB_DID_SHIFT);
    expect_page(&e, 5, 1);

    /* domain-selective, written as two 32-bit halves (high half last) */
    qtest_writeq(e.t.qts, leaf, T_DATA(0) | T_SS_RW);
    expect_page(&e, 6, 1);
    v = VTDP_IOTLB_IVT | VTDP_IOTLB_DOMAIN |
        (uint64_t)SCOPE_DID << VTDP_IOTLB_DID_SHIFT;
    wr32(&e.t, VTDP_REG_IOTLB, (uint32_t)v);
    wr32(&e.t, VTDP_REG_IOTLB + 4, v >> 32);
    expect_page(&e, 7, 0);

    /* global */
    qtest_writeq(e.t.qts, leaf, T_DATA(1) | T_SS_RW);
    expect_page(&e, 8, 0);
    wr64(&e.t, VTDP_REG_IOTLB, VTDP_IOTLB_IVT | VTDP_IOTLB_GLOBAL);
    expect_page(&e, 9, 1);

    /* Context command: device-selective for another device, then ours */
    qtest_writeq(e.t.qts, ctx_addr(&e), ctx_default(&e) & ~VTDP_CTX_PASIDE);
    wr64(&e.t, VTDP_REG_CCMD, VTDP_CCMD_ICC | VTDP_CCMD_DEVICE |
         (uint64_t)(e.sid + 1) << 16);
    g_assert_false(rd64(&e.t, VTDP_REG_CCMD) & VTDP_CCMD_ICC);
    expect_page(&e, 10, 1);
    wr64(&e.t, VTDP_REG_CCMD, VTDP_CCMD_ICC | VTDP_CCMD_DEVICE |
         (uint64_t)e.sid << 16);
    r = td_imm(&e, 0, VTDP_TD_QCTRL_PASID_EN, SCOPE_PASID, T_VA, 11);
    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_cmphex(VTDP_FRCD_HI_FR(frcd(&e, 0, true)), ==,
                    VTDP_FR_SM_CTX_INVALID);
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Fault recording registers                                               */

#define FAULT_PASID     3

/* A tagged write to the unmapped page T_DATA(@n): one fault. */
static void fault_dma_pasid(Env *e, uint32_t pasid, unsigned int n)
{
    TdResult r = td_imm(e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_DATA(n), n);

    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_cmphex(r.fault_addr, ==, T_DATA(n));
}

static void fault_dma(Env *e, unsigned int n)
{
    fault_dma_pasid(e, FAULT_PASID, n);
}

/*
 * nfr = 2: F/PPF/FRI as records fill, PFO on overflow (and no recording
 * until it is cleared, even with a record free again), only F writable,
 * the fault event with IM/IP, and the counters.
 */
static void test_fault_registers(void)
{
    Env e;
    g_autofree char *out = NULL;

    env_start(&e, "nfr=2", NULL);
    g_assert_cmpint(VTDP_CAP_NFR(rd64(&e.t, VTDP_REG_CAP)), ==, 2);
    set_pe_ss(&e, FAULT_PASID, 2, env_alloc(&e, 1), 0);
    msi_taken(&e);

    fault_dma(&e, 0);
    g_assert_true(frcd(&e, 0, true) & VTDP_FRCD_HI_F);
    g_assert_cmphex(frcd(&e, 0, false), ==, T_DATA(0));
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, VTDP_FSTS_PPF);
    g_assert_cmphex(msi_taken(&e), ==, T_MSI_DATA);

    /* second record; PPF was already set: no new event; FRI = oldest */
    fault_dma(&e, 1);
    g_assert_true(frcd(&e, 1, true) & VTDP_FRCD_HI_F);
    g_assert_cmphex(frcd(&e, 1, false), ==, T_DATA(1));
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, VTDP_FSTS_PPF);
    g_assert_cmphex(msi_taken(&e), ==, 0);

    /* overflow: PFO, event, the records keep the first two faults */
    fault_dma(&e, 2);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==,
                    VTDP_FSTS_PPF | VTDP_FSTS_PFO);
    g_assert_cmphex(frcd(&e, 0, false), ==, T_DATA(0));
    g_assert_cmphex(frcd(&e, 1, false), ==, T_DATA(1));
    g_assert_cmphex(msi_taken(&e), ==, T_MSI_DATA);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_DROPPED), ==, 1);

    /* record 0 handled: FRI moves on; PFO still blocks recording */
    wr64(&e.t, VTDP_REG_FRCD_BASE + 8, 0);              /* F not written */
    g_assert_true(frcd(&e, 0, true) & VTDP_FRCD_HI_F);
    frcd_clear(&e, 0);
    g_assert_false(frcd(&e, 0, true) & VTDP_FRCD_HI_F);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, VTDP_FSTS_PPF |
                    VTDP_FSTS_PFO | (1 << VTDP_FSTS_FRI_SHIFT));
    fault_dma(&e, 3);
    g_assert_false(frcd(&e, 0, true) & VTDP_FRCD_HI_F);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_DROPPED), ==, 2);
    g_assert_cmphex(msi_taken(&e), ==, 0);

    /* PFO cleared (RW1C): the next fault fills the free record 0 */
    wr32(&e.t, VTDP_REG_FSTS, VTDP_FSTS_PFO);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==,
                    VTDP_FSTS_PPF | (1 << VTDP_FSTS_FRI_SHIFT));
    fault_dma(&e, 4);
    g_assert_cmphex(frcd(&e, 0, false), ==, T_DATA(4));
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==,
                    VTDP_FSTS_PPF | (1 << VTDP_FSTS_FRI_SHIFT));
    g_assert_cmphex(msi_taken(&e), ==, 0);
    frcd_clear(&e, 1);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, VTDP_FSTS_PPF);
    frcd_clear(&e, 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);

    /* masked: IP instead of the interrupt; unmasking sends it */
    wr32(&e.t, VTDP_REG_FECTL, VTDP_FECTL_IM);
    fault_dma(&e, 5);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FECTL), ==,
                    VTDP_FECTL_IM | VTDP_FECTL_IP);
    g_assert_cmphex(msi_taken(&e), ==, 0);
    wr32(&e.t, VTDP_REG_FECTL, 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FECTL), ==, 0);
    g_assert_cmphex(msi_taken(&e), ==, T_MSI_DATA);
    frcd_clear(&e, 1);

    /* masked, and handled before unmasking: IP clears, no interrupt */
    wr32(&e.t, VTDP_REG_FECTL, VTDP_FECTL_IM);
    fault_dma(&e, 6);
    g_assert_true(rd32(&e.t, VTDP_REG_FECTL) & VTDP_FECTL_IP);
    g_assert_true(frcd(&e, 0, true) & VTDP_FRCD_HI_F);
    frcd_clear(&e, 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FECTL), ==, VTDP_FECTL_IM);
    wr32(&e.t, VTDP_REG_FECTL, 0);
    g_assert_cmphex(msi_taken(&e), ==, 0);

    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED), ==, 5);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_DROPPED), ==, 2);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_SUPPRESSED), ==, 0);
    out = qtest_hmp(e.t.qts, "info vtdp-faults");
    g_assert_nonnull(strstr(out, "recorded 5, suppressed 0, dropped 2"));
    g_assert_true(g_regex_match_simple("0x79 .* dropped\\s*$", out,
                                       G_REGEX_MULTILINE, 0));
    env_stop(&e);
}

/* FPD in the context entry, the PASID directory entry and the PASID entry. */
static void test_fault_fpd(void)
{
    Env e;
    uint64_t pdir_ent = 0, pe;
    g_autofree char *out = NULL;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);
    set_pe_ss(&e, FAULT_PASID, 2, env_alloc(&e, 1), 0);
    pe = pe_addr(&e, FAULT_PASID);
    pdir_ent = e.pdir + VTDP_PASID_DIR_INDEX(FAULT_PASID) * 8;
    msi_taken(&e);

    qtest_writeq(e.t.qts, ctx_addr(&e), ctx_default(&e) | VTDP_CTX_FPD);
    qi_run(&e, D_CC(VTDP_INV_CC_GLOBAL, 0, 0, 0), 0);
    fault_dma(&e, 0);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_SUPPRESSED), ==, 1);
    qtest_writeq(e.t.qts, ctx_addr(&e), ctx_default(&e));
    qi_run(&e, D_CC(VTDP_INV_CC_GLOBAL, 0, 0, 0), 0);

    qtest_writeq(e.t.qts, pdir_ent,
                 qtest_readq(e.t.qts, pdir_ent) | VTDP_PDIR_FPD);
    qi_run(&e, D_PC(VTDP_INV_PC_GLOBAL, 0, 0), 0);
    fault_dma(&e, 1);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_SUPPRESSED), ==, 2);
    qtest_writeq(e.t.qts, pdir_ent,
                 qtest_readq(e.t.qts, pdir_ent) & ~VTDP_PDIR_FPD);

    qtest_writeq(e.t.qts, pe, qtest_readq(e.t.qts, pe) | VTDP_PE0_FPD);
    qi_run(&e, D_PC(VTDP_INV_PC_GLOBAL, 0, 0), 0);
    fault_dma(&e, 2);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_SUPPRESSED), ==, 3);

    /* nothing reached the recording registers or the interrupt */
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    g_assert_false(frcd(&e, 0, true) & VTDP_FRCD_HI_F);
    g_assert_cmphex(msi_taken(&e), ==, 0);

    /* FPD cleared: recorded again */
    qtest_writeq(e.t.qts, pe, qtest_readq(e.t.qts, pe) & ~VTDP_PE0_FPD);
    qi_run(&e, D_PC(VTDP_INV_PC_PASID, 2, FAULT_PASID), 0);
    fault_dma(&e, 3);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, VTDP_FSTS_PPF);
    g_assert_cmphex(msi_taken(&e), ==, T_MSI_DATA);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED), ==, 1);
    out = qtest_hmp(e.t.qts, "info vtdp-faults");
    g_assert_nonnull(strstr(out, "recorded 1, suppressed 3, dropped 0"));
    g_assert_true(g_regex_match_simple("0x79 .* suppressed\\s*$", out,
                                       G_REGEX_MULTILINE, 0));
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Migration                                                               */

/*
 * Save the VM in the middle of a run (translation on, QI in use, a fault
 * pending, a PASID queue programmed), load it in a new QEMU: registers,
 * pending fault, counters, translation and the queue's PASID come back.
 */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/vtdp-mig-%d.bin",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    const uint32_t pasid = (1u << 20) - 1;
    uint8_t desc[VTDP_TD_DESC_SIZE] = { 0 };
    uint64_t l4, frcd_lo, frcd_hi, iqh, gsts;
    g_autofree char *out = NULL;
    Env e, d;
    int i;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);
    l4 = env_alloc(&e, 1);
    ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    set_pe_ss(&e, pasid, 6, l4, 0);
    g_assert_true(td_imm_ok(&e, 7, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 1));
    fault_dma_pasid(&e, pasid, 5);
    qi_run(&e, D_IOTLB(VTDP_INV_IOTLB_GLOBAL, 0), 0);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_IF, 0), 0);

    gsts = rd32(&e.t, VTDP_REG_GSTS);
    frcd_lo = frcd(&e, 0, false);
    frcd_hi = frcd(&e, 0, true);
    iqh = rd64(&e.t, VTDP_REG_IQH);
    g_assert_true(frcd_hi & VTDP_FRCD_HI_F);

    qtest_qmp_assert_success(e.t.qts, "{ 'execute': 'migrate', 'arguments':"
                             " { 'uri': %s } }", uri);
    vtdp_wait_migration(e.t.qts);
    env_stop(&e);

    memset(&d, 0, sizeof(d));
    vtdp_test_start3(&d.t, NULL, NULL, incoming);
    vtdp_wait_migration(d.t.qts);
    unlink(file);
    d.td = qpci_device_find(d.t.bus, QPCI_DEVFN(VTDP_TD_SLOT, 0));
    g_assert(d.td);
    d.tdbar = qpci_iomap(d.td, VTDP_TESTDEV_REG_BAR, NULL);
    d.sid = QPCI_DEVFN(VTDP_TD_SLOT, 0);

    g_assert_cmphex(rd32(&d.t, VTDP_REG_GSTS), ==, gsts);
    g_assert_true(gsts & VTDP_GSTS_TES);
    g_assert_true(gsts & VTDP_GSTS_QIES);
    g_assert_cmphex(rd32(&d.t, VTDP_REG_FSTS), ==, VTDP_FSTS_PPF);
    g_assert_cmphex(frcd(&d, 0, false), ==, frcd_lo);
    g_assert_cmphex(frcd(&d, 0, true), ==, frcd_hi);
    g_assert_cmphex(rd64(&d.t, VTDP_REG_IQH), ==, iqh);
    g_assert_cmphex(rd32(&d.t, VTDP_REG_ICS), ==, VTDP_ICS_IWC);
    g_assert_cmpuint(rd64(&d.t, VTDP_REG_EXT_FAULTS_RECORDED), ==, 1);
    /* the fault log came along: the monitor still shows the fault */
    out = qtest_hmp(d.t.qts, "info vtdp-faults");
    g_test_message("%s", out);
    g_assert_true(g_regex_match_simple("^ +0 .* 0xfffff .* 0x79 ", out,
                                       G_REGEX_MULTILINE, 0));

    /* Queue 7 kept its PASID: one more descriptor, without reprogramming */
    desc[0] = VTDP_TD_OP_WRITE_IMM;
    desc[4] = 8;
    stq_le_p(&desc[16], T_VA + 8);
    stq_le_p(&desc[24], 0x1234);
    qtest_memwrite(d.t.qts, T_QRING(7) + VTDP_TD_DESC_SIZE, desc,
                   sizeof(desc));
    qpci_io_writel(d.td, d.tdbar, VTDP_TD_QREG(7, VTDP_TD_QTAIL), 0);
    for (i = 0; i < 20000 && qpci_io_readl(d.td, d.tdbar,
                                          VTDP_TD_QREG(7, VTDP_TD_QHEAD));
         i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(qtest_readl(d.t.qts, T_QRING(7) + VTDP_TD_DESC_SIZE + 40),
                    ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    g_assert_cmphex(qtest_readq(d.t.qts, T_DATA(0) + 8), ==, 0x1234);

    /* The queued invalidation goes on where it was */
    d.iq_tail = iqh >> VTDP_IQ_INDEX_SHIFT;
    qtest_writel(d.t.qts, T_STATUS, 0);
    qi_run(&d, D_WAIT(VTDP_INV_WAIT_SW, 0xabc), T_STATUS);
    g_assert_cmphex(qtest_readl(d.t.qts, T_STATUS), ==, 0xabc);

    g_free(d.td);
    vtdp_test_stop(&d.t);
}

/* HMP command that must succeed silently. */
static void hmp_ok(QTestState *qts, const char *cmd)
{
    g_autofree char *out = qtest_hmp(qts, "%s", cmd);

    g_assert_cmpstr(out, ==, "");
}

/*
 * savevm, change everything, loadvm: the IOMMU comes back as saved (in
 * the same QEMU, over the changed state): translation on, the pending
 * fault, the counters, the queue's PASID.
 */
static void test_savevm_loadvm(void)
{
    g_autofree char *img = g_strdup_printf("%s/vtdp-snap-%d.qcow2",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *extra =
        g_strdup_printf("-blockdev driver=file,filename=%s,node-name=f", img);
    const uint32_t pasid = 1u << 10;
    uint64_t l4, leaf, hi;
    QDict *rsp;
    Env e;
    int i;

    g_assert_true(g_file_set_contents(img, "", 0, NULL));
    env_start3(&e, NULL, NULL, extra);
    qtest_qmp_assert_success(e.t.qts, "{ 'execute': 'blockdev-create', "
                             "'arguments': { 'job-id': 'c', 'options': {"
                             " 'driver': 'qcow2', 'file': 'f',"
                             " 'size': 16777216 } } }");
    for (i = 0; i < 1000; i++) {
        const char *st;

        rsp = qtest_qmp(e.t.qts, "{ 'execute': 'query-jobs' }");
        st = qdict_get_str(qobject_to(QDict, qlist_peek(
                               qdict_get_qlist(rsp, "return"))), "status");
        if (!strcmp(st, "concluded")) {
            qobject_unref(rsp);
            break;
        }
        qobject_unref(rsp);
        g_usleep(10000);
    }
    g_assert_cmpint(i, <, 1000);
    qtest_qmp_assert_success(e.t.qts, "{ 'execute': 'job-dismiss', "
                             "'arguments': { 'id': 'c' } }");
    qtest_qmp_assert_success(e.t.qts, "{ 'execute': 'blockdev-add', "
                             "'arguments': { 'driver': 'qcow2', "
                             "'file': 'f', 'node-name': 'snap' } }");

    qi_enable(&e, false);
    l4 = env_alloc(&e, 1);
    leaf = ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    set_pe_ss(&e, pasid, 6, l4, 0);
    g_assert_true(td_imm_ok(&e, 5, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 1));
    fault_dma_pasid(&e, pasid, 9);
    hi = frcd(&e, 0, true);
    g_assert_true(hi & VTDP_FRCD_HI_F);

    hmp_ok(e.t.qts, "savevm s1");

    /* change everything */
    frcd_clear(&e, 0);
    gcmd_set(&e, VTDP_GCMD_QIE, false);
    gcmd_set(&e, VTDP_GCMD_TE, false);
    qtest_writeq(e.t.qts, leaf, T_DATA(1) | T_SS_RW);
    qpci_io_writel(e.td, e.tdbar, VTDP_TD_QREG(5, VTDP_TD_QCTRL), 0);
    qpci_io_writel(e.td, e.tdbar, VTDP_TD_QREG(5, VTDP_TD_QPASID), 77);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_GSTS) & VTDP_GSTS_TES, ==, 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);

    hmp_ok(e.t.qts, "loadvm s1");
    unlink(img);

    g_assert_true(rd32(&e.t, VTDP_REG_GSTS) & VTDP_GSTS_TES);
    g_assert_true(rd32(&e.t, VTDP_REG_GSTS) & VTDP_GSTS_QIES);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, VTDP_FSTS_PPF);
    g_assert_cmphex(frcd(&e, 0, true), ==, hi);
    g_assert_cmphex(frcd(&e, 0, false), ==, T_DATA(9));
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED), ==, 1);
    g_assert_cmphex(qpci_io_readl(e.td, e.tdbar,
                                  VTDP_TD_QREG(5, VTDP_TD_QPASID)), ==, pasid);
    g_assert_cmphex(qtest_readq(e.t.qts, leaf), ==, T_DATA(0) | T_SS_RW);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 2));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 2);
    env_stop(&e);
}

/* The vtdp-iommu's fault log and sanitizer counter, through QMP. */
static QDict *sanitizer_query(Env *e, uint64_t *reports)
{
    QDict *rsp = qtest_qmp(e->t.qts, "{'execute': 'query-vtdp'}");
    QDict *iommu = qobject_to(QDict, qlist_peek(
        qdict_get_qlist(qdict_get_qdict(rsp, "return"), "iommus")));

    g_assert_true(qdict_get_bool(iommu, "sanitizer"));
    *reports = qdict_get_int(iommu, "sanitizer-reports");
    qobject_unref(rsp);
    rsp = qtest_qmp(e->t.qts, "{'execute': 'query-vtdp-faults', "
                    "'arguments': {'count': 1}}");
    return rsp;
}

/*
 * @nreports sanitizer reports so far, the newest fault log record of
 * reason @reason for a @write to @addr, tagged with @pasid (-1: untagged).
 */
static void sanitizer_expect(Env *e, uint64_t nreports, int reason,
                             uint64_t addr, bool write, int64_t pasid)
{
    uint64_t reports;
    QDict *rsp = sanitizer_query(e, &reports);
    QDict *log = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp, "return")));
    QDict *f = qobject_to(QDict, qlist_peek(qdict_get_qlist(log, "faults")));

    g_assert_cmpint(reports, ==, nreports);
    g_assert_nonnull(f);
    g_assert_cmphex(qdict_get_int(f, "reason"), ==, reason);
    g_assert_cmphex(qdict_get_int(f, "address"), ==, addr);
    g_assert_cmpint(qdict_get_int(f, "sid"), ==, e->sid);
    if (pasid < 0) {
        g_assert_false(qdict_haskey(f, "pasid"));
    } else {
        g_assert_cmpint(qdict_get_int(f, "pasid"), ==, pasid);
    }
    g_assert_cmpint(qdict_get_bool(f, "write"), ==, write);
    qobject_unref(rsp);
}

/*
 * DMA sanitizer (property "sanitizer"): a guest that changes a leaf
 * entry, a PASID entry or a context entry without invalidating gets its
 * DMA served from the stale cached copy, as on hardware, and one report
 * of the matching kind in the host fault log -- not in a fault recording
 * register.  The correct sequence reports nothing.
 */
static void test_sanitizer(void)
{
    const uint32_t pasid = 5;
    const uint16_t did = 9;
    g_autofree char *info = NULL, *faults = NULL;
    uint64_t l4, l4b, leaf, reports;
    Env e;

    env_start(&e, "sanitizer=on", NULL);
    qi_enable(&e, false);
    l4 = env_alloc(&e, 1);
    leaf = ss_map(&e, l4, T_VA, T_DATA(0), T_SS_RW);
    set_pe_ss(&e, pasid, did, l4, 0);

    /* correct: use, remap + PASID-IOTLB invalidation, use again */
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 1));
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 2));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 2);
    qtest_writeq(e.t.qts, leaf, T_DATA(1) | T_SS_RW);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, did, pasid), 0);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 3));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(1)), ==, 3);
    qobject_unref(sanitizer_query(&e, &reports));
    g_assert_cmpint(reports, ==, 0);

    /* bug 1: the leaf is pointed elsewhere, no invalidation */
    qtest_writeq(e.t.qts, leaf, T_DATA(2) | T_SS_RW);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 4));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(1)), ==, 4);   /* stale */
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(2)), ==, 0);
    sanitizer_expect(&e, 1, VTDP_FR_SAN_STALE_IOTLB, T_VA, true, pasid);
    /* reported once per cached entry */
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 5));
    qobject_unref(sanitizer_query(&e, &reports));
    g_assert_cmpint(reports, ==, 1);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, did, pasid), 0);

    /* bug 2: the PASID entry moves to another table, no PASID-cache
     * invalidation */
    l4b = env_alloc(&e, 1);
    ss_map(&e, l4b, T_VA, T_DATA(3), T_SS_RW);
    set_pe_ss(&e, pasid, did, l4b, 0);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 6));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(2)), ==, 6);   /* stale */
    sanitizer_expect(&e, 2, VTDP_FR_SAN_STALE_PASID, T_VA, true, pasid);
    qi_run(&e, D_PC(VTDP_INV_PC_PASID, did, pasid), 0);
    qi_run(&e, D_PIOTLB(VTDP_INV_PIOTLB_ALL_PASID, did, pasid), 0);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 7));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(3)), ==, 7);

    /* bug 3: the context entry loses PASID enable, no context-cache
     * invalidation */
    qtest_writeq(e.t.qts, ctx_addr(&e), ctx_default(&e) & ~VTDP_CTX_PASIDE);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 8));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(3)), ==, 8);   /* stale */
    /* first used by the (untagged) descriptor fetch from the ring */
    sanitizer_expect(&e, 3, VTDP_FR_SAN_STALE_CONTEXT, T_QRING(0), false, -1);

    /* nothing of it reached the guest's fault recording */
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    info = qtest_hmp(e.t.qts, "info vtdp");
    g_assert_nonnull(strstr(info, "DMA sanitizer: on, 3 stale-cache"));
    faults = qtest_hmp(e.t.qts, "info vtdp-faults 3");
    g_assert_nonnull(strstr(faults, "sanitizer: stale IOTLB entry used"));
    g_assert_nonnull(strstr(faults, "sanitizer: stale PASID entry used"));
    g_assert_nonnull(strstr(faults, "sanitizer: stale context entry used"));

    /* the invalidation ends it: the request now faults as it should */
    qi_run(&e, D_CC(VTDP_INV_CC_GLOBAL, 0, 0, 0), 0);
    g_assert_false(td_imm_ok(&e, 1, VTDP_TD_QCTRL_PASID_EN, pasid, T_VA, 9));
    env_stop(&e);
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
    qtest_add_func("/vtdp-iommu/monitor-qmp", test_monitor_qmp);
    qtest_add_func("/vtdp-iommu/dma-second-stage", test_dma_second_stage);
    qtest_add_func("/vtdp-iommu/pasid-dma", test_pasid_dma);
    qtest_add_func("/vtdp-iommu/pasid-refused", test_pasid_refused);
    qtest_add_func("/vtdp-iommu/pasid-no-iommu", test_pasid_no_iommu);
    qtest_add_func("/vtdp-iommu/pasid-limits", test_pasid_limits);
    qtest_add_func("/vtdp-iommu/pasid-sweep", test_pasid_sweep);
    qtest_add_func("/vtdp-iommu/qi-descriptors", test_qi_descriptors);
    qtest_add_func("/vtdp-iommu/qi-errors", test_qi_errors);
    qtest_add_func("/vtdp-iommu/qi-256bit", test_qi_256bit);
    qtest_add_func("/vtdp-iommu/iotlb-scope", test_iotlb_scope);
    qtest_add_func("/vtdp-iommu/context-pasid-cache-scope",
                   test_context_pasid_cache_scope);
    qtest_add_func("/vtdp-iommu/register-invalidation",
                   test_register_invalidation);
    qtest_add_func("/vtdp-iommu/fault-registers", test_fault_registers);
    qtest_add_func("/vtdp-iommu/fault-fpd", test_fault_fpd);
    qtest_add_func("/vtdp-iommu/first-stage-dma", test_first_stage_dma);
    qtest_add_func("/vtdp-iommu/iotlb-eviction", test_iotlb_eviction);
    qtest_add_func("/vtdp-iommu/legacy-dma", test_legacy_dma);
    qtest_add_func("/vtdp-iommu/migration", test_migration);
    qtest_add_func("/vtdp-iommu/savevm-loadvm", test_savevm_loadvm);
    qtest_add_func("/vtdp-iommu/sanitizer", test_sanitizer);
    return g_test_run();
}
