// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Seed corpus generator for fuzz-vtdp-core: builds real tables with the
 * table builders and writes them, with register setup and requests, in the
 * fuzzer's input format (fuzz-input.h), one file per seed.  The seeds make
 * the fuzzer start from inputs whose walks reach the leaves.
 *
 * usage: gen-fuzz-seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table-builder.h"
#include "fuzz-input.h"

#define SID	0x0108
#define SID2	0x0110
#define DID	5

struct seed {
	uint8_t buf[65536];
	size_t n;
	struct tb_mem m;
};

static void put(struct seed *s, uint64_t v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (s->n >= sizeof(s->buf))
			abort();
		s->buf[s->n++] = (uint8_t)(v >> (8 * i));
	}
}

static void seed_begin(struct seed *s, uint8_t h0, uint8_t h1, uint8_t h2)
{
	s->n = 0;
	if (tb_mem_init(&s->m, (uint64_t)FZ_MEM_PAGES * VTDP_PAGE_SIZE))
		abort();
	put(s, h0, 1);
	put(s, h1, 1);
	put(s, h2, 1);
}

static unsigned int page_no(uint64_t gpa)
{
	return (unsigned int)((gpa - TB_MEM_BASE) / VTDP_PAGE_SIZE);
}

/* Emit every non-zero qword of the built memory as a MEM_RAW op. */
static void emit_memory(struct seed *s)
{
	uint64_t off;

	for (off = 0; off < s->m.next; off += 8) {
		uint64_t v = tb_read64(&s->m, TB_MEM_BASE + off);

		if (!v)
			continue;
		put(s, FZ_MEM_RAW, 1);
		put(s, off / VTDP_PAGE_SIZE, 1);
		put(s, (off % VTDP_PAGE_SIZE) / 8, 2);
		put(s, v, 8);
	}
}

static void set_root(struct seed *s, uint64_t root, unsigned int ttm)
{
	put(s, FZ_SET_ROOT, 1);
	put(s, page_no(root), 1);
	put(s, ttm, 1);
}

static void xlate(struct seed *s, uint16_t sid, unsigned int flags,
		  uint32_t pasid, uint64_t addr)
{
	put(s, FZ_XLATE, 1);
	put(s, sid, 2);
	put(s, flags, 1);
	put(s, pasid, 3);
	put(s, addr, 8);
}

static void set_iq(struct seed *s, uint64_t page, unsigned int qsdw)
{
	put(s, FZ_SET_IQ, 1);
	put(s, page_no(page), 1);
	put(s, qsdw, 1);
}

static void qi(struct seed *s, unsigned int kind, uint16_t did, uint32_t x,
	       unsigned int page, unsigned int am)
{
	put(s, FZ_QI_DESC, 1);
	put(s, kind, 1);
	put(s, did, 2);
	put(s, x, 4);
	put(s, page, 1);
	put(s, am, 1);
}

static void op(struct seed *s, unsigned int o)
{
	put(s, o, 1);
}

static void seed_end(struct seed *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->n, f) != s->n || fclose(f)) {
		perror(path);
		exit(1);
	}
	tb_mem_free(&s->m);
	printf("%s: %zu bytes\n", path, s->n);
}

/* Root table, a one-page PASID directory (PDTS 0: PASIDs 0..8191) and a
 * scalable-mode context entry for @sid. */
static uint64_t sm_base(struct seed *s, uint16_t sid, uint64_t *pdir,
			uint64_t ctx_flags)
{
	uint64_t root = tb_root_table(&s->m);

	*pdir = tb_alloc_page(&s->m);
	tb_set_context(&s->m, root, sid, VTDP_CTX_P | VTDP_CTX_PASIDE |
		       ctx_flags | *pdir, 0);
	return root;
}

/* Second stage, 4 levels: 4K, read-only 4K, 2M and 1G leaves. */
static void seed_ss4(struct seed *s, const char *dir)
{
	uint64_t pdir, root, pt, data;
	struct vtdp_pasid_entry pe;

	seed_begin(s, 0, 7 | (15 << 3), 0);
	root = sm_base(s, SID, &pdir, 0);
	pt = tb_pt_new(&s->m);
	pe = tb_pe_ss(DID, pt, 4);
	tb_set_pasid_entry(&s->m, pdir, 0, &pe);
	pe = tb_pe_pt(DID + 1);
	tb_set_pasid_entry(&s->m, pdir, 5, &pe);
	data = tb_alloc_page(&s->m);
	tb_map(&s->m, pt, 4, 0x1000, data, 1, VTDP_SS_R | VTDP_SS_W,
	       TB_SS_DIR, false);
	tb_map(&s->m, pt, 4, 0x2000, data, 1, VTDP_SS_R, TB_SS_DIR, false);
	tb_map(&s->m, pt, 4, 0x40000000, 0x200000, 2, VTDP_SS_R | VTDP_SS_W,
	       TB_SS_DIR, false);
	tb_map(&s->m, pt, 4, 0x8000000000ULL, 0x40000000, 3,
	       VTDP_SS_R | VTDP_SS_W, TB_SS_DIR, false);
	emit_memory(s);
	set_root(s, root, 1);
	xlate(s, SID, 0, 0, 0x1234);
	xlate(s, SID, FZ_X_WRITE, 0, 0x1234);
	xlate(s, SID, 0, 0, 0x2010);
	xlate(s, SID, FZ_X_WRITE, 0, 0x2010);		/* read-only */
	xlate(s, SID, 0, 0, 0x40012345);
	xlate(s, SID, FZ_X_WRITE, 0, 0x8000123456ULL);
	xlate(s, SID, 0, 0, 0x3000);			/* not present */
	xlate(s, SID, 0, 0, 1ULL << 50);		/* beyond AW */
	xlate(s, SID, FZ_X_PV, 5, 0x12345678);		/* pass-through */
	xlate(s, SID, FZ_X_PV | FZ_X_PRIV, 5, 0x1000);	/* SRE clear */
	xlate(s, SID2, 0, 0, 0x1000);			/* no context */
	xlate(s, SID, 0, 0, 0x1234);			/* IOTLB hit */
	xlate(s, SID, 0, 0, 0xfee00000);		/* interrupt range */
	seed_end(s, dir, "ss4-4k-2m-1g");
}

/* Second stage 3 and 5 levels (57-bit), privileged requests with SRE. */
static void seed_ss35(struct seed *s, const char *dir)
{
	uint64_t pdir, root, pt3, pt5, data;
	struct vtdp_pasid_entry pe;

	seed_begin(s, 1, 7 | (31 << 3), 3);
	root = sm_base(s, SID, &pdir, 0);
	pt3 = tb_pt_new(&s->m);
	pt5 = tb_pt_new(&s->m);
	pe = tb_pe_ss(DID, pt3, 3);
	pe.val[2] = VTDP_PE2_SRE;
	tb_set_pasid_entry(&s->m, pdir, 1, &pe);
	pe = tb_pe_ss(DID + 1, pt5, 5);
	tb_set_pasid_entry(&s->m, pdir, 2, &pe);
	data = tb_alloc_page(&s->m);
	tb_map(&s->m, pt3, 3, 0x7f00001000ULL, data, 1, VTDP_SS_R | VTDP_SS_W,
	       TB_SS_DIR, false);
	tb_map(&s->m, pt5, 5, 0x100000000000000ULL, data, 1, VTDP_SS_R,
	       TB_SS_DIR, false);
	tb_map(&s->m, pt5, 5, 0x40000000, 0x40000000, 3, VTDP_SS_W,
	       TB_SS_DIR, false);
	emit_memory(s);
	set_root(s, root, 1);
	xlate(s, SID, FZ_X_PV | FZ_X_PRIV | FZ_X_WRITE, 1, 0x7f00001abcULL);
	xlate(s, SID, FZ_X_PV, 1, 0x8000001000ULL);	/* beyond 39 bits */
	xlate(s, SID, FZ_X_PV, 2, 0x100000000000123ULL);
	xlate(s, SID, FZ_X_PV | FZ_X_WRITE, 2, 0x100000000000123ULL);
	xlate(s, SID, FZ_X_PV | FZ_X_WRITE, 2, 0x40001000);
	xlate(s, SID, FZ_X_PV, 2, 0x40001000);		/* write-only */
	seed_end(s, dir, "ss-3-and-5-level");
}

/* First stage 4 levels with U/S, R/W, A/D; untagged via RID_PASID 3. */
static void seed_fs(struct seed *s, const char *dir)
{
	uint64_t pdir, root, fpt, data;
	struct vtdp_pasid_entry pe;

	seed_begin(s, 0, 3, 0);
	root = tb_root_table(&s->m);
	pdir = tb_alloc_page(&s->m);
	tb_set_context(&s->m, root, SID, VTDP_CTX_P | VTDP_CTX_PASIDE | pdir,
		       3);
	fpt = tb_pt_new(&s->m);
	pe = tb_pe_fs(DID, fpt, 4, true);
	pe.val[2] |= VTDP_PE2_NXE;
	tb_set_pasid_entry(&s->m, pdir, 3, &pe);
	data = tb_alloc_page(&s->m);
	tb_map(&s->m, fpt, 4, 0x1000, data, 1,
	       VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US, TB_FS_DIR, true);
	tb_map(&s->m, fpt, 4, 0x200000, 0x400000, 2,
	       VTDP_FS_P | VTDP_FS_XD, TB_FS_DIR, true);
	tb_map(&s->m, fpt, 4, 0xffff800000000000ULL, 0x40000000, 3,
	       VTDP_FS_P | VTDP_FS_RW, TB_FS_DIR, true);
	emit_memory(s);
	set_root(s, root, 1);
	xlate(s, SID, 0, 0, 0x1008);
	xlate(s, SID, FZ_X_WRITE, 0, 0x1008);
	xlate(s, SID, FZ_X_EXEC, 0, 0x200010);
	xlate(s, SID, FZ_X_PV | FZ_X_PRIV, 3, 0x200010);
	xlate(s, SID, FZ_X_PV | FZ_X_PRIV | FZ_X_WRITE, 3,
	      0xffff800000001000ULL);
	xlate(s, SID, FZ_X_PV, 3, 0xffff800000001000ULL);	/* user */
	xlate(s, SID, 0, 0, 0x0000800000000000ULL);	/* non-canonical */
	seed_end(s, dir, "fs4-ad");
}

/* Legacy mode: second stage for SID, pass-through for SID2. */
static void seed_legacy(struct seed *s, const char *dir)
{
	uint64_t root, ctx, pt, data;

	seed_begin(s, 0, 7, 0);
	root = tb_root_table(&s->m);
	ctx = tb_alloc_page(&s->m);
	pt = tb_pt_new(&s->m);
	data = tb_alloc_page(&s->m);
	tb_write64(&s->m, root + (SID >> 8) * 16, ctx | VTDP_ROOT_P);
	tb_write64(&s->m, ctx + (SID & 0xff) * 16, pt | VTDP_CTX_P);
	tb_write64(&s->m, ctx + (SID & 0xff) * 16 + 8,
		   VTDP_PE_AW_48 | (uint64_t)DID << VTDP_LCTX1_DID_SHIFT);
	tb_write64(&s->m, ctx + (SID2 & 0xff) * 16, VTDP_CTX_P |
		   ((uint64_t)VTDP_LCTX_TT_PT << 2));
	tb_write64(&s->m, ctx + (SID2 & 0xff) * 16 + 8,
		   VTDP_PE_AW_48 | (uint64_t)(DID + 1) << VTDP_LCTX1_DID_SHIFT);
	tb_map(&s->m, pt, 4, 0x5000, data, 1, VTDP_SS_R, TB_SS_DIR, false);
	tb_map(&s->m, pt, 4, 0x600000, 0xa00000, 2, VTDP_SS_R | VTDP_SS_W,
	       TB_SS_DIR, false);
	emit_memory(s);
	set_root(s, root, 0);
	xlate(s, SID, 0, 0, 0x5123);
	xlate(s, SID, FZ_X_WRITE, 0, 0x5123);
	xlate(s, SID, FZ_X_WRITE, 0, 0x612345);
	xlate(s, SID2, FZ_X_WRITE, 0, 0x123456789ULL);
	xlate(s, SID, FZ_X_PV, 1, 0x5000);
	xlate(s, SID, 0, 0, 0x7000);
	seed_end(s, dir, "legacy-ss-pt");
}

/* Queued invalidation: every descriptor type, then a changed mapping. */
static void seed_qi(struct seed *s, const char *dir)
{
	uint64_t pdir, root, pt, data, iq, st, leaf;
	struct vtdp_pasid_entry pe;

	seed_begin(s, 0, 7 | (7 << 3), 2);
	root = sm_base(s, SID, &pdir, 0);
	pt = tb_pt_new(&s->m);
	pe = tb_pe_ss(DID, pt, 4);
	tb_set_pasid_entry(&s->m, pdir, 0, &pe);
	data = tb_alloc_page(&s->m);
	leaf = tb_map(&s->m, pt, 4, 0x1000, data, 1, VTDP_SS_R | VTDP_SS_W,
		      TB_SS_DIR, false);
	iq = tb_alloc_page(&s->m);
	st = tb_alloc_page(&s->m);
	emit_memory(s);
	set_root(s, root, 1);
	set_iq(s, iq, 0);
	xlate(s, SID, 0, 0, 0x1010);
	/* wait with status write and interrupt */
	qi(s, (VTDP_INV_TYPE_WAIT - 1) | 0x40 | 0x80, 0, 0x1234, page_no(st), 0);
	qi(s, (VTDP_INV_TYPE_CC - 1) | (3 << 4), 0, SID, 0, 0);
	qi(s, (VTDP_INV_TYPE_PC - 1) | (1 << 4), DID, 0, 0, 0);
	qi(s, (VTDP_INV_TYPE_IOTLB - 1) | (3 << 4), DID, 1, 0, 0);
	qi(s, (VTDP_INV_TYPE_PIOTLB - 1) | (3 << 4), DID, 0, 0, 2);
	qi(s, (VTDP_INV_TYPE_DEVTLB - 1), DID, 0, 0, 0);
	qi(s, (VTDP_INV_TYPE_IEC - 1), 0, 0, 0, 0);
	/* remap the page read-only, invalidate, translate again */
	put(s, FZ_MEM_RAW, 1);
	put(s, page_no(leaf), 1);
	put(s, (leaf % VTDP_PAGE_SIZE) / 8, 2);
	put(s, (data + VTDP_PAGE_SIZE) | VTDP_SS_R, 8);
	qi(s, (VTDP_INV_TYPE_IOTLB - 1) | (1 << 4), 0, 0, 0, 0);
	op(s, FZ_SYNC);
	xlate(s, SID, FZ_X_WRITE, 0, 0x1010);
	xlate(s, SID, 0, 0, 0x1010);
	/* a 256-bit queue and a bad descriptor, then recovery */
	set_iq(s, iq, 1);
	put(s, FZ_QI_RAW, 1);
	put(s, 0xf, 8);
	put(s, 0, 8);
	op(s, FZ_CLEAR);
	seed_end(s, dir, "qi-all-types");
}

/* Hostile: a page table whose entries all point at itself, a root table
 * entry pointing outside memory, one fault recording register. */
static void seed_hostile(struct seed *s, const char *dir)
{
	uint64_t pdir, root, pt;
	struct vtdp_pasid_entry pe;
	unsigned int i;

	seed_begin(s, 0, 0, 1);
	root = sm_base(s, SID, &pdir, VTDP_CTX_FPD);
	pt = tb_pt_new(&s->m);
	pe = tb_pe_ss(DID, pt, 4);
	tb_set_pasid_entry(&s->m, pdir, 0, &pe);
	for (i = 0; i < 8; i++)
		tb_write64(&s->m, pt + i * 8, pt | VTDP_SS_R | VTDP_SS_W);
	tb_write64(&s->m, root + 0x20 * 16, 0xfffff000ULL | VTDP_ROOT_P);
	emit_memory(s);
	set_root(s, root, 1);
	for (i = 0; i < 4; i++)
		xlate(s, SID, 0, 0, 0);
	xlate(s, 0x2000, 0, 0, 0x1000);
	xlate(s, 0x2000, 0, 0, 0x2000);
	xlate(s, 0x2000, 0, 0, 0x3000);		/* overflow: dropped */
	op(s, FZ_CLEAR);
	xlate(s, 0x2000, 0, 0, 0x4000);
	put(s, FZ_MISC, 1);
	put(s, FZ_MISC_LOG_CLEAR, 1);
	put(s, FZ_MISC, 1);
	put(s, FZ_MISC_POST_LOAD, 1);
	xlate(s, SID, 0, 0, 0);
	seed_end(s, dir, "hostile-loop-overflow");
}

int main(int argc, char **argv)
{
	static struct seed s;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_ss4(&s, argv[1]);
	seed_ss35(&s, argv[1]);
	seed_fs(&s, argv[1]);
	seed_legacy(&s, argv[1]);
	seed_qi(&s, argv[1]);
	seed_hostile(&s, argv[1]);
	return 0;
}
