// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp.ko: the 4-level page tables of a domain, in either VT-d format
 * (second stage, or first stage for V3 TranslateS1 domains).
 *
 * One implementation for both users: V3 domains (vtdp-v3.c, serialised by
 * the domain's mutex, may sleep) and the Linux IOMMU core's paging domains
 * (vtdp-iommu-core.c, serialised by a spinlock, called in atomic context
 * with the gfp flags the core passes).  The caller serialises edits of one
 * table; these helpers take no lock of their own and allocate only with
 * the gfp they are given.
 */

#include <linux/gfp.h>
#include <linux/mm.h>

#include "vtdp.h"

/*
 * Bits 0 and 1 are "present" in both formats: SS R|W, FS P|RW.  Non-leaf
 * entries allow everything and let the leaf decide; first-stage ones also
 * allow user (non-privileged) requests, which is what devices issue.
 */
#define VTDP_SS_PRESENT	(VTDP_SS_R | VTDP_SS_W)
#define VTDP_FS_NONLEAF	(VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US)

/**
 * vtdp_pgt_init() - give @pt an empty level-4 table
 * @pt: the table, with @iommu, @s1 and @inv_range set by the caller
 * @gfp: allocation flags
 *
 * Return: 0 or -ENOMEM.
 */
int vtdp_pgt_init(struct vtdp_pgtable *pt, gfp_t gfp)
{
	pt->pgd = (u64 *)get_zeroed_page(gfp);
	if (!pt->pgd)
		return -ENOMEM;
	vtdp_live_add(table_pages, 1);
	vtdp_flush_table(pt->iommu, pt->pgd, PAGE_SIZE);
	return 0;
}

static bool vtdp_pgt_is_leaf(u64 e, int level)
{
	return (e & VTDP_SS_PRESENT) && (level == 1 || (e & VTDP_SS_PS));
}

/* The non-leaf entry that points at @tbl. */
static u64 vtdp_pgt_nonleaf(const struct vtdp_pgtable *pt, u64 *tbl)
{
	return virt_to_phys(tbl) | (pt->s1 ? VTDP_FS_NONLEAF : VTDP_SS_PRESENT);
}

/**
 * vtdp_pgt_pte_at() - the entry for @la at level @target (1: 4 KiB leaf)
 * @pt: the table
 * @la: input address
 * @target: level of the entry wanted
 * @gfp: allocation flags for missing tables above @target; 0: allocate none
 *
 * Return: the entry, or NULL when a table is missing (and @gfp is 0, or no
 * memory) or a large leaf above @target maps @la.
 */
u64 *vtdp_pgt_pte_at(struct vtdp_pgtable *pt, u64 la, int target, gfp_t gfp)
{
	u64 *tbl = pt->pgd;
	int level;

	for (level = VTDP_SS_LEVELS; level > target; level--) {
		u64 *e = &tbl[VTDP_LEVEL_INDEX(la, level)];
		u64 v = READ_ONCE(*e);

		if (vtdp_pgt_is_leaf(v, level))
			return NULL;
		if (!(v & VTDP_SS_PRESENT)) {
			u64 *next;

			if (!gfp)
				return NULL;
			next = (u64 *)get_zeroed_page(gfp);
			if (!next)
				return NULL;
			vtdp_live_add(table_pages, 1);
			vtdp_flush_table(pt->iommu, next, PAGE_SIZE);
			/* non-leaf: R/W set, the leaf decides */
			v = vtdp_pgt_nonleaf(pt, next);
			WRITE_ONCE(*e, v);
			vtdp_flush_table(pt->iommu, e, sizeof(*e));
		}
		tbl = phys_to_virt(v & VTDP_SS_ADDR_MASK);
	}
	return &tbl[VTDP_LEVEL_INDEX(la, target)];
}

/**
 * vtdp_pgt_leaf() - the leaf that maps @la, and its level
 * @pt: the table
 * @la: input address
 * @level: receives the leaf's level
 *
 * Return: the leaf entry, or NULL if @la is not mapped.
 */
u64 *vtdp_pgt_leaf(struct vtdp_pgtable *pt, u64 la, int *level)
{
	u64 *tbl = pt->pgd;
	int l;

	for (l = VTDP_SS_LEVELS; tbl; l--) {
		u64 *e = &tbl[VTDP_LEVEL_INDEX(la, l)];
		u64 v = READ_ONCE(*e);

		if (vtdp_pgt_is_leaf(v, l)) {
			*level = l;
			return e;
		}
		if (!(v & VTDP_SS_PRESENT) || l == 1)
			return NULL;
		tbl = phys_to_virt(v & VTDP_SS_ADDR_MASK);
	}
	return NULL;
}

/**
 * vtdp_pgt_large_ok() - may @pt map with a leaf at @level?
 * @pt: the table
 * @level: 2 (2 MiB) or 3 (1 GiB); 1 is always allowed
 *
 * Second stage: as CAP.SLLPS says; first stage: 2 MiB always, 1 GiB with
 * CAP.FL1GP (VT-d 3.6, 11.4.2).
 */
bool vtdp_pgt_large_ok(const struct vtdp_pgtable *pt, int level)
{
	u64 cap = pt->iommu->cap;

	if (level == 2)
		return pt->s1 || (cap & VTDP_CAP_SLLPS_2M);
	if (level == 3)
		return pt->s1 ? !!(cap & VTDP_CAP_FL1GP) :
				!!(cap & VTDP_CAP_SLLPS_1G);
	return level == 1;
}

/**
 * vtdp_pgt_leaf_bits() - permission bits of a leaf
 * @pt: the table
 * @read: requests may read
 * @write: requests may write
 *
 * First stage has no write-only pages: present means readable, so @write
 * alone also grants read.  A and D are set up front so that the walk has
 * nothing to write back.
 */
u64 vtdp_pgt_leaf_bits(const struct vtdp_pgtable *pt, bool read, bool write)
{
	u64 bits = 0;

	if (pt->s1)
		return VTDP_FS_P | VTDP_FS_US | VTDP_FS_A |
		       (write ? VTDP_FS_RW | VTDP_FS_D : 0);
	if (read)
		bits |= VTDP_SS_R;
	if (write)
		bits |= VTDP_SS_W;
	return bits;
}

static void vtdp_pgt_free_level(u64 *tbl, int level)
{
	unsigned int i;

	if (level > 1)
		for (i = 0; i < VTDP_LEVEL_ENTRIES; i++)
			if ((tbl[i] & VTDP_SS_PRESENT) && !(tbl[i] & VTDP_SS_PS))
				vtdp_pgt_free_level(phys_to_virt(tbl[i] & VTDP_SS_ADDR_MASK),
						    level - 1);
	free_page((unsigned long)tbl);
	vtdp_live_add(table_pages, -1);
}

/**
 * vtdp_pgt_destroy() - free every table of @pt
 * @pt: the table; no hardware may walk it any more
 */
void vtdp_pgt_destroy(struct vtdp_pgtable *pt)
{
	if (pt->pgd)
		vtdp_pgt_free_level(pt->pgd, VTDP_SS_LEVELS);
	pt->pgd = NULL;
}

/* Does the table @tbl at @level (and every table below it) map nothing? */
static bool vtdp_pgt_table_empty(u64 *tbl, int level)
{
	unsigned int i;

	for (i = 0; i < VTDP_LEVEL_ENTRIES; i++) {
		u64 v = READ_ONCE(tbl[i]);

		if (!(v & VTDP_SS_PRESENT))
			continue;
		if (vtdp_pgt_is_leaf(v, level) ||
		    !vtdp_pgt_table_empty(phys_to_virt(v & VTDP_SS_ADDR_MASK),
					  level - 1))
			return false;
	}
	return true;
}

/**
 * vtdp_pgt_set_large() - map [@la, +leaf size) with one leaf at @level
 * @pt: the table
 * @la: input address, aligned to the leaf size
 * @pa: output address, aligned to the leaf size
 * @level: 2 (2 MiB) or 3 (1 GiB); vtdp_pgt_large_ok() said yes
 * @bits: leaf permission bits (vtdp_pgt_leaf_bits())
 * @gfp: allocation flags for missing tables above @level
 *
 * The slot may hold a table left by earlier, smaller mappings (unmap never
 * frees tables) if nothing in it is mapped any more: the leaf replaces it,
 * the range is invalidated (without the hint: the unit may cache the
 * pointer to that table), and only then is the table freed.  Context: as
 * @gfp allows; the invalidation and the free never sleep.
 *
 * Return: 0, -ENOMEM (a table above could not be allocated) or -EBUSY
 * (part of the range is mapped).
 */
int vtdp_pgt_set_large(struct vtdp_pgtable *pt, u64 la, u64 pa, int level,
		       u64 bits, gfp_t gfp)
{
	u64 *e = vtdp_pgt_pte_at(pt, la, level, gfp), old;
	u64 *tbl = NULL;

	if (!e)		/* a larger leaf maps @la, or no memory */
		return vtdp_pgt_leaf(pt, la, &(int){ 0 }) ? -EBUSY : -ENOMEM;
	old = READ_ONCE(*e);
	if (old & VTDP_SS_PRESENT) {
		if (vtdp_pgt_is_leaf(old, level))
			return -EBUSY;
		tbl = phys_to_virt(old & VTDP_SS_ADDR_MASK);
		if (!vtdp_pgt_table_empty(tbl, level - 1))
			return -EBUSY;
	}
	WRITE_ONCE(*e, (pa & VTDP_SS_ADDR_MASK) | bits | VTDP_SS_PS);
	vtdp_flush_table(pt->iommu, e, sizeof(*e));
	if (tbl) {
		pt->inv_range(pt, la, VTDP_LEVEL_PAGES(level));
		vtdp_pgt_free_level(tbl, level - 1);
	}
	return 0;
}

/**
 * vtdp_pgt_set_run() - write @n 4 KiB leaves mapping a contiguous range
 * @pt: the tables
 * @pte: the first leaf's slot (vtdp_pgt_pte_at(pt, la, 1, gfp))
 * @pa: physical address of the first page; the others follow it
 * @n: leaves, no further than the leaf table's end (vtdp_pgt_leaf_run())
 * @bits: permission bits (vtdp_pgt_leaf_bits())
 *
 * The address is advanced rather than recomputed per leaf: this loop is
 * the whole cost of mapping a large buffer in 4 KiB pages.
 */
void vtdp_pgt_set_run(struct vtdp_pgtable *pt, u64 *pte, u64 pa, u64 n,
		      u64 bits)
{
	u64 j;

	for (j = 0; j < n; j++, pa += VTDP_PAGE_SIZE)
		WRITE_ONCE(pte[j], (pa & VTDP_SS_ADDR_MASK) | bits);
	vtdp_flush_table(pt->iommu, pte, n * sizeof(*pte));
}

/**
 * vtdp_pgt_leaf_run() - leaves of [@la, +@npages) in the leaf table of @la
 * @la: input address
 * @npages: 4 KiB pages wanted
 */
u64 vtdp_pgt_leaf_run(u64 la, u64 npages)
{
	return min_t(u64, npages,
		     VTDP_LEVEL_ENTRIES - VTDP_LEVEL_INDEX(la, 1));
}

/*
 * Replace the large leaf *@e at @level, which maps @base, by a table of
 * leaves one level down with the same translation, so that part of it can
 * be unmapped.  The old leaf is invalidated: the unit may hold it cached.
 * Process context only: the IOMMU-core domains never unmap part of a
 * large leaf (vtdp_core_unmap_pages() widens the range to whole leaves).
 */
static void vtdp_pgt_split_leaf(struct vtdp_pgtable *pt, u64 *e, int level,
				u64 base)
{
	u64 v = READ_ONCE(*e), step = VTDP_LEVEL_PAGES(level - 1) << VTDP_PAGE_SHIFT;
	u64 bits = v & ~VTDP_SS_ADDR_MASK & ~VTDP_SS_PS;
	u64 pa = v & VTDP_SS_ADDR_MASK;
	u64 *tbl;
	unsigned int i;

	might_sleep();
	/* An unmap must not fail half way: a page table is worth waiting for. */
	tbl = (u64 *)get_zeroed_page(GFP_KERNEL | __GFP_NOFAIL);
	vtdp_live_add(table_pages, 1);
	for (i = 0; i < VTDP_LEVEL_ENTRIES; i++)
		tbl[i] = (pa + i * step) | bits | (level - 1 > 1 ? VTDP_SS_PS : 0);
	vtdp_flush_table(pt->iommu, tbl, PAGE_SIZE);
	WRITE_ONCE(*e, vtdp_pgt_nonleaf(pt, tbl));
	vtdp_flush_table(pt->iommu, e, sizeof(*e));
	pt->inv_range(pt, base, VTDP_LEVEL_PAGES(level));
}

/**
 * vtdp_pgt_clear_leaves() - clear the leaves mapping [@la, +@npages)
 * @pt: the table
 * @la: first input address (page aligned)
 * @npages: 4 KiB pages
 *
 * A large leaf that sticks out of the range is split first (process
 * context only; a range of whole leaves never splits).  4 KiB leaves
 * are cleared a leaf table at a time (one walk per table: map+unmap cost
 * must not grow with the depth).  Tables left empty stay: they are freed
 * with the domain.  The caller invalidates the range.
 */
void vtdp_pgt_clear_leaves(struct vtdp_pgtable *pt, u64 la, u64 npages)
{
	u64 i, j, *pte;
	int level;

	if (!pt->pgd)
		return;
	for (i = 0; i < npages; ) {
		u64 addr = la + (i << VTDP_PAGE_SHIFT), n, base;

		pte = vtdp_pgt_leaf(pt, addr, &level);
		if (!pte || level == 1) {
			n = vtdp_pgt_leaf_run(addr, npages - i);
			pte = vtdp_pgt_pte_at(pt, addr, 1, 0);
			if (pte) {	/* else no leaf table: nothing mapped */
				for (j = 0; j < n; j++)
					WRITE_ONCE(pte[j], 0);
				vtdp_flush_table(pt->iommu, pte, n * sizeof(*pte));
			}
			i += n;
			continue;
		}
		n = VTDP_LEVEL_PAGES(level);
		base = addr & ~((n << VTDP_PAGE_SHIFT) - 1);
		if (base != addr || npages - i < n) {
			vtdp_pgt_split_leaf(pt, pte, level, base);
			continue;	/* again, one level down */
		}
		WRITE_ONCE(*pte, 0);
		vtdp_flush_table(pt->iommu, pte, sizeof(*pte));
		i += n;
	}
}
