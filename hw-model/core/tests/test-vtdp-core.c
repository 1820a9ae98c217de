// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the vtdp translation core (TAP output).
 *
 * Every test builds its own fake guest memory and core instance, so tests
 * are independent and can be read one at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtdp-core.h"
#include "table-builder.h"

/* ---------------------------------------------------------------------- */
/* TAP harness                                                            */

static int cur_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: check failed: %s\n", __FILE__,		\
		       __LINE__, #cond);				\
		cur_failed = 1;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	unsigned long long a_ = (unsigned long long)(a);		\
	unsigned long long b_ = (unsigned long long)(b);		\
	if (a_ != b_) {							\
		printf("#   %s:%d: %s == 0x%llx, expected %s == 0x%llx\n",\
		       __FILE__, __LINE__, #a, a_, #b, b_);		\
		cur_failed = 1;						\
	}								\
} while (0)

/* ---------------------------------------------------------------------- */
/* Test environment                                                       */

#define MEM_SIZE	(64ULL << 20)
#define SID		0x0108		/* bus 1, dev 1 fn 0 */
#define DID		5
#define RID_PASID	0

struct env {
	struct tb_mem m;
	struct vtdp_core c;
	struct vtdp_core_ops ops;
	unsigned int irq[VTDP_IOMMU_NR_VECTORS];
	uint64_t now;
	uint64_t root, pdir;
	uint64_t iq;		/* invalidation queue page */
	uint64_t iq_slots;	/* in 128-bit units */
};

static void env_raise_irq(void *opaque, unsigned int vector)
{
	struct env *e = (struct env *)((char *)opaque - offsetof(struct env, m));

	if (vector < VTDP_IOMMU_NR_VECTORS)
		e->irq[vector]++;
}

static uint64_t env_clock(void *opaque)
{
	struct env *e = (struct env *)((char *)opaque - offsetof(struct env, m));

	return ++e->now;
}

static uint64_t rd(struct env *e, uint64_t off, unsigned int size)
{
	return vtdp_core_mmio_read(&e->c, off, size);
}

static void wr(struct env *e, uint64_t off, uint64_t val, unsigned int size)
{
	vtdp_core_mmio_write(&e->c, off, val, size);
}

/* Core with root table + PASID directory, TE on, fault events unmasked. */
static struct env *env_new_cfg(const struct vtdp_core_config *cfg)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[128];

	if (!e || tb_mem_init(&e->m, MEM_SIZE))
		abort();
	e->ops.dma_read = tb_dma_read;
	e->ops.dma_write = tb_dma_write;
	e->ops.raise_irq = env_raise_irq;
	e->ops.clock_ns = env_clock;
	if (vtdp_core_init(&e->c, cfg, &e->ops, &e->m, err, sizeof(err))) {
		printf("# init failed: %s\n", err);
		abort();
	}
	e->root = tb_root_table(&e->m);
	e->pdir = tb_pasid_dir(&e->m);
	tb_context_sm(&e->m, e->root, SID, e->pdir, RID_PASID, false);
	wr(e, VTDP_REG_RTADDR, e->root | VTDP_RTADDR_TTM_SM, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_SRTP, 4);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);
	wr(e, VTDP_REG_FECTL, 0, 4);
	wr(e, VTDP_REG_IECTL, 0, 4);
	return e;
}

static struct env *env_new(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;

	return env_new_cfg(&cfg);
}

static void env_free(struct env *e)
{
	vtdp_core_destroy(&e->c);
	tb_mem_free(&e->m);
	free(e);
}

static int xlate_full(struct env *e, uint16_t sid, bool pv, uint32_t pasid,
		      uint64_t addr, bool write, bool priv, bool exec,
		      struct vtdp_translation *t)
{
	struct vtdp_request r = {
		.sid = sid, .pasid_valid = pv, .pasid = pasid, .addr = addr,
		.write = write, .priv = priv, .exec = exec,
	};
	struct vtdp_translation dummy;

	return vtdp_core_translate(&e->c, &r, t ? t : &dummy);
}

/* Untagged (RID_PASID) user request from SID. */
static int xlate(struct env *e, uint64_t addr, bool write,
		 struct vtdp_translation *t)
{
	return xlate_full(e, SID, false, 0, addr, write, false, false, t);
}

static uint64_t frcd_lo(struct env *e, unsigned int i)
{
	return rd(e, VTDP_REG_FRCD_BASE + i * VTDP_FRCD_SIZE, 8);
}

static uint64_t frcd_hi(struct env *e, unsigned int i)
{
	return rd(e, VTDP_REG_FRCD_BASE + i * VTDP_FRCD_SIZE + 8, 8);
}

static void clear_frcd(struct env *e, unsigned int i)
{
	wr(e, VTDP_REG_FRCD_BASE + i * VTDP_FRCD_SIZE + 12, 0x80000000U, 4);
}

/* Second-stage 4-level domain for RID_PASID with the given table. */
static uint64_t ss_setup(struct env *e, unsigned int levels)
{
	uint64_t pt = tb_pt_new(&e->m);
	struct vtdp_pasid_entry pe = tb_pe_ss(DID, pt, levels);

	tb_set_pasid_entry(&e->m, e->pdir, RID_PASID, &pe);
	return pt;
}

/* Invalidation queue: 1 page (256 128-bit slots), QI enabled. */
static void iq_setup(struct env *e, bool dw)
{
	e->iq = tb_alloc_page(&e->m);
	e->iq_slots = 256;
	wr(e, VTDP_REG_IQA, e->iq | (dw ? VTDP_IQA_DW : 0), 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_QIE, 4);
}

/* Append @n 128-bit descriptors at IQT and ring the doorbell. */
static void iq_submit(struct env *e, const struct vtdp_inv_desc *d,
		      unsigned int n)
{
	uint64_t tail = rd(e, VTDP_REG_IQT, 8) >> 4;
	unsigned int i;

	for (i = 0; i < n; i++) {
		tb_write64(&e->m, e->iq + tail * 16, d[i].lo);
		tb_write64(&e->m, e->iq + tail * 16 + 8, d[i].hi);
		tail = (tail + 1) % e->iq_slots;
	}
	wr(e, VTDP_REG_IQT, tail << 4, 8);
}

static void iq_submit1(struct env *e, uint64_t lo, uint64_t hi)
{
	struct vtdp_inv_desc d = { .lo = lo, .hi = hi };

	iq_submit(e, &d, 1);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */

static void test_config_validation(void)
{
	const struct vtdp_core_config good = VTDP_CORE_DEFAULT_CONFIG;
	struct vtdp_core_config cfg;
	struct vtdp_core_ops ops = {
		.dma_read = tb_dma_read, .dma_write = tb_dma_write,
		.raise_irq = env_raise_irq,
	};
	struct vtdp_core c;
	char err[128];

#define BAD(field, value) do {						\
	cfg = good;							\
	cfg.field = value;						\
	err[0] = 0;							\
	CHECK(vtdp_core_init(&c, &cfg, &ops, NULL, err, sizeof(err)) == -1);\
	CHECK(err[0] != 0);						\
} while (0)
	BAD(aw_bits, 39);
	BAD(aw_bits, 64);
	BAD(pasid_bits, 21);
	BAD(nfr, 0);
	BAD(nfr, 257);
	BAD(fault_log_size, 0);
	BAD(fault_log_size, 1U << 21);
	BAD(pasid_cache_size, (1U << 16) + 1);
	cfg = good;
	cfg.first_stage = cfg.second_stage = false;
	CHECK(vtdp_core_init(&c, &cfg, &ops, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "stage") != NULL);
#undef BAD
	cfg = good;
	CHECK(vtdp_core_init(&c, &cfg, &ops, NULL, err, sizeof(err)) == 0);
	vtdp_core_destroy(&c);
	cfg.aw_bits = 57;
	cfg.pasid_bits = 0;
	cfg.nfr = 256;
	cfg.iotlb_size = 0;
	cfg.first_stage = false;
	CHECK(vtdp_core_init(&c, &cfg, &ops, NULL, err, sizeof(err)) == 0);
	vtdp_core_destroy(&c);
}

static void test_cap_ecap(void)
{
	struct env *e = env_new();
	uint64_t cap = rd(e, VTDP_REG_CAP, 8), ecap = rd(e, VTDP_REG_ECAP, 8);
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;

	CHECK_EQ(rd(e, VTDP_REG_VER, 4), VTDP_VERSION);
	CHECK_EQ(VTDP_CAP_ND(cap), VTDP_CAP_ND_16BIT);
	CHECK(VTDP_CAP_SAGAW(cap) & (VTDP_CAP_SAGAW_48 >> 8));
	CHECK(!(VTDP_CAP_SAGAW(cap) & (VTDP_CAP_SAGAW_57 >> 8)));
	CHECK_EQ(VTDP_CAP_MGAW(cap), 48);
	CHECK_EQ(VTDP_CAP_FRO(cap), VTDP_REG_FRCD_BASE);
	CHECK_EQ(VTDP_CAP_NFR(cap), 8);
	CHECK(cap & VTDP_CAP_PSI);
	CHECK_EQ(VTDP_CAP_MAMV(cap), 18);
	CHECK(cap & VTDP_CAP_SLLPS_2M);
	CHECK(cap & VTDP_CAP_SLLPS_1G);
	CHECK(cap & VTDP_CAP_FL1GP);
	CHECK(!(cap & VTDP_CAP_FL5LP));
	CHECK(cap & VTDP_CAP_DRD);
	CHECK(cap & VTDP_CAP_DWD);
	CHECK(!(cap & VTDP_CAP_CM));
	CHECK(ecap & VTDP_ECAP_C);
	CHECK(ecap & VTDP_ECAP_QI);
	CHECK(!(ecap & VTDP_ECAP_DT));
	CHECK_EQ(VTDP_ECAP_IRO(ecap), VTDP_REG_IVA);
	CHECK(ecap & VTDP_ECAP_SMTS);
	CHECK(ecap & VTDP_ECAP_PASID);
	CHECK_EQ(VTDP_ECAP_PSS(ecap), 19);
	CHECK(ecap & VTDP_ECAP_SLTS);
	CHECK(ecap & VTDP_ECAP_FLTS);
	CHECK(ecap & VTDP_ECAP_PT);
	/* 4-byte halves of a 64-bit register */
	CHECK_EQ(rd(e, VTDP_REG_CAP, 4), cap & 0xffffffff);
	CHECK_EQ(rd(e, VTDP_REG_CAP + 4, 4), cap >> 32);
	/* read-only */
	wr(e, VTDP_REG_CAP, 0, 8);
	wr(e, VTDP_REG_ECAP + 4, 0, 4);
	CHECK_EQ(rd(e, VTDP_REG_CAP, 8), cap);
	CHECK_EQ(rd(e, VTDP_REG_ECAP, 8), ecap);
	env_free(e);

	cfg.aw_bits = 57;
	cfg.pasid_bits = 0;
	cfg.pass_through = false;
	cfg.nfr = 256;
	e = env_new_cfg(&cfg);
	cap = rd(e, VTDP_REG_CAP, 8);
	ecap = rd(e, VTDP_REG_ECAP, 8);
	CHECK(VTDP_CAP_SAGAW(cap) & (VTDP_CAP_SAGAW_57 >> 8));
	CHECK_EQ(VTDP_CAP_MGAW(cap), 57);
	CHECK(cap & VTDP_CAP_FL5LP);
	CHECK_EQ(VTDP_CAP_NFR(cap), 256);
	CHECK(!(ecap & VTDP_ECAP_PASID));
	CHECK_EQ(VTDP_ECAP_PSS(ecap), 0);
	CHECK(!(ecap & VTDP_ECAP_PT));
	env_free(e);
}

static void test_gcmd_gsts(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct vtdp_core_ops ops = {
		.dma_read = tb_dma_read, .dma_write = tb_dma_write,
		.raise_irq = env_raise_irq,
	};
	struct env *e = env_new();

	vtdp_core_reset(&e->c);
	CHECK_EQ(rd(e, VTDP_REG_GSTS, 4), 0);
	CHECK(!vtdp_core_translation_enabled(&e->c));
	CHECK(rd(e, VTDP_REG_FECTL, 4) & VTDP_FECTL_IM);	/* reset value */
	wr(e, VTDP_REG_RTADDR, 0x123456789000ULL | VTDP_RTADDR_TTM_SM, 8);
	CHECK_EQ(rd(e, VTDP_REG_RTADDR, 8), 0x123456789000ULL | VTDP_RTADDR_TTM_SM);
	CHECK_EQ(e->c.rtaddr_active, 0);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_SRTP, 4);
	CHECK_EQ(e->c.rtaddr_active, 0x123456789000ULL | VTDP_RTADDR_TTM_SM);
	CHECK(rd(e, VTDP_REG_GSTS, 4) & VTDP_GSTS_RTPS);
	CHECK_EQ(rd(e, VTDP_REG_GCMD, 4), 0);	/* write-only */
	/* RTADDR changes take effect only with the next SRTP */
	wr(e, VTDP_REG_RTADDR, 0x5000 | VTDP_RTADDR_TTM_SM, 8);
	CHECK_EQ(e->c.rtaddr_active, 0x123456789000ULL | VTDP_RTADDR_TTM_SM);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);
	CHECK(rd(e, VTDP_REG_GSTS, 4) & VTDP_GSTS_TES);
	CHECK(vtdp_core_translation_enabled(&e->c));
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_QIE, 4);
	CHECK(rd(e, VTDP_REG_GSTS, 4) & VTDP_GSTS_QIES);
	e->c.iqh = 0x40;
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);
	CHECK(!(rd(e, VTDP_REG_GSTS, 4) & VTDP_GSTS_QIES));
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0);
	wr(e, VTDP_REG_GCMD, 0, 4);
	CHECK(!(rd(e, VTDP_REG_GSTS, 4) & VTDP_GSTS_TES));
	/* GSTS is read-only; an 8-byte write to GCMD|GSTS hits GCMD only */
	wr(e, VTDP_REG_GSTS, 0xffffffff, 4);
	CHECK(!(rd(e, VTDP_REG_GSTS, 4) & VTDP_GSTS_TES));
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 8);
	CHECK(rd(e, VTDP_REG_GSTS, 4) & VTDP_GSTS_TES);
	env_free(e);
	(void)cfg;
	(void)ops;
}

static void test_identity_when_te_off(void)
{
	struct env *e = env_new();
	struct vtdp_translation t;

	wr(e, VTDP_REG_GCMD, 0, 4);
	CHECK_EQ(xlate(e, 0xdeadbeef000ULL, true, &t), 0);
	CHECK_EQ(t.paddr, 0xdeadbeef000ULL);
	CHECK(t.read && t.write);
	/* even the interrupt range and an unmapped sid */
	CHECK_EQ(xlate_full(e, 0xffff, true, 7, 0xfee00000, true, true, false,
			    &t), 0);
	CHECK_EQ(e->c.stats.faults_recorded, 0);
	env_free(e);
}

static void test_ss_4level(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4);
	struct vtdp_translation t;

	tb_map(&e->m, pt, 4, 0x7f1234567000ULL, 0xabc000, 1,
	       VTDP_SS_R | VTDP_SS_W, TB_SS_DIR, false);
	CHECK_EQ(xlate(e, 0x7f1234567abcULL, false, &t), 0);
	CHECK_EQ(t.paddr, 0xabcabc);
	CHECK_EQ(t.page_mask, ~0xfffULL);
	CHECK(t.read && t.write);
	CHECK_EQ(xlate(e, 0x7f1234567008ULL, true, &t), 0);
	CHECK_EQ(t.paddr, 0xabc008);
	CHECK_EQ(e->c.stats.faults_recorded, 0);
	env_free(e);
}

static void test_ss_3level(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 3);
	struct vtdp_translation t;

	tb_map(&e->m, pt, 3, 0x7f00000000ULL >> 4, 0x5000, 1,
	       VTDP_SS_R, TB_SS_DIR, false);
	CHECK_EQ(xlate(e, (0x7f00000000ULL >> 4) + 4, false, &t), 0);
	CHECK_EQ(t.paddr, 0x5004);
	CHECK(t.read && !t.write);
	/* 39-bit domain: bit 39 set is beyond AW */
	CHECK_EQ(xlate(e, 1ULL << 39, false, &t), VTDP_FR_SM_ADDR_BEYOND_AW);
	env_free(e);
}

static void test_ss_5level(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct env *e;
	uint64_t pt, iova = (1ULL << 56) | 0x123456789000ULL;
	struct vtdp_translation t;

	cfg.aw_bits = 57;
	e = env_new_cfg(&cfg);
	pt = ss_setup(e, 5);
	tb_map(&e->m, pt, 5, iova, 0x77000, 1, VTDP_SS_R | VTDP_SS_W,
	       TB_SS_DIR, false);
	CHECK_EQ(xlate(e, iova | 0x10, true, &t), 0);
	CHECK_EQ(t.paddr, 0x77010);
	CHECK_EQ(xlate(e, 1ULL << 57, false, &t), VTDP_FR_SM_ADDR_BEYOND_AW);
	env_free(e);

	/* a 5-level PASID entry on a 48-bit IOMMU is invalid */
	e = env_new();
	pt = ss_setup(e, 5);
	CHECK_EQ(xlate(e, 0x1000, false, &t), VTDP_FR_SM_PTE_INVALID);
	env_free(e);
}

static void test_ss_large_pages(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4);
	struct vtdp_translation t;

	tb_map(&e->m, pt, 4, 0x40000000ULL, 0x80000000ULL, 3,
	       VTDP_SS_R | VTDP_SS_W, TB_SS_DIR, false);
	tb_map(&e->m, pt, 4, 0x200000ULL, 0x1400000ULL, 2,
	       VTDP_SS_R, TB_SS_DIR, false);
	CHECK_EQ(xlate(e, 0x40000000ULL + 0x3456789, true, &t), 0);
	CHECK_EQ(t.paddr, 0x80000000ULL + 0x3456789);
	CHECK_EQ(t.page_mask, ~((1ULL << 30) - 1));
	CHECK_EQ(xlate(e, 0x200000ULL + 0x12345, false, &t), 0);
	CHECK_EQ(t.paddr, 0x1400000ULL + 0x12345);
	CHECK_EQ(t.page_mask, ~((1ULL << 21) - 1));
	CHECK(t.read && !t.write);
	env_free(e);
}

static void test_fs_translation(void)
{
	struct env *e = env_new();
	uint64_t pt = tb_pt_new(&e->m), leaf, l4, l3, l2;
	struct vtdp_pasid_entry pe = tb_pe_fs(DID, pt, 4, true);
	struct vtdp_translation t;
	const uint32_t pasid = 0x1234;

	tb_set_pasid_entry(&e->m, e->pdir, pasid, &pe);
	/* user RW page */
	leaf = tb_map(&e->m, pt, 4, 0x400000, 0x9000, 1,
		      VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	/* user RO page */
	tb_map(&e->m, pt, 4, 0x401000, 0xa000, 1, VTDP_FS_P | VTDP_FS_US,
	       TB_FS_DIR, true);
	/* supervisor page */
	tb_map(&e->m, pt, 4, 0x402000, 0xb000, 1, VTDP_FS_P | VTDP_FS_RW,
	       TB_FS_DIR, true);
	l4 = tb_entry_addr(&e->m, pt, 4, 0x400000, 4, true);
	l3 = tb_entry_addr(&e->m, pt, 4, 0x400000, 3, true);
	l2 = tb_entry_addr(&e->m, pt, 4, 0x400000, 2, true);

	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x400010, false, false, false,
			    &t), 0);
	CHECK_EQ(t.paddr, 0x9010);
	CHECK(tb_read64(&e->m, l4) & VTDP_FS_A);
	CHECK(tb_read64(&e->m, l3) & VTDP_FS_A);
	CHECK(tb_read64(&e->m, l2) & VTDP_FS_A);
	CHECK(tb_read64(&e->m, leaf) & VTDP_FS_A);
	CHECK(!(tb_read64(&e->m, leaf) & VTDP_FS_D));
	CHECK(!t.write);	/* D not set yet: writes must walk */
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x400020, true, false, false,
			    &t), 0);
	CHECK(tb_read64(&e->m, leaf) & VTDP_FS_D);
	CHECK(t.write);
	/* R/W: write to the read-only page */
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x401000, true, false, false,
			    &t), VTDP_FR_SM_WRITE);
	CHECK(!(tb_read64(&e->m, tb_entry_addr(&e->m, pt, 4, 0x401000, 1,
					       true)) & VTDP_FS_D));
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x401000, false, false, false,
			    &t), 0);
	/* U/S: user request to a supervisor page, supervisor request is ok */
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x402000, false, false, false,
			    &t), VTDP_FR_SM_FS_USER);
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x402000, true, true, false,
			    &t), 0);
	CHECK_EQ(t.paddr, 0xb000);
	/* WPE=0: a supervisor write to a read-only page is allowed, and the
	 * cached translation must not let a user write through */
	tb_map(&e->m, pt, 4, 0x404000, 0xd000, 1, VTDP_FS_P | VTDP_FS_US,
	       TB_FS_DIR, true);
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x404000, true, true, false,
			    &t), 0);
	CHECK(t.write);
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x404000, true, false, false,
			    &t), VTDP_FR_SM_WRITE);
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x404000, false, false, false,
			    &t), 0);
	CHECK(t.read && !t.write);
	/* non-canonical */
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x0000900000000000ULL, false,
			    false, false, &t), VTDP_FR_SM_FS_NON_CANONICAL);
	/* canonical high half is walked (and not mapped) */
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0xffff800000000000ULL, false,
			    true, false, &t), VTDP_FR_SM_FS_NOT_PRESENT);
	/* A/D update failing -> access fault */
	tb_map(&e->m, pt, 4, 0x403000, 0xc000, 1,
	       VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	e->m.fail_writes = true;
	CHECK_EQ(xlate_full(e, SID, true, pasid, 0x403000, true, false, false,
			    &t), VTDP_FR_SM_FS_ACCESS);
	e->m.fail_writes = false;
	env_free(e);
}

static void test_fs_xd_and_large(void)
{
	struct env *e = env_new();
	uint64_t pt = tb_pt_new(&e->m);
	struct vtdp_pasid_entry pe = tb_pe_fs(DID, pt, 4, false);
	struct vtdp_translation t;

	pe.val[2] |= VTDP_PE2_NXE;
	tb_set_pasid_entry(&e->m, e->pdir, 9, &pe);
	tb_map(&e->m, pt, 4, 0x40000000, 0x40000000, 3,
	       VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US | VTDP_FS_XD, TB_FS_DIR,
	       true);
	tb_map(&e->m, pt, 4, 0x200000, 0x600000, 2,
	       VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	CHECK_EQ(xlate_full(e, SID, true, 9, 0x40001234, false, false, false,
			    &t), 0);
	CHECK_EQ(t.page_mask, ~((1ULL << 30) - 1));
	CHECK_EQ(xlate_full(e, SID, true, 9, 0x40001234, false, false, true,
			    &t), VTDP_FR_SM_READ);
	CHECK_EQ(xlate_full(e, SID, true, 9, 0x2abcde, false, false, true,
			    &t), 0);
	CHECK_EQ(t.paddr, 0x6abcde);
	/* privileged request with SRE clear */
	CHECK_EQ(xlate_full(e, SID, true, 9, 0x2abcde, false, true, false,
			    &t), VTDP_FR_SM_PTE_SRE_CLEAR);
	env_free(e);
}

/*
 * First stage with 5 levels (aw 57): canonical at bit 56, 1 GiB leaf, A/D
 * on all five levels; reserved bits (PS at level 4/5, XD with NXE clear,
 * output address beyond aw) fault FS_RSVD; 5 levels on a 48-bit IOMMU
 * are refused.
 */
static void test_fs_5level_and_rsvd(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct env *e;
	uint64_t pt, leaf, l5, va = 0x00ff000000000000ULL | 0x40000000ULL;
	struct vtdp_pasid_entry pe;
	struct vtdp_translation t;

	cfg.aw_bits = 57;
	e = env_new_cfg(&cfg);
	pt = tb_pt_new(&e->m);
	pe = tb_pe_fs(DID, pt, 5, false);
	tb_set_pasid_entry(&e->m, e->pdir, 7, &pe);
	leaf = tb_map(&e->m, pt, 5, va, 0x40000000, 3,
		      VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	CHECK(leaf);
	CHECK_EQ(xlate_full(e, SID, true, 7, va | 0x1234567, true, false,
			    false, &t), 0);
	CHECK_EQ(t.paddr, 0x41234567);
	CHECK_EQ(t.page_mask, ~((1ULL << 30) - 1));
	l5 = tb_entry_addr(&e->m, pt, 5, va, 5, true);
	CHECK(tb_read64(&e->m, l5) & VTDP_FS_A);
	CHECK(tb_read64(&e->m, leaf) & VTDP_FS_D);
	/* bit 56 set, 63:57 clear: not canonical for 57 bits */
	CHECK_EQ(xlate_full(e, SID, true, 7, 1ULL << 56, false, false, false,
			    &t), VTDP_FR_SM_FS_NON_CANONICAL);
	/* canonical high half of 57 bits is walked */
	CHECK_EQ(xlate_full(e, SID, true, 7, 0xff00000000000000ULL, false,
			    false, false, &t), VTDP_FR_SM_FS_NOT_PRESENT);
	/* XD with NXE clear is reserved */
	tb_write64(&e->m, leaf, tb_read64(&e->m, leaf) | VTDP_FS_XD);
	iq_setup(e, false);
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_GLOBAL, 0);
	CHECK_EQ(xlate_full(e, SID, true, 7, va, false, false, false, &t),
		 VTDP_FR_SM_FS_RSVD);
	/* PS in a level-5 entry is reserved */
	tb_write64(&e->m, leaf, tb_read64(&e->m, leaf) & ~VTDP_FS_XD);
	tb_write64(&e->m, l5, tb_read64(&e->m, l5) | VTDP_FS_PS);
	CHECK_EQ(xlate_full(e, SID, true, 7, va, false, false, false, &t),
		 VTDP_FR_SM_FS_RSVD);
	tb_write64(&e->m, l5, tb_read64(&e->m, l5) & ~VTDP_FS_PS);
	CHECK_EQ(xlate_full(e, SID, true, 7, va, false, false, false, &t), 0);
	env_free(e);

	/* 48-bit IOMMU: output address bit 48 is reserved; no 5 levels */
	e = env_new();
	pt = tb_pt_new(&e->m);
	pe = tb_pe_fs(DID, pt, 4, false);
	tb_set_pasid_entry(&e->m, e->pdir, 7, &pe);
	leaf = tb_map(&e->m, pt, 4, 0x5000, 0x6000, 1,
		      VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	tb_write64(&e->m, leaf, tb_read64(&e->m, leaf) | (1ULL << 48));
	CHECK_EQ(xlate_full(e, SID, true, 7, 0x5000, false, false, false, &t),
		 VTDP_FR_SM_FS_RSVD);
	pe = tb_pe_fs(DID, pt, 5, false);
	tb_set_pasid_entry(&e->m, e->pdir, 8, &pe);
	CHECK_EQ(xlate_full(e, SID, true, 8, 0x5000, false, false, false, &t),
		 VTDP_FR_SM_PTE_INVALID);
	env_free(e);
}

static void test_pass_through(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct env *e = env_new();
	struct vtdp_pasid_entry pe = tb_pe_pt(DID);
	struct vtdp_translation t;

	tb_set_pasid_entry(&e->m, e->pdir, RID_PASID, &pe);
	CHECK_EQ(xlate(e, 0x12345678, true, &t), 0);
	CHECK_EQ(t.paddr, 0x12345678);
	CHECK(t.read && t.write);
	env_free(e);

	cfg.pass_through = false;
	e = env_new_cfg(&cfg);
	tb_set_pasid_entry(&e->m, e->pdir, RID_PASID, &pe);
	CHECK_EQ(xlate(e, 0x12345678, true, &t), VTDP_FR_SM_PTE_INVALID);
	env_free(e);
}

/* Each case: build a broken table, expect exactly one recorded fault. */
static void expect_fault(struct env *e, uint16_t sid, bool pv, uint32_t pasid,
			 uint64_t addr, bool write, uint8_t reason, int line)
{
	uint64_t before = e->c.stats.faults_recorded;
	struct vtdp_translation t;
	int r = xlate_full(e, sid, pv, pasid, addr, write, false, false, &t);

	if (r != reason || e->c.stats.faults_recorded != before + 1) {
		printf("#   line %d: got 0x%x (%s), expected 0x%x (%s)\n", line,
		       r, vtdp_fault_reason_name(r), reason,
		       vtdp_fault_reason_name(reason));
		cur_failed = 1;
	}
	/* keep fault recording registers free for the next case */
	wr(e, VTDP_REG_FRCD_BASE + ((e->c.frcd_next + e->c.cfg.nfr - 1) %
		e->c.cfg.nfr) * 16 + 8, VTDP_FRCD_HI_F, 8);
}
#define EXPECT_FAULT(e, sid, pv, pasid, addr, w, reason) \
	expect_fault(e, sid, pv, pasid, addr, w, reason, __LINE__)

static void test_fault_reasons(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4), ce, pte, leaf;
	struct vtdp_pasid_entry pe;

	leaf = tb_map(&e->m, pt, 4, 0x1000, 0x2000, 1, VTDP_SS_R, TB_SS_DIR,
		      false);
	tb_map(&e->m, pt, 4, 0x3000, 0x4000, 1, VTDP_SS_W, TB_SS_DIR, false);
	/* root entry not present: bus 2 */
	EXPECT_FAULT(e, 0x0200, false, 0, 0x1000, false,
		     VTDP_FR_SM_ROOT_NOT_PRESENT);
	/* context entry not present: devfn 0x10 on bus 1 */
	EXPECT_FAULT(e, 0x0110, false, 0, 0x1000, false,
		     VTDP_FR_SM_CTX_NOT_PRESENT);
	/* upper context table (devfn >= 128) not present */
	EXPECT_FAULT(e, 0x0190, false, 0, 0x1000, false,
		     VTDP_FR_SM_ROOT_NOT_PRESENT);
	/* PASID directory entry not present */
	EXPECT_FAULT(e, SID, true, 0x40, 0x1000, false,
		     VTDP_FR_SM_PDIR_NOT_PRESENT);
	/* PASID table entry not present (same table as PASID 0) */
	EXPECT_FAULT(e, SID, true, 5, 0x1000, false,
		     VTDP_FR_SM_PTE_NOT_PRESENT);
	/* SS: not present, write to RO, read of write-only, beyond AW */
	EXPECT_FAULT(e, SID, false, 0, 0x5000, false,
		     VTDP_FR_SM_SS_NOT_PRESENT);
	EXPECT_FAULT(e, SID, false, 0, 0x1000, true, VTDP_FR_SM_WRITE);
	EXPECT_FAULT(e, SID, false, 0, 0x3000, false, VTDP_FR_SM_READ);
	EXPECT_FAULT(e, SID, false, 0, 1ULL << 48, false,
		     VTDP_FR_SM_ADDR_BEYOND_AW);
	EXPECT_FAULT(e, SID, false, 0, 0xfee00000ULL, true,
		     VTDP_FR_SM_INTERRUPT_ADDR);
	EXPECT_FAULT(e, SID, false, 0, 0xfeefffffULL, false,
		     VTDP_FR_SM_INTERRUPT_ADDR);
	/* PASID beyond pasid_bits... (20 bits: use PDTS bound instead) */
	ce = tb_set_context(&e->m, e->root, 0x0120,
			    VTDP_CTX_P | VTDP_CTX_PASIDE | e->pdir, 0);
	EXPECT_FAULT(e, 0x0120, true, 128 << 6, 0x1000, false,
		     VTDP_FR_SM_PASID_TOO_LARGE);
	/* PASID-tagged request to a context without PASIDE */
	tb_set_context(&e->m, e->root, 0x0121, VTDP_CTX_P | e->pdir, 0);
	EXPECT_FAULT(e, 0x0121, true, 1, 0x1000, false,
		     VTDP_FR_SM_CTX_INVALID);
	/* reserved bits: context, SS leaf, SS PS at level 4 */
	tb_set_context(&e->m, e->root, 0x0122,
		       VTDP_CTX_P | (1ULL << 5) | e->pdir, 0);
	EXPECT_FAULT(e, 0x0122, false, 0, 0x1000, false, VTDP_FR_SM_CTX_RSVD);
	tb_write64(&e->m, leaf, tb_read64(&e->m, leaf) | (1ULL << 55));
	EXPECT_FAULT(e, SID, false, 0, 0x1000, false, VTDP_FR_SM_SS_RSVD);
	tb_write64(&e->m, leaf, tb_read64(&e->m, leaf) & ~(1ULL << 55));
	tb_write64(&e->m, pt + 8 * 5, 0x200000 | VTDP_SS_R | VTDP_SS_PS);
	EXPECT_FAULT(e, SID, false, 0, 5ULL << 39, false, VTDP_FR_SM_SS_RSVD);
	/* SS table outside guest memory */
	tb_write64(&e->m, pt + 8 * 6, 0x3ff000000000ULL | VTDP_SS_R);
	EXPECT_FAULT(e, SID, false, 0, 6ULL << 39, false, VTDP_FR_SM_SS_ACCESS);
	/* nested refused; bad AW; PASID entry reserved bits */
	pe = tb_pe_ss(DID, pt, 4);
	pe.val[0] = (pe.val[0] & ~VTDP_PE0_PGTT_MASK) |
		    ((uint64_t)VTDP_PGTT_NESTED << VTDP_PE0_PGTT_SHIFT);
	tb_set_pasid_entry(&e->m, e->pdir, 2, &pe);
	EXPECT_FAULT(e, SID, true, 2, 0x1000, false, VTDP_FR_SM_PTE_INVALID);
	pe = tb_pe_ss(DID, pt, 4);
	pe.val[0] &= ~VTDP_PE0_AW_MASK;
	tb_set_pasid_entry(&e->m, e->pdir, 3, &pe);
	EXPECT_FAULT(e, SID, true, 3, 0x1000, false, VTDP_FR_SM_PTE_INVALID);
	pe = tb_pe_ss(DID, pt, 4);
	pe.val[0] |= 1ULL << 10;
	tb_set_pasid_entry(&e->m, e->pdir, 4, &pe);
	EXPECT_FAULT(e, SID, true, 4, 0x1000, false, VTDP_FR_SM_PTE_RSVD);
	pe = tb_pe_ss(DID, pt, 4);
	pe.val[7] = 1;
	tb_set_pasid_entry(&e->m, e->pdir, 6, &pe);
	EXPECT_FAULT(e, SID, true, 6, 0x1000, false, VTDP_FR_SM_PTE_RSVD);
	{
		/* reserved or unimplemented bits in qwords 0-2, and table
		 * pointers beyond the 48-bit address width */
		static const struct { unsigned int q; uint64_t bit; bool fs; }
		rsvd[] = {
			{ 0, VTDP_PE0_SLEE, false }, { 0, VTDP_PE0_SLADE, false },
			{ 0, 1ULL << 48, false }, { 1, 1ULL << 16, false },
			{ 1, 1ULL << 22, false }, { 2, 1ULL << 8, false },
			{ 2, 1ULL << 1, true }, { 2, 1ULL << 6, true },
			{ 2, 1ULL << 7, true }, { 2, 1ULL << 48, true },
		};
		unsigned int i;

		for (i = 0; i < sizeof(rsvd) / sizeof(rsvd[0]); i++) {
			pe = rsvd[i].fs ? tb_pe_fs(DID, pt, 4, false) :
					  tb_pe_ss(DID, pt, 4);
			pe.val[rsvd[i].q] |= rsvd[i].bit;
			tb_set_pasid_entry(&e->m, e->pdir, 100 + i, &pe);
			EXPECT_FAULT(e, SID, true, 100 + i, 0x1000, false,
				     VTDP_FR_SM_PTE_RSVD);
		}
		/* the same entries without the bit are fine up to the walk */
		pe = tb_pe_fs(DID, tb_pt_new(&e->m), 4, false);
		tb_set_pasid_entry(&e->m, e->pdir, 99, &pe);
		EXPECT_FAULT(e, SID, true, 99, 0x1000, false,
			     VTDP_FR_SM_FS_NOT_PRESENT);
	}
	/* PASID dir entry reserved bits and pointer outside memory */
	tb_write64(&e->m, e->pdir + 8 * 3, 0x200000 | VTDP_PDIR_P | (1 << 5));
	EXPECT_FAULT(e, SID, true, 3 << 6, 0x1000, false, VTDP_FR_SM_PDIR_RSVD);
	tb_write64(&e->m, e->pdir + 8 * 4, 0x7ff00000000ULL | VTDP_PDIR_P);
	EXPECT_FAULT(e, SID, true, 4 << 6, 0x1000, false,
		     VTDP_FR_SM_PTE_ACCESS);
	/* context: PASID dir outside memory */
	tb_set_context(&e->m, e->root, 0x0123,
		       VTDP_CTX_P | VTDP_CTX_PASIDE |
		       (7ULL << VTDP_CTX_PDTS_SHIFT) | 0x7ff00000000ULL, 0);
	EXPECT_FAULT(e, 0x0123, false, 0, 0x1000, false,
		     VTDP_FR_SM_PDIR_ACCESS);
	/* root entry: reserved bits; context table outside memory */
	tb_write64(&e->m, e->root + 3 * 16, 0x200000 | VTDP_ROOT_P | (1 << 4));
	EXPECT_FAULT(e, 0x0300, false, 0, 0x1000, false, VTDP_FR_SM_ROOT_RSVD);
	tb_write64(&e->m, e->root + 4 * 16, 0x7ff00000000ULL | VTDP_ROOT_P);
	EXPECT_FAULT(e, 0x0400, false, 0, 0x1000, false,
		     VTDP_FR_SM_CTX_ACCESS);
	/* PASID entry table is ok but SRE is clear for a privileged request */
	pte = e->c.stats.faults_recorded;
	CHECK_EQ(xlate_full(e, SID, false, 0, 0x1000, false, true, false, NULL),
		 VTDP_FR_SM_PTE_SRE_CLEAR);
	CHECK_EQ(e->c.stats.faults_recorded, pte + 1);
	clear_frcd(e, (e->c.frcd_next + e->c.cfg.nfr - 1) % e->c.cfg.nfr);
	/* root table outside memory; legacy TTM */
	wr(e, VTDP_REG_RTADDR, 0x7ff00000000ULL | VTDP_RTADDR_TTM_SM, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);
	EXPECT_FAULT(e, 0x0500, false, 0, 0x1000, false,
		     VTDP_FR_SM_ROOT_ACCESS);
	/* a reserved translation table mode */
	wr(e, VTDP_REG_RTADDR, e->root | VTDP_RTADDR_TTM_MASK, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);
	EXPECT_FAULT(e, 0x0500, false, 0, 0x1000, false,
		     VTDP_FR_SM_RTA_INVALID);
	/* legacy mode reads the same table as 128-bit legacy root entries */
	wr(e, VTDP_REG_RTADDR, e->root, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);
	EXPECT_FAULT(e, 0x0500, false, 0, 0x1000, false,
		     VTDP_FR_ROOT_NOT_PRESENT);
	(void)ce;
	env_free(e);
}

static void test_frcd_contents(void)
{
	struct env *e = env_new();
	uint64_t hi, lo;

	ss_setup(e, 4);
	/* write fault with PASID, privileged, exec */
	CHECK(xlate_full(e, SID, true, 0xabcde, 0x12345678, true, false, false,
			 NULL) == VTDP_FR_SM_PDIR_NOT_PRESENT);
	lo = frcd_lo(e, 0);
	hi = frcd_hi(e, 0);
	CHECK_EQ(lo, 0x12345000);
	CHECK(hi & VTDP_FRCD_HI_F);
	CHECK(!(hi & VTDP_FRCD_HI_T1));		/* write */
	CHECK(hi & VTDP_FRCD_HI_PP);
	CHECK_EQ(VTDP_FRCD_HI_PV(hi), 0xabcde);
	CHECK_EQ(VTDP_FRCD_HI_FR(hi), VTDP_FR_SM_PDIR_NOT_PRESENT);
	CHECK_EQ(VTDP_FRCD_HI_SID(hi), SID);
	CHECK(!(hi & VTDP_FRCD_HI_PRIV));
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 1);
	/* second: read, untagged */
	CHECK(xlate(e, 0x5000, false, NULL) == VTDP_FR_SM_SS_NOT_PRESENT);
	hi = frcd_hi(e, 1);
	CHECK(hi & VTDP_FRCD_HI_T1);
	CHECK(!(hi & VTDP_FRCD_HI_PP));
	CHECK_EQ(VTDP_FRCD_HI_FR(hi), VTDP_FR_SM_SS_NOT_PRESENT);
	/* PPF was already set: no second interrupt */
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 1);
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_PPF);
	CHECK_EQ(VTDP_FSTS_FRI(rd(e, VTDP_REG_FSTS, 4)), 0);
	/* RO fields ignore writes; F clears by W1C through the high dword */
	wr(e, VTDP_REG_FRCD_BASE, 0, 8);
	CHECK_EQ(frcd_lo(e, 0), 0x12345000);
	wr(e, VTDP_REG_FRCD_BASE + 8, 0, 8);
	CHECK(frcd_hi(e, 0) & VTDP_FRCD_HI_F);
	clear_frcd(e, 0);
	CHECK(!(frcd_hi(e, 0) & VTDP_FRCD_HI_F));
	CHECK_EQ(VTDP_FSTS_FRI(rd(e, VTDP_REG_FSTS, 4)), 1);
	wr(e, VTDP_REG_FRCD_BASE + 16 + 8, VTDP_FRCD_HI_F, 8);	/* 8-byte */
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_PPF));
	/* after all cleared, a new fault raises again, into record 2 */
	CHECK(xlate(e, 0x5000, false, NULL) == VTDP_FR_SM_SS_NOT_PRESENT);
	CHECK(frcd_hi(e, 2) & VTDP_FRCD_HI_F);
	CHECK_EQ(VTDP_FSTS_FRI(rd(e, VTDP_REG_FSTS, 4)), 2);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 2);
	/* records beyond NFR read as 0 */
	CHECK_EQ(rd(e, VTDP_REG_FRCD_BASE + 8 * 16 + 8, 8), 0);
	CHECK_EQ(rd(e, VTDP_REG_EXT_FAULTS_RECORDED, 8), 3);
	env_free(e);
}

static void test_overflow(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct env *e;
	unsigned int i;

	cfg.nfr = 2;
	e = env_new_cfg(&cfg);
	ss_setup(e, 4);
	for (i = 0; i < 2; i++)
		xlate(e, 0x5000 + i * 0x1000, false, NULL);
	CHECK_EQ(e->c.stats.faults_recorded, 2);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 1);
	xlate(e, 0x9000, false, NULL);
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_PFO);
	CHECK_EQ(e->c.stats.faults_dropped, 1);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 2);	/* PFO 0 -> 1 */
	xlate(e, 0xa000, false, NULL);
	CHECK_EQ(e->c.stats.faults_dropped, 2);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 2);
	CHECK_EQ(rd(e, VTDP_REG_EXT_FAULTS_DROPPED, 8), 2);
	/* freeing a record is not enough while PFO is set */
	clear_frcd(e, 0);
	xlate(e, 0xb000, false, NULL);
	CHECK_EQ(e->c.stats.faults_dropped, 3);
	wr(e, VTDP_REG_FSTS, VTDP_FSTS_PFO, 4);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_PFO));
	xlate(e, 0xc000, false, NULL);
	CHECK_EQ(e->c.stats.faults_recorded, 3);
	CHECK_EQ(VTDP_FRCD_HI_FR(frcd_hi(e, 0)), VTDP_FR_SM_SS_NOT_PRESENT);
	CHECK_EQ(frcd_lo(e, 0), 0xc000);
	/* oldest pending is record 1, written before record 0 was reused */
	CHECK_EQ(VTDP_FSTS_FRI(rd(e, VTDP_REG_FSTS, 4)), 1);
	env_free(e);
}

static void test_fpd_suppression(void)
{
	struct env *e = env_new();
	struct vtdp_fault_record rec;
	struct vtdp_pasid_entry pe;
	uint64_t pt;

	/* context FPD */
	tb_context_sm(&e->m, e->root, 0x0130, e->pdir, 0, true);
	CHECK_EQ(xlate_full(e, 0x0130, false, 0, 0x1000, false, false, false,
			    NULL), VTDP_FR_SM_PDIR_NOT_PRESENT);
	CHECK_EQ(e->c.stats.faults_suppressed, 1);
	CHECK_EQ(e->c.stats.faults_recorded, 0);
	CHECK(!(frcd_hi(e, 0) & VTDP_FRCD_HI_F));
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 0);
	CHECK_EQ(vtdp_core_fault_log(&e->c, &rec, 1), 1);
	CHECK(rec.suppressed && !rec.dropped);
	/* PASID entry FPD (a SS fault below it) */
	pt = tb_pt_new(&e->m);
	pe = tb_pe_ss(DID, pt, 4);
	pe.val[0] |= VTDP_PE0_FPD;
	tb_set_pasid_entry(&e->m, e->pdir, 77, &pe);
	CHECK_EQ(xlate_full(e, SID, true, 77, 0x1000, false, false, false,
			    NULL), VTDP_FR_SM_SS_NOT_PRESENT);
	CHECK_EQ(e->c.stats.faults_suppressed, 2);
	/* PASID directory entry FPD */
	tb_write64(&e->m, e->pdir + 8 * 9, tb_alloc_page(&e->m) |
		   VTDP_PDIR_P | VTDP_PDIR_FPD);
	CHECK_EQ(xlate_full(e, SID, true, 9 << 6, 0x1000, false, false, false,
			    NULL), VTDP_FR_SM_PTE_NOT_PRESENT);
	CHECK_EQ(e->c.stats.faults_suppressed, 3);
	CHECK_EQ(rd(e, VTDP_REG_EXT_FAULTS_SUPPRESSED, 8), 3);
	CHECK_EQ(e->c.stats.faults_recorded, 0);
	/* the same PASID through a non-FPD path is recorded */
	CHECK_EQ(xlate_full(e, SID, true, 78, 0x1000, false, false, false,
			    NULL), VTDP_FR_SM_PTE_NOT_PRESENT);
	CHECK_EQ(e->c.stats.faults_recorded, 1);
	env_free(e);
}

static void test_fault_interrupt_mask(void)
{
	struct env *e = env_new();

	ss_setup(e, 4);
	wr(e, VTDP_REG_FECTL, VTDP_FECTL_IM, 4);
	xlate(e, 0x5000, false, NULL);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 0);
	CHECK(rd(e, VTDP_REG_FECTL, 4) & VTDP_FECTL_IP);
	/* IP is read-only */
	wr(e, VTDP_REG_FECTL, VTDP_FECTL_IM, 4);
	CHECK(rd(e, VTDP_REG_FECTL, 4) & VTDP_FECTL_IP);
	/* unmask: pending event is delivered, IP clears */
	wr(e, VTDP_REG_FECTL, 0, 4);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 1);
	CHECK(!(rd(e, VTDP_REG_FECTL, 4) & VTDP_FECTL_IP));
	/* masked again; servicing all faults clears IP without an irq */
	wr(e, VTDP_REG_FECTL, VTDP_FECTL_IM, 4);
	clear_frcd(e, 0);
	xlate(e, 0x6000, false, NULL);
	CHECK(rd(e, VTDP_REG_FECTL, 4) & VTDP_FECTL_IP);
	clear_frcd(e, 1);
	CHECK(!(rd(e, VTDP_REG_FECTL, 4) & VTDP_FECTL_IP));
	wr(e, VTDP_REG_FECTL, 0, 4);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 1);
	/* FEDATA/FEADDR/FEUADDR read 0 (MSI-X) */
	wr(e, VTDP_REG_FEDATA, 0x1234, 4);
	wr(e, VTDP_REG_FEADDR, 0xfee00000, 4);
	CHECK_EQ(rd(e, VTDP_REG_FEDATA, 4), 0);
	CHECK_EQ(rd(e, VTDP_REG_FEADDR, 4), 0);
	CHECK_EQ(rd(e, VTDP_REG_FEUADDR, 4), 0);
	env_free(e);
}

static void test_fault_log(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct vtdp_fault_record rec[8];
	struct env *e;
	unsigned int i;

	cfg.fault_log_size = 4;
	e = env_new_cfg(&cfg);
	ss_setup(e, 4);
	CHECK_EQ(vtdp_core_fault_log(&e->c, rec, 8), 0);
	for (i = 0; i < 6; i++)
		xlate(e, 0x10000 + i * 0x1000 + i, i & 1, NULL);
	CHECK_EQ(e->c.log_total, 6);
	CHECK_EQ(vtdp_core_fault_log(&e->c, rec, 8), 4);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(rec[i].index, 5 - i);
		CHECK_EQ(rec[i].addr, 0x10000 + (5 - i) * 0x1001);
		CHECK_EQ(rec[i].write, (5 - i) & 1);
		CHECK_EQ(rec[i].sid, SID);
		CHECK_EQ(rec[i].reason, VTDP_FR_SM_SS_NOT_PRESENT);
	}
	CHECK(rec[0].time_ns > rec[1].time_ns);
	CHECK_EQ(vtdp_core_fault_log(&e->c, rec, 2), 2);
	CHECK_EQ(rec[0].index, 5);
	vtdp_core_fault_log_clear(&e->c);
	CHECK_EQ(vtdp_core_fault_log(&e->c, rec, 8), 0);
	CHECK_EQ(e->c.stats.faults_recorded, 6);
	xlate(e, 0x99000, false, NULL);
	CHECK_EQ(vtdp_core_fault_log(&e->c, rec, 8), 1);
	CHECK_EQ(rec[0].index, 6);
	/* fault log and counters survive reset */
	vtdp_core_reset(&e->c);
	CHECK_EQ(vtdp_core_fault_log(&e->c, rec, 8), 1);
	CHECK_EQ(e->c.stats.faults_recorded, 7);
	CHECK(strcmp(vtdp_fault_reason_name(VTDP_FR_SM_WRITE),
		     "write to read-only") == 0);
	CHECK(vtdp_fault_reason_name(0xff) != NULL);
	for (i = 0; i < 256; i++)
		CHECK(vtdp_fault_reason_name(i)[0] != 0);
	env_free(e);
}

static void test_qi_wait(void)
{
	struct env *e = env_new();
	uint64_t status = tb_alloc_page(&e->m);
	struct vtdp_inv_desc d[2];

	iq_setup(e, false);
	d[0] = tb_inv_wait(true, false, status, 0xcafe);
	iq_submit(e, d, 1);
	CHECK_EQ(tb_read32(&e->m, status), 0xcafe);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x10);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_INV], 0);
	/* IF: ICS.IWC and an invalidation completion interrupt */
	d[0] = tb_inv_wait(true, true, status + 4, 0xbeef);
	iq_submit(e, d, 1);
	CHECK_EQ(tb_read32(&e->m, status + 4), 0xbeef);
	CHECK(rd(e, VTDP_REG_ICS, 4) & VTDP_ICS_IWC);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_INV], 1);
	CHECK_EQ(e->c.stats.inv_wait, 2);
	/* masked: IP, delivered on unmask; IWC W1C */
	wr(e, VTDP_REG_ICS, VTDP_ICS_IWC, 4);
	CHECK(!(rd(e, VTDP_REG_ICS, 4) & VTDP_ICS_IWC));
	wr(e, VTDP_REG_IECTL, VTDP_IECTL_IM, 4);
	d[0] = tb_inv_wait(false, true, 0, 0);
	d[1] = tb_inv_wait(false, false, 0, 0);
	d[1].lo |= VTDP_INV_WAIT_FN;
	iq_submit(e, d, 2);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_INV], 1);
	CHECK(rd(e, VTDP_REG_IECTL, 4) & VTDP_IECTL_IP);
	wr(e, VTDP_REG_IECTL, 0, 4);
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_INV], 2);
	CHECK(!(rd(e, VTDP_REG_IECTL, 4) & VTDP_IECTL_IP));
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), rd(e, VTDP_REG_IQT, 8));
	env_free(e);
}

static void test_qi_errors(void)
{
	struct env *e = env_new();
	uint64_t status = tb_alloc_page(&e->m);
	struct vtdp_inv_desc d[3];

	iq_setup(e, false);
	d[0] = tb_inv_wait(true, false, status, 1);
	d[1].lo = 0xf;		/* unknown type */
	d[1].hi = 0;
	d[2] = tb_inv_wait(true, false, status, 2);
	iq_submit(e, d, 3);
	CHECK_EQ(tb_read32(&e->m, status), 1);	/* stopped before d[2] */
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE);
	CHECK_EQ(VTDP_IQERCD_IQEI(rd(e, VTDP_REG_IQERCD, 8)),
		 VTDP_IQEI_DESC_TYPE);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x10);	/* at the bad descriptor */
	CHECK_EQ(e->irq[VTDP_IOMMU_VEC_FAULT], 1);
	CHECK_EQ(e->c.stats.inv_errors, 1);
	/* fix the descriptor, clear IQE, ring again */
	tb_write64(&e->m, e->iq + 16, tb_inv_wait(false, false, 0, 0).lo);
	wr(e, VTDP_REG_FSTS, VTDP_FSTS_IQE, 4);
	wr(e, VTDP_REG_IQT, rd(e, VTDP_REG_IQT, 8), 8);
	CHECK_EQ(tb_read32(&e->m, status), 2);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x30);
	/* reserved bits in a known type */
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_GLOBAL | (1ULL << 40),
		   0);
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x30);
	wr(e, VTDP_REG_FSTS, VTDP_FSTS_IQE, 4);
	/* huge IQT: beyond the queue -> tail error, queue untouched */
	tb_write64(&e->m, e->iq + 0x30, tb_inv_wait(false, false, 0, 0).lo);
	wr(e, VTDP_REG_IQT, 0xffffffffffffffffULL, 8);
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE);
	CHECK_EQ(VTDP_IQERCD_IQEI(rd(e, VTDP_REG_IQERCD, 8)), VTDP_IQEI_TAIL);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x30);
	wr(e, VTDP_REG_FSTS, VTDP_FSTS_IQE, 4);
	/* queue base outside memory: descriptor fetch fails -> IQE */
	wr(e, VTDP_REG_IQA, 0x7ff00000000ULL, 8);
	wr(e, VTDP_REG_IQT, 0x80, 8);
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE);
	env_free(e);

	/* 256-bit descriptors: odd IQT is misaligned */
	e = env_new();
	iq_setup(e, true);
	wr(e, VTDP_REG_IQT, 0x10, 8);
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE);
	CHECK_EQ(VTDP_IQERCD_IQEI(rd(e, VTDP_REG_IQERCD, 8)), VTDP_IQEI_TAIL);
	wr(e, VTDP_REG_FSTS, VTDP_FSTS_IQE, 4);
	status = tb_alloc_page(&e->m);
	tb_write64(&e->m, e->iq, tb_inv_wait(true, false, status, 7).lo);
	tb_write64(&e->m, e->iq + 8, status);
	wr(e, VTDP_REG_IQT, 0x20, 8);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
	CHECK_EQ(tb_read32(&e->m, status), 7);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x20);
	env_free(e);
}

static void test_qi_wraparound(void)
{
	struct env *e = env_new();
	uint64_t status = tb_alloc_page(&e->m);
	struct vtdp_inv_desc d[8];
	unsigned int i, round;

	iq_setup(e, false);
	/* 256 slots; submit batches of 7 until the queue has wrapped twice */
	for (round = 0; round < 80; round++) {
		for (i = 0; i < 7; i++)
			d[i] = tb_inv_wait(true, false, status, round * 7 + i);
		iq_submit(e, d, 7);
	}
	CHECK_EQ(tb_read32(&e->m, status), 80 * 7 - 1);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), ((80 * 7) % 256) << 4);
	CHECK_EQ(e->c.stats.inv_wait, 80 * 7);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
	/* IQT writes while QI is disabled are stored, not processed */
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);
	wr(e, VTDP_REG_IQT, 0x40, 8);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0);
	CHECK_EQ(e->c.stats.inv_wait, 80 * 7);
	env_free(e);
}

/* ---- caches ---- */

static uint64_t paddr_of(struct env *e, uint16_t sid, bool pv, uint32_t pasid,
			 uint64_t addr)
{
	struct vtdp_translation t;

	if (xlate_full(e, sid, pv, pasid, addr, false, false, false, &t))
		return ~0ULL;
	return t.paddr;
}

static void remap(struct env *e, uint64_t pt, uint64_t iova, uint64_t pa)
{
	tb_map(&e->m, pt, 4, iova, pa, 1, VTDP_SS_R | VTDP_SS_W, TB_SS_DIR,
	       false);
}

static void test_iotlb_stale_page(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4);

	iq_setup(e, false);
	remap(e, pt, 0x1000, 0xa000);
	remap(e, pt, 0x2000, 0xb000);
	remap(e, pt, 0x100000, 0xc000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x100000), 0xc000);
	CHECK_EQ(e->c.stats.iotlb_misses, 3);
	remap(e, pt, 0x1000, 0xd000);
	remap(e, pt, 0x2000, 0xe000);
	remap(e, pt, 0x100000, 0xf000);
	/* stale */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.iotlb_hits, 1);
	/* page-selective for 0x1000 only */
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_PAGE |
		   ((uint64_t)DID << 16), 0x1000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xd000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x100000), 0xc000);
	/* wrong DID does nothing */
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_DOMAIN |
		   ((uint64_t)(DID + 1) << 16), 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	/* AM=1 covers 0x2000-0x3fff but not 0x100000 */
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_PAGE |
		   ((uint64_t)DID << 16), 0x2000 | 1);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xe000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x100000), 0xc000);
	/* domain-selective */
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_DOMAIN |
		   ((uint64_t)DID << 16), 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x100000), 0xf000);
	CHECK_EQ(e->c.stats.inv_iotlb, 4);
	/* a 2M leaf is removed by a page invalidation inside it */
	tb_map(&e->m, pt, 4, 0x400000, 0x800000, 2, VTDP_SS_R, TB_SS_DIR,
	       false);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x400000), 0x800000);
	tb_map(&e->m, pt, 4, 0x400000, 0xa00000, 2, VTDP_SS_R, TB_SS_DIR,
	       false);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x400000), 0x800000);
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_PAGE |
		   ((uint64_t)DID << 16), 0x5ff000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x400000), 0xa00000);
	env_free(e);
}

/* After loading a migration stream: values in range, caches empty. */
static void test_post_load(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4);

	remap(e, pt, 0x1000, 0xa000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	remap(e, pt, 0x1000, 0xb000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);	/* cached */

	/* a stream with out-of-range values */
	e->c.frcd_next = 1000;
	e->c.iqh = ~0ULL;
	e->c.iqt = ~0ULL;
	e->c.iqa = ~0ULL;
	e->c.rtaddr_active |= 0x3ff;
	e->c.frcd[VTDP_FRCD_MAX - 1][1] = VTDP_FRCD_HI_F;
	vtdp_core_post_load(&e->c);
	CHECK(e->c.frcd_next < e->c.cfg.nfr);
	CHECK_EQ(e->c.iqh, VTDP_IQ_INDEX_MASK);
	CHECK_EQ(e->c.iqt, VTDP_IQ_INDEX_MASK);
	CHECK_EQ(e->c.iqa, VTDP_IQA_ADDR_MASK | VTDP_IQA_DW | 7);
	CHECK_EQ(e->c.rtaddr_active & 0x3ff, 0);
	CHECK_EQ(e->c.frcd[VTDP_FRCD_MAX - 1][1], 0);
	/* the stale translation is gone; the tables still translate */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xb000);
	env_free(e);
}

/* Hit and miss counters of the context and PASID-entry caches. */
static void test_cache_counters(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4);

	remap(e, pt, 0x1000, 0xa000);
	remap(e, pt, 0x2000, 0xb000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.ctx_misses, 1);
	CHECK_EQ(e->c.stats.pc_misses, 1);
	CHECK_EQ(e->c.stats.ctx_hits, 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.ctx_hits, 2);
	CHECK_EQ(e->c.stats.pc_hits, 2);
	CHECK_EQ(e->c.stats.iotlb_hits, 1);
	CHECK_EQ(e->c.stats.iotlb_misses, 2);
	/* a device-selective context invalidation: the next lookup misses */
	iq_setup(e, false);
	iq_submit1(e, VTDP_INV_TYPE_CC | VTDP_INV_CC_DEVICE |
		   ((uint64_t)SID << 32), 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.ctx_misses, 2);
	CHECK_EQ(e->c.stats.pc_hits, 3);
	env_free(e);
}

/*
 * pasid-cache-size: with N entries, N PASIDs stay cached and an (N+1)th
 * evicts one; what invalidations leave stays findable (the cache is
 * hashed); 0 disables the cache.
 */
static void test_pasid_cache_size(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct vtdp_pasid_entry pe;
	unsigned int size, p;
	struct env *e;
	uint64_t pt, pt2;

	for (size = 0; size <= 64; size += 64) {
		cfg.pasid_cache_size = size;
		e = env_new_cfg(&cfg);
		pt = ss_setup(e, 4);
		pt2 = tb_pt_new(&e->m);
		iq_setup(e, false);
		remap(e, pt, 0x1000, 0xa000);
		remap(e, pt2, 0x1000, 0xb000);
		pe = tb_pe_ss(DID, pt, 4);
		for (p = 1; p <= 64; p++)
			tb_set_pasid_entry(&e->m, e->pdir, p, &pe);
		for (p = 1; p <= 64; p++)
			CHECK_EQ(paddr_of(e, SID, true, p, 0x1000), 0xa000);
		CHECK_EQ(e->c.stats.pc_misses, 64);
		/* all 64 cached (or none): a second round */
		for (p = 1; p <= 64; p++)
			CHECK_EQ(paddr_of(e, SID, true, p, 0x1000), 0xa000);
		CHECK_EQ(e->c.stats.pc_hits, size ? 64 : 0);
		CHECK_EQ(e->c.stats.pc_misses, size ? 64 : 128);

		/* every PASID entry now points elsewhere: stale where cached */
		pe = tb_pe_ss(DID + 1, pt2, 4);
		for (p = 1; p <= 65; p++)
			tb_set_pasid_entry(&e->m, e->pdir, p, &pe);
		CHECK_EQ(paddr_of(e, SID, true, 7, 0x1000),
			 size ? 0xa000 : 0xb000);
		/* PASID-selective invalidation of every odd PASID */
		for (p = 1; p <= 64; p += 2)
			iq_submit1(e, VTDP_INV_TYPE_PC | VTDP_INV_PC_PASID |
				   ((uint64_t)DID << 16) | ((uint64_t)p << 32), 0);
		for (p = 1; p <= 64; p++)
			CHECK_EQ(paddr_of(e, SID, true, p, 0x1000),
				 size && !(p & 1) ? 0xa000 : 0xb000);
		CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
		env_free(e);
	}

	/* full: a 65th PASID evicts exactly one entry, the oldest slot's */
	cfg.pasid_cache_size = 64;
	e = env_new_cfg(&cfg);
	pt = ss_setup(e, 4);
	remap(e, pt, 0x1000, 0xa000);
	pe = tb_pe_ss(DID, pt, 4);
	for (p = 1; p <= 65; p++) {
		tb_set_pasid_entry(&e->m, e->pdir, p, &pe);
		CHECK_EQ(paddr_of(e, SID, true, p, 0x1000), 0xa000);
	}
	CHECK_EQ(e->c.stats.pc_misses, 65);
	for (p = 2; p <= 65; p++)
		CHECK_EQ(paddr_of(e, SID, true, p, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.pc_misses, 65);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.pc_misses, 66);
	env_free(e);
}

/* Legacy-mode context entry for @sid: @lo = P/FPD/TT/table, @hi = AW/DID. */
static void legacy_ctx(struct env *e, uint64_t root, uint16_t sid,
		       uint64_t lo, uint64_t hi)
{
	uint64_t re = root + (sid >> 8) * 16ULL;
	uint64_t ct = tb_read64(&e->m, re) & VTDP_ADDR_MASK;

	if (!ct) {
		ct = tb_alloc_page(&e->m);
		tb_write64(&e->m, re, ct | VTDP_ROOT_P);
	}
	tb_write64(&e->m, ct + (sid & 0xff) * 16ULL + 8, hi);
	tb_write64(&e->m, ct + (sid & 0xff) * 16ULL, lo);
}

/*
 * Legacy mode (RTADDR.TTM = 00): second-stage translation with 3 and 4
 * levels, pass-through, FPD, every legacy fault reason, and the IOTLB
 * scoped by the context entry's domain id.
 */
static void test_legacy_mode(void)
{
	struct env *e = env_new();
	uint64_t root = tb_alloc_page(&e->m), pt = tb_pt_new(&e->m);
	uint64_t pt3 = tb_pt_new(&e->m), leaf, re;
	const uint64_t ss = ((uint64_t)VTDP_PE_AW_48) |
			    ((uint64_t)DID << VTDP_LCTX1_DID_SHIFT);
	const uint16_t s2 = 0x0210, s3 = 0x0218, s4 = 0x0220, s5 = 0x0228;
	struct vtdp_translation t;
	unsigned int i;

	legacy_ctx(e, root, SID, pt | VTDP_CTX_P, ss);
	legacy_ctx(e, root, s2, pt3 | VTDP_CTX_P,
		   VTDP_PE_AW_39 | (7ULL << VTDP_LCTX1_DID_SHIFT));
	legacy_ctx(e, root, s3, VTDP_CTX_P | (2ULL << 2), 0);	/* PT */
	leaf = tb_map(&e->m, pt, 4, 0x1000, 0xa000, 1, VTDP_SS_R | VTDP_SS_W,
		      TB_SS_DIR, false);
	tb_map(&e->m, pt, 4, 0x2000, 0xb000, 1, VTDP_SS_R, TB_SS_DIR, false);
	tb_map(&e->m, pt3, 3, 0x3000, 0xc000, 1, VTDP_SS_R | VTDP_SS_W,
	       TB_SS_DIR, false);
	wr(e, VTDP_REG_RTADDR, root | VTDP_RTADDR_TTM_LEGACY, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);

	CHECK_EQ(xlate_full(e, SID, false, 0, 0x1234, true, false, false, &t),
		 0);
	CHECK_EQ(t.paddr, 0xa234);
	CHECK_EQ(xlate_full(e, s2, false, 0, 0x3010, false, false, false, &t),
		 0);
	CHECK_EQ(t.paddr, 0xc010);
	CHECK_EQ(xlate_full(e, s3, false, 0, 0x7654321, true, false, false,
			    &t), 0);
	CHECK_EQ(t.paddr, 0x7654321);
	CHECK(t.write);

	/* permissions and the walk */
	EXPECT_FAULT(e, SID, false, 0, 0x2000, true, VTDP_FR_WRITE);
	EXPECT_FAULT(e, SID, false, 0, 0x5000, false, VTDP_FR_READ);
	EXPECT_FAULT(e, SID, false, 0, 0x5000, true, VTDP_FR_WRITE);
	EXPECT_FAULT(e, SID, false, 0, 1ULL << 48, false,
		     VTDP_FR_ADDR_BEYOND_AW);
	EXPECT_FAULT(e, s2, false, 0, 1ULL << 39, false,
		     VTDP_FR_ADDR_BEYOND_AW);
	tb_map(&e->m, pt, 4, 0x6000, 0x6000, 1, VTDP_SS_R | (1ULL << 60),
	       TB_SS_DIR, false);
	EXPECT_FAULT(e, SID, false, 0, 0x6000, false, VTDP_FR_SS_RSVD);
	tb_map(&e->m, pt, 4, 0x800000, 0, 1, VTDP_SS_R, TB_SS_DIR, false);
	tb_write64(&e->m, tb_entry_addr(&e->m, pt, 4, 0x800000, 2, false),
		   0x7ff00000000ULL | VTDP_SS_R | VTDP_SS_W);
	EXPECT_FAULT(e, SID, false, 0, 0x800000, false, VTDP_FR_SS_ACCESS);
	/* requests with PASID are not taken in legacy mode */
	EXPECT_FAULT(e, SID, true, 5, 0x1000, false, VTDP_FR_CTX_INVALID);

	/* root and context entries */
	EXPECT_FAULT(e, 0x0500, false, 0, 0x1000, false,
		     VTDP_FR_ROOT_NOT_PRESENT);
	EXPECT_FAULT(e, 0x0230, false, 0, 0x1000, false,
		     VTDP_FR_CTX_NOT_PRESENT);
	legacy_ctx(e, root, s4, pt | VTDP_CTX_P | (1ULL << 2), ss); /* DT */
	EXPECT_FAULT(e, s4, false, 0, 0x1000, false, VTDP_FR_CTX_INVALID);
	legacy_ctx(e, root, s4, pt | VTDP_CTX_P, VTDP_PE_AW_57);
	EXPECT_FAULT(e, s4, false, 0, 0x1000, false, VTDP_FR_CTX_INVALID);
	legacy_ctx(e, root, s5, pt | VTDP_CTX_P | (1ULL << 4), ss);
	EXPECT_FAULT(e, s5, false, 0, 0x1000, false, VTDP_FR_CTX_RSVD);
	re = root + 3 * 16;
	tb_write64(&e->m, re, VTDP_ROOT_P | (1ULL << 5));
	EXPECT_FAULT(e, 0x0300, false, 0, 0x1000, false, VTDP_FR_ROOT_RSVD);
	tb_write64(&e->m, re, VTDP_ROOT_P | 0x7ff00000000ULL);
	EXPECT_FAULT(e, 0x0300, false, 0, 0x1000, false, VTDP_FR_CTX_ACCESS);
	wr(e, VTDP_REG_RTADDR, 0x7ff00000000ULL, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);
	EXPECT_FAULT(e, SID, false, 0, 0x1000, false, VTDP_FR_ROOT_ACCESS);
	wr(e, VTDP_REG_RTADDR, root | VTDP_RTADDR_TTM_LEGACY, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);

	/* FPD in the context entry suppresses */
	legacy_ctx(e, root, s5, pt | VTDP_CTX_P | VTDP_LCTX0_FPD, ss);
	i = e->c.stats.faults_suppressed;
	xlate_full(e, s5, false, 0, 0x5000, false, false, false, &t);
	CHECK_EQ(e->c.stats.faults_suppressed, i + 1);

	/* IOTLB: stale until the context's domain is invalidated */
	CHECK_EQ(xlate_full(e, SID, false, 0, 0x1000, false, false, false,
			    &t), 0);
	tb_write64(&e->m, leaf, 0xd000 | VTDP_SS_R | VTDP_SS_W);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	iq_setup(e, false);
	iq_submit1(e, VTDP_INV_TYPE_PIOTLB | VTDP_INV_PIOTLB_ALL_PASID |
		   ((uint64_t)DID << 16), 0);
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_DOMAIN |
		   ((uint64_t)(DID + 1) << 16), 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_DOMAIN |
		   ((uint64_t)DID << 16), 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xd000);
	env_free(e);
}

static void test_iotlb_domains_and_pasids(void)
{
	struct env *e = env_new();
	uint64_t pt1 = tb_pt_new(&e->m), pt2 = tb_pt_new(&e->m);
	uint64_t pt3 = tb_pt_new(&e->m);
	struct vtdp_pasid_entry pe;

	iq_setup(e, false);
	pe = tb_pe_fs(1, pt1, 4, false);	/* PASID 1 in DID 1 */
	tb_set_pasid_entry(&e->m, e->pdir, 1, &pe);
	pe = tb_pe_fs(1, pt2, 4, false);	/* PASID 2 in DID 1 */
	tb_set_pasid_entry(&e->m, e->pdir, 2, &pe);
	pe = tb_pe_fs(2, pt3, 4, false);	/* PASID 3 in DID 2 */
	tb_set_pasid_entry(&e->m, e->pdir, 3, &pe);
#define FSMAP(pt, iova, pa) tb_map(&e->m, pt, 4, iova, pa, 1,		\
	VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true)
	FSMAP(pt1, 0x1000, 0x11000);
	FSMAP(pt1, 0x2000, 0x12000);
	FSMAP(pt2, 0x1000, 0x21000);
	FSMAP(pt3, 0x1000, 0x31000);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x1000), 0x11000);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x2000), 0x12000);
	CHECK_EQ(paddr_of(e, SID, true, 2, 0x1000), 0x21000);
	CHECK_EQ(paddr_of(e, SID, true, 3, 0x1000), 0x31000);
	FSMAP(pt1, 0x1000, 0x41000);
	FSMAP(pt1, 0x2000, 0x42000);
	FSMAP(pt2, 0x1000, 0x51000);
	FSMAP(pt3, 0x1000, 0x61000);
	/* PIOTLB page in PASID 1: only (1, 0x1000) */
	iq_submit1(e, VTDP_INV_TYPE_PIOTLB | VTDP_INV_PIOTLB_PAGE |
		   (1ULL << 16) | (1ULL << 32), 0x1000);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x1000), 0x41000);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x2000), 0x12000);
	CHECK_EQ(paddr_of(e, SID, true, 2, 0x1000), 0x21000);
	/* PIOTLB all of PASID 2 in DID 1 */
	iq_submit1(e, VTDP_INV_TYPE_PIOTLB | VTDP_INV_PIOTLB_ALL_PASID |
		   (1ULL << 16) | (2ULL << 32), 0);
	CHECK_EQ(paddr_of(e, SID, true, 2, 0x1000), 0x51000);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x2000), 0x12000);
	CHECK_EQ(paddr_of(e, SID, true, 3, 0x1000), 0x31000);
	/* PIOTLB for PASID 3 but wrong DID: nothing */
	iq_submit1(e, VTDP_INV_TYPE_PIOTLB | VTDP_INV_PIOTLB_ALL_PASID |
		   (1ULL << 16) | (3ULL << 32), 0);
	CHECK_EQ(paddr_of(e, SID, true, 3, 0x1000), 0x31000);
	/* domain-selective IOTLB on DID 2 only */
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_DOMAIN |
		   (2ULL << 16), 0);
	CHECK_EQ(paddr_of(e, SID, true, 3, 0x1000), 0x61000);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x2000), 0x12000);
	/* global */
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_GLOBAL, 0);
	CHECK_EQ(paddr_of(e, SID, true, 1, 0x2000), 0x42000);
	CHECK_EQ(e->c.stats.inv_piotlb, 3);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
#undef FSMAP
	env_free(e);
}

static void test_context_and_pasid_cache(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4), pt2 = tb_pt_new(&e->m), pte;
	struct vtdp_pasid_entry pe;

	iq_setup(e, false);
	remap(e, pt, 0x1000, 0xa000);
	remap(e, pt2, 0x1000, 0xb000);
	pe = tb_pe_ss(DID, pt, 4);
	pte = tb_set_pasid_entry(&e->m, e->pdir, 10, &pe);
	tb_set_pasid_entry(&e->m, e->pdir, 11, &pe);
	CHECK_EQ(paddr_of(e, SID, true, 10, 0x1000), 0xa000);
	CHECK_EQ(paddr_of(e, SID, true, 11, 0x1000), 0xa000);
	/* point PASID 10 and 11 at another domain/table */
	pe = tb_pe_ss(DID + 1, pt2, 4);
	tb_set_pasid_entry(&e->m, e->pdir, 10, &pe);
	tb_set_pasid_entry(&e->m, e->pdir, 11, &pe);
	CHECK_EQ(paddr_of(e, SID, true, 10, 0x1000), 0xa000);	/* stale */
	/* PASID-selective PC invalidation of PASID 10 (in old DID) */
	iq_submit1(e, VTDP_INV_TYPE_PC | VTDP_INV_PC_PASID |
		   ((uint64_t)DID << 16) | (10ULL << 32), 0);
	CHECK_EQ(paddr_of(e, SID, true, 10, 0x1000), 0xb000);
	CHECK_EQ(paddr_of(e, SID, true, 11, 0x1000), 0xa000);	/* stale */
	/* domain-selective for another DID: nothing */
	iq_submit1(e, VTDP_INV_TYPE_PC | VTDP_INV_PC_DOMAIN |
		   ((uint64_t)(DID + 7) << 16), 0);
	CHECK_EQ(paddr_of(e, SID, true, 11, 0x1000), 0xa000);
	iq_submit1(e, VTDP_INV_TYPE_PC | VTDP_INV_PC_DOMAIN |
		   ((uint64_t)DID << 16), 0);
	CHECK_EQ(paddr_of(e, SID, true, 11, 0x1000), 0xb000);
	/* PASID entry cleared: still served from the PASID cache */
	tb_write64(&e->m, pte, 0);
	CHECK_EQ(paddr_of(e, SID, true, 10, 0x1000), 0xb000);
	iq_submit1(e, VTDP_INV_TYPE_PC | VTDP_INV_PC_GLOBAL, 0);
	CHECK_EQ(paddr_of(e, SID, true, 10, 0x1000), ~0ULL);
	CHECK_EQ(e->c.stats.inv_pasid_cache, 4);

	/* context cache: clear the context entry; stale until CC device */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(paddr_of(e, SID + 1, false, 0, 0x1000), ~0ULL);
	tb_context_sm(&e->m, e->root, SID + 1, e->pdir, 0, false);
	tb_set_context(&e->m, e->root, SID, 0, 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	/* device-selective for another SID: nothing */
	iq_submit1(e, VTDP_INV_TYPE_CC | VTDP_INV_CC_DEVICE |
		   ((uint64_t)(SID + 8) << 32), 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	iq_submit1(e, VTDP_INV_TYPE_CC | VTDP_INV_CC_DEVICE |
		   ((uint64_t)SID << 32), 0);
	CHECK_EQ(xlate(e, 0x1000, false, NULL), VTDP_FR_SM_CTX_NOT_PRESENT);
	/* not-present entries are not cached (CM=0): SID + 1 now works */
	CHECK_EQ(paddr_of(e, SID + 1, false, 0, 0x1000), 0xa000);
	/* register-based CCMD global */
	tb_context_sm(&e->m, e->root, SID, e->pdir, 0, false);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);	/* QI off for reg-based */
	wr(e, VTDP_REG_CCMD, VTDP_CCMD_ICC | VTDP_CCMD_GLOBAL, 8);
	CHECK(!(rd(e, VTDP_REG_CCMD, 8) & VTDP_CCMD_ICC));
	CHECK_EQ((rd(e, VTDP_REG_CCMD, 8) >> VTDP_CCMD_CAIG_SHIFT) & 3, 1);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.inv_context, 3);
	env_free(e);
}

static void test_register_iotlb_invalidation(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4);
	uint64_t v;

	remap(e, pt, 0x1000, 0xa000);
	remap(e, pt, 0x2000, 0xb000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	remap(e, pt, 0x1000, 0xc000);
	remap(e, pt, 0x2000, 0xd000);
	/* page-selective through IVA + IOTLB_REG, as two 4-byte writes */
	wr(e, VTDP_REG_IVA, 0x1000, 8);
	v = VTDP_IOTLB_IVT | VTDP_IOTLB_PAGE | ((uint64_t)DID << 32);
	wr(e, VTDP_REG_IOTLB, v & 0xffffffff, 4);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);	/* not yet */
	wr(e, VTDP_REG_IOTLB + 4, v >> 32, 4);
	CHECK(!(rd(e, VTDP_REG_IOTLB, 8) & VTDP_IOTLB_IVT));
	CHECK_EQ((rd(e, VTDP_REG_IOTLB, 8) >> VTDP_IOTLB_IAIG_SHIFT) & 3, 3);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xc000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	wr(e, VTDP_REG_IOTLB, VTDP_IOTLB_IVT | VTDP_IOTLB_DOMAIN |
	   ((uint64_t)DID << 32), 8);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xd000);
	env_free(e);
}

static void test_iotlb_eviction(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct env *e;
	uint64_t pt;
	unsigned int i, round, bad = 0;

	cfg.iotlb_size = 4;
	e = env_new_cfg(&cfg);
	pt = ss_setup(e, 4);
	for (i = 0; i < 64; i++)
		remap(e, pt, 0x100000 + i * 0x1000, 0x2000000 + i * 0x1000);
	for (round = 0; round < 3; round++)
		for (i = 0; i < 64; i++)
			if (paddr_of(e, SID, false, 0, 0x100000 + i * 0x1000 +
				     i) != 0x2000000 + i * 0x1001)
				bad++;
	CHECK_EQ(bad, 0);
	CHECK(e->c.stats.iotlb_evictions >= 64 * 3 - 4);
	/* LRU: a hot entry survives while others stream past */
	paddr_of(e, SID, false, 0, 0x100000);
	for (i = 1; i < 10; i++) {
		paddr_of(e, SID, false, 0, 0x100000 + i * 0x1000);
		paddr_of(e, SID, false, 0, 0x100000);
	}
	remap(e, pt, 0x100000, 0x7000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x100000), 0x2000000); /* stale */
	env_free(e);

	/* IOTLB disabled: every lookup walks, results still right */
	cfg.iotlb_size = 0;
	e = env_new_cfg(&cfg);
	pt = ss_setup(e, 4);
	remap(e, pt, 0x1000, 0x5000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0x5000);
	remap(e, pt, 0x1000, 0x6000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0x6000);
	CHECK_EQ(e->c.stats.iotlb_hits, 0);
	env_free(e);
}

static void test_qi_misc_and_high_half(void)
{
	struct env *e = env_new();
	uint64_t pt = tb_pt_new(&e->m), pt2 = ss_setup(e, 4);
	const uint64_t hi_va = 0xffffffffc0001000ULL;
	struct vtdp_pasid_entry pe = tb_pe_fs(DID, pt, 4, true);

	iq_setup(e, false);
	/* device-TLB, PASID device-TLB and IEC are accepted and counted */
	iq_submit1(e, VTDP_INV_TYPE_DEVTLB, 0);
	iq_submit1(e, VTDP_INV_TYPE_IEC, 0);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
	CHECK_EQ(e->c.stats.inv_iec, 1);
	iq_submit1(e, VTDP_INV_TYPE_PDEVTLB, 0);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
	CHECK_EQ(e->c.stats.inv_devtlb, 2);
	/* type 0x11 (high type bits 11:9 = 1) does not exist */
	iq_submit1(e, (1ULL << 9) | 1, 0);
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE);
	wr(e, VTDP_REG_FSTS, VTDP_FSTS_IQE, 4);
	/* skip the bad descriptor by resetting the queue (QIE off/on) */
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);
	wr(e, VTDP_REG_IQT, 0, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_QIE, 4);

	/* a canonical high-half FS address is cached and invalidated */
	tb_set_pasid_entry(&e->m, e->pdir, 1, &pe);
	tb_map(&e->m, pt, 4, hi_va, 0x7000, 1, VTDP_FS_P | VTDP_FS_RW,
	       TB_FS_DIR, true);
	CHECK_EQ(xlate_full(e, SID, true, 1, hi_va + 8, false, true, false,
			    NULL), 0);
	tb_map(&e->m, pt, 4, hi_va, 0x8000, 1, VTDP_FS_P | VTDP_FS_RW,
	       TB_FS_DIR, true);
	CHECK_EQ(xlate_full(e, SID, true, 1, hi_va, false, true, false, NULL),
		 0);
	CHECK_EQ(e->c.stats.iotlb_hits, 1);
	iq_submit1(e, VTDP_INV_TYPE_PIOTLB | VTDP_INV_PIOTLB_PAGE |
		   ((uint64_t)DID << 16) | (1ULL << 32), hi_va);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
	{
		struct vtdp_translation t;

		CHECK_EQ(xlate_full(e, SID, true, 1, hi_va + 8, false, true,
				    false, &t), 0);
		CHECK_EQ(t.paddr, 0x8008);
	}

	/* context-cache device invalidation with function mask */
	remap(e, pt2, 0x1000, 0xa000);
	tb_context_sm(&e->m, e->root, 0x0140, e->pdir, 0, false);
	tb_context_sm(&e->m, e->root, 0x0144, e->pdir, 0, false);
	tb_context_sm(&e->m, e->root, 0x0148, e->pdir, 0, false);
	CHECK_EQ(paddr_of(e, 0x0140, false, 0, 0x1000), 0xa000);
	CHECK_EQ(paddr_of(e, 0x0144, false, 0, 0x1000), 0xa000);
	CHECK_EQ(paddr_of(e, 0x0148, false, 0, 0x1000), 0xa000);
	tb_set_context(&e->m, e->root, 0x0140, 0, 0);
	tb_set_context(&e->m, e->root, 0x0144, 0, 0);
	tb_set_context(&e->m, e->root, 0x0148, 0, 0);
	/* FM=1 ignores function bit 2: covers 0x40 and 0x44, not 0x48 */
	iq_submit1(e, VTDP_INV_TYPE_CC | VTDP_INV_CC_DEVICE |
		   (0x0140ULL << 32) | (1ULL << 48), 0);
	CHECK_EQ(paddr_of(e, 0x0140, false, 0, 0x1000), ~0ULL);
	CHECK_EQ(paddr_of(e, 0x0144, false, 0, 0x1000), ~0ULL);
	CHECK_EQ(paddr_of(e, 0x0148, false, 0, 0x1000), 0xa000);
	env_free(e);
}

static void test_pasid_width(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct vtdp_pasid_entry pe;
	struct env *e;
	uint64_t pt;

	cfg.pasid_bits = 8;
	e = env_new_cfg(&cfg);
	pt = ss_setup(e, 4);
	remap(e, pt, 0x1000, 0xa000);
	pe = tb_pe_ss(DID, pt, 4);
	tb_set_pasid_entry(&e->m, e->pdir, 255, &pe);
	tb_set_pasid_entry(&e->m, e->pdir, 256, &pe);
	CHECK_EQ(paddr_of(e, SID, true, 255, 0x1000), 0xa000);
	CHECK_EQ(xlate_full(e, SID, true, 256, 0x1000, false, false, false,
			    NULL), VTDP_FR_SM_PASID_TOO_LARGE);
	env_free(e);

	cfg.pasid_bits = 0;
	e = env_new_cfg(&cfg);
	pt = ss_setup(e, 4);
	remap(e, pt, 0x1000, 0xa000);
	/* untagged DMA still goes through RID_PASID */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(xlate_full(e, SID, true, 0, 0x1000, false, false, false,
			    NULL), VTDP_FR_SM_CTX_INVALID);
	env_free(e);
}

static void test_hostile_mmio(void)
{
	struct env *e = env_new();
	uint64_t off, cap = rd(e, VTDP_REG_CAP, 8);
	unsigned int size;

	/* misaligned, odd-sized, out of range: read 0 / ignored */
	CHECK_EQ(rd(e, VTDP_REG_CAP + 1, 4), 0);
	CHECK_EQ(rd(e, VTDP_REG_CAP + 4, 8), 0);
	CHECK_EQ(rd(e, VTDP_REG_CAP, 2), 0);
	CHECK_EQ(rd(e, VTDP_REG_CAP, 1), 0);
	CHECK_EQ(rd(e, VTDP_REG_CAP, 16), 0);
	CHECK_EQ(rd(e, VTDP_IOMMU_REG_SIZE, 4), 0);
	CHECK_EQ(rd(e, ~0ULL - 3, 4), 0);
	wr(e, VTDP_REG_RTADDR + 2, 0xffffffff, 4);
	wr(e, VTDP_REG_RTADDR, 0xffffffff, 2);
	wr(e, ~0ULL - 7, 0xffffffff, 8);
	CHECK_EQ(rd(e, VTDP_REG_RTADDR, 8), 0x0 + (e->root | VTDP_RTADDR_TTM_SM));
	/* unimplemented offsets read 0 */
	CHECK_EQ(rd(e, 0x600, 8), 0);
	CHECK_EQ(rd(e, 0xff8, 8), 0);
	/* write all-ones and then zero everywhere, any size: must not crash
	 * or hang; read everything back */
	for (size = 4; size <= 8; size += 4) {
		for (off = 0; off < VTDP_IOMMU_REG_SIZE + 16; off += 4) {
			wr(e, off, ~0ULL, size);
			(void)rd(e, off, size);
		}
		for (off = 0; off < VTDP_IOMMU_REG_SIZE + 16; off += 4)
			wr(e, off, 0, size);
	}
	CHECK_EQ(rd(e, VTDP_REG_CAP, 8), cap);
	/* translation still works with whatever state remains */
	wr(e, VTDP_REG_GCMD, 0, 4);
	CHECK_EQ(xlate(e, 0x1234, false, NULL), 0);
	env_free(e);
}

static void test_hostile_tables(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4);
	unsigned int i;
	uint64_t *p;

	iq_setup(e, false);
	/* garbage page table: every entry points at itself (a loop) */
	p = tb_ptr(&e->m, pt, VTDP_PAGE_SIZE);
	for (i = 0; i < VTDP_LEVEL_ENTRIES; i++)
		p[i] = pt | VTDP_SS_R | VTDP_SS_W;
	/* a self-referencing table is walked at most 4 levels, then the
	 * level-1 "leaf" translates to the table page itself */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), pt);
	/* random garbage in every structure: no crash, a fault or a result */
	srand(1);
	for (i = 0; i < 20000; i++) {
		uint64_t *w = tb_ptr(&e->m, TB_MEM_BASE, e->m.next);
		uint64_t n = e->m.next / 8;
		struct vtdp_translation t;

		w[rand() % n] ^= (uint64_t)rand() << (rand() % 40);
		xlate_full(e, (uint16_t)rand(), rand() & 1,
			   (uint32_t)rand() & 0xfffff,
			   ((uint64_t)rand() << 20) ^ (uint64_t)rand(),
			   rand() & 1, rand() & 1, rand() & 1, &t);
		if ((i & 255) == 0)
			iq_submit1(e, VTDP_INV_TYPE_IOTLB |
				   VTDP_INV_IOTLB_GLOBAL, 0);
		/* keep recording registers available */
		if ((i & 15) == 0) {
			unsigned int j;

			for (j = 0; j < e->c.cfg.nfr; j++)
				clear_frcd(e, j);
			wr(e, VTDP_REG_FSTS, VTDP_FSTS_RW1C, 4);
		}
	}
	CHECK(e->c.stats.translations >= 20000);

	/* the same garbage read as legacy-mode tables */
	wr(e, VTDP_REG_RTADDR, e->root | VTDP_RTADDR_TTM_LEGACY, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);
	for (i = 0; i < 20000; i++) {
		uint64_t *w = tb_ptr(&e->m, TB_MEM_BASE, e->m.next);
		uint64_t n = e->m.next / 8;
		struct vtdp_translation t;
		int fr;

		w[rand() % n] ^= (uint64_t)rand() << (rand() % 40);
		fr = xlate_full(e, (uint16_t)rand(), rand() & 1,
				(uint32_t)rand() & 0xfffff,
				((uint64_t)rand() << 20) ^ (uint64_t)rand(),
				rand() & 1, false, false, &t);
		/* only legacy reasons (and the interrupt range) */
		CHECK(fr == 0 || (fr >= VTDP_FR_ROOT_NOT_PRESENT &&
				  fr <= VTDP_FR_SS_RSVD) ||
		      fr == VTDP_FR_SM_INTERRUPT_ADDR);
		if ((i & 15) == 0) {
			unsigned int j;

			for (j = 0; j < e->c.cfg.nfr; j++)
				clear_frcd(e, j);
			wr(e, VTDP_REG_FSTS, VTDP_FSTS_RW1C, 4);
		}
	}
	CHECK(e->c.stats.translations >= 40000);
	env_free(e);
}


/*
 * Fuzzer crash 1: IOTLB tags keep 57 input-address bits, so an address with
 * a bit above 56 set matched the cached translation of the address without
 * it and was translated instead of faulting.  (fuzz-vtdp-core, input
 * "SS 4-level page 0x1000 cached, then 0x0800000000001234")
 */
static void test_iotlb_no_alias_above_57_bits(void)
{
	struct env *e = env_new();
	uint64_t pt = ss_setup(e, 4), fpt = tb_pt_new(&e->m), root;
	struct vtdp_pasid_entry pe = tb_pe_fs(DID + 1, fpt, 4, false);
	const uint64_t legacy_ss = ((uint64_t)VTDP_PE_AW_48) |
				   ((uint64_t)DID << VTDP_LCTX1_DID_SHIFT);
	unsigned int bit;

	remap(e, pt, 0x1000, 0xa000);
	tb_set_pasid_entry(&e->m, e->pdir, 7, &pe);
	tb_map(&e->m, fpt, 4, 0x1000, 0xb000, 1,
	       VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	/* second stage: the cached entry must not serve bits 57..63 */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1234), 0xa234);
	for (bit = 57; bit < 64; bit++)
		CHECK_EQ(xlate(e, (1ULL << bit) | 0x1234, false, NULL),
			 VTDP_FR_SM_ADDR_BEYOND_AW);
	/* first stage: those addresses are non-canonical */
	CHECK_EQ(paddr_of(e, SID, true, 7, 0x1234), 0xb234);
	for (bit = 57; bit < 64; bit++)
		CHECK_EQ(xlate_full(e, SID, true, 7, (1ULL << bit) | 0x1234,
				    false, false, false, NULL),
			 VTDP_FR_SM_FS_NON_CANONICAL);
	/* legacy second stage */
	root = tb_alloc_page(&e->m);
	legacy_ctx(e, root, SID, pt | VTDP_CTX_P, legacy_ss);
	wr(e, VTDP_REG_RTADDR, root | VTDP_RTADDR_TTM_LEGACY, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_SRTP, 4);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1234), 0xa234);
	for (bit = 57; bit < 64; bit++)
		CHECK_EQ(xlate(e, (1ULL << bit) | 0x1234, false, NULL),
			 VTDP_FR_ADDR_BEYOND_AW);
	env_free(e);
}


/*
 * Fuzzer invariant 2: IQA.DW set under a running queue whose head is
 * between two 256-bit slots (odd IQH).  The queue was walked in half-slot
 * steps that never met the even tail: every IQT write executed the
 * descriptors at all odd slots (reading 16 bytes past the queue for the
 * last) and stopped when the budget ran out, without draining the queue or
 * reporting an error.  (fuzz-vtdp-core, corpus input
 * regress-2-qi-dw-odd-head)
 */
static void test_qi_dw_odd_head(void)
{
	struct env *e = env_new();
	unsigned int slot;

	iq_setup(e, false);
	iq_submit1(e, tb_inv_wait(false, false, 0, 0).lo, 0);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x10);
	/* valid 256-bit wait descriptors at every odd slot */
	for (slot = 1; slot < e->iq_slots; slot += 2)
		tb_write64(&e->m, e->iq + slot * 16,
			   tb_inv_wait(false, false, 0, 0).lo);
	wr(e, VTDP_REG_IQA, e->iq | VTDP_IQA_DW, 8);
	wr(e, VTDP_REG_IQT, 0x20, 8);
	/* no descriptor starts at IQH: an error, nothing executed */
	CHECK(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE);
	CHECK_EQ(VTDP_IQERCD_IQEI(rd(e, VTDP_REG_IQERCD, 8)), VTDP_IQEI_TAIL);
	CHECK_EQ(e->c.stats.inv_wait, 1);
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x10);
	/* recovery as VT-d prescribes: disabling QI resets IQH */
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE, 4);
	wr(e, VTDP_REG_FSTS, VTDP_FSTS_IQE, 4);
	wr(e, VTDP_REG_IQT, 0, 8);
	wr(e, VTDP_REG_GCMD, VTDP_GCMD_TE | VTDP_GCMD_QIE, 4);
	tb_write64(&e->m, e->iq, tb_inv_wait(false, false, 0, 0).lo);
	tb_write64(&e->m, e->iq + 16, 0);
	wr(e, VTDP_REG_IQT, 0x20, 8);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_IQE));
	CHECK_EQ(rd(e, VTDP_REG_IQH, 8), 0x20);
	CHECK_EQ(e->c.stats.inv_wait, 2);
	env_free(e);
}

/* ---------------------------------------------------------------------- */

/* ---- DMA sanitizer ---- */

/* Sanitizer records in the fault log with @reason. */
static unsigned int san_count(struct env *e, uint8_t reason)
{
	struct vtdp_fault_record rec[64];
	size_t i, n = vtdp_core_fault_log(&e->c, rec, 64);
	unsigned int count = 0;

	for (i = 0; i < n; i++)
		count += rec[i].reason == reason;
	return count;
}

/*
 * Each guest bug the sanitizer exists for -- a translation, PASID entry
 * or context entry changed without invalidation, then used from the
 * cache -- is reported once, the request is still served as hardware
 * would serve it, nothing reaches a fault recording register, and the
 * correct sequence (change, invalidate, use) reports nothing.
 */
static void test_sanitizer(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct vtdp_pasid_entry pe;
	struct env *e;
	uint64_t pt, pt2;

	cfg.sanitize = true;
	e = env_new_cfg(&cfg);
	pt = ss_setup(e, 4);
	pt2 = tb_pt_new(&e->m);
	iq_setup(e, false);
	remap(e, pt, 0x1000, 0xa000);
	remap(e, pt, 0x2000, 0xb000);
	remap(e, pt2, 0x1000, 0xc000);

	/* correct driver: remap + page invalidation, then use: silent */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);	/* hit, checked */
	remap(e, pt, 0x1000, 0xd000);
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_PAGE |
		   ((uint64_t)DID << 16), 0x1000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xd000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xd000);
	CHECK_EQ(e->c.stats.sanitizer_reports, 0);

	/* bug 1: PTE changed without invalidation, then used (twice) */
	remap(e, pt, 0x1000, 0xe000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xd000);	/* served stale */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xd000);
	CHECK_EQ(san_count(e, VTDP_FR_SAN_STALE_IOTLB), 1);
	/* ... and a cleared PTE (unmap without flush) */
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	tb_write64(&e->m, tb_entry_addr(&e->m, pt, 4, 0x2000, 1, false), 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x2000), 0xb000);
	CHECK_EQ(san_count(e, VTDP_FR_SAN_STALE_IOTLB), 2);
	CHECK_EQ(e->c.stats.faults_recorded, 0);
	CHECK(!(rd(e, VTDP_REG_FSTS, 4) & VTDP_FSTS_PPF));
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_GLOBAL, 0);
	CHECK_EQ(xlate(e, 0x2000, false, NULL), VTDP_FR_SM_SS_NOT_PRESENT);

	/* bug 2: PASID entry pointed at another table, no PC invalidation */
	pe = tb_pe_ss(DID, pt2, 4);
	tb_set_pasid_entry(&e->m, e->pdir, RID_PASID, &pe);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xe000);
	CHECK_EQ(san_count(e, VTDP_FR_SAN_STALE_PASID), 1);
	iq_submit1(e, VTDP_INV_TYPE_PC | VTDP_INV_PC_GLOBAL, 0);
	iq_submit1(e, VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_GLOBAL, 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xc000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xc000);
	CHECK_EQ(san_count(e, VTDP_FR_SAN_STALE_PASID), 1);

	/* bug 3: context entry cleared, no context-cache invalidation */
	tb_set_context(&e->m, e->root, SID, 0, 0);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xc000);
	CHECK_EQ(san_count(e, VTDP_FR_SAN_STALE_CONTEXT), 1);
	iq_submit1(e, VTDP_INV_TYPE_CC | VTDP_INV_CC_GLOBAL, 0);
	CHECK_EQ(xlate(e, 0x1000, false, NULL), VTDP_FR_SM_CTX_NOT_PRESENT);
	CHECK_EQ(e->c.stats.sanitizer_reports, 4);
	CHECK_EQ(e->c.stats.faults_recorded, 2);
	CHECK(!strcmp(vtdp_fault_reason_name(VTDP_FR_SAN_STALE_CONTEXT),
		      "sanitizer: stale context entry used"));
	env_free(e);

	/* sanitizer off: the same bug goes unnoticed, as on hardware */
	e = env_new();
	pt = ss_setup(e, 4);
	remap(e, pt, 0x1000, 0xa000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	remap(e, pt, 0x1000, 0xb000);
	CHECK_EQ(paddr_of(e, SID, false, 0, 0x1000), 0xa000);
	CHECK_EQ(e->c.stats.sanitizer_reports, 0);
	CHECK_EQ(san_count(e, VTDP_FR_SAN_STALE_IOTLB), 0);
	env_free(e);
}

/* First stage: the sanitizer's re-walk sets no A/D bit. */
static void test_sanitizer_first_stage(void)
{
	struct vtdp_core_config cfg = VTDP_CORE_DEFAULT_CONFIG;
	struct vtdp_pasid_entry pe;
	struct env *e;
	uint64_t fl, leaf;

	cfg.sanitize = true;
	e = env_new_cfg(&cfg);
	fl = tb_pt_new(&e->m);
	leaf = tb_map(&e->m, fl, 4, 0x5000, 0xa000, 1,
		      VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	pe = tb_pe_fs(DID, fl, 4, false);
	tb_set_pasid_entry(&e->m, e->pdir, 7, &pe);
	iq_setup(e, false);
	CHECK_EQ(paddr_of(e, SID, true, 7, 0x5000), 0xa000);
	CHECK(tb_read64(&e->m, leaf) & VTDP_FS_A);
	/* clear A behind the IOMMU's back: a hit must not set it again */
	tb_write64(&e->m, leaf, tb_read64(&e->m, leaf) & ~VTDP_FS_A);
	CHECK_EQ(paddr_of(e, SID, true, 7, 0x5000), 0xa000);
	CHECK(!(tb_read64(&e->m, leaf) & VTDP_FS_A));
	CHECK_EQ(e->c.stats.sanitizer_reports, 0);
	/* now unmap it without invalidation */
	tb_write64(&e->m, leaf, 0);
	CHECK_EQ(paddr_of(e, SID, true, 7, 0x5000), 0xa000);
	CHECK_EQ(san_count(e, VTDP_FR_SAN_STALE_IOTLB), 1);
	env_free(e);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "config validation", test_config_validation },
	{ "DMA sanitizer: stale IOTLB, PASID, context", test_sanitizer },
	{ "DMA sanitizer: first stage, no A/D side effects",
	  test_sanitizer_first_stage },
	{ "CAP/ECAP/VER fields", test_cap_ecap },
	{ "GCMD/GSTS SRTP TE QIE", test_gcmd_gsts },
	{ "identity when TE off", test_identity_when_te_off },
	{ "SS 4-level translation", test_ss_4level },
	{ "SS 3-level translation", test_ss_3level },
	{ "SS 5-level translation", test_ss_5level },
	{ "SS 2M and 1G pages", test_ss_large_pages },
	{ "FS translation U/S R/W A/D", test_fs_translation },
	{ "FS XD, large pages, SRE", test_fs_xd_and_large },
	{ "FS 5-level, canonical, reserved bits", test_fs_5level_and_rsvd },
	{ "post-load sanitising and cache drop", test_post_load },
	{ "context and PASID cache counters", test_cache_counters },
	{ "PASID cache size, hashed lookup, eviction", test_pasid_cache_size },
	{ "legacy mode", test_legacy_mode },
	{ "pass-through", test_pass_through },
	{ "fault reasons", test_fault_reasons },
	{ "FRCD contents, PPF/FRI, W1C", test_frcd_contents },
	{ "fault overflow PFO", test_overflow },
	{ "FPD suppression", test_fpd_suppression },
	{ "fault event IM/IP", test_fault_interrupt_mask },
	{ "fault log order/wrap/clear", test_fault_log },
	{ "QI wait status write and interrupt", test_qi_wait },
	{ "QI errors: bad descriptor, huge IQT", test_qi_errors },
	{ "QI wrap-around", test_qi_wraparound },
	{ "IOTLB stale until page/domain invalidation", test_iotlb_stale_page },
	{ "IOTLB PIOTLB/domain scoping", test_iotlb_domains_and_pasids },
	{ "context and PASID caches", test_context_and_pasid_cache },
	{ "register-based IOTLB invalidation", test_register_iotlb_invalidation },
	{ "IOTLB eviction under pressure", test_iotlb_eviction },
	{ "QI misc types, FS high half, CC function mask",
	  test_qi_misc_and_high_half },
	{ "PASID width (pasid_bits 8 and 0)", test_pasid_width },
	{ "hostile MMIO", test_hostile_mmio },
	{ "hostile tables", test_hostile_tables },
	{ "fuzz 1: no IOTLB alias above bit 56",
	  test_iotlb_no_alias_above_57_bits },
	{ "fuzz 2: 256-bit queue with an odd head", test_qi_dw_odd_head },
};

int main(void)
{
	unsigned int i, n = sizeof(tests) / sizeof(tests[0]), failed = 0;

	printf("1..%u\n", n);
	for (i = 0; i < n; i++) {
		cur_failed = 0;
		tests[i].fn();
		printf("%sok %u - %s\n", cur_failed ? "not " : "", i + 1,
		       tests[i].name);
		failed += cur_failed;
	}
	return failed ? 1 : 0;
}
