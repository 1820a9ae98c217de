// SPDX-License-Identifier: GPL-2.0-or-later
/* Fake guest memory and VT-d table builders; see table-builder.h. */
#include <stdlib.h>
#include <string.h>

#include "table-builder.h"

int tb_mem_init(struct tb_mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->buf = calloc(1, size);
	if (!m->buf)
		return -1;
	m->base = TB_MEM_BASE;
	m->size = size;
	return 0;
}

void tb_mem_free(struct tb_mem *m)
{
	free(m->buf);
	m->buf = NULL;
}

uint64_t tb_alloc_pages(struct tb_mem *m, unsigned int pages)
{
	uint64_t len = (uint64_t)pages * VTDP_PAGE_SIZE, off = m->next;

	if (!pages || len > m->size - off)
		return 0;
	m->next += len;
	memset(m->buf + off, 0, len);
	return m->base + off;
}

uint64_t tb_alloc_page(struct tb_mem *m)
{
	return tb_alloc_pages(m, 1);
}

void *tb_ptr(struct tb_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa < m->base || gpa - m->base > m->size ||
	    len > m->size - (gpa - m->base))
		return NULL;
	return m->buf + (gpa - m->base);
}

uint64_t tb_read64(struct tb_mem *m, uint64_t gpa)
{
	uint64_t v = 0;
	void *p = tb_ptr(m, gpa, 8);

	if (p)
		memcpy(&v, p, 8);
	return v;
}

uint32_t tb_read32(struct tb_mem *m, uint64_t gpa)
{
	uint32_t v = 0;
	void *p = tb_ptr(m, gpa, 4);

	if (p)
		memcpy(&v, p, 4);
	return v;
}

void tb_write64(struct tb_mem *m, uint64_t gpa, uint64_t val)
{
	void *p = tb_ptr(m, gpa, 8);

	if (p)
		memcpy(p, &val, 8);
}

int tb_dma_read(void *opaque, uint64_t addr, void *buf, uint32_t len)
{
	struct tb_mem *m = opaque;
	void *p = tb_ptr(m, addr, len);

	m->reads++;
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

int tb_dma_write(void *opaque, uint64_t addr, const void *buf, uint32_t len)
{
	struct tb_mem *m = opaque;
	void *p = tb_ptr(m, addr, len);

	m->writes++;
	if (!p || m->fail_writes)
		return -1;
	memcpy(p, buf, len);
	return 0;
}

uint64_t tb_root_table(struct tb_mem *m)
{
	return tb_alloc_page(m);
}

uint64_t tb_set_context(struct tb_mem *m, uint64_t root, uint16_t sid,
			uint64_t lo, uint64_t hi)
{
	uint8_t devfn = sid & 0xff;
	uint64_t re_addr = root + (uint64_t)(sid >> 8) * 16 + (devfn >= 128 ? 8 : 0);
	uint64_t re = tb_read64(m, re_addr), ce;

	if (!(re & VTDP_ROOT_P)) {
		uint64_t t = tb_alloc_page(m);

		if (!t)
			return 0;
		re = t | VTDP_ROOT_P;
		tb_write64(m, re_addr, re);
	}
	ce = (re & VTDP_ADDR_MASK) + (uint64_t)(devfn & 0x7f) * 32;
	tb_write64(m, ce, lo);
	tb_write64(m, ce + 8, hi);
	tb_write64(m, ce + 16, 0);
	tb_write64(m, ce + 24, 0);
	return ce;
}

uint64_t tb_context_sm(struct tb_mem *m, uint64_t root, uint16_t sid,
		       uint64_t pasid_dir, uint32_t rid_pasid, bool fpd)
{
	uint64_t lo = VTDP_CTX_P | VTDP_CTX_PASIDE |
		      (7ULL << VTDP_CTX_PDTS_SHIFT) | (pasid_dir & VTDP_ADDR_MASK);

	if (fpd)
		lo |= VTDP_CTX_FPD;
	return tb_set_context(m, root, sid, lo, rid_pasid & 0xfffff);
}

uint64_t tb_pasid_dir(struct tb_mem *m)
{
	/* 2^14 8-byte entries */
	return tb_alloc_pages(m, 32);
}

uint64_t tb_set_pasid_entry(struct tb_mem *m, uint64_t pasid_dir,
			    uint32_t pasid, const struct vtdp_pasid_entry *pe)
{
	uint64_t de_addr = pasid_dir + VTDP_PASID_DIR_INDEX(pasid) * 8ULL;
	uint64_t de = tb_read64(m, de_addr), pa;
	void *p;

	if (!(de & VTDP_PDIR_P)) {
		uint64_t t = tb_alloc_page(m);

		if (!t)
			return 0;
		de = t | VTDP_PDIR_P;
		tb_write64(m, de_addr, de);
	}
	pa = (de & VTDP_ADDR_MASK) +
	     VTDP_PASID_TBL_INDEX(pasid) * sizeof(struct vtdp_pasid_entry);
	p = tb_ptr(m, pa, sizeof(*pe));
	if (!p)
		return 0;
	memcpy(p, pe, sizeof(*pe));
	return pa;
}

struct vtdp_pasid_entry tb_pe_ss(uint16_t did, uint64_t sspt,
				 unsigned int levels)
{
	struct vtdp_pasid_entry pe = { { 0 } };
	uint64_t aw = levels == 5 ? VTDP_PE_AW_57 :
		      levels == 3 ? VTDP_PE_AW_39 : VTDP_PE_AW_48;

	pe.val[0] = VTDP_PE0_P | (aw << VTDP_PE0_AW_SHIFT) |
		    ((uint64_t)VTDP_PGTT_SS << VTDP_PE0_PGTT_SHIFT) |
		    (sspt & VTDP_PE0_SSPTPTR_MASK);
	pe.val[1] = did;
	return pe;
}

struct vtdp_pasid_entry tb_pe_fs(uint16_t did, uint64_t flpt,
				 unsigned int levels, bool sre)
{
	struct vtdp_pasid_entry pe = { { 0 } };

	pe.val[0] = VTDP_PE0_P | ((uint64_t)VTDP_PGTT_FS << VTDP_PE0_PGTT_SHIFT);
	pe.val[1] = did;
	pe.val[2] = (flpt & VTDP_PE2_FLPTPTR_MASK) |
		    (levels == 5 ? VTDP_PE2_FLPM_5LVL : VTDP_PE2_FLPM_4LVL) |
		    (sre ? VTDP_PE2_SRE : 0);
	return pe;
}

struct vtdp_pasid_entry tb_pe_pt(uint16_t did)
{
	struct vtdp_pasid_entry pe = { { 0 } };

	pe.val[0] = VTDP_PE0_P | ((uint64_t)VTDP_PGTT_PT << VTDP_PE0_PGTT_SHIFT);
	pe.val[1] = did;
	return pe;
}

uint64_t tb_pt_new(struct tb_mem *m)
{
	return tb_alloc_page(m);
}

static bool entry_present(uint64_t e, bool fs)
{
	return fs ? (e & VTDP_FS_P) : (e & (VTDP_SS_R | VTDP_SS_W));
}

uint64_t tb_map(struct tb_mem *m, uint64_t root, unsigned int levels,
		uint64_t iova, uint64_t pa, unsigned int leaf_level,
		uint64_t leaf_flags, uint64_t dir_flags, bool first_stage)
{
	uint64_t table = root;
	unsigned int level;

	if (leaf_level < 1 || leaf_level > 3 || leaf_level > levels)
		return 0;
	for (level = levels; level > leaf_level; level--) {
		uint64_t ea = table + VTDP_LEVEL_INDEX(iova, level) * 8;
		uint64_t e = tb_read64(m, ea);

		if (!entry_present(e, first_stage)) {
			uint64_t t = tb_alloc_page(m);

			if (!t)
				return 0;
			e = t | dir_flags;
			tb_write64(m, ea, e);
		} else if (e & VTDP_SS_PS) {	/* same bit in both formats */
			return 0;
		}
		table = e & VTDP_ADDR_MASK;
	}
	table += VTDP_LEVEL_INDEX(iova, leaf_level) * 8;
	if (leaf_level > 1)
		leaf_flags |= VTDP_SS_PS;
	tb_write64(m, table, (pa & VTDP_ADDR_MASK &
			      ~((1ULL << VTDP_LEVEL_SHIFT(leaf_level)) - 1)) |
			     leaf_flags);
	return table;
}

uint64_t tb_entry_addr(struct tb_mem *m, uint64_t root, unsigned int levels,
		       uint64_t iova, unsigned int level, bool first_stage)
{
	uint64_t table = root;
	unsigned int l;

	for (l = levels; l >= 1; l--) {
		uint64_t ea = table + VTDP_LEVEL_INDEX(iova, l) * 8;
		uint64_t e;

		if (l == level)
			return ea;
		e = tb_read64(m, ea);
		if (!entry_present(e, first_stage) || (e & VTDP_SS_PS))
			return 0;
		table = e & VTDP_ADDR_MASK;
	}
	return 0;
}

struct vtdp_inv_desc tb_inv_wait(bool sw, bool intr, uint64_t saddr,
				 uint32_t sdata)
{
	struct vtdp_inv_desc d = { 0 };

	d.lo = VTDP_INV_TYPE_WAIT | (sw ? VTDP_INV_WAIT_SW : 0) |
	       (intr ? VTDP_INV_WAIT_IF : 0) |
	       ((uint64_t)sdata << VTDP_INV_WAIT_SDATA_SHIFT);
	d.hi = saddr & ~3ULL;
	return d;
}
