/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest: a hostile guest against vtdp-iommu and vtdp-testdev.
 *
 * Page-table loops, tables in MMIO (the IOMMU's own BAR, the endpoint's
 * BAR) and beyond RAM, reserved bits in every table level and register,
 * queue tails beyond their queues, MMIO accesses of every size at every
 * offset, and a storm of a million faults.  Every case checks the fault
 * the hardware must report (reason, address, requester) or the error
 * status, that nothing outside the mapping was written, and that QEMU is
 * still alive and answering; the storm also checks that QEMU's memory
 * stays bounded and that every fault is either recorded or counted as
 * dropped.  docs/hostile.md has the table of what was tried.
 *
 * Build: scripts/build-qemu tests/qtest/vtdp-hostile-test
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "vtdp-qtest-env.h"

/*
 * PASIDs whose tables each case makes hostile; RID_PASID (0) stays sane.
 * H_PASID shares its PASID table with RID_PASID, H_PASID_FAR has its own.
 */
#define H_PASID         5
#define H_PASID_FAR     (3 * 64 + 5)
#define H_DID           7
/* Index 1 at every level of a 4-level walk: a table loop maps it. */
#define IOVA_LOOP       ((1ULL << 39) | (1ULL << 30) | (1ULL << 21) | \
                         (1ULL << 12))
/* Guest-physical addresses nothing is mapped at (q35, 128 MiB RAM). */
#define GPA_UNASSIGNED  0x7f0000000000ULL

/* QEMU is alive and its monitor answers. */
static void assert_alive(QTestState *qts)
{
    QDict *rsp;

    g_assert_true(qtest_probe_child(qts));
    rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/* Invalidate everything the IOMMU caches (SRTP flushes all its caches). */
static void flush_all(Env *e)
{
    gcmd_set(e, VTDP_GCMD_SRTP, true);
}

/*
 * The oldest pending fault record must be @reason for @addr (page) from
 * the testdev, a read if @read; it is cleared, and so is PFO.
 */
static void expect_fault(Env *e, uint8_t reason, uint64_t addr, bool read)
{
    uint32_t fsts = rd32(&e->t, VTDP_REG_FSTS);
    unsigned int i = VTDP_FSTS_FRI(fsts);
    uint64_t hi, lo;

    g_assert_true(fsts & VTDP_FSTS_PPF);
    hi = frcd(e, i, true);
    lo = frcd(e, i, false);
    g_assert_true(hi & VTDP_FRCD_HI_F);
    g_assert_cmphex(VTDP_FRCD_HI_FR(hi), ==, reason);
    g_assert_cmphex(VTDP_FRCD_HI_SID(hi), ==, e->sid);
    g_assert_cmphex(lo, ==, addr & VTDP_FRCD_LO_FI_MASK);
    g_assert_cmpint(!!(hi & VTDP_FRCD_HI_T1), ==, read);
    frcd_clear(e, i);
    wr32(&e->t, VTDP_REG_FSTS, VTDP_FSTS_PFO);
    g_assert_false(rd32(&e->t, VTDP_REG_FSTS) & VTDP_FSTS_PPF);
}

/* A PASID-tagged 8-byte write to @iova must fault with @reason. */
static void expect_dma_fault(Env *e, uint32_t pasid, uint64_t iova,
                             uint8_t reason)
{
    TdResult r = td_imm(e, 0, VTDP_TD_QCTRL_PASID_EN, pasid, iova,
                        0xbadbadbadULL);

    g_assert_cmphex(VTDP_TD_ST_CODE(r.status), ==, VTDP_TD_ST_DMA_FAULT);
    g_assert_cmphex(r.fault_addr, ==, iova);
    g_assert_true(r.fault_info & VTDP_TD_FI_WRITE);
    expect_fault(e, reason, iova, false);
}

/*
 * One descriptor on queue @q whose ring is at @ring, for the cases where
 * the ring itself is unreachable; returns QSTATUS once the descriptor
 * completed or the queue stopped.
 */
static uint32_t td_raw(Env *e, unsigned int q, uint64_t ring)
{
    QPCIDevice *td = e->td;

    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QCTRL), 0);
    qpci_io_writeq(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QRING_BASE), ring);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QRING_SIZE), 2);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QCTRL),
                   VTDP_TD_QCTRL_ENABLE | VTDP_TD_QCTRL_HALT_ON_ERROR);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(q, VTDP_TD_QTAIL), 1);
    return td_wait_first(td, e->tdbar, q);
}

/* The testdev's ring fetch must fault with @reason (context-level cases). */
static void expect_ring_fault(Env *e, uint8_t reason)
{
    uint32_t st;

    qtest_memset(e->t.qts, T_QRING(1), 0, VTDP_TD_DESC_SIZE * 2);
    st = td_raw(e, 1, T_QRING(1));
    g_assert_cmphex(st, ==,
                    VTDP_TD_QSTATUS_HALTED | VTDP_TD_QSTATUS_RING_FAULT);
    expect_fault(e, reason, T_QRING(1), true);
}

/* PASID entry for first-stage translation with @pml4. */
static void set_pe_fs(Env *e, uint32_t pasid, uint16_t did, uint64_t pml4,
                      uint64_t q2_extra)
{
    set_pe(e, pasid, VTDP_PE0_P |
           ((uint64_t)VTDP_PGTT_FS << VTDP_PE0_PGTT_SHIFT), did,
           pml4 | VTDP_PE2_FLPM_4LVL | q2_extra);
}

/* ---------------------------------------------------------------------- */
/* Page-table loops                                                        */

/*
 * Tables that point to themselves or to each other: every walk has a
 * fixed number of levels, so it ends; the result is what the entries say
 * (here: the table page itself, or the permissions of the loop).
 */
static void test_table_loops(void)
{
    Env e;
    uint64_t a, b, pml4, pde;
    const uint64_t fs_rw = VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US;

    env_start(&e, NULL, NULL);

    /* second stage: L4[1] -> L4 at every level, the leaf is L4 itself */
    a = env_alloc(&e, 1);
    qtest_writeq(e.t.qts, a + 8, a | T_SS_RW);
    set_pe_ss(&e, H_PASID, H_DID, a, 0);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, H_PASID,
                            IOVA_LOOP + 0x800, 0x1001));
    g_assert_cmphex(qtest_readq(e.t.qts, a + 0x800), ==, 0x1001);
    g_assert_cmphex(qtest_readq(e.t.qts, a + 8), ==, a | T_SS_RW);

    /* a two-table cycle A -> B -> A -> B whose B link is read-only */
    a = env_alloc(&e, 1);
    b = env_alloc(&e, 1);
    qtest_writeq(e.t.qts, a + 8, b | T_SS_RW);
    qtest_writeq(e.t.qts, b + 8, a | VTDP_SS_R);
    set_pe_ss(&e, H_PASID, H_DID, a, 0);
    flush_all(&e);
    expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_WRITE);
    g_assert_cmphex(qtest_readq(e.t.qts, a), ==, 0);

    /* first stage: PML4[1] -> PML4; A and D land on the one entry */
    pml4 = env_alloc(&e, 1);
    qtest_writeq(e.t.qts, pml4 + 8, pml4 | fs_rw);
    set_pe_fs(&e, H_PASID, H_DID, pml4, 0);
    flush_all(&e);
    g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, H_PASID,
                            IOVA_LOOP + 0x800, 0x2002));
    g_assert_cmphex(qtest_readq(e.t.qts, pml4 + 0x800), ==, 0x2002);
    g_assert_cmphex(qtest_readq(e.t.qts, pml4 + 8), ==,
                    pml4 | fs_rw | VTDP_FS_A | VTDP_FS_D);

    /* the same loop with XD and NXE clear: reserved, nothing written */
    qtest_writeq(e.t.qts, pml4 + 8, pml4 | fs_rw | VTDP_FS_XD);
    qtest_writeq(e.t.qts, pml4 + 0x800, 0);
    flush_all(&e);
    expect_dma_fault(&e, H_PASID, IOVA_LOOP + 0x800, VTDP_FR_SM_FS_RSVD);
    g_assert_cmphex(qtest_readq(e.t.qts, pml4 + 0x800), ==, 0);
    g_assert_cmphex(qtest_readq(e.t.qts, pml4 + 8), ==,
                    pml4 | fs_rw | VTDP_FS_XD);

    /*
     * PASID directory entry -> the directory: PASID 2 * 64's table is the
     * directory, whose entry 0 (PASID 0's table pointer) reads as a PASID
     * entry with PGTT 0.
     */
    pde = e.pdir + VTDP_PASID_DIR_INDEX(2 * 64) * 8;
    qtest_writeq(e.t.qts, pde, e.pdir | VTDP_PDIR_P);
    expect_dma_fault(&e, 2 * 64, IOVA_LOOP, VTDP_FR_SM_PTE_INVALID);
    qtest_writeq(e.t.qts, pde, 0);

    /* root entry -> the root table as a context table: entry 0x28 empty */
    qtest_writeq(e.t.qts, e.root, e.root | VTDP_ROOT_P);
    flush_all(&e);
    expect_ring_fault(&e, VTDP_FR_SM_CTX_NOT_PRESENT);

    assert_alive(e.t.qts);
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Tables in MMIO and beyond RAM                                           */

enum { TGT_IOMMU_BAR, TGT_TESTDEV_BAR, TGT_UNASSIGNED, TGT_N };
static const char *const tgt_name[TGT_N] = {
    "the IOMMU's BAR", "the testdev's BAR", "unassigned space",
};

static uint64_t tgt_addr(Env *e, int tgt)
{
    switch (tgt) {
    case TGT_IOMMU_BAR:
        return e->t.bar.addr;
    case TGT_TESTDEV_BAR:
        return e->tdbar.addr;
    default:
        return GPA_UNASSIGNED;
    }
}

/*
 * Tables in MMIO and unassigned space.  The testdev's DMA is translated in
 * its queue threads, outside the BQL, where the IOMMU reads tables from
 * RAM only (vtdp_iommu_ram_rw()): anything else, its own BAR included, is
 * an access error at every level.
 */
static void test_tables_in_mmio(void)
{
    Env e;
    int tgt;

    env_start(&e, NULL, NULL);
    for (tgt = 0; tgt < TGT_N; tgt++) {
        uint64_t t = tgt_addr(&e, tgt), l4, pde, old;
        uint64_t cap = rd64(&e.t, VTDP_REG_CAP);

        g_test_message("tables in %s at 0x%" PRIx64, tgt_name[tgt], t);

        /* second-stage L4 */
        set_pe_ss(&e, H_PASID, H_DID, t, 0);
        flush_all(&e);
        expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_SS_ACCESS);

        /* second-stage L3 (from a good L4) */
        l4 = env_alloc(&e, 1);
        qtest_writeq(e.t.qts, l4 + 8, t | T_SS_RW);
        set_pe_ss(&e, H_PASID, H_DID, l4, 0);
        flush_all(&e);
        expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_SS_ACCESS);

        /* first-stage PML4 */
        set_pe_fs(&e, H_PASID, H_DID, t, 0);
        flush_all(&e);
        expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_FS_ACCESS);

        /* PASID table */
        pde = e.pdir + VTDP_PASID_DIR_INDEX(H_PASID_FAR) * 8;
        old = qtest_readq(e.t.qts, pde);
        qtest_writeq(e.t.qts, pde, t | VTDP_PDIR_P);
        flush_all(&e);
        expect_dma_fault(&e, H_PASID_FAR, IOVA_LOOP, VTDP_FR_SM_PTE_ACCESS);
        qtest_writeq(e.t.qts, pde, old);

        /* PASID directory (the ring's RID_PASID too) */
        qtest_writeq(e.t.qts, ctx_addr(&e),
                     (ctx_default(&e) & ~VTDP_ADDR_MASK) | t);
        flush_all(&e);
        expect_ring_fault(&e, VTDP_FR_SM_PDIR_ACCESS);

        /* context table */
        qtest_writeq(e.t.qts, e.root, t | VTDP_ROOT_P);
        flush_all(&e);
        expect_ring_fault(&e, VTDP_FR_SM_CTX_ACCESS);

        /* root table */
        wr64(&e.t, VTDP_REG_RTADDR, t | VTDP_RTADDR_TTM_SM);
        flush_all(&e);
        expect_ring_fault(&e, VTDP_FR_SM_ROOT_ACCESS);

        /* put the sane tables back: DMA works again */
        wr64(&e.t, VTDP_REG_RTADDR, e.root | VTDP_RTADDR_TTM_SM);
        qtest_writeq(e.t.qts, e.root, e.ctx | VTDP_ROOT_P);
        qtest_writeq(e.t.qts, ctx_addr(&e), ctx_default(&e));
        flush_all(&e);
        g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(1), tgt));
        g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(1)), ==, tgt);
        /* the IOMMU's registers were not changed by any of it */
        g_assert_cmphex(rd64(&e.t, VTDP_REG_CAP), ==, cap);
        g_assert_cmphex(rd32(&e.t, VTDP_REG_GSTS), ==,
                        VTDP_GSTS_TES | VTDP_GSTS_RTPS);
        assert_alive(e.t.qts);
    }
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Reserved bits in every table level                                      */

typedef struct RsvdCase {
    const char *what;
    unsigned int level;     /* which entry: see rsvd_entry() */
    unsigned int qword;
    uint64_t bits;
    uint8_t reason;
} RsvdCase;

enum {
    E_ROOT, E_CTX, E_PDIR, E_PE, E_SS4, E_SS3, E_SS2, E_SS1,
    E_FS4, E_FS3, E_FS2, E_FS1,
};

/* High output-address bit beyond the default 48-bit address width. */
#define OA_BEYOND_AW    (1ULL << 50)

static const RsvdCase rsvd_cases[] = {
    { "root entry bit 1", E_ROOT, 0, 1ULL << 1, VTDP_FR_SM_ROOT_RSVD },
    { "root entry bit 11", E_ROOT, 0, 1ULL << 11, VTDP_FR_SM_ROOT_RSVD },
    { "root entry bit 63", E_ROOT, 0, 1ULL << 63, VTDP_FR_SM_ROOT_RSVD },
    { "context bit 5", E_CTX, 0, 1ULL << 5, VTDP_FR_SM_CTX_RSVD },
    { "context bit 63", E_CTX, 0, 1ULL << 63, VTDP_FR_SM_CTX_RSVD },
    { "context qword 1 bit 21", E_CTX, 1, 1ULL << 21, VTDP_FR_SM_CTX_RSVD },
    { "context qword 2", E_CTX, 2, 1, VTDP_FR_SM_CTX_RSVD },
    { "context qword 3", E_CTX, 3, 1ULL << 63, VTDP_FR_SM_CTX_RSVD },
    { "PASID dir bit 2", E_PDIR, 0, 1ULL << 2, VTDP_FR_SM_PDIR_RSVD },
    { "PASID dir bit 63", E_PDIR, 0, 1ULL << 63, VTDP_FR_SM_PDIR_RSVD },
    { "PASID entry SLEE", E_PE, 0, VTDP_PE0_SLEE, VTDP_FR_SM_PTE_RSVD },
    { "PASID entry SLADE", E_PE, 0, VTDP_PE0_SLADE, VTDP_FR_SM_PTE_RSVD },
    { "PASID entry bit 10", E_PE, 0, 1ULL << 10, VTDP_FR_SM_PTE_RSVD },
    { "PASID entry bit 63", E_PE, 0, 1ULL << 63, VTDP_FR_SM_PTE_RSVD },
    { "PASID entry qword 1 bit 16", E_PE, 1, 1ULL << 16,
      VTDP_FR_SM_PTE_RSVD },
    { "PASID entry qword 2 bit 1", E_PE, 2, 1ULL << 1, VTDP_FR_SM_PTE_RSVD },
    { "PASID entry qword 2 bit 8", E_PE, 2, 1ULL << 8, VTDP_FR_SM_PTE_RSVD },
    { "PASID entry qword 3", E_PE, 3, 1, VTDP_FR_SM_PTE_RSVD },
    { "PASID entry qword 7", E_PE, 7, 1ULL << 63, VTDP_FR_SM_PTE_RSVD },
    { "SS L4 bit 52", E_SS4, 0, 1ULL << 52, VTDP_FR_SM_SS_RSVD },
    { "SS L4 PS", E_SS4, 0, VTDP_SS_PS, VTDP_FR_SM_SS_RSVD },
    { "SS L4 beyond AW", E_SS4, 0, OA_BEYOND_AW, VTDP_FR_SM_SS_RSVD },
    { "SS L3 bit 61", E_SS3, 0, 1ULL << 61, VTDP_FR_SM_SS_RSVD },
    { "SS L2 bit 55", E_SS2, 0, 1ULL << 55, VTDP_FR_SM_SS_RSVD },
    { "SS L2 PS, misaligned", E_SS2, 0, VTDP_SS_PS, VTDP_FR_SM_SS_RSVD },
    { "SS L1 bit 52", E_SS1, 0, 1ULL << 52, VTDP_FR_SM_SS_RSVD },
    { "SS L1 beyond AW", E_SS1, 0, OA_BEYOND_AW, VTDP_FR_SM_SS_RSVD },
    { "FS L4 PS", E_FS4, 0, VTDP_FS_PS, VTDP_FR_SM_FS_RSVD },
    { "FS L4 XD, NXE clear", E_FS4, 0, VTDP_FS_XD, VTDP_FR_SM_FS_RSVD },
    { "FS L3 beyond AW", E_FS3, 0, OA_BEYOND_AW, VTDP_FR_SM_FS_RSVD },
    { "FS L2 PS, misaligned", E_FS2, 0, VTDP_FS_PS, VTDP_FR_SM_FS_RSVD },
    { "FS L1 beyond AW", E_FS1, 0, OA_BEYOND_AW, VTDP_FR_SM_FS_RSVD },
};

/* Map IOVA_LOOP -> T_DATA(0) in both stages; returns each level's entry. */
static void map_both(Env *e, uint64_t ss[5], uint64_t fs[5])
{
    uint64_t ss_l4 = env_alloc(e, 1), fs_l4 = env_alloc(e, 1);
    uint64_t t, ent;
    int level;

    ss_map(e, ss_l4, IOVA_LOOP, T_DATA(0), T_SS_RW);
    for (t = ss_l4, level = 4; level >= 1; level--) {
        ss[level] = t + 8 * VTDP_LEVEL_INDEX(IOVA_LOOP, level);
        t = qtest_readq(e->t.qts, ss[level]) & VTDP_ADDR_MASK;
    }
    for (t = fs_l4, level = 4; level >= 1; level--) {
        fs[level] = t + 8 * VTDP_LEVEL_INDEX(IOVA_LOOP, level);
        ent = level > 1 ? env_alloc(e, 1) : T_DATA(0);
        qtest_writeq(e->t.qts, fs[level],
                     ent | VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US);
        t = ent;
    }
    /* PASID H_PASID: second stage, H_PASID + 1: first stage */
    set_pe_ss(e, H_PASID, H_DID, ss_l4, 0);
    set_pe_fs(e, H_PASID + 1, H_DID + 1, fs_l4, 0);
}

static void test_reserved_bits(void)
{
    Env e;
    uint64_t ss[5], fs[5];
    unsigned int i;

    env_start(&e, NULL, NULL);
    map_both(&e, ss, fs);
    for (i = 0; i < ARRAY_SIZE(rsvd_cases); i++) {
        const RsvdCase *c = &rsvd_cases[i];
        uint32_t pasid = c->level >= E_FS4 ? H_PASID + 1 : H_PASID;
        uint64_t addr, old;

        g_test_message("reserved: %s", c->what);
        switch (c->level) {
        case E_ROOT: addr = e.root; break;
        case E_CTX: addr = ctx_addr(&e); break;
        case E_PDIR: addr = e.pdir + VTDP_PASID_DIR_INDEX(pasid) * 8; break;
        case E_PE: addr = pe_addr(&e, pasid); break;
        case E_SS4: case E_SS3: case E_SS2: case E_SS1:
            addr = ss[4 - (c->level - E_SS4)];
            break;
        default:
            addr = fs[4 - (c->level - E_FS4)];
            break;
        }
        addr += c->qword * 8;
        old = qtest_readq(e.t.qts, addr);
        qtest_writeq(e.t.qts, addr, old | c->bits);
        qtest_writeq(e.t.qts, T_DATA(0), 0);
        flush_all(&e);
        /* RID_PASID's entries are the ring's: its fetch faults first */
        if (c->level <= E_PDIR) {
            expect_ring_fault(&e, c->reason);
        } else {
            expect_dma_fault(&e, pasid, IOVA_LOOP, c->reason);
        }
        g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 0);

        /* restored: both translations work again */
        qtest_writeq(e.t.qts, addr, old);
        flush_all(&e);
        g_assert_true(td_imm_ok(&e, 0, VTDP_TD_QCTRL_PASID_EN, pasid,
                                IOVA_LOOP, i + 1));
        g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, i + 1);
    }
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED), ==,
                     ARRAY_SIZE(rsvd_cases));
    assert_alive(e.t.qts);
    env_stop(&e);
}

/*
 * Legacy-mode root and context entries with reserved bits (the legacy
 * walk has its own entry formats and reasons).
 */
static void test_reserved_bits_legacy(void)
{
    static const struct {
        bool ctx;
        unsigned int qword;
        uint64_t bits;
        uint8_t reason;
    } cases[] = {
        { false, 0, 1ULL << 4, VTDP_FR_ROOT_RSVD },
        { false, 0, 1ULL << 60, VTDP_FR_ROOT_RSVD },
        { false, 1, 1, VTDP_FR_ROOT_RSVD },
        { true, 0, 1ULL << 4, VTDP_FR_CTX_RSVD },
        { true, 0, 1ULL << 55, VTDP_FR_CTX_RSVD },
        { true, 1, 1ULL << 7, VTDP_FR_CTX_RSVD },
        { true, 1, 1ULL << 40, VTDP_FR_CTX_RSVD },
    };
    Env e;
    uint64_t root, ctx, ce;
    unsigned int i;

    env_start(&e, NULL, NULL);
    root = env_alloc(&e, 1);
    ctx = env_alloc(&e, 1);
    ce = ctx + (e.sid & 0xff) * 16;
    qtest_writeq(e.t.qts, root, ctx | VTDP_ROOT_P);
    /* pass-through context entry, domain 1 */
    qtest_writeq(e.t.qts, ce, VTDP_CTX_P | (VTDP_LCTX_TT_PT << 2));
    qtest_writeq(e.t.qts, ce + 8, VTDP_PE_AW_48 |
                 (1ULL << VTDP_LCTX1_DID_SHIFT));
    wr64(&e.t, VTDP_REG_RTADDR, root | VTDP_RTADDR_TTM_LEGACY);
    flush_all(&e);
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 1));

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t addr = (cases[i].ctx ? ce : root) + cases[i].qword * 8;
        uint64_t old = qtest_readq(e.t.qts, addr);

        qtest_writeq(e.t.qts, addr, old | cases[i].bits);
        flush_all(&e);
        expect_ring_fault(&e, cases[i].reason);
        qtest_writeq(e.t.qts, addr, old);
        flush_all(&e);
        g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), i + 2));
        g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, i + 2);
    }
    assert_alive(e.t.qts);
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Reserved bits in every register                                         */

/*
 * All ones written to every register, as 32- and as 64-bit writes: the
 * read-only registers keep their values, the others keep only their
 * defined bits, and the IOMMU still works once reprogrammed.
 */
static void test_register_all_ones(void)
{
    Env e;
    uint64_t cap, ecap, off;
    uint32_t gsts;

    env_start(&e, NULL, NULL);
    cap = rd64(&e.t, VTDP_REG_CAP);
    ecap = rd64(&e.t, VTDP_REG_ECAP);
    for (off = 0; off < VTDP_IOMMU_REG_SIZE; off += 4) {
        wr32(&e.t, off, 0xffffffff);
    }
    for (off = 0; off < VTDP_IOMMU_REG_SIZE; off += 8) {
        wr64(&e.t, off, ~0ULL);
    }
    g_assert_cmphex(rd32(&e.t, VTDP_REG_VER), ==, VTDP_VERSION);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_CAP), ==, cap);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_ECAP), ==, ecap);
    gsts = rd32(&e.t, VTDP_REG_GSTS);
    g_assert_cmphex(gsts, ==, VTDP_GSTS_TES | VTDP_GSTS_RTPS |
                    VTDP_GSTS_QIES);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_RTADDR), ==,
                    VTDP_RTADDR_ADDR_MASK | VTDP_RTADDR_TTM_MASK);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQA), ==,
                    VTDP_IQA_ADDR_MASK | VTDP_IQA_DW | 7);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQT), ==, VTDP_IQ_INDEX_MASK);
    /* ICC and IVT self-clear: the invalidations ran */
    g_assert_false(rd64(&e.t, VTDP_REG_CCMD) & VTDP_CCMD_ICC);
    g_assert_false(rd64(&e.t, VTDP_REG_IOTLB) & VTDP_IOTLB_IVT);
    /* RW1C fault status bits were written 1 and cleared, only IQE (the
     * tail beyond the queue, written last) can be set again */
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS) & ~VTDP_FSTS_IQE, ==, 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FECTL) & ~VTDP_FECTL_IP, ==,
                    VTDP_FECTL_IM);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FEDATA), ==, 0);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED), ==, 0);
    for (off = 0x820; off < VTDP_IOMMU_REG_SIZE; off += 8) {
        g_assert_cmphex(rd64(&e.t, off), ==, 0);
    }

    /* reprogrammed, it translates again */
    wr32(&e.t, VTDP_REG_GCMD, 0);
    wr32(&e.t, VTDP_REG_FSTS, VTDP_FSTS_RW1C);
    wr32(&e.t, VTDP_REG_FECTL, 0);
    wr64(&e.t, VTDP_REG_RTADDR, e.root | VTDP_RTADDR_TTM_SM);
    wr32(&e.t, VTDP_REG_GCMD, VTDP_GCMD_SRTP);
    wr32(&e.t, VTDP_REG_GCMD, VTDP_GCMD_TE);
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 0x55));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 0x55);
    set_pe_ss(&e, H_PASID, H_DID, env_alloc(&e, 1), 0);
    expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_SS_NOT_PRESENT);
    assert_alive(e.t.qts);
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Queue tails beyond the queue                                            */

static void expect_iqe(Env *e, unsigned int iqei, uint64_t iqh)
{
    g_assert_true(rd32(&e->t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
    g_assert_cmphex(VTDP_IQERCD_IQEI(rd64(&e->t, VTDP_REG_IQERCD)), ==, iqei);
    g_assert_cmphex(rd64(&e->t, VTDP_REG_IQH), ==, iqh);
    wr32(&e->t, VTDP_REG_FSTS, VTDP_FSTS_IQE);
    g_assert_false(rd32(&e->t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
}

static void test_invalidation_queue_hostile(void)
{
    Env e;
    uint64_t gsts, tail;
    int tgt;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);
    gsts = rd32(&e.t, VTDP_REG_GSTS);

    /* every tail beyond the 256-slot queue, and the largest index */
    for (tail = IQ_SLOTS; tail <= (VTDP_IQ_INDEX_MASK >> 4); tail += 97) {
        wr64(&e.t, VTDP_REG_IQT, tail << VTDP_IQ_INDEX_SHIFT);
        expect_iqe(&e, VTDP_IQEI_TAIL, 0);
    }
    wr64(&e.t, VTDP_REG_IQT, VTDP_IQ_INDEX_MASK);
    expect_iqe(&e, VTDP_IQEI_TAIL, 0);
    /* bits outside the index are dropped, not an error */
    wr64(&e.t, VTDP_REG_IQT, ~VTDP_IQ_INDEX_MASK);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQT), ==, 0);
    g_assert_false(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);

    /* a wrapping tail behind the head: the whole queue once, in order */
    qtest_memset(e.t.qts, T_IQ, 0, 0x1000);
    for (tail = 0; tail < IQ_SLOTS; tail++) {
        qtest_writeq(e.t.qts, T_IQ + tail * 16,
                     D_WAIT(VTDP_INV_WAIT_SW, tail));
        qtest_writeq(e.t.qts, T_IQ + tail * 16 + 8, T_STATUS);
    }
    wr64(&e.t, VTDP_REG_IQT, 200ULL << VTDP_IQ_INDEX_SHIFT);
    g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 199);
    wr64(&e.t, VTDP_REG_IQT, 100ULL << VTDP_IQ_INDEX_SHIFT);
    g_assert_cmphex(qtest_readl(e.t.qts, T_STATUS), ==, 99);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQH), ==, 100ULL << 4);

    /* status writes into the IOMMU's own registers are refused */
    qi_enable(&e, false);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_SW, 0), e.t.bar.addr + VTDP_REG_GCMD);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_SW, 0x7ff0), e.t.bar.addr + VTDP_REG_IQT);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_SW, 0), GPA_UNASSIGNED);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_GSTS), ==, gsts);

    /* 256-bit mode: an odd tail */
    qi_enable(&e, true);
    wr64(&e.t, VTDP_REG_IQT, 3ULL << VTDP_IQ_INDEX_SHIFT);
    expect_iqe(&e, VTDP_IQEI_TAIL, 0);

    /* QS shrunk under a head beyond the new end: the head restarts at 0 */
    qi_enable(&e, false);
    wr64(&e.t, VTDP_REG_IQA, T_IQ | 1);     /* 512 slots */
    qtest_memset(e.t.qts, T_IQ, 0, 0x2000);
    for (tail = 0; tail < 300; tail++) {
        qtest_writeq(e.t.qts, T_IQ + tail * 16, D_WAIT(0, 0));
    }
    wr64(&e.t, VTDP_REG_IQT, 300ULL << VTDP_IQ_INDEX_SHIFT);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQH), ==, 300ULL << 4);
    wr64(&e.t, VTDP_REG_IQA, T_IQ);         /* 256 slots */
    wr64(&e.t, VTDP_REG_IQT, 10ULL << VTDP_IQ_INDEX_SHIFT);
    g_assert_false(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_IQH), ==, 10ULL << 4);

    /*
     * The queue itself in MMIO or unassigned space: the descriptors read
     * there (0 from the IOMMU's refused BAR, the testdev's registers, or
     * nothing) are invalid, the queue stops on the first one.
     */
    for (tgt = 0; tgt < TGT_N; tgt++) {
        g_test_message("invalidation queue in %s", tgt_name[tgt]);
        gcmd_set(&e, VTDP_GCMD_QIE, false);
        wr64(&e.t, VTDP_REG_IQT, 0);
        wr64(&e.t, VTDP_REG_IQA, tgt_addr(&e, tgt));
        gcmd_set(&e, VTDP_GCMD_QIE, true);
        wr64(&e.t, VTDP_REG_IQT, 1ULL << VTDP_IQ_INDEX_SHIFT);
        expect_iqe(&e, VTDP_IQEI_DESC_TYPE, 0);
    }
    g_assert_cmphex(rd32(&e.t, VTDP_REG_GSTS), ==, gsts);
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 0x66));
    assert_alive(e.t.qts);
    env_stop(&e);
}

/* Testdev queues: tails, sizes and rings the device must refuse. */
static void test_testdev_queue_hostile(void)
{
    static const uint32_t bad_sizes[] = { 0, 1, 3, 4097, 8192, 0x80000000,
                                          0xffffffff };
    Env e;
    QPCIDevice *td;
    uint32_t st;
    unsigned int i;
    int tgt;

    env_start(&e, NULL, NULL);
    td = e.td;

#define TDW(r, v) qpci_io_writel(td, e.tdbar, VTDP_TD_QREG(2, r), (v))
#define TDR(r)    qpci_io_readl(td, e.tdbar, VTDP_TD_QREG(2, r))
    /* invalid ring sizes and a misaligned base: BAD_CONFIG, nothing runs */
    for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
        TDW(VTDP_TD_QCTRL, 0);
        qpci_io_writeq(td, e.tdbar, VTDP_TD_QREG(2, VTDP_TD_QRING_BASE),
                       T_QRING(2));
        TDW(VTDP_TD_QRING_SIZE, bad_sizes[i]);
        TDW(VTDP_TD_QCTRL, VTDP_TD_QCTRL_ENABLE);
        TDW(VTDP_TD_QTAIL, 0xffffffff);
        g_assert_cmphex(TDR(VTDP_TD_QSTATUS), ==, VTDP_TD_QSTATUS_BAD_CONFIG);
        g_assert_cmphex(TDR(VTDP_TD_QHEAD), ==, 0);
    }
    TDW(VTDP_TD_QCTRL, 0);
    qpci_io_writeq(td, e.tdbar, VTDP_TD_QREG(2, VTDP_TD_QRING_BASE),
                   T_QRING(2) + 8);
    TDW(VTDP_TD_QRING_SIZE, 2);
    TDW(VTDP_TD_QCTRL, VTDP_TD_QCTRL_ENABLE);
    g_assert_cmphex(TDR(VTDP_TD_QSTATUS), ==, VTDP_TD_QSTATUS_BAD_CONFIG);

    /* a tail beyond the ring is taken modulo the ring size */
    TDW(VTDP_TD_QCTRL, 0);
    qpci_io_writeq(td, e.tdbar, VTDP_TD_QREG(2, VTDP_TD_QRING_BASE),
                   T_QRING(2));
    TDW(VTDP_TD_QRING_SIZE, 4);
    qtest_memset(e.t.qts, T_QRING(2), 0, 4 * VTDP_TD_DESC_SIZE);
    TDW(VTDP_TD_QCTRL, VTDP_TD_QCTRL_ENABLE);
    TDW(VTDP_TD_QTAIL, 0xfffffff7);         /* = 3 */
    g_assert_cmphex(TDR(VTDP_TD_QTAIL), ==, 3);
    for (i = 0; i < 2000 && TDR(VTDP_TD_QHEAD) != 3; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(TDR(VTDP_TD_QHEAD), ==, 3);
    g_assert_cmphex(TDR(VTDP_TD_QSTATUS), ==, 0);
    /* the ring cannot move under a running queue */
    qpci_io_writeq(td, e.tdbar, VTDP_TD_QREG(2, VTDP_TD_QRING_BASE), 0x40);
    TDW(VTDP_TD_QRING_SIZE, 8);
    g_assert_cmphex(qpci_io_readq(td, e.tdbar,
                                  VTDP_TD_QREG(2, VTDP_TD_QRING_BASE)), ==,
                    T_QRING(2));
    g_assert_cmphex(TDR(VTDP_TD_QRING_SIZE), ==, 4);
#undef TDW
#undef TDR

    /*
     * The ring in the testdev's own BAR (its workers may not reach its
     * registers) or in unassigned space: the fetch fails, the queue stops
     * with RING_FAULT.  RID_PASID is pass-through: no IOMMU fault.
     */
    for (tgt = TGT_TESTDEV_BAR; tgt < TGT_N; tgt++) {
        g_test_message("testdev ring in %s", tgt_name[tgt]);
        st = td_raw(&e, 3, tgt_addr(&e, tgt));
        g_assert_cmphex(st, ==,
                        VTDP_TD_QSTATUS_HALTED | VTDP_TD_QSTATUS_RING_FAULT);
    }
    /*
     * The ring in the IOMMU's BAR: pass-through lets the testdev reach it
     * (peer-to-peer, the guest's own choice); it reads register values as
     * a descriptor with a bad opcode and writes its completion into
     * registers that ignore it.  The IOMMU is unharmed.
     */
    st = td_raw(&e, 3, e.t.bar.addr);
    g_assert_cmphex(st, ==, 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_GSTS), ==,
                    VTDP_GSTS_TES | VTDP_GSTS_RTPS);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    g_assert_cmphex(rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED), ==, 0);
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 0x77));
    assert_alive(e.t.qts);
    env_stop(&e);
}

/*
 * The IOMMU's own interrupt messages aimed at its registers: the fault
 * event at GCMD (data 0 would turn translation off), the invalidation
 * completion at IQT.  A device cannot reprogram itself through its MSI-X
 * table: the writes are refused, and DMA goes on being translated.
 */
static void test_interrupts_at_registers(void)
{
    Env e;
    uint32_t gsts;

    env_start(&e, NULL, NULL);
    qi_enable(&e, false);
    gsts = rd32(&e.t, VTDP_REG_GSTS);
    msix_vector(&e.t, VTDP_IOMMU_VEC_FAULT, e.t.bar.addr + VTDP_REG_GCMD, 0);
    msix_vector(&e.t, VTDP_IOMMU_VEC_INV, e.t.bar.addr + VTDP_REG_IQT,
                0x7ff0);

    set_pe_ss(&e, H_PASID, H_DID, env_alloc(&e, 1), 0);
    expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_SS_NOT_PRESENT);
    qi_run(&e, D_WAIT(VTDP_INV_WAIT_IF, 0), 0);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_ICS), ==, VTDP_ICS_IWC);
    /* masked, then unmasked from a register write: the same refusal */
    wr32(&e.t, VTDP_REG_FECTL, VTDP_FECTL_IM);
    expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_SS_NOT_PRESENT);
    wr32(&e.t, VTDP_REG_FECTL, 0);

    g_assert_cmphex(rd32(&e.t, VTDP_REG_GSTS), ==, gsts);
    g_assert_false(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_IQE);
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 0xaa));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 0xaa);
    assert_alive(e.t.qts);
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* MMIO accesses of every size at every offset                             */

/* Every aligned register value, 8 bytes at a time. */
static void snapshot(QPCIDevice *dev, QPCIBar bar, uint64_t *regs)
{
    for (uint64_t off = 0; off < 0x1000; off += 8) {
        regs[off / 8] = qpci_io_readq(dev, bar, off);
    }
}

/*
 * Byte and word accesses at every offset, and with @misaligned misaligned
 * dword and qword accesses: reads return 0, writes (all ones) change
 * nothing.  Then an oversized write over the read-only registers at @ro
 * (24 bytes) and a read of the whole BAR.
 *
 * Misaligned accesses reach a device as they are only if its
 * MemoryRegionOps say impl.unaligned (vtdp-iommu); otherwise QEMU's memory
 * core splits them into naturally aligned pieces (vtdp-testdev), which are
 * ordinary register accesses.
 */
static void mmio_sweep(QTestState *qts, QPCIDevice *dev, QPCIBar bar,
                       uint64_t ro, bool misaligned)
{
    g_autofree uint64_t *before = g_new(uint64_t, 0x200);
    g_autofree uint64_t *after = g_new(uint64_t, 0x200);
    g_autofree uint8_t *all = g_malloc(0x1000);
    uint8_t ones[24];
    uint64_t off;

    snapshot(dev, bar, before);
    for (off = 0; off < 0x1000; off++) {
        g_assert_cmphex(qpci_io_readb(dev, bar, off), ==, 0);
        qpci_io_writeb(dev, bar, off, 0xff);
        if (off <= 0x1000 - 2) {
            g_assert_cmphex(qpci_io_readw(dev, bar, off), ==, 0);
            qpci_io_writew(dev, bar, off, 0xffff);
        }
        if (misaligned && (off & 3) && off <= 0x1000 - 4) {
            g_assert_cmphex(qpci_io_readl(dev, bar, off), ==, 0);
            qpci_io_writel(dev, bar, off, 0xffffffff);
        }
        if (misaligned && (off & 7) && off <= 0x1000 - 8) {
            g_assert_cmphex(qpci_io_readq(dev, bar, off), ==, 0);
            qpci_io_writeq(dev, bar, off, ~0ULL);
        }
    }
    snapshot(dev, bar, after);
    for (off = 0; off < 0x200; off++) {
        g_assert_cmphex(after[off], ==, before[off]);
    }

    /* one 24-byte write over three read-only qwords */
    memset(ones, 0xff, sizeof(ones));
    qtest_memwrite(qts, bar.addr + ro, ones, sizeof(ones));
    snapshot(dev, bar, after);
    for (off = 0; off < 0x200; off++) {
        g_assert_cmphex(after[off], ==, before[off]);
    }
    /* a 4 KiB read: the same values, in little-endian qwords */
    qtest_memread(qts, bar.addr, all, 0x1000);
    for (off = 0; off < 0x200; off++) {
        g_assert_cmphex(ldq_le_p(all + off * 8), ==, before[off]);
    }
    assert_alive(qts);
}

static void test_mmio_sweep(void)
{
    Env e;

    env_start(&e, NULL, NULL);
    g_test_message("vtdp-iommu BAR 0");
    mmio_sweep(e.t.qts, e.t.dev, e.t.bar, VTDP_REG_VER, true);   /* CAP.. */
    g_test_message("vtdp-testdev BAR 0");
    mmio_sweep(e.t.qts, e.td, e.tdbar, VTDP_TD_REG_STAT_DESC, false);
    /* still translating */
    g_assert_true(td_imm_ok(&e, 0, 0, 0, T_DATA(0), 0x88));
    env_stop(&e);
}

/* ---------------------------------------------------------------------- */
/* Fault storm                                                             */

#define STORM_RING      0x4000000ULL    /* 4096 descriptors, 256 KiB */
#define STORM_RING_N    4096
#define STORM_IOVA      0x40000000ULL   /* unmapped */

static uint64_t qemu_rss_kib(QTestState *qts)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status",
                                            (int)qtest_pid(qts));
    g_autofree char *text = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = strstr(text, "\nVmRSS:");
    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen("\nVmRSS:"), NULL, 10);
}

static uint64_t td_stat(Env *e, uint64_t reg)
{
    return qpci_io_readq(e->td, e->tdbar, reg);
}

/* Newest fault log index, from query-vtdp-faults. */
static uint64_t newest_log_index(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-vtdp-faults', "
                           "'arguments': { 'count': 1 } }");
    QDict *log = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp,
                                                              "return")));
    QDict *f = qobject_to(QDict,
                          qlist_peek(qdict_get_qlist(log, "faults")));
    uint64_t index = qdict_get_int(f, "index");

    qobject_unref(rsp);
    return index;
}

/*
 * Run @n faulting descriptors (each an 8-byte write to its own unmapped
 * page, PASID @pasid, HALT_ON_ERROR off) through the 4096-entry ring,
 * 4095 per doorbell; the completions are written back into the ring, so
 * the same descriptors run again on the next lap.
 */
static void storm(Env *e, uint32_t pasid, uint64_t n, uint64_t *rss_peak)
{
    QPCIDevice *td = e->td;
    uint32_t head = 0;
    uint64_t done = 0;
    unsigned int i;

    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(0, VTDP_TD_QCTRL), 0);
    qpci_io_writeq(td, e->tdbar, VTDP_TD_QREG(0, VTDP_TD_QRING_BASE),
                   STORM_RING);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(0, VTDP_TD_QRING_SIZE),
                   STORM_RING_N);
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(0, VTDP_TD_QPASID), pasid);
    for (i = 0; i < STORM_RING_N; i++) {
        uint8_t d[VTDP_TD_DESC_SIZE] = { VTDP_TD_OP_WRITE_IMM };

        d[4] = 8;
        stq_le_p(d + 16, STORM_IOVA + i * 0x1000ULL);
        qtest_memwrite(e->t.qts, STORM_RING + i * VTDP_TD_DESC_SIZE, d,
                       sizeof(d));
    }
    qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(0, VTDP_TD_QCTRL),
                   VTDP_TD_QCTRL_ENABLE | VTDP_TD_QCTRL_PASID_EN);

    while (done < n) {
        uint32_t batch = MIN(n - done, STORM_RING_N - 1);
        uint32_t tail = (head + batch) % STORM_RING_N;

        qpci_io_writel(td, e->tdbar, VTDP_TD_QREG(0, VTDP_TD_QTAIL), tail);
        for (i = 0; i < 600000; i++) {
            if (qpci_io_readl(td, e->tdbar,
                              VTDP_TD_QREG(0, VTDP_TD_QHEAD)) == tail) {
                break;
            }
            g_usleep(100);
        }
        g_assert_cmphex(qpci_io_readl(td, e->tdbar,
                                      VTDP_TD_QREG(0, VTDP_TD_QHEAD)), ==,
                        tail);
        g_assert_cmphex(qpci_io_readl(td, e->tdbar,
                                      VTDP_TD_QREG(0, VTDP_TD_QSTATUS)),
                        ==, 0);
        head = tail;
        done += batch;
        if (rss_peak) {
            *rss_peak = MAX(*rss_peak, qemu_rss_kib(e->t.qts));
        }
    }
}

/*
 * A million faults: every one recorded or counted as dropped (the
 * counters add up to the faulting descriptors, the fault log numbers them
 * all), QEMU's memory stays bounded, and afterwards the IOMMU records and
 * translates as before.  Then a storm with FPD set: every fault counted
 * as suppressed.
 */
static void test_fault_storm(void)
{
    const uint64_t n = 1000000;
    Env e;
    uint64_t rss0, rss_peak = 0, rec, drop, supp, t0;
    uint64_t pe;

    env_start(&e, NULL, NULL);
    set_pe_ss(&e, H_PASID, H_DID, env_alloc(&e, 1), 0);

    /* warm-up lap: the fault log ring and the caches are fully in use */
    storm(&e, H_PASID, STORM_RING_N - 1, NULL);
    rss0 = qemu_rss_kib(e.t.qts);
    t0 = g_get_monotonic_time();
    storm(&e, H_PASID, n, &rss_peak);
    g_test_message("%" PRIu64 " faults in %.1f s; QEMU RSS %" PRIu64
                   " KiB after the first lap, peak %" PRIu64 " KiB",
                   n, (g_get_monotonic_time() - t0) / 1e6, rss0, rss_peak);
    /* bounded: no per-fault allocation survives (4 MiB of slack) */
    g_assert_cmpuint(rss_peak, <=, rss0 + 4096);

    rec = rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED);
    drop = rd64(&e.t, VTDP_REG_EXT_FAULTS_DROPPED);
    supp = rd64(&e.t, VTDP_REG_EXT_FAULTS_SUPPRESSED);
    g_test_message("recorded %" PRIu64 ", dropped %" PRIu64
                   ", suppressed %" PRIu64, rec, drop, supp);
    g_assert_cmpuint(rec, ==, 8);       /* nfr records, then PFO */
    g_assert_cmpuint(supp, ==, 0);
    g_assert_cmpuint(rec + drop, ==, n + STORM_RING_N - 1);
    g_assert_cmpuint(td_stat(&e, VTDP_TD_REG_STAT_FAULTS), ==,
                     n + STORM_RING_N - 1);
    g_assert_cmpuint(newest_log_index(e.t.qts), ==, n + STORM_RING_N - 2);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS) & VTDP_FSTS_PFO, ==,
                    VTDP_FSTS_PFO);

    /* responsive: records freed and PFO cleared, the next fault lands */
    for (unsigned int i = 0; i < 8; i++) {
        frcd_clear(&e, i);
    }
    wr32(&e.t, VTDP_REG_FSTS, VTDP_FSTS_PFO);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    expect_dma_fault(&e, H_PASID, IOVA_LOOP, VTDP_FR_SM_SS_NOT_PRESENT);
    g_assert_true(td_imm_ok(&e, 1, 0, 0, T_DATA(0), 0x99));
    g_assert_cmphex(qtest_readq(e.t.qts, T_DATA(0)), ==, 0x99);

    /* FPD: a lap of suppressed faults, nothing recorded */
    pe = pe_addr(&e, H_PASID);
    qtest_writeq(e.t.qts, pe, qtest_readq(e.t.qts, pe) | VTDP_PE0_FPD);
    flush_all(&e);
    storm(&e, H_PASID, STORM_RING_N - 1, NULL);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_SUPPRESSED), ==,
                     STORM_RING_N - 1);
    g_assert_cmpuint(rd64(&e.t, VTDP_REG_EXT_FAULTS_RECORDED), ==, rec + 1);
    g_assert_cmphex(rd32(&e.t, VTDP_REG_FSTS), ==, 0);
    assert_alive(e.t.qts);
    env_stop(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vtdp-hostile/table-loops", test_table_loops);
    qtest_add_func("/vtdp-hostile/tables-in-mmio", test_tables_in_mmio);
    qtest_add_func("/vtdp-hostile/reserved-bits", test_reserved_bits);
    qtest_add_func("/vtdp-hostile/reserved-bits-legacy",
                   test_reserved_bits_legacy);
    qtest_add_func("/vtdp-hostile/register-all-ones",
                   test_register_all_ones);
    qtest_add_func("/vtdp-hostile/invalidation-queue",
                   test_invalidation_queue_hostile);
    qtest_add_func("/vtdp-hostile/testdev-queue", test_testdev_queue_hostile);
    qtest_add_func("/vtdp-hostile/interrupts-at-registers",
                   test_interrupts_at_registers);
    qtest_add_func("/vtdp-hostile/mmio-sweep", test_mmio_sweep);
    qtest_add_func("/vtdp-hostile/fault-storm", test_fault_storm);
    return g_test_run();
}
