// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the vtdp translation core.
 *
 * The input (format in fuzz-input.h) is a configuration and a sequence of
 * operations a hostile guest can perform: write anything anywhere in its
 * memory (tables with loops, self-references, reserved bits, pointers
 * outside memory), write and read registers (GCMD, RTADDR, IQA/IQT with
 * invalidation descriptors, the fault registers) and issue DMA requests.
 *
 * After every step the invariants below are checked; a violation aborts, so
 * libFuzzer records the input as a crash:
 *   - no ASan/UBSan error (the build has -fno-sanitize-recover);
 *   - a translation succeeds, or fails with a fault reason of the current
 *     translation mode that is logged exactly once with the request's
 *     fields;
 *   - a successful translation is a 4K/2M/1G page containing the address,
 *     and, when the reference walker below covers the request (translation
 *     off, scalable-mode pass-through and second-stage 3/4/5-level, legacy
 *     second-stage and pass-through) and no cache can be stale, agrees with
 *     it exactly: output address, page size and read/write permission; and
 *     a request the reference translates does not fault;
 *   - the fault counters add up to the fault log's running total, the
 *     pending fault records never exceed NFR, FRI names one of them;
 *   - interrupts use existing vectors;
 *   - bounded work per step: a translation reads at most 9 qword-sized
 *     table entries, an IQT write at most one descriptor per queue slot.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtdp-core.h"
#include "table-builder.h"
#include "fuzz-input.h"

#define FZ_MEM_SIZE	((uint64_t)FZ_MEM_PAGES * VTDP_PAGE_SIZE)

#define FZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-vtdp-core: invariant failed: %s "	\
			"(%s:%d)\n", #cond, __FILE__, __LINE__);	\
		abort();						\
	}								\
} while (0)

struct harness {
	struct tb_mem m;
	struct vtdp_core c;
	struct vtdp_core_ops ops;
	/*
	 * Memory that a translation read since the caches were last dropped
	 * has changed: cached context, PASID and IOTLB entries may
	 * legitimately differ from the tables (VT-d requires software to
	 * invalidate), so the differential check waits for the next cache
	 * drop.  Every cached entry was built from such reads, so writes
	 * elsewhere (an invalidation queue, unrelated pages) keep it clean.
	 */
	bool dirty;
	bool in_translate;
	uint8_t walked[FZ_MEM_PAGES * VTDP_PAGE_SIZE / 64];	/* qword bits */
	unsigned long reads;	/* dma_read calls in the current step */
	unsigned long writes;
	unsigned long total_reads;	/* in this input */
	uint64_t ns;
};

/* VTDP_FUZZ_TRACE=1 in the environment: print every translation. */
static bool trace;

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t get(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static uint64_t page_addr(uint64_t page)
{
	return TB_MEM_BASE + (page % FZ_MEM_PAGES) * VTDP_PAGE_SIZE;
}

/* ---------------------------------------------------------------------- */
/* Callbacks                                                              */

static struct harness *of(void *opaque)
{
	return (struct harness *)((char *)opaque - offsetof(struct harness, m));
}

/* Loop @q over the qwords of guest memory overlapping [addr, addr + len). */
#define FOR_QWORDS(addr, len, q)					\
	for (q = ((addr) - TB_MEM_BASE) / 8;				\
	     (addr) >= TB_MEM_BASE && q < FZ_MEM_SIZE / 8 &&		\
	     q <= ((addr) + (len) - 1 - TB_MEM_BASE) / 8; q++)

static void caches_dropped(struct harness *h)
{
	h->dirty = false;
	memset(h->walked, 0, sizeof(h->walked));
}

/* Guest memory [addr, addr + len) is about to change or just changed. */
static void mem_changed(struct harness *h, uint64_t addr, uint64_t len)
{
	uint64_t q;

	FOR_QWORDS(addr, len, q)
		if (h->walked[q / 8] & (1U << (q % 8)))
			h->dirty = true;
}

static int h_dma_read(void *opaque, uint64_t addr, void *buf, uint32_t len)
{
	struct harness *h = of(opaque);
	uint64_t q;

	h->reads++;
	h->total_reads++;
	FZ_ASSERT(len <= 64);
	if (h->in_translate)
		FOR_QWORDS(addr, len, q)
			h->walked[q / 8] |= 1U << (q % 8);
	return tb_dma_read(opaque, addr, buf, len);
}

static int h_dma_write(void *opaque, uint64_t addr, const void *buf,
		       uint32_t len)
{
	struct harness *h = of(opaque);
	int ret;

	h->writes++;
	FZ_ASSERT(len <= 8);
	ret = tb_dma_write(opaque, addr, buf, len);
	if (!ret)
		mem_changed(h, addr, len);
	return ret;
}

static void h_raise_irq(void *opaque, unsigned int vector)
{
	(void)opaque;
	FZ_ASSERT(vector < VTDP_IOMMU_NR_VECTORS);
}

static uint64_t h_clock(void *opaque)
{
	return ++of(opaque)->ns;
}

/* ---------------------------------------------------------------------- */
/* Reference walker                                                       */

/*
 * An independent, deliberately plain reading of the VT-d rules for the
 * cases it covers, down to the fault reason (VT-d 7.1.3 for scalable mode,
 * 7.1.2 for legacy mode, plus the deviations the core documents).  It
 * shares only the format definitions of iommu-hw.h with the core, reads the
 * tables straight from the fake memory, and has no caches.  Returns 0 and
 * fills @out, a fault reason, or REF_UNCOVERED (first-stage tables).
 */
#define REF_UNCOVERED	(-1)

struct ref_result {
	uint64_t paddr;
	uint64_t size;
	bool r, w;
};

static bool ref_read(struct harness *h, uint64_t gpa, uint64_t *q,
		     unsigned int nq)
{
	uint8_t *p = tb_ptr(&h->m, gpa, nq * 8ULL);

	if (!p)
		return false;
	memcpy(q, p, nq * 8ULL);
	return true;
}

/* Output-address bits 51:aw are reserved in every pointer and leaf. */
static uint64_t ref_oa_rsvd(const struct vtdp_core_config *cfg)
{
	uint64_t m = 0;
	unsigned int b;

	for (b = cfg->aw_bits; b <= 51; b++)
		m |= 1ULL << b;
	return m;
}

/* Second-stage walk of @levels levels from @table; @lg: legacy reasons. */
static int ref_ss(struct harness *h, uint64_t table, unsigned int levels,
		  const struct vtdp_request *r, bool lg, struct ref_result *out)
{
	const struct vtdp_core_config *cfg = &h->c.cfg;
	unsigned int level, in_bits = 12 + 9 * levels;
	int denied = lg ? (r->write ? VTDP_FR_WRITE : VTDP_FR_READ) :
			  (r->write ? VTDP_FR_SM_WRITE : VTDP_FR_SM_READ);
	int rsvd = lg ? VTDP_FR_SS_RSVD : VTDP_FR_SM_SS_RSVD;
	bool rd = true, wr = true;

	if (in_bits < 64 && (r->addr >> in_bits))
		return lg ? VTDP_FR_ADDR_BEYOND_AW : VTDP_FR_SM_ADDR_BEYOND_AW;
	for (level = levels; level > 0; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		uint64_t idx = (r->addr >> shift) & 511, e, size;

		if (!ref_read(h, table + idx * 8, &e, 1))
			return lg ? VTDP_FR_SS_ACCESS : VTDP_FR_SM_SS_ACCESS;
		/* legacy mode has no "not present": the access is denied */
		if (!(e & VTDP_SS_R) && !(e & VTDP_SS_W))
			return lg ? denied : VTDP_FR_SM_SS_NOT_PRESENT;
		if (e & (VTDP_SS_RSVD_HI | ref_oa_rsvd(cfg)))
			return rsvd;
		rd = rd && (e & VTDP_SS_R);
		wr = wr && (e & VTDP_SS_W);
		if (level > 3 && (e & VTDP_SS_PS))
			return rsvd;
		if (level > 1 && !(e & VTDP_SS_PS)) {
			table = e & VTDP_SS_ADDR_MASK;
			continue;
		}
		size = 1ULL << shift;
		if ((e & VTDP_SS_ADDR_MASK) % size)
			return rsvd;
		if (r->write ? !wr : !rd)
			return denied;
		out->size = size;
		out->paddr = (e & VTDP_SS_ADDR_MASK) + r->addr % size;
		out->r = rd;
		out->w = wr;
		return 0;
	}
	abort();	/* level 1 is always a leaf */
}

static unsigned int ref_aw_levels(unsigned int aw)
{
	return aw == VTDP_PE_AW_39 ? 3 : aw == VTDP_PE_AW_48 ? 4 :
	       aw == VTDP_PE_AW_57 ? 5 : 0;
}

static int ref_identity(const struct vtdp_request *r, struct ref_result *out)
{
	out->paddr = r->addr;
	out->size = VTDP_PAGE_SIZE;
	out->r = out->w = true;
	return 0;
}

static int ref_scalable(struct harness *h, const struct vtdp_request *r,
			struct ref_result *out)
{
	const struct vtdp_core_config *cfg = &h->c.cfg;
	unsigned int bus = r->sid >> 8, devfn = r->sid & 0xff, levels;
	uint64_t root[2], rp, ce[4], pdir, pe[8];
	uint32_t pasid;
	bool priv;
	int i;

	if (!ref_read(h, (h->c.rtaddr_active & VTDP_RTADDR_ADDR_MASK) +
		      bus * 16ULL, root, 2))
		return VTDP_FR_SM_ROOT_ACCESS;
	rp = devfn >= 128 ? root[1] : root[0];
	if (!(rp & VTDP_ROOT_P))
		return VTDP_FR_SM_ROOT_NOT_PRESENT;
	if ((rp & VTDP_ROOT_RSVD) || (rp >> 52))
		return VTDP_FR_SM_ROOT_RSVD;
	if (!ref_read(h, (rp & VTDP_ADDR_MASK) + (devfn % 128) * 32ULL, ce, 4))
		return VTDP_FR_SM_CTX_ACCESS;
	if (!(ce[0] & VTDP_CTX_P))
		return VTDP_FR_SM_CTX_NOT_PRESENT;
	if ((ce[0] & VTDP_CTX0_RSVD) || (ce[0] >> 52) ||
	    (ce[1] & VTDP_CTX1_RSVD) || ce[2] || ce[3])
		return VTDP_FR_SM_CTX_RSVD;
	if (r->pasid_valid) {
		if (!(ce[0] & VTDP_CTX_PASIDE) || cfg->pasid_bits == 0)
			return VTDP_FR_SM_CTX_INVALID;
		if (r->pasid >= (1U << cfg->pasid_bits))
			return VTDP_FR_SM_PASID_TOO_LARGE;
		pasid = r->pasid;
		priv = r->priv;
	} else {
		pasid = VTDP_CTX1_RID_PASID(ce[1]);
		priv = r->priv || (ce[1] & VTDP_CTX1_RID_PRIV);
	}
	if ((pasid >> 6) >= (1U << (VTDP_CTX_PDTS(ce[0]) + 7)))
		return VTDP_FR_SM_PASID_TOO_LARGE;
	if (!ref_read(h, (ce[0] & VTDP_ADDR_MASK) + (pasid >> 6) * 8ULL,
		      &pdir, 1))
		return VTDP_FR_SM_PDIR_ACCESS;
	if (!(pdir & VTDP_PDIR_P))
		return VTDP_FR_SM_PDIR_NOT_PRESENT;
	if ((pdir & VTDP_PDIR_RSVD) || (pdir >> 52))
		return VTDP_FR_SM_PDIR_RSVD;
	if (!ref_read(h, (pdir & VTDP_ADDR_MASK) + (pasid & 63) * 64ULL, pe, 8))
		return VTDP_FR_SM_PTE_ACCESS;
	if (!(pe[0] & VTDP_PE0_P))
		return VTDP_FR_SM_PTE_NOT_PRESENT;
	if ((pe[0] & VTDP_PE0_RSVD) || (pe[0] & VTDP_PE0_UNSUPPORTED) ||
	    (pe[1] & VTDP_PE1_RSVD) || (pe[2] & VTDP_PE2_RSVD))
		return VTDP_FR_SM_PTE_RSVD;
	for (i = 3; i < 8; i++)
		if (pe[i])
			return VTDP_FR_SM_PTE_RSVD;
	if (priv && !(pe[2] & VTDP_PE2_SRE))
		return VTDP_FR_SM_PTE_SRE_CLEAR;
	switch (VTDP_PE0_PGTT(pe[0])) {
	case VTDP_PGTT_PT:
		if (!cfg->pass_through)
			return VTDP_FR_SM_PTE_INVALID;
		if (r->addr >> cfg->aw_bits)
			return VTDP_FR_SM_ADDR_BEYOND_AW;
		return ref_identity(r, out);
	case VTDP_PGTT_SS:
		if (!cfg->second_stage)
			return VTDP_FR_SM_PTE_INVALID;
		if (pe[0] & VTDP_PE0_SSPTPTR_MASK & ref_oa_rsvd(cfg))
			return VTDP_FR_SM_PTE_RSVD;
		levels = ref_aw_levels(VTDP_PE0_AW(pe[0]));
		if (!levels || 12 + 9 * levels > cfg->aw_bits)
			return VTDP_FR_SM_PTE_INVALID;
		return ref_ss(h, pe[0] & VTDP_PE0_SSPTPTR_MASK, levels, r, false,
			      out);
	case VTDP_PGTT_FS:
		if (!cfg->first_stage)
			return VTDP_FR_SM_PTE_INVALID;
		return REF_UNCOVERED;
	default:
		return VTDP_FR_SM_PTE_INVALID;
	}
}

static int ref_legacy(struct harness *h, const struct vtdp_request *r,
		      struct ref_result *out)
{
	const struct vtdp_core_config *cfg = &h->c.cfg;
	uint64_t root[2], ce[2];
	unsigned int levels;

	if (!ref_read(h, (h->c.rtaddr_active & VTDP_RTADDR_ADDR_MASK) +
		      (r->sid >> 8) * 16ULL, root, 2))
		return VTDP_FR_ROOT_ACCESS;
	if (!(root[0] & VTDP_ROOT_P))
		return VTDP_FR_ROOT_NOT_PRESENT;
	if ((root[0] & VTDP_LROOT_RSVD) || root[1])
		return VTDP_FR_ROOT_RSVD;
	if (!ref_read(h, (root[0] & VTDP_ADDR_MASK) + (r->sid & 0xff) * 16ULL,
		      ce, 2))
		return VTDP_FR_CTX_ACCESS;
	if (!(ce[0] & VTDP_CTX_P))
		return VTDP_FR_CTX_NOT_PRESENT;
	if ((ce[0] & VTDP_LCTX0_RSVD) || (ce[1] & VTDP_LCTX1_RSVD))
		return VTDP_FR_CTX_RSVD;
	if (r->pasid_valid)
		return VTDP_FR_CTX_INVALID;
	switch (VTDP_LCTX0_TT(ce[0])) {
	case VTDP_LCTX_TT_PT:
		if (!cfg->pass_through)
			return VTDP_FR_CTX_INVALID;
		if (r->addr >> cfg->aw_bits)
			return VTDP_FR_ADDR_BEYOND_AW;
		return ref_identity(r, out);
	case VTDP_LCTX_TT_SS:
		levels = ref_aw_levels(VTDP_LCTX1_AW(ce[1]));
		if (!cfg->second_stage || !levels ||
		    12 + 9 * levels > cfg->aw_bits)
			return VTDP_FR_CTX_INVALID;
		if (ce[0] & VTDP_ADDR_MASK & ref_oa_rsvd(cfg))
			return VTDP_FR_CTX_RSVD;
		return ref_ss(h, ce[0] & VTDP_ADDR_MASK, levels, r, true, out);
	default:
		return VTDP_FR_CTX_INVALID;
	}
}

static int ref_translate(struct harness *h, const struct vtdp_request *r,
			 struct ref_result *out)
{
	uint64_t ttm = h->c.rtaddr_active & VTDP_RTADDR_TTM_MASK;

	if (!(h->c.gsts & VTDP_GSTS_TES))
		return ref_identity(r, out);
	if (r->addr >= VTDP_INTERRUPT_RANGE_START &&
	    r->addr <= VTDP_INTERRUPT_RANGE_END)
		return VTDP_FR_SM_INTERRUPT_ADDR;
	if ((h->c.gsts & VTDP_GSTS_RTPS) && ttm == VTDP_RTADDR_TTM_LEGACY)
		return ref_legacy(h, r, out);
	if ((h->c.gsts & VTDP_GSTS_RTPS) && ttm == VTDP_RTADDR_TTM_SM)
		return ref_scalable(h, r, out);
	return VTDP_FR_SM_RTA_INVALID;
}

/* ---------------------------------------------------------------------- */
/* Invariants                                                             */

static bool reason_valid(int reason, bool legacy)
{
	switch (reason) {
#define FZ_REASON(code, name) case code:				\
		return legacy ? (code < 0x30 ||			\
				 code == VTDP_FR_SM_INTERRUPT_ADDR) :	\
				(code >= 0x30);
	VTDP_FAULT_REASONS(FZ_REASON)
#undef FZ_REASON
	}
	return false;
}

static void check_state(struct harness *h)
{
	const struct vtdp_core *c = &h->c;
	const struct vtdp_core_stats *s = &c->stats;
	uint32_t fsts = (uint32_t)vtdp_core_mmio_read(&h->c, VTDP_REG_FSTS, 4);
	unsigned int i, pending = 0;

	FZ_ASSERT(s->faults_recorded + s->faults_suppressed +
		  s->faults_dropped + s->sanitizer_reports == c->log_total);
	FZ_ASSERT(c->log_clear_base <= c->log_total);
	FZ_ASSERT(c->frcd_next < c->cfg.nfr);
	for (i = 0; i < VTDP_FRCD_MAX; i++) {
		if (i >= c->cfg.nfr)
			FZ_ASSERT(!c->frcd[i][0] && !c->frcd[i][1]);
		else if (c->frcd[i][1] & VTDP_FRCD_HI_F)
			pending++;
	}
	FZ_ASSERT(pending <= c->cfg.nfr);
	FZ_ASSERT(!!(fsts & VTDP_FSTS_PPF) == (pending > 0));
	if (pending)
		FZ_ASSERT(c->frcd[VTDP_FSTS_FRI(fsts)][1] & VTDP_FRCD_HI_F);
	FZ_ASSERT(vtdp_core_mmio_read(&h->c, VTDP_REG_EXT_FAULTS_RECORDED, 8) ==
		  s->faults_recorded);
}

static void do_translate(struct harness *h, const struct vtdp_request *r)
{
	bool legacy = (h->c.gsts & VTDP_GSTS_RTPS) &&
		      (h->c.rtaddr_active & VTDP_RTADDR_TTM_MASK) ==
		      VTDP_RTADDR_TTM_LEGACY;
	uint64_t log_before = h->c.log_total;
	uint64_t san_before = h->c.stats.sanitizer_reports, san;
	bool dirty_before = h->dirty;
	struct vtdp_translation t;
	struct ref_result ref;
	int ret, rs;

	/* the reference first: the core's walk may set A/D bits */
	memset(&ref, 0, sizeof(ref));
	rs = ref_translate(h, r, &ref);
	h->reads = 0;
	h->writes = 0;
	h->in_translate = true;
	ret = vtdp_core_translate(&h->c, r, &t);
	h->in_translate = false;
	if (trace)
		fprintf(stderr, "xlate sid 0x%04x pasid %d:0x%x addr 0x%llx "
			"%c -> 0x%x paddr 0x%llx mask 0x%llx | ref %d%s\n",
			r->sid, r->pasid_valid, r->pasid,
			(unsigned long long)r->addr, r->write ? 'w' : 'r',
			ret, (unsigned long long)t.paddr,
			(unsigned long long)t.page_mask, rs,
			h->dirty ? " (dirty: not compared)" : "");
	/* root, context, PASID dir, PASID entry, 5 paging levels; the
	 * sanitizer re-reads each cached one */
	FZ_ASSERT(h->reads <= (h->c.cfg.sanitize ? 18 : 9));
	FZ_ASSERT(h->writes <= 5);
	/* stale cache entries exist only after the tables changed */
	san = h->c.stats.sanitizer_reports - san_before;
	FZ_ASSERT(san <= 3 && (!san || h->c.cfg.sanitize));
	FZ_ASSERT(!san || dirty_before);
	if (ret) {
		struct vtdp_fault_record f;

		FZ_ASSERT(reason_valid(ret, legacy));
		FZ_ASSERT(h->c.log_total == log_before + san + 1);
		FZ_ASSERT(vtdp_core_fault_log(&h->c, &f, 1) == 1);
		FZ_ASSERT(f.index == log_before + san && f.reason == ret &&
			  f.sid == r->sid && f.addr == r->addr &&
			  f.write == r->write && f.pasid_valid == r->pasid_valid);
		FZ_ASSERT(!t.paddr && !t.page_mask && !t.read && !t.write);
	} else {
		FZ_ASSERT(h->c.log_total == log_before + san);
		FZ_ASSERT(t.page_mask == ~0xfffULL ||
			  t.page_mask == ~0x1fffffULL ||
			  t.page_mask == ~0x3fffffffULL);
		FZ_ASSERT((t.paddr & ~t.page_mask) ==
			  (r->addr & ~t.page_mask));
		FZ_ASSERT(r->write ? t.write : t.read);
	}
	if (h->dirty || rs == REF_UNCOVERED)
		return;
	/* same fault reason, or the same translation */
	if (ret == rs && (ret || (t.paddr == ref.paddr &&
				  t.page_mask == ~(ref.size - 1) &&
				  t.read == ref.r && t.write == ref.w)))
		return;
	fprintf(stderr, "fuzz-vtdp-core: sid 0x%x pasid %d:0x%x addr 0x%llx "
		"%s%s%s: core 0x%x paddr 0x%llx mask 0x%llx r%d w%d, "
		"reference 0x%x paddr 0x%llx size 0x%llx r%d w%d\n",
		r->sid, r->pasid_valid, r->pasid, (unsigned long long)r->addr,
		r->write ? "write" : "read", r->priv ? " priv" : "",
		legacy ? " legacy" : "", ret, (unsigned long long)t.paddr,
		(unsigned long long)t.page_mask, t.read, t.write, rs,
		(unsigned long long)ref.paddr, (unsigned long long)ref.size,
		ref.r, ref.w);
	abort();
}

/* ---------------------------------------------------------------------- */
/* Operations                                                             */

static const uint16_t fz_regs[] = {
	VTDP_REG_GCMD, VTDP_REG_RTADDR, VTDP_REG_RTADDR + 4, VTDP_REG_CCMD,
	VTDP_REG_CCMD + 4, VTDP_REG_FSTS, VTDP_REG_FECTL, VTDP_REG_IQH,
	VTDP_REG_IQT, VTDP_REG_IQA, VTDP_REG_IQA + 4, VTDP_REG_ICS,
	VTDP_REG_IECTL, VTDP_REG_IVA, VTDP_REG_IOTLB, VTDP_REG_IOTLB + 4,
	VTDP_REG_FRCD_BASE + 8, VTDP_REG_FRCD_BASE + 12,
	VTDP_REG_FRCD_BASE + VTDP_FRCD_SIZE + 12, VTDP_REG_IQERCD,
	VTDP_REG_EXT_FAULTS_RECORDED,
};
#define FZ_NREGS (sizeof(fz_regs) / sizeof(fz_regs[0]))

static void mmio_write(struct harness *h, uint64_t off, uint64_t val,
		       unsigned int size)
{
	uint64_t slots = (1ULL << VTDP_IQA_QS(h->c.iqa)) * (VTDP_PAGE_SIZE / 16);

	h->reads = 0;
	vtdp_core_mmio_write(&h->c, off, val, size);
	/* an IQT write reads each queue slot at most once, and drains the
	 * queue unless it reports an invalidation queue error */
	FZ_ASSERT(h->reads <= slots);
	if ((size == 4 || size == 8) && off == VTDP_REG_IQT &&
	    (h->c.gsts & VTDP_GSTS_QIES) && !(h->c.fsts & VTDP_FSTS_IQE))
		FZ_ASSERT(h->c.iqh == h->c.iqt);
	if ((size == 4 || size == 8) && off == VTDP_REG_GCMD &&
	    (val & VTDP_GCMD_SRTP))
		caches_dropped(h);	/* SRTP drops every cache */
}

static void op_mmio_write(struct harness *h, struct input *in)
{
	unsigned int sel = get(in, 1), sz = get(in, 1), mode;
	uint64_t off, val;
	unsigned int size;

	off = sel < FZ_NREGS ? fz_regs[sel] : get(in, 2) % 0x1010;
	size = (sz & 3) == 1 ? 8 : (sz & 3) == 2 ? (sz >> 2) & 15 : 4;
	mode = get(in, 1);
	if (mode & 1) {
		val = page_addr(get(in, 1)) | (get(in, 2) & 0xfff);
		val |= (uint64_t)(mode >> 1) << 56;
	} else {
		val = get(in, 8);
	}
	mmio_write(h, off, val, size);
}

/* Status bits of GCMD to keep when issuing a one-shot command. */
static uint32_t gcmd_keep(struct harness *h)
{
	return h->c.gsts & (VTDP_GSTS_TES | VTDP_GSTS_QIES);
}

static void qi_push(struct harness *h, uint64_t lo, uint64_t hi)
{
	bool dw = h->c.iqa & VTDP_IQA_DW;
	uint64_t slots = (1ULL << VTDP_IQA_QS(h->c.iqa)) * (VTDP_PAGE_SIZE / 16);
	uint64_t tail = (h->c.iqt & VTDP_IQ_INDEX_MASK) >> VTDP_IQ_INDEX_SHIFT;
	uint64_t base = h->c.iqa & VTDP_IQA_ADDR_MASK;

	if (tail >= slots)
		tail = 0;
	/* the queue may overlap tables: the guest's own doing */
	mem_changed(h, base + tail * 16, dw ? 32 : 16);
	tb_write64(&h->m, base + tail * 16, lo);
	tb_write64(&h->m, base + tail * 16 + 8, hi);
	if (dw) {
		tb_write64(&h->m, base + tail * 16 + 16, 0);
		tb_write64(&h->m, base + tail * 16 + 24, 0);
	}
	tail = (tail + (dw ? 2 : 1)) % slots;
	mmio_write(h, VTDP_REG_IQT, tail << VTDP_IQ_INDEX_SHIFT, 8);
}

static void op_qi_desc(struct harness *h, struct input *in)
{
	unsigned int kind = get(in, 1);
	uint64_t did = get(in, 2), x = get(in, 4);
	uint64_t addr = page_addr(get(in, 1));
	unsigned int am = get(in, 1) % 20;
	uint64_t g = FZ_QK_G(kind), lo, hi = 0;

	lo = FZ_QK_TYPE(kind);
	switch (FZ_QK_TYPE(kind)) {
	case VTDP_INV_TYPE_CC:
		lo |= (g ? g : 1) << 4 | did << 16 | (x & 0x3ffff) << 32;
		break;
	case VTDP_INV_TYPE_IOTLB:
		lo |= (g ? g : 1) << 4 | did << 16 |
		      ((kind & 0x80) ? VTDP_INV_IOTLB_DR | VTDP_INV_IOTLB_DW : 0);
		/* page-selective: an IO address, not a memory address */
		hi = ((x << 12) & ~0xfffULL) | am;
		break;
	case VTDP_INV_TYPE_PIOTLB:
		lo |= (g < 2 ? 2 : g) << 4 | did << 16 |
		      (x & 0xfffff) << VTDP_INV_PIOTLB_PASID_SHIFT;
		hi = ((x << 12) & ~0xfffULL) | am;
		break;
	case VTDP_INV_TYPE_PC:
		lo |= (g == 2 ? 3 : g) << 4 | did << 16 |
		      (x & 0xfffff) << VTDP_INV_PC_PASID_SHIFT;
		break;
	case VTDP_INV_TYPE_WAIT:
		lo |= (kind & 0x40 ? VTDP_INV_WAIT_SW : 0) |
		      (kind & 0x80 ? VTDP_INV_WAIT_IF : 0) |
		      (x & 0xffffffffULL) << VTDP_INV_WAIT_SDATA_SHIFT;
		hi = addr + (am & ~3U);
		break;
	default:
		lo |= did << 16;
		break;
	}
	qi_push(h, lo, hi);
}

static void op_xlate(struct harness *h, struct input *in)
{
	struct vtdp_request r;
	unsigned int f;

	memset(&r, 0, sizeof(r));
	r.sid = get(in, 2);
	f = get(in, 1);
	r.pasid = get(in, 3) & 0xfffff;
	r.addr = get(in, 8);
	r.pasid_valid = f & FZ_X_PV;
	r.write = f & FZ_X_WRITE;
	r.priv = f & FZ_X_PRIV;
	r.exec = f & FZ_X_EXEC;
	do_translate(h, &r);
}

static void op_clear(struct harness *h)
{
	unsigned int i;

	for (i = 0; i < h->c.cfg.nfr; i++)
		mmio_write(h, VTDP_REG_FRCD_BASE + i * VTDP_FRCD_SIZE + 12,
			   VTDP_FRCD_HI_F >> 32, 4);
	mmio_write(h, VTDP_REG_FSTS, VTDP_FSTS_RW1C, 4);
	mmio_write(h, VTDP_REG_ICS, VTDP_ICS_IWC, 4);
}

static void run_op(struct harness *h, struct input *in)
{
	uint64_t page, idx, v;

	switch (get(in, 1) % FZ_OP_COUNT) {
	case FZ_MEM_RAW:
		page = page_addr(get(in, 1));
		idx = get(in, 2) % VTDP_LEVEL_ENTRIES;
		mem_changed(h, page + idx * 8, 8);
		tb_write64(&h->m, page + idx * 8, get(in, 8));
		break;
	case FZ_MEM_PTR:
		page = page_addr(get(in, 1));
		idx = get(in, 2) % VTDP_LEVEL_ENTRIES;
		v = page_addr(get(in, 1));
		mem_changed(h, page + idx * 8, 8);
		tb_write64(&h->m, page + idx * 8, v | (get(in, 2) & 0xfff));
		break;
	case FZ_MMIO_WRITE:
		op_mmio_write(h, in);
		break;
	case FZ_MMIO_READ:
		idx = get(in, 2) % 0x1010;
		v = get(in, 1);
		(void)vtdp_core_mmio_read(&h->c, idx, (v & 1) ? 8 : v ? v : 4);
		break;
	case FZ_SET_ROOT:
		page = page_addr(get(in, 1));
		v = get(in, 1) & 3;
		mmio_write(h, VTDP_REG_RTADDR,
			   page | (v << VTDP_RTADDR_TTM_SHIFT), 8);
		mmio_write(h, VTDP_REG_GCMD, VTDP_GCMD_SRTP | VTDP_GCMD_TE |
			   (h->c.gsts & VTDP_GSTS_QIES), 4);
		break;
	case FZ_SET_IQ:
		page = page_addr(get(in, 1));
		v = get(in, 1);
		mmio_write(h, VTDP_REG_IQA, page | (v & 1 ? VTDP_IQA_DW : 0) |
			   ((v >> 1) & 1), 8);
		mmio_write(h, VTDP_REG_GCMD, gcmd_keep(h) | VTDP_GCMD_QIE, 4);
		break;
	case FZ_QI_RAW:
		v = get(in, 8);
		qi_push(h, v, get(in, 8));
		break;
	case FZ_QI_DESC:
		op_qi_desc(h, in);
		break;
	case FZ_XLATE:
		op_xlate(h, in);
		break;
	case FZ_CLEAR:
		op_clear(h);
		break;
	case FZ_SYNC:
		mmio_write(h, VTDP_REG_GCMD, gcmd_keep(h) | VTDP_GCMD_SRTP, 4);
		break;
	case FZ_MISC:
		switch (get(in, 1) % 3) {
		case FZ_MISC_RESET:
			vtdp_core_reset(&h->c);
			caches_dropped(h);
			break;
		case FZ_MISC_LOG_CLEAR:
			vtdp_core_fault_log_clear(&h->c);
			break;
		case FZ_MISC_POST_LOAD:
			vtdp_core_post_load(&h->c);
			caches_dropped(h);
			break;
		}
		break;
	}
	check_state(h);
}

static void config_from(struct input *in, struct vtdp_core_config *cfg)
{
	static const uint8_t pasid_bits[4] = { 20, 8, 0, 5 };
	static const uint32_t iotlb[4] = { 64, 0, 1, 16 };
	static const uint32_t pasid_cache[4] = { 256, 0, 1, 4 };
	unsigned int h0 = get(in, 1), h1 = get(in, 1), h2 = get(in, 1);

	cfg->aw_bits = (h0 & 1) ? 57 : 48;
	cfg->pasid_bits = pasid_bits[(h0 >> 1) & 3];
	cfg->first_stage = !(h0 & 8);
	cfg->second_stage = !(h0 & 16) || !cfg->first_stage;
	cfg->pass_through = !(h0 & 32);
	cfg->nfr = (h1 & 7) + 1;
	cfg->fault_log_size = (h1 >> 3) + 1;
	cfg->iotlb_size = iotlb[h2 & 3];
	cfg->sanitize = h2 & 4;
	cfg->pasid_cache_size = pasid_cache[(h2 >> 3) & 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct input in = { data, size };
	struct vtdp_core_config cfg;
	unsigned int ops = 0;
	char err[128];

	static uint8_t *mem;

	/* one guest memory for all inputs: a fresh calloc of it per input
	 * costs more in page faults than the whole run */
	if (!mem && !(mem = malloc(FZ_MEM_SIZE)))
		abort();
	memset(mem, 0, FZ_MEM_SIZE);
	memset(&h, 0, sizeof(h));
	trace = getenv("VTDP_FUZZ_TRACE") != NULL;
	config_from(&in, &cfg);
	h.m.buf = mem;
	h.m.base = TB_MEM_BASE;
	h.m.size = FZ_MEM_SIZE;
	h.ops.dma_read = h_dma_read;
	h.ops.dma_write = h_dma_write;
	h.ops.raise_irq = h_raise_irq;
	h.ops.clock_ns = h_clock;
	FZ_ASSERT(vtdp_core_init(&h.c, &cfg, &h.ops, &h.m, err,
				 sizeof(err)) == 0);
	/*
	 * Each step is bounded (checked above), but 2048 IQT writes that each
	 * walk a 32768-slot queue would make one input take seconds: stop an
	 * input after FZ_MAX_READS guest reads so that libFuzzer's timeout
	 * only ever catches a real hang.
	 */
	while (in.n && ops++ < FZ_MAX_OPS && h.total_reads < FZ_MAX_READS)
		run_op(&h, &in);
	vtdp_core_destroy(&h.c);
	return 0;
}
