// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp.ko: the V3 IOMMU interface (spec: shared/spec/v3-interface.md) on
 * top of one vtdp-iommu unit.
 *
 * Objects: DMA devices (a scalable-mode context entry with a PASID
 * directory and the table for PASIDs 0..63) and domains (a DID plus, for
 * Translate, a 4-level second-stage table and an interval tree of extents).
 *
 * Locking: iommu->lock (mutex) guards the object lists and attach state and
 * is taken before a domain's mutex; domain->mutex guards its page tables
 * and extents; the invalidation queue has its own spinlock.  Every call
 * validates its handles against the lists (spec §4.1 [Interp]).
 */

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "vtdp.h"

static DEFINE_MUTEX(vtdp_unit_lock);
static struct vtdp_iommu *vtdp_unit;

/*
 * Serialises state-change notifications with unit removal.  Not
 * vtdp_unit_lock: callbacks may call V3 functions, which take that one.
 */
static DEFINE_MUTEX(vtdp_notify_lock);

static void vtdp_notify_state_change(void);

/*
 * The DMA Guard stand-in (spec §6.4): whether PassThrough is available.
 * Writing it recomputes every device's available domain types and calls
 * the state-change callbacks of devices whose types changed.
 */
static bool allow_passthrough = true;

static int vtdp_set_allow_passthrough(const char *val,
				      const struct kernel_param *kp)
{
	bool old = allow_passthrough;
	int ret = param_set_bool(val, kp);

	if (!ret && old != allow_passthrough)
		vtdp_notify_state_change();
	return ret;
}

static const struct kernel_param_ops vtdp_allow_passthrough_ops = {
	.set = vtdp_set_allow_passthrough,
	.get = param_get_bool,
};
module_param_cb(allow_passthrough, &vtdp_allow_passthrough_ops,
		&allow_passthrough, 0644);
MODULE_PARM_DESC(allow_passthrough,
		 "PassThrough domains available (DMA Guard policy stand-in; default Y)");

/*
 * QueryInputMappings on x86 answers UNSUCCESSFUL (ARM64 only); with this
 * set it returns the requester id instead (spec §5.7 extension).
 */
static bool input_mappings_rid;
module_param(input_mappings_rid, bool, 0644);
MODULE_PARM_DESC(input_mappings_rid,
		 "QueryInputMappings returns the PCI requester id (extension; default N)");

/* Largest token: bounds its segment bitmaps (2 x 128 KiB). */
#define VTDP_TOKEN_MAX_PAGES	(1ULL << 20)

/* Highest number of reserved regions / creation configs walked. */
#define VTDP_MAX_REGIONS	4096
#define VTDP_MAX_CONFIGS	64

static struct vtdp_iommu *vtdp_get_unit(void)
{
	struct vtdp_iommu *iommu;

	mutex_lock(&vtdp_unit_lock);
	iommu = vtdp_unit;
	mutex_unlock(&vtdp_unit_lock);
	return iommu;
}

/*
 * Is @node on @head?  Handles from callers are validated this way: the
 * candidate is only compared, never dereferenced, until it is found.
 */
static bool vtdp_on_list(const struct list_head *head,
			 const struct list_head *node)
{
	const struct list_head *pos;

	list_for_each(pos, head)
		if (pos == node)
			return true;
	return false;
}

static struct v3_domain *vtdp_find_domain(struct vtdp_iommu *iommu,
					  struct v3_domain *domain)
{
	lockdep_assert_held(&iommu->lock);
	return domain && vtdp_on_list(&iommu->domains, &domain->link) ?
	       domain : NULL;
}

static struct v3_dma_device *vtdp_find_device(struct vtdp_iommu *iommu,
					      struct v3_dma_device *dev)
{
	lockdep_assert_held(&iommu->lock);
	return dev && vtdp_on_list(&iommu->devices, &dev->link) ? dev : NULL;
}

/* Pin a validated device for use without iommu->lock.  iommu->lock held. */
static void vtdp_device_pin(struct v3_dma_device *v)
{
	lockdep_assert_held(&v->iommu->lock);
	v->cb_pin++;
}

static void vtdp_device_unpin(struct v3_dma_device *v)
{
	mutex_lock(&v->iommu->lock);
	if (!--v->cb_pin)
		wake_up_all(&v->cb_wq);
	mutex_unlock(&v->iommu->lock);
}

static bool vtdp_device_unpinned(struct v3_dma_device *v)
{
	bool idle;

	mutex_lock(&v->iommu->lock);
	idle = !v->cb_pin;
	mutex_unlock(&v->iommu->lock);
	return idle;
}

/* Validate @domain and return it with its mutex held, or NULL. */
static struct v3_domain *vtdp_domain_lock(struct v3_domain *domain)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_domain *d;

	if (!iommu || !domain)
		return NULL;
	mutex_lock(&iommu->lock);
	d = vtdp_find_domain(iommu, domain);
	if (d)
		mutex_lock(&d->mutex);
	mutex_unlock(&iommu->lock);
	return d;
}

/* Translate or TranslateS1: implementation-owned tables (spec §4.3) */
static bool vtdp_is_translate(const struct v3_domain *d)
{
	return d->type == V3_DOMAIN_TYPE_TRANSLATE ||
	       d->type == V3_DOMAIN_TYPE_TRANSLATE_S1;
}

/*
 * Input width of a domain of @type: the unit's AW; for first-stage tables
 * 47 bits, the canonical lower half of 4-level x86-64 paging (the walk
 * faults non-canonical addresses, and the upper half is sign-extended).
 */
static unsigned int vtdp_type_aw(struct vtdp_iommu *iommu,
				 enum v3_domain_type type)
{
	if (type == V3_DOMAIN_TYPE_TRANSLATE_S1)
		return min(iommu->aw_bits, 47U);
	return iommu->aw_bits;
}

/* Domain types a device may be attached to now (spec §5.14). */
static u32 vtdp_domain_types(struct vtdp_iommu *iommu)
{
	u32 mask = BIT(V3_DOMAIN_TYPE_TRANSLATE);

	if ((iommu->ecap & VTDP_ECAP_PT) && READ_ONCE(allow_passthrough))
		mask |= BIT(V3_DOMAIN_TYPE_PASS_THROUGH);
	if (iommu->ecap & VTDP_ECAP_FLTS)
		mask |= BIT(V3_DOMAIN_TYPE_TRANSLATE_S1);
	return mask;
}

/* ---------------------------------------------------------------------- */
/* Physical page descriptions (spec §4.9)                                  */

#define VTDP_PHYS_LIMIT_PFN	(1ULL << (52 - VTDP_PAGE_SHIFT))

/*
 * Return the page count of @p, or 0 if it is malformed.  If @flat, it gets
 * the description to map from: *@p, or, for a PFN array or MDL whose pages
 * are one physically contiguous run, that run as a ContiguousRange.  The
 * run is found in the pass that checks the list, so that placing a large
 * leaf (vtdp_phys_run()) does not walk a list of 512 pages a second time.
 */
static u64 vtdp_phys_pages(const struct v3_map_phys *p,
			   struct v3_map_phys *flat)
{
	bool contig = false;
	u64 i, n, base = 0;

	if (!p)
		return 0;
	switch (p->type) {
	case V3_MAP_PHYS_CONTIGUOUS:
		if (!p->contiguous.size ||
		    (p->contiguous.base | p->contiguous.size) & (VTDP_PAGE_SIZE - 1))
			return 0;
		n = p->contiguous.size >> VTDP_PAGE_SHIFT;
		if ((p->contiguous.base >> VTDP_PAGE_SHIFT) > VTDP_PHYS_LIMIT_PFN - n)
			return 0;
		break;		/* already flat */
	case V3_MAP_PHYS_PFN: {
		const u64 *pfns = p->pfn.pfns;

		n = p->pfn.number_of_pages;
		if (!pfns || !n || n > VTDP_PHYS_LIMIT_PFN)
			return 0;
		/* the run from pfns[0], then the rest one by one */
		for (i = 1; i < n && pfns[i] == pfns[0] + i; i++)
			;
		contig = i == n;
		if (pfns[0] > VTDP_PHYS_LIMIT_PFN - i)
			return 0;
		for (; i < n; i++)
			if (pfns[i] >= VTDP_PHYS_LIMIT_PFN)
				return 0;
		base = pfns[0] << VTDP_PAGE_SHIFT;
		break;
	}
	case V3_MAP_PHYS_MDL: {
		struct page *const *pages;

		if (!p->mdl.mdl || !p->mdl.mdl->pages || p->mdl.mdl->byte_offset ||
		    !p->mdl.mdl->byte_count ||
		    p->mdl.mdl->byte_count & (VTDP_PAGE_SIZE - 1))
			return 0;
		pages = p->mdl.mdl->pages;
		n = p->mdl.mdl->byte_count >> VTDP_PAGE_SHIFT;
		if (!pages[0])
			return 0;
		/* the run from pages[0] (no NULL in it), then the rest */
		for (i = 1; i < n && pages[i] == nth_page(pages[0], i); i++)
			;
		contig = i == n;
		for (; i < n; i++)
			if (!pages[i])
				return 0;
		base = page_to_phys(pages[0]);
		break;
	}
	default:
		return 0;
	}
	if (flat) {
		*flat = *p;
		if (contig) {
			flat->type = V3_MAP_PHYS_CONTIGUOUS;
			flat->contiguous.base = base;
			flat->contiguous.size = n << VTDP_PAGE_SHIFT;
		}
	}
	return n;
}

static u64 vtdp_phys_page(const struct v3_map_phys *p, u64 i)
{
	switch (p->type) {
	case V3_MAP_PHYS_CONTIGUOUS:
		return p->contiguous.base + (i << VTDP_PAGE_SHIFT);
	case V3_MAP_PHYS_PFN:
		return p->pfn.pfns[i] << VTDP_PAGE_SHIFT;
	default:
		return page_to_phys(p->mdl.mdl->pages[i]);
	}
}

/* Pages i.. of @p that are physically contiguous with page i (>= 1). */
static u64 vtdp_phys_run(const struct v3_map_phys *p, u64 i, u64 n)
{
	u64 pa, len = 1;

	if (p->type == V3_MAP_PHYS_CONTIGUOUS)
		return n - i;
	pa = vtdp_phys_page(p, i);
	while (i + len < n &&
	       vtdp_phys_page(p, i + len) == pa + (len << VTDP_PAGE_SHIFT))
		len++;
	return len;
}

/* Is [la, la + npages pages) inside an input width of @aw_bits? */
static bool vtdp_range_fits(unsigned int aw_bits, u64 la, u64 npages)
{
	u64 limit = 1ULL << (aw_bits - VTDP_PAGE_SHIFT);
	u64 first = la >> VTDP_PAGE_SHIFT;

	return npages && npages <= limit && first <= limit - npages;
}

/* ---------------------------------------------------------------------- */
/* Page tables: second-stage (Translate) or first-stage (TranslateS1)      */
/* (the format code is vtdp-pgtable.c, shared with the IOMMU-core domains) */

/* V3 calls may ask for huge regions: fail rather than wake the OOM killer. */
#define VTDP_V3_TABLE_GFP	(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

static bool vtdp_is_s1(const struct v3_domain *d)
{
	return d->type == V3_DOMAIN_TYPE_TRANSLATE_S1;
}

static u64 *vtdp_pte_at(struct v3_domain *d, u64 la, int target, bool alloc)
{
	return vtdp_pgt_pte_at(&d->pt, la, target, alloc ? VTDP_V3_TABLE_GFP : 0);
}

static u64 *vtdp_pte(struct v3_domain *d, u64 la, bool alloc)
{
	return vtdp_pte_at(d, la, 1, alloc);
}

/* The leaf that maps @la and its level, or NULL.  Context: d->mutex held. */
static u64 *vtdp_leaf(struct v3_domain *d, u64 la, int *level)
{
	return vtdp_pgt_leaf(&d->pt, la, level);
}

/*
 * The largest leaf level that can map page @i of @phys (of @npages) at
 * @la: the IOVA and the physical address aligned to the leaf's size, the
 * pages physically contiguous over all of it, and the slot in the table
 * above unused (an empty table left by earlier 4 KiB mappings is kept:
 * replacing it would need a paging-structure cache invalidation first).
 */
static int vtdp_leaf_level(struct v3_domain *d, const struct v3_map_phys *phys,
			   u64 la, u64 i, u64 npages)
{
	int level;

	if (!phys)
		return 1;
	for (level = 3; level > 1; level--) {
		u64 n = VTDP_LEVEL_PAGES(level), size = n << VTDP_PAGE_SHIFT;
		u64 *e;

		if (!vtdp_pgt_large_ok(&d->pt, level) || (la & (size - 1)) ||
		    npages - i < n || (vtdp_phys_page(phys, i) & (size - 1)) ||
		    vtdp_phys_run(phys, i, i + n) < n)
			continue;
		e = vtdp_pte_at(d, la, level, false);
		if (e && !READ_ONCE(*e))
			return level;
		/* a missing table above is made by the caller's walk */
		if (!e && !vtdp_leaf(d, la, &(int){ 0 }))
			return level;
	}
	return 1;
}

static int vtdp_domain_inv_range(struct v3_domain *d, u64 la, u64 npages);

/* vtdp_pgtable.inv_range of V3 domains (after splitting a large leaf) */
static int vtdp_pt_inv_range(struct vtdp_pgtable *pt, u64 la, u64 npages)
{
	return vtdp_domain_inv_range(container_of(pt, struct v3_domain, pt),
				     la, npages);
}

/* Clear the leaves mapping [la, +npages).  Context: d->mutex held. */
static void vtdp_clear_leaves(struct v3_domain *d, u64 la, u64 npages)
{
	vtdp_pgt_clear_leaves(&d->pt, la, npages);
}

static struct vtdp_extent *vtdp_extent_alloc(void)
{
	struct vtdp_extent *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (e)
		vtdp_live_add(extents, 1);
	return e;
}

/* Free @e (NULL allowed); it must not be in a tree. */
static void vtdp_extent_free(struct vtdp_extent *e)
{
	if (e)
		vtdp_live_add(extents, -1);
	kfree(e);
}

static bool vtdp_overlaps(struct v3_domain *d, u64 first, u64 last)
{
	return interval_tree_iter_first(&d->extents, first, last) != NULL;
}

static void vtdp_free_extents(struct v3_domain *d)
{
	struct interval_tree_node *n;

	while ((n = interval_tree_iter_first(&d->extents, 0, ULONG_MAX))) {
		interval_tree_remove(n, &d->extents);
		vtdp_extent_free(container_of(n, struct vtdp_extent, node));
	}
}

/*
 * Invalidate what the unit may have cached for [la, +npages) of @d, for
 * every requester using it.  Second-stage translations are tagged by the
 * domain id alone; first-stage ones (VT-d 6.5.2.4) need a PASID-based
 * IOTLB invalidation per PASID that uses the tables: RID_PASID for
 * attached devices and each attached sub-device's PASID.
 * Context: any (spinlocks and the polled queue only).
 */
static int vtdp_domain_inv_range(struct v3_domain *d, u64 la, u64 npages)
{
	struct v3_pasid_device *p;
	unsigned long flags;
	int ret;

	if (!vtdp_is_s1(d))
		return vtdp_inv_iotlb_range(d->iommu, d->did, la, npages);
	ret = vtdp_inv_piotlb_range(d->iommu, d->did, VTDP_PASID_RID_DEFAULT,
				    la, npages);
	spin_lock_irqsave(&d->pasid_lock, flags);
	list_for_each_entry(p, &d->pasids, dom_link)
		ret = vtdp_inv_piotlb_range(d->iommu, d->did, p->pasid, la,
					    npages) ?: ret;
	spin_unlock_irqrestore(&d->pasid_lock, flags);
	return ret;
}

/* Leaf bits for V3 permissions (see vtdp_pgt_leaf_bits()). */
static u64 vtdp_leaf_bits(const struct v3_domain *d, u32 perms)
{
	return vtdp_pgt_leaf_bits(&d->pt, perms & V3_ACCESS_READ,
				  perms & V3_ACCESS_WRITE);
}

/*
 * Map @npages pages at @la: page i of @phys, or la + i * 4K when @phys is
 * NULL (identity).  All-or-nothing; records one extent of @kind covering
 * @span pages (>= @npages: an allocator block is occupied whole).
 * Context: d->mutex held.
 */
static v3_status_t vtdp_map_pages(struct v3_domain *d, u64 la,
				  const struct v3_map_phys *phys, u64 npages,
				  u64 span, u32 perms,
				  enum vtdp_extent_kind kind)
{
	u64 first = la >> VTDP_PAGE_SHIFT, last = first + span - 1;
	u64 bits = vtdp_leaf_bits(d, perms), i, j, n, pa, *pte;
	struct vtdp_extent *ext;

	lockdep_assert_held(&d->mutex);
	if (vtdp_overlaps(d, first, last))
		return V3_STATUS_IN_USE;
	ext = vtdp_extent_alloc();
	if (!ext)
		return V3_STATUS_INSUFFICIENT_RESOURCES;

	/*
	 * PassThrough domains only record extents (spec §5.10).  Aligned,
	 * physically contiguous 2 MiB / 1 GiB runs get one large leaf each
	 * where the unit supports it: fewer table pages and IOTLB entries.
	 * 4 KiB leaves are written a leaf table at a time (one walk each).
	 */
	for (i = 0; d->pt.pgd && i < npages; i += n) {
		u64 addr = la + (i << VTDP_PAGE_SHIFT);
		int level = vtdp_leaf_level(d, phys, addr, i, npages);

		if (level > 1) {
			n = VTDP_LEVEL_PAGES(level);
			if (vtdp_pgt_set_large(&d->pt, addr, vtdp_phys_page(phys, i),
					       level, bits, VTDP_V3_TABLE_GFP))
				goto rollback;
		} else {
			pte = vtdp_pte(d, addr, true);
			if (!pte)
				goto rollback;
			/* up to the leaf table's end, where a large leaf may start */
			n = vtdp_pgt_leaf_run(addr, npages - i);
			if (!phys || phys->type == V3_MAP_PHYS_CONTIGUOUS) {
				pa = phys ? vtdp_phys_page(phys, i) : addr;
				vtdp_pgt_set_run(&d->pt, pte, pa, n, bits);
			} else {
				for (j = 0; j < n; j++) {
					pa = vtdp_phys_page(phys, i + j);
					WRITE_ONCE(pte[j], (pa & VTDP_SS_ADDR_MASK) |
							   bits);
				}
				vtdp_flush_table(d->iommu, pte, n * sizeof(*pte));
			}
		}
		/* a reserved region may span terabytes: stay killable */
		if (fatal_signal_pending(current)) {
			i += n;
			goto rollback;
		}
		cond_resched();
	}
	ext->node.start = first;
	ext->node.last = last;
	ext->kind = kind;
	ext->npages = npages;
	interval_tree_insert(&ext->node, &d->extents);

	/* Caching mode: not-present entries may be cached, so invalidate. */
	if (d->pt.pgd && (d->iommu->cap & VTDP_CAP_CM))
		vtdp_domain_inv_range(d, la, npages);
	return V3_STATUS_SUCCESS;

rollback:
	vtdp_clear_leaves(d, la, i);
	if (i && d->pt.pgd)
		vtdp_domain_inv_range(d, la, i);
	vtdp_extent_free(ext);
	return V3_STATUS_INSUFFICIENT_RESOURCES;
}

/* Is every page of [first, last] in extents of @kind?  d->mutex held. */
static bool vtdp_covered(struct v3_domain *d, u64 first, u64 last,
			 enum vtdp_extent_kind kind)
{
	struct interval_tree_node *n;
	u64 expect = first;

	for (n = interval_tree_iter_first(&d->extents, first, last); n;
	     n = interval_tree_iter_next(n, first, last)) {
		struct vtdp_extent *e = container_of(n, struct vtdp_extent, node);

		if (e->kind != kind || n->start > expect)
			return false;
		expect = n->last + 1;
	}
	return expect > last;
}

/*
 * Remove [first, last] from the extent tree; extents straddling an end are
 * split using the spares (*left, *right), which are consumed (set to NULL)
 * when used.  d->mutex held.
 */
static void vtdp_cut(struct v3_domain *d, u64 first, u64 last,
		     struct vtdp_extent **left, struct vtdp_extent **right)
{
	struct interval_tree_node *n;

	while ((n = interval_tree_iter_first(&d->extents, first, last))) {
		struct vtdp_extent *e = container_of(n, struct vtdp_extent, node);

		interval_tree_remove(n, &d->extents);
		if (n->start < first) {
			(*left)->node.start = n->start;
			(*left)->node.last = first - 1;
			(*left)->kind = e->kind;
			(*left)->npages = first - n->start;
			interval_tree_insert(&(*left)->node, &d->extents);
			*left = NULL;
		}
		if (n->last > last) {
			(*right)->node.start = last + 1;
			(*right)->node.last = n->last;
			(*right)->kind = e->kind;
			(*right)->npages = n->last - last;
			interval_tree_insert(&(*right)->node, &d->extents);
			*right = NULL;
		}
		vtdp_extent_free(e);
	}
}

/* ---------------------------------------------------------------------- */
/* Domains                                                                 */

/* Validate a reserved-region list for a Translate domain (spec §4.7). */
static v3_status_t vtdp_check_regions(unsigned int aw_bits,
				      const struct v3_reserved_region *regions)
{
	const struct v3_reserved_region *r, *o;
	unsigned int n = 0;

	for (r = regions; r; r = r->next) {
		u64 first = r->base >> VTDP_PAGE_SHIFT, last;

		if (++n > VTDP_MAX_REGIONS)
			return V3_STATUS_INVALID_PARAMETER_4;
		if (r->base & (VTDP_PAGE_SIZE - 1) ||
		    !vtdp_range_fits(aw_bits, r->base, r->number_of_pages))
			return V3_STATUS_INVALID_PARAMETER_4;
		last = first + r->number_of_pages - 1;
		/* the interrupt window can never be identity-mapped */
		if (r->should_map &&
		    first <= (VTDP_INTERRUPT_RANGE_END >> VTDP_PAGE_SHIFT) &&
		    last >= (VTDP_INTERRUPT_RANGE_START >> VTDP_PAGE_SHIFT))
			return V3_STATUS_INVALID_PARAMETER_4;
		for (o = regions; o != r; o = o->next) {
			u64 ofirst = o->base >> VTDP_PAGE_SHIFT;
			u64 olast = ofirst + o->number_of_pages - 1;

			if (first <= olast && last >= ofirst)
				return V3_STATUS_INVALID_PARAMETER_4;
		}
	}
	return V3_STATUS_SUCCESS;
}

static v3_status_t vtdp_add_withheld(struct v3_domain *d, u64 first, u64 last)
{
	struct vtdp_extent *ext = vtdp_extent_alloc();

	if (!ext)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	ext->node.start = first;
	ext->node.last = last;
	ext->kind = VTDP_EXTENT_RESV_WITHHELD;
	ext->npages = last - first + 1;
	interval_tree_insert(&ext->node, &d->extents);
	return V3_STATUS_SUCCESS;
}

static void vtdp_domain_free(struct v3_domain *d)
{
	vtdp_pgt_destroy(&d->pt);
	vtdp_free_extents(d);
	if (d->did)
		ida_free(&d->iommu->did_ida, d->did);
	kfree(d);
	vtdp_live_add(domains, -1);
}

static v3_status_t vtdp_create_domain_ex(enum v3_domain_type type,
					 union v3_domain_creation_flags flags,
					 const struct v3_logical_allocator_config *alloc,
					 const struct v3_reserved_region *regions,
					 struct v3_domain **out)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	const struct v3_reserved_region *r;
	struct v3_domain *d;
	v3_status_t st;
	int did;

	might_sleep();
	if (out)
		*out = NULL;
	if ((u32)type >= V3_DOMAIN_TYPE_MAX)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (flags.as_u64)
		return V3_STATUS_INVALID_PARAMETER_2;
	if (!iommu)
		return V3_STATUS_NOT_SUPPORTED;
	if (alloc) {
		if (alloc->type >= V3_LOGICAL_ALLOCATOR_MAX)
			return V3_STATUS_INVALID_PARAMETER_3;
		if (alloc->type == V3_LOGICAL_ALLOCATOR_BUDDY &&
		    (alloc->address_width < 13 ||
		     alloc->address_width > min(63U, vtdp_type_aw(iommu, type)) ||
		     (type != V3_DOMAIN_TYPE_TRANSLATE &&
		      type != V3_DOMAIN_TYPE_TRANSLATE_S1)))
			return V3_STATUS_INVALID_PARAMETER_3;
	}
	if (type == V3_DOMAIN_TYPE_UNMANAGED && regions)
		return V3_STATUS_INVALID_PARAMETER_4;
	if (type == V3_DOMAIN_TYPE_TRANSLATE ||
	    type == V3_DOMAIN_TYPE_TRANSLATE_S1) {
		st = vtdp_check_regions(vtdp_type_aw(iommu, type), regions);
		if (st)
			return st;
	}
	if (!out)
		return V3_STATUS_INVALID_PARAMETER;

	/*
	 * Types not allowed now: PassThrough while the hardware or the policy
	 * withholds it, TranslateS1 without first-stage support.  Unmanaged
	 * domains are created (they hold a DID and block DMA) so that
	 * FlushDomain and ConfigureDomain have something to act on; no
	 * configuration is ever accepted on x86 (spec §5.13).
	 */
	if ((type == V3_DOMAIN_TYPE_TRANSLATE_S1 ||
	     type == V3_DOMAIN_TYPE_PASS_THROUGH) &&
	    !(vtdp_domain_types(iommu) & BIT(type)))
		return V3_STATUS_NOT_SUPPORTED;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	vtdp_live_add(domains, 1);
	d->iommu = iommu;
	d->type = type;
	d->aw_bits = vtdp_type_aw(iommu, type);
	spin_lock_init(&d->pasid_lock);
	INIT_LIST_HEAD(&d->pasids);
	if (alloc && alloc->type == V3_LOGICAL_ALLOCATOR_BUDDY)
		d->alloc_width = alloc->address_width;
	mutex_init(&d->mutex);
	d->extents = RB_ROOT_CACHED;

	did = ida_alloc_range(&iommu->did_ida, 1, iommu->did_max, GFP_KERNEL);
	if (did < 0) {
		kfree(d);
		vtdp_live_add(domains, -1);
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	}
	d->did = did;

	if (vtdp_is_translate(d)) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		d->pt.iommu = iommu;
		d->pt.s1 = vtdp_is_s1(d);
		d->pt.inv_range = vtdp_pt_inv_range;
		if (vtdp_pgt_init(&d->pt, GFP_KERNEL))
			goto err;

		/* The interrupt window is never a DMA target. */
		st = vtdp_add_withheld(d,
				       VTDP_INTERRUPT_RANGE_START >> VTDP_PAGE_SHIFT,
				       VTDP_INTERRUPT_RANGE_END >> VTDP_PAGE_SHIFT);
		if (st)
			goto err;

		mutex_lock(&d->mutex);
		for (r = regions; r; r = r->next) {
			u64 first = r->base >> VTDP_PAGE_SHIFT;

			if (r->should_map)
				st = vtdp_map_pages(d, r->base, NULL,
						    r->number_of_pages,
						    r->number_of_pages,
						    V3_ACCESS_READ | V3_ACCESS_WRITE,
						    VTDP_EXTENT_RESV_IDENTITY);
			else
				st = vtdp_add_withheld(d, first,
						       first + r->number_of_pages - 1);
			/* a withheld region may overlap the implicit window */
			if (st == V3_STATUS_IN_USE)
				st = V3_STATUS_INVALID_PARAMETER_4;
			if (st)
				break;
		}
		mutex_unlock(&d->mutex);
		if (st)
			goto err;
	}

	if (!try_module_get(THIS_MODULE)) {
		st = V3_STATUS_NOT_SUPPORTED;
		goto err;
	}
	mutex_lock(&iommu->lock);
	list_add_tail(&d->link, &iommu->domains);
	mutex_unlock(&iommu->lock);
	*out = d;
	return V3_STATUS_SUCCESS;

err:
	vtdp_domain_free(d);
	return st;
}

static v3_status_t vtdp_delete_domain(struct v3_domain *domain)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_domain *d;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	d = vtdp_find_domain(iommu, domain);
	if (!d) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_1;
	}
	/*
	 * d->mutex also waits for a map/unmap/reserve that validated the
	 * handle before we got here; tokens are counted under it.
	 */
	mutex_lock(&d->mutex);
	if (d->attached || d->ntokens) {
		mutex_unlock(&d->mutex);
		mutex_unlock(&iommu->lock);
		return V3_STATUS_RESOURCE_IN_USE;
	}
	list_del(&d->link);
	mutex_unlock(&d->mutex);
	mutex_unlock(&iommu->lock);

	/* No entry points at the tables any more; drop what the DID cached. */
	vtdp_inv_pasid_cache(iommu, d->did, 0, true);
	vtdp_inv_iotlb_domain(iommu, d->did);
	vtdp_domain_free(d);
	module_put(THIS_MODULE);
	return V3_STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Attach / detach (RID_PASID entry of the device's PASID table)           */

/* The PASID-table entry that makes requests use @d; -EINVAL if none can. */
static int vtdp_pasid_entry_for(const struct v3_domain *d,
				struct vtdp_pasid_entry *val)
{
	if (d->type == V3_DOMAIN_TYPE_TRANSLATE) {
		vtdp_pasid_entry_ss(val, d->did, d->pt.pgd);
	} else if (d->type == V3_DOMAIN_TYPE_TRANSLATE_S1) {
		/* 4-level first stage; user requests only (SRE clear) */
		memset(val, 0, sizeof(*val));
		val->val[0] = VTDP_PE0_P |
			      ((u64)VTDP_PE_AW_48 << VTDP_PE0_AW_SHIFT) |
			      ((u64)VTDP_PGTT_FS << VTDP_PE0_PGTT_SHIFT);
		val->val[1] = d->did;
		val->val[2] = (virt_to_phys(d->pt.pgd) & VTDP_PE2_FLPTPTR_MASK) |
			      VTDP_PE2_FLPM_4LVL;
	} else if (d->type == V3_DOMAIN_TYPE_PASS_THROUGH) {
		vtdp_pasid_entry_pt(val, d->did);
	} else {
		return -EINVAL;
	}
	return 0;
}

/*
 * Drop what the unit cached for @pasid's use of @d: the PASID-cache entry,
 * then the IOTLB flavour that covers the domain's format (domain-selective
 * for second stage, PASID-based for first stage).
 */
static int vtdp_inv_domain_pasid(struct v3_domain *d, u32 pasid)
{
	int ret = vtdp_inv_pasid_cache(d->iommu, d->did, pasid, false);

	if (ret)
		return ret;
	if (vtdp_is_s1(d))
		return vtdp_inv_piotlb_pasid(d->iommu, d->did, pasid);
	return vtdp_inv_iotlb_domain(d->iommu, d->did);
}

static v3_status_t vtdp_attach_device_ex(struct v3_domain *domain,
					 struct v3_dma_device *dev)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct vtdp_pasid_entry val = {};
	struct vtdp_pasid_entry *pe;
	struct v3_dma_device *v;
	struct v3_domain *d;
	v3_status_t st = V3_STATUS_SUCCESS;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	d = vtdp_find_domain(iommu, domain);
	v = vtdp_find_device(iommu, dev);
	if (!d) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (!v) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	if (v->domain) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* policy: only types QueryAvailableDomainTypes reports (spec §5.3) */
	if (!(vtdp_domain_types(iommu) & BIT(d->type))) {
		st = V3_STATUS_ACCESS_DENIED;
		goto out;
	}

	if (vtdp_pasid_entry_for(d, &val)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}

	pe = &v->pasid_table0[VTDP_PASID_RID_DEFAULT];
	vtdp_write_pasid_entry(iommu, pe, &val);
	if (vtdp_inv_domain_pasid(d, VTDP_PASID_RID_DEFAULT)) {
		/* the hardware did not confirm: undo, report failure */
		vtdp_clear_pasid_entry(iommu, pe);
		vtdp_inv_domain_pasid(d, VTDP_PASID_RID_DEFAULT);
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	v->domain = d;
	d->attached++;
out:
	mutex_unlock(&iommu->lock);
	return st;
}

static v3_status_t vtdp_detach_device_ex(struct v3_dma_device *dev)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_dma_device *v;
	struct v3_domain *d;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	v = vtdp_find_device(iommu, dev);
	if (!v || !v->domain) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_1;
	}
	d = v->domain;
	vtdp_clear_pasid_entry(iommu, &v->pasid_table0[VTDP_PASID_RID_DEFAULT]);
	if (vtdp_inv_domain_pasid(d, VTDP_PASID_RID_DEFAULT))
		dev_err(&iommu->pdev->dev,
			"detach of %s: invalidation failed, stale translations may survive\n",
			pci_name(v->pdev));
	v->domain = NULL;
	d->attached--;
	mutex_unlock(&iommu->lock);
	return V3_STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Flush (Unmanaged domains only, spec §5.5/§5.6)                          */

static v3_status_t vtdp_flush_domain(struct v3_domain *domain)
{
	struct v3_domain *d = vtdp_domain_lock(domain);
	v3_status_t st = V3_STATUS_SUCCESS;

	might_sleep();
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (d->type != V3_DOMAIN_TYPE_UNMANAGED)
		st = V3_STATUS_INVALID_PARAMETER_1;
	else if (vtdp_inv_pasid_cache(d->iommu, d->did, 0, true) ||
		 vtdp_inv_iotlb_domain(d->iommu, d->did))
		st = V3_STATUS_UNSUCCESSFUL;
	mutex_unlock(&d->mutex);
	return st;
}

static v3_status_t vtdp_flush_domain_by_va_list(struct v3_domain *domain,
						bool last_level, u32 number,
						const u64 *va_list)
{
	struct v3_domain *d = vtdp_domain_lock(domain);
	v3_status_t st = V3_STATUS_SUCCESS;
	u32 i;

	might_sleep();
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (d->type != V3_DOMAIN_TYPE_UNMANAGED) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (!number) {
		st = V3_STATUS_INVALID_PARAMETER_3;
		goto out;
	}
	if (!va_list) {
		st = V3_STATUS_INVALID_PARAMETER_4;
		goto out;
	}
	for (i = 0; i < number; i++)
		if (va_list[i] & (VTDP_PAGE_SIZE - 1)) {
			st = V3_STATUS_INVALID_PARAMETER_4;
			goto out;
		}
	/* page by page; LastLevel: only leaves changed (hint, spec §5.6) */
	for (i = 0; i < number; i++)
		if (vtdp_inv_iotlb_range_hint(d->iommu, d->did, va_list[i], 1,
					      last_level)) {
			st = V3_STATUS_UNSUCCESSFUL;
			break;
		}
out:
	mutex_unlock(&d->mutex);
	return st;
}

/* ---------------------------------------------------------------------- */
/* Map / unmap (spec §5.8, §5.9)                                           */

/*
 * The buddy logical allocator (spec §4.6 [Interp]): the lowest free block
 * of 2^ceil(log2(npages)) pages, aligned to its own size, inside the
 * inclusive window [min, max] and below 2^alloc_width.  Free space is what
 * no extent covers, so reserved regions, the interrupt window, mappings
 * and tokens are all avoided and a freed block is reusable at once.  The
 * extent tree is the allocator's state (first fit, bottom-up); it has the
 * observable behaviour of a buddy allocator without a second structure to
 * keep consistent.  d->alloc_low[] lets a search skip the low part
 * known to be full, so the common case does not walk every extent.
 * Context: d->mutex held.
 * Return: SUCCESS with *first (page number) and *span (block pages);
 * INVALID_PARAMETER_MIX for a self-contradictory window;
 * INSUFFICIENT_RESOURCES when a coherent window has no free block.
 */
static v3_status_t vtdp_alloc_block(struct v3_domain *d, u64 npages,
				    const u64 *min_la, const u64 *max_la,
				    u64 *first, u64 *span)
{
	u64 limit = 1ULL << (d->alloc_width - VTDP_PAGE_SHIFT);
	u64 lo = 0, hi = limit - 1, size, pos;
	struct interval_tree_node *n;
	unsigned int order;
	bool from_low;

	if (min_la) {
		if (*min_la & (VTDP_PAGE_SIZE - 1))
			return V3_STATUS_INVALID_PARAMETER_MIX;
		lo = *min_la >> VTDP_PAGE_SHIFT;
	}
	if (max_la) {
		/* inclusive: Max + 1 must be page aligned */
		if ((*max_la & (VTDP_PAGE_SIZE - 1)) != VTDP_PAGE_SIZE - 1)
			return V3_STATUS_INVALID_PARAMETER_MIX;
		if (min_la && *min_la > *max_la)
			return V3_STATUS_INVALID_PARAMETER_MIX;
		hi = min(hi, *max_la >> VTDP_PAGE_SHIFT);
	}
	if (lo >= limit || lo > hi || hi - lo + 1 < npages)
		return V3_STATUS_INVALID_PARAMETER_MIX;

	size = roundup_pow_of_two(npages);
	order = ilog2(size);
	/* below alloc_low there is nothing of this order: start there */
	from_low = lo <= d->alloc_low[order];
	pos = ALIGN(from_low ? d->alloc_low[order] : lo, size);
	while (pos >= lo && pos <= hi && hi - pos + 1 >= size) {
		n = interval_tree_iter_first(&d->extents, pos, pos + size - 1);
		if (!n) {
			/* everything from alloc_low up to pos was full */
			if (from_low)
				d->alloc_low[order] = pos + size;
			*first = pos;
			*span = size;
			return V3_STATUS_SUCCESS;
		}
		pos = ALIGN(n->last + 1, size);
	}
	return V3_STATUS_INSUFFICIENT_RESOURCES;
}

/*
 * A block starting at page @first was freed: a free block of any order may
 * now start at @first rounded down to that order.  d->mutex held.
 */
static void vtdp_alloc_freed(struct v3_domain *d, u64 first)
{
	unsigned int order;

	lockdep_assert_held(&d->mutex);
	for (order = 0; order < ARRAY_SIZE(d->alloc_low); order++)
		d->alloc_low[order] = min(d->alloc_low[order],
					  round_down(first, 1ULL << order));
}

/*
 * Choose the logical range of a map or reserve of @npages pages (spec
 * §5.8/§5.17): the explicit address without allocator, an allocator block
 * with one.  @explicit_status is the call's code for a bad explicit
 * address.  d->mutex held.
 */
static v3_status_t vtdp_place(struct v3_domain *d, u64 npages,
			      const u64 *explicit_la, const u64 *min_la,
			      const u64 *max_la, v3_status_t explicit_status,
			      u64 *first, u64 *span)
{
	if (explicit_la &&
	    (*explicit_la & (VTDP_PAGE_SIZE - 1) ||
	     !vtdp_range_fits(d->aw_bits, *explicit_la, npages)))
		return explicit_status;
	if (d->alloc_width) {
		if (explicit_la)
			return V3_STATUS_NOT_SUPPORTED;
		return vtdp_alloc_block(d, npages, min_la, max_la, first, span);
	}
	/* no allocator: explicit address mandatory, min/max ignored */
	if (!explicit_la)
		return V3_STATUS_NOT_SUPPORTED;
	*first = *explicit_la >> VTDP_PAGE_SHIFT;
	*span = npages;
	return V3_STATUS_SUCCESS;
}

static v3_status_t vtdp_map_logical_range_ex(struct v3_domain *domain,
					     u32 perms,
					     const struct v3_map_phys *phys,
					     const u64 *explicit_la,
					     const u64 *min_la,
					     const u64 *max_la, u64 *la_out)
{
	struct v3_map_phys flat;
	struct v3_domain *d;
	v3_status_t st;
	u64 npages, first, span;

	might_sleep();
	d = vtdp_domain_lock(domain);
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!vtdp_is_translate(d)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (!perms || perms & ~(V3_ACCESS_READ | V3_ACCESS_WRITE)) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	npages = vtdp_phys_pages(phys, &flat);
	if (!npages) {
		st = V3_STATUS_INVALID_PARAMETER_3;
		goto out;
	}
	if (!la_out) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	st = vtdp_place(d, npages, explicit_la, min_la, max_la,
			V3_STATUS_INVALID_PARAMETER_4, &first, &span);
	if (st)
		goto out;
	st = vtdp_map_pages(d, first << VTDP_PAGE_SHIFT, &flat, npages, span,
			    perms, VTDP_EXTENT_LOGICAL);
	if (!st)
		*la_out = first << VTDP_PAGE_SHIFT;
out:
	mutex_unlock(&d->mutex);
	return st;
}

static v3_status_t vtdp_unmap_logical_range(struct v3_domain *domain, u64 la,
					    u64 npages)
{
	struct vtdp_extent *left = NULL, *right = NULL;
	struct v3_domain *d;
	u64 first, last;
	v3_status_t st = V3_STATUS_SUCCESS;

	might_sleep();
	d = vtdp_domain_lock(domain);
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!vtdp_is_translate(d)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (la & (VTDP_PAGE_SIZE - 1)) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	if (!npages) {
		st = V3_STATUS_INVALID_PARAMETER_3;
		goto out;
	}
	if (!vtdp_range_fits(d->aw_bits, la, npages)) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	first = la >> VTDP_PAGE_SHIFT;
	last = first + npages - 1;

	/*
	 * Every page must lie in logical-map extents; with an allocator the
	 * range must be exactly one mapping, whose whole block is freed.
	 */
	if (d->alloc_width) {
		struct interval_tree_node *n;
		struct vtdp_extent *e;

		n = interval_tree_iter_first(&d->extents, first, first);
		e = n ? container_of(n, struct vtdp_extent, node) : NULL;
		if (!e || n->start != first || e->kind != VTDP_EXTENT_LOGICAL ||
		    e->npages != npages) {
			st = V3_STATUS_INVALID_PARAMETER;
			goto out;
		}
		interval_tree_remove(n, &d->extents);
		vtdp_extent_free(e);
		vtdp_alloc_freed(d, first);
		goto clear;
	}
	if (!vtdp_covered(d, first, last, VTDP_EXTENT_LOGICAL)) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* Extents straddling the range ends are split: allocate first. */
	left = vtdp_extent_alloc();
	right = vtdp_extent_alloc();
	if (!left || !right) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	vtdp_cut(d, first, last, &left, &right);
clear:
	vtdp_clear_leaves(d, la, npages);
	/* synchronous: no stale translation survives the return */
	if (vtdp_domain_inv_range(d, la, npages)) {
		dev_err(&d->iommu->pdev->dev,
			"unmap %#llx+%llu pages: IOTLB invalidation failed\n",
			la, npages);
		st = V3_STATUS_UNSUCCESSFUL;
	}
out:
	vtdp_extent_free(left);
	vtdp_extent_free(right);
	mutex_unlock(&d->mutex);
	return st;
}

/* ---------------------------------------------------------------------- */
/* Identity maps (spec §5.10, §5.11)                                       */

/* Undo one identity run mapped by vtdp_map_pages().  d->mutex held. */
static void vtdp_identity_undo(struct v3_domain *d, u64 pa, u64 len)
{
	u64 first = pa >> VTDP_PAGE_SHIFT;
	struct interval_tree_node *n;

	n = interval_tree_iter_first(&d->extents, first, first + len - 1);
	if (n) {
		interval_tree_remove(n, &d->extents);
		vtdp_extent_free(container_of(n, struct vtdp_extent, node));
	}
	vtdp_clear_leaves(d, pa, len);
	if (d->pt.pgd)
		vtdp_domain_inv_range(d, pa, len);
}

static bool vtdp_identity_type(const struct v3_domain *d)
{
	return vtdp_is_translate(d) || d->type == V3_DOMAIN_TYPE_PASS_THROUGH;
}

static v3_status_t vtdp_map_identity_range_ex(struct v3_domain *domain,
					      u32 perms,
					      const struct v3_map_phys *phys)
{
	v3_status_t st = V3_STATUS_SUCCESS;
	struct v3_map_phys flat;
	struct v3_domain *d;
	u64 n, i, j, len, pa;

	might_sleep();
	d = vtdp_domain_lock(domain);
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!vtdp_identity_type(d)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (!perms || perms & ~(V3_ACCESS_READ | V3_ACCESS_WRITE)) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	n = vtdp_phys_pages(phys, &flat);
	if (!n) {
		st = V3_STATUS_INVALID_PARAMETER_3;
		goto out;
	}
	phys = &flat;		/* one contiguous run: one step per loop below */
	if (d->alloc_width) {
		st = V3_STATUS_NOT_SUPPORTED;
		goto out;
	}
	for (i = 0; i < n; i += len) {
		len = vtdp_phys_run(phys, i, n);
		pa = vtdp_phys_page(phys, i);
		if (!vtdp_range_fits(d->aw_bits, pa, len)) {
			st = V3_STATUS_INVALID_PARAMETER_3;
			goto out;
		}
		if (vtdp_overlaps(d, pa >> VTDP_PAGE_SHIFT,
				  (pa >> VTDP_PAGE_SHIFT) + len - 1)) {
			st = V3_STATUS_IN_USE;
			goto out;
		}
	}
	for (i = 0; i < n; i += len) {
		len = vtdp_phys_run(phys, i, n);
		st = vtdp_map_pages(d, vtdp_phys_page(phys, i), NULL, len, len,
				    perms,
				    VTDP_EXTENT_IDENTITY);
		if (st)
			break;
	}
	if (st) {
		/* all-or-nothing: undo the runs mapped before the failure */
		for (j = 0; j < i; j += len) {
			len = vtdp_phys_run(phys, j, n);
			vtdp_identity_undo(d, vtdp_phys_page(phys, j), len);
		}
	}
out:
	mutex_unlock(&d->mutex);
	return st;
}

static v3_status_t vtdp_unmap_identity_range_ex(struct v3_domain *domain,
						const struct v3_map_phys *phys)
{
	struct vtdp_extent **spare = NULL;
	v3_status_t st = V3_STATUS_SUCCESS;
	u64 n, i, len, pa, runs = 0, k;
	struct v3_map_phys flat;
	struct v3_domain *d;

	might_sleep();
	d = vtdp_domain_lock(domain);
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!vtdp_identity_type(d)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	n = vtdp_phys_pages(phys, &flat);
	if (!n) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	phys = &flat;		/* one contiguous run: one step per loop below */
	if (d->alloc_width) {
		st = V3_STATUS_NOT_SUPPORTED;
		goto out;
	}
	for (i = 0; i < n; i += len, runs++) {
		len = vtdp_phys_run(phys, i, n);
		pa = vtdp_phys_page(phys, i);
		if (!vtdp_range_fits(d->aw_bits, pa, len) ||
		    !vtdp_covered(d, pa >> VTDP_PAGE_SHIFT,
				  (pa >> VTDP_PAGE_SHIFT) + len - 1,
				  VTDP_EXTENT_IDENTITY)) {
			st = V3_STATUS_INVALID_PARAMETER_2;
			goto out;
		}
	}
	/* two split spares per run, allocated before anything changes */
	spare = kvcalloc(2 * runs, sizeof(*spare), GFP_KERNEL);
	if (!spare) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	for (k = 0; k < 2 * runs; k++) {
		spare[k] = vtdp_extent_alloc();
		if (!spare[k]) {
			st = V3_STATUS_INSUFFICIENT_RESOURCES;
			goto out;
		}
	}
	for (i = 0, k = 0; i < n; i += len, k += 2) {
		len = vtdp_phys_run(phys, i, n);
		pa = vtdp_phys_page(phys, i);
		vtdp_cut(d, pa >> VTDP_PAGE_SHIFT,
			 (pa >> VTDP_PAGE_SHIFT) + len - 1, &spare[k],
			 &spare[k + 1]);
		vtdp_clear_leaves(d, pa, len);
	}
	if (d->pt.pgd) {
		int ret = 0;

		/* one invalidation per run: the runs may lie far apart */
		for (i = 0; i < n; i += len) {
			len = vtdp_phys_run(phys, i, n);
			ret = vtdp_domain_inv_range(d, vtdp_phys_page(phys, i),
						    len) ?: ret;
		}
		if (ret)
			st = V3_STATUS_UNSUCCESSFUL;
	}
out:
	if (spare) {
		for (k = 0; k < 2 * runs; k++)
			vtdp_extent_free(spare[k]);
		kvfree(spare);
	}
	mutex_unlock(&d->mutex);
	return st;
}

/* ---------------------------------------------------------------------- */
/* Fault reporting (project extension with V1 semantics, spec §5.12)       */

static bool vtdp_fault_idle(struct v3_dma_device *v)
{
	unsigned long flags;
	bool idle;

	spin_lock_irqsave(&v->fault_lock, flags);
	idle = !v->fault_inflight;
	spin_unlock_irqrestore(&v->fault_lock, flags);
	return idle;
}

static v3_status_t
vtdp_set_device_fault_reporting_ex(struct v3_dma_device *dev,
				   u32 input_mapping_id_base, bool enable,
				   const struct v3_device_fault_config *cfg)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_dma_device *v;
	unsigned long flags;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	v = vtdp_find_device(iommu, dev);
	if (!v || !v->domain) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_1;
	}
	if (input_mapping_id_base) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_2;
	}
	if (enable && (!cfg || !cfg->fault_handler)) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_4;
	}
	spin_lock_irqsave(&v->fault_lock, flags);
	v->fault_handler = enable ? cfg->fault_handler : NULL;
	v->fault_context = enable ? cfg->fault_context : NULL;
	spin_unlock_irqrestore(&v->fault_lock, flags);
	mutex_unlock(&iommu->lock);

	/* Disabling waits for a handler call already under way. */
	if (!enable)
		wait_event(v->fault_wq, vtdp_fault_idle(v));
	return V3_STATUS_SUCCESS;
}

/**
 * vtdp_v3_deliver_fault() - hand a decoded fault to its device's handler
 * @iommu: the reporting unit
 * @info: the fault; x64.domain is filled in here
 *
 * Context: process context (the threaded fault handler).  The handler is
 * called with no lock of ours held; it must not disable fault reporting for
 * or delete its own device.
 */
void vtdp_v3_deliver_fault(struct vtdp_iommu *iommu,
			   struct v3_fault_information *info)
{
	v3_fault_handler_t handler = NULL;
	struct v3_dma_device *v, *found = NULL;
	unsigned long flags;
	void *ctx = NULL;

	mutex_lock(&iommu->lock);
	list_for_each_entry(v, &iommu->devices, link) {
		if (v->sid != info->source_id)
			continue;
		found = v;
		info->x64.domain = v->domain;
		/* a tagged request was translated by its sub-device's domain */
		if (info->pasid_valid) {
			struct v3_pasid_device *p;

			info->x64.domain = NULL;
			list_for_each_entry(p, &iommu->pasid_devices, link)
				if (p->parent == v && p->pasid == info->pasid)
					info->x64.domain = p->domain;
		}
		spin_lock_irqsave(&v->fault_lock, flags);
		handler = v->fault_handler;
		ctx = v->fault_context;
		if (handler)
			v->fault_inflight++;
		spin_unlock_irqrestore(&v->fault_lock, flags);
		break;
	}
	mutex_unlock(&iommu->lock);
	if (!handler)
		return;

	handler(ctx, info);
	atomic64_inc(&iommu->faults_delivered);

	spin_lock_irqsave(&found->fault_lock, flags);
	if (!--found->fault_inflight)
		wake_up_all(&found->fault_wq);
	spin_unlock_irqrestore(&found->fault_lock, flags);
}

/* ---------------------------------------------------------------------- */
/* DMA devices                                                             */

static v3_status_t
vtdp_parse_config(struct vtdp_iommu *iommu, struct pci_dev *pdev,
		  const struct v3_device_creation_config *cfg,
		  struct v3_dma_device_information *info)
{
	const struct list_head *pos;
	unsigned int count = 0;
	u32 seen = 0;

	memset(info, 0, sizeof(*info));
	if (!cfg)
		return V3_STATUS_SUCCESS;
	pos = &cfg->link;
	do {
		const struct v3_device_creation_config *c =
			container_of(pos, struct v3_device_creation_config, link);

		if (++count > VTDP_MAX_CONFIGS || c->type >= V3_DEVICE_CONFIG_MAX)
			return V3_STATUS_INVALID_PARAMETER_2;
		if (c->type != V3_DEVICE_CONFIG_NONE) {
			if (seen & BIT(c->type))
				return V3_STATUS_INVALID_PARAMETER_2;
			seen |= BIT(c->type);
		}
		switch (c->type) {
		case V3_DEVICE_CONFIG_NONE:
			break;
		case V3_DEVICE_CONFIG_PASID:
			if (!(iommu->ecap & VTDP_ECAP_SMTS))
				return V3_STATUS_INVALID_PARAMETER_2;
			if (c->pasid.type == V3_PASID_CONFIG_DEFAULT_PASID_ONLY) {
				info->default_pasid_enabled = 1;
			} else if (c->pasid.type == V3_PASID_CONFIG_PASID_TAGGED_DMA) {
				if (!(iommu->ecap & VTDP_ECAP_PASID) ||
				    !pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_PASID))
					return V3_STATUS_INVALID_PARAMETER_2;
				info->default_pasid_enabled = 1;
				info->pasid_tagged_dma_enabled = 1;
				info->pasid_faults_suppressed =
					!!c->pasid.suppress_pasid_faults;
			} else {
				return V3_STATUS_INVALID_PARAMETER_2;
			}
			break;
		default:	/* Acpi, DeviceId: not on x86 */
			return V3_STATUS_INVALID_PARAMETER_2;
		}
		pos = pos->next;
		if (!pos)
			return V3_STATUS_INVALID_PARAMETER_2;
	} while (pos != &cfg->link);
	return V3_STATUS_SUCCESS;
}

/*
 * Highest PASID a sub-device of @pdev may get: 2^w - 1 with w the smaller
 * of the endpoint's Max PASID Width and the unit's PASID size (§5.23).
 */
static u32 vtdp_pasid_max(struct vtdp_iommu *iommu, struct pci_dev *pdev)
{
	int pos = pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_PASID);
	unsigned int width;
	u16 cap = 0;

	if (!pos)
		return 0;
	pci_read_config_word(pdev, pos + PCI_PASID_CAP, &cap);
	width = (cap >> 8) & 0x1f;
	width = min3(width, iommu->pasid_bits, (unsigned int)VTDP_PASID_MAX_BITS);
	if (!width)
		return 0;
	return (1U << width) - 1;
}

/* The smallest PDTS whose directory covers PASIDs 0..@pasid_max. */
static unsigned int vtdp_pdts_for(u32 pasid_max)
{
	unsigned int pdts = VTDP_PDTS_MIN;

	while (pdts < VTDP_PDTS_MAX &&
	       VTDP_PDIR_ENTRIES(pdts) * 64 - 1 < pasid_max)
		pdts++;
	return pdts;
}

static unsigned int vtdp_pdir_order(const struct v3_dma_device *v)
{
	return get_order(VTDP_PDIR_ENTRIES(v->pdts) * sizeof(u64));
}

static void vtdp_pasid_enable(struct v3_dma_device *v)
{
	int pos = pci_find_ext_capability(v->pdev, PCI_EXT_CAP_ID_PASID);

	if (!pos)
		return;
	if (!pci_enable_pasid(v->pdev, 0)) {
		v->pasid_enabled_by_api = true;
		return;
	}
	/*
	 * The PCI core refuses when it cannot prove TLP-prefix support on
	 * the path (typical for emulated root-bus endpoints); the IOMMU is
	 * on the same root bus, so set PASID Enable directly.
	 */
	pci_write_config_word(v->pdev, pos + PCI_PASID_CTRL,
			      PCI_PASID_CTRL_ENABLE);
	v->pasid_enabled_raw = true;
}

static void vtdp_pasid_disable(struct v3_dma_device *v)
{
	int pos = pci_find_ext_capability(v->pdev, PCI_EXT_CAP_ID_PASID);

	if (v->pasid_enabled_by_api)
		pci_disable_pasid(v->pdev);
	else if (v->pasid_enabled_raw && pos)
		pci_write_config_word(v->pdev, pos + PCI_PASID_CTRL, 0);
}

static void vtdp_device_free(struct v3_dma_device *v)
{
	unsigned int i;

	/* entry 0 is pasid_table0; the others were made for sub-devices */
	for (i = 1; v->pasid_dir && i < VTDP_PDIR_ENTRIES(v->pdts); i++)
		if (v->pasid_dir[i] & VTDP_PDIR_P) {
			free_page((unsigned long)phys_to_virt(v->pasid_dir[i] &
							      VTDP_ADDR_MASK));
			vtdp_live_add(table_pages, -1);
		}
	if (v->pasid_table0) {
		free_page((unsigned long)v->pasid_table0);
		vtdp_live_add(table_pages, -1);
	}
	if (v->pasid_dir) {
		free_pages((unsigned long)v->pasid_dir, vtdp_pdir_order(v));
		vtdp_live_add(table_pages, -(1L << vtdp_pdir_order(v)));
	}
	kfree(v);
	vtdp_live_add(devices, -1);
}

/* Give @v's function back to the Linux IOMMU core, if it was taken. */
static void vtdp_release_dma_owner(struct v3_dma_device *v)
{
	struct iommu_group *group;

	if (!v->dma_owner_claimed)
		return;
	v->dma_owner_claimed = false;
	/* gone when the function was removed while V3 held it */
	group = iommu_group_get(&v->pdev->dev);
	if (!group)
		return;
	iommu_device_release_dma_owner(&v->pdev->dev);
	iommu_group_put(group);
}

static v3_status_t vtdp_create_device(struct pci_dev *pdev,
				      const struct v3_device_creation_config *cfg,
				      struct v3_dma_device **out)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_dma_device_information info;
	struct vtdp_context_entry *ce;
	struct v3_dma_device *v, *o;
	v3_status_t st;

	might_sleep();
	if (out)
		*out = NULL;
	if (!pdev)
		return V3_STATUS_INVALID_PARAMETER;
	if (!iommu || pdev == iommu->pdev || !vtdp_behind(iommu, pdev))
		return V3_STATUS_NOT_FOUND;
	st = vtdp_parse_config(iommu, pdev, cfg, &info);
	if (st)
		return st;
	if (!out)
		return V3_STATUS_INVALID_PARAMETER_3;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	vtdp_live_add(devices, 1);
	v->iommu = iommu;
	v->pdev = pdev;
	v->sid = PCI_DEVID(pdev->bus->number, pdev->devfn);
	v->info = info;
	spin_lock_init(&v->fault_lock);
	init_waitqueue_head(&v->fault_wq);
	mutex_init(&v->cb_mutex);
	init_waitqueue_head(&v->cb_wq);
	if (info.pasid_tagged_dma_enabled)
		v->pasid_max = vtdp_pasid_max(iommu, pdev);
	/* up to 128 KiB for 2^20 PASIDs; the hardware wants it contiguous */
	v->pdts = vtdp_pdts_for(v->pasid_max);
	v->pasid_dir = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
						vtdp_pdir_order(v));
	v->pasid_table0 = (void *)get_zeroed_page(GFP_KERNEL);
	if (v->pasid_dir)
		vtdp_live_add(table_pages, 1L << vtdp_pdir_order(v));
	if (v->pasid_table0)
		vtdp_live_add(table_pages, 1);
	if (!v->pasid_dir || !v->pasid_table0) {
		vtdp_device_free(v);
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	}
	/* PASIDs 0..63: RID_PASID entry stays not present until attach */
	vtdp_flush_table(iommu, v->pasid_table0, PAGE_SIZE);
	v->pasid_dir[0] = virt_to_phys(v->pasid_table0) | VTDP_PDIR_P;
	vtdp_flush_table(iommu, v->pasid_dir,
			 VTDP_PDIR_ENTRIES(v->pdts) * sizeof(u64));

	/*
	 * V3 and the Linux IOMMU core never both own a function: take it
	 * from the core first (which attaches its blocked domain, so the
	 * core's context entry is gone before ours is written).  Outside
	 * iommu->lock: the core's attach takes it.
	 */
	if (vtdp_core_owns(iommu, pdev)) {
		int ret = iommu_device_claim_dma_owner(&pdev->dev, iommu);

		if (ret) {
			dev_info(&iommu->pdev->dev,
				 "CreateDevice %s: the Linux IOMMU core's DMA API is in use (%d)\n",
				 pci_name(pdev), ret);
			vtdp_device_free(v);
			return V3_STATUS_RESOURCE_IN_USE;
		}
		v->dma_owner_claimed = true;
	}

	mutex_lock(&iommu->lock);
	list_for_each_entry(o, &iommu->devices, link) {
		if (o->pdev == pdev) {
			st = V3_STATUS_RESOURCE_IN_USE;
			goto err_unlock;
		}
	}
	ce = vtdp_context_entry(iommu, pdev->bus->number, pdev->devfn, true);
	if (!ce) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto err_unlock;
	}
	if (!try_module_get(THIS_MODULE)) {
		st = V3_STATUS_NOT_FOUND;
		goto err_unlock;
	}

	if (info.pasid_tagged_dma_enabled)
		vtdp_pasid_enable(v);

	vtdp_context_set(iommu, ce, v->pasid_dir, v->pdts,
			 info.pasid_tagged_dma_enabled);
	if (vtdp_inv_context_device(iommu, v->sid) ||
	    vtdp_inv_pasid_cache_global(iommu))
		dev_warn(&iommu->pdev->dev,
			 "%s: invalidation after context setup failed\n",
			 pci_name(pdev));
	/* a function bound before load had a pass-through context: now ours */
	vtdp_core_drop_passthrough(iommu, v->sid);

	pci_dev_get(pdev);
	list_add_tail(&v->link, &iommu->devices);
	mutex_unlock(&iommu->lock);
	*out = v;
	return V3_STATUS_SUCCESS;

err_unlock:
	mutex_unlock(&iommu->lock);
	vtdp_release_dma_owner(v);
	vtdp_device_free(v);
	return st;
}

static v3_status_t vtdp_delete_device(struct v3_dma_device *dev)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct vtdp_context_entry *ce;
	struct v3_dma_device *v;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	v = vtdp_find_device(iommu, dev);
	if (!v) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_1;
	}
	/* no implicit detach: sub-devices and the callback go first (§3.2) */
	if (v->domain || v->npasid || v->cb_registered) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_RESOURCE_IN_USE;
	}
	ce = vtdp_context_entry(iommu, v->pdev->bus->number, v->pdev->devfn,
				false);
	if (ce)
		vtdp_context_clear(iommu, ce);
	if (vtdp_inv_context_device(iommu, v->sid) ||
	    vtdp_inv_pasid_cache_global(iommu))
		dev_err(&iommu->pdev->dev,
			"%s: invalidation after context teardown failed\n",
			pci_name(v->pdev));
	list_del(&v->link);
	mutex_unlock(&iommu->lock);

	wait_event(v->fault_wq, vtdp_fault_idle(v));
	wait_event(v->cb_wq, vtdp_device_unpinned(v));
	vtdp_pasid_disable(v);
	/* the core attaches its default domain again */
	vtdp_release_dma_owner(v);
	pci_dev_put(v->pdev);
	vtdp_device_free(v);
	module_put(THIS_MODULE);
	return V3_STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                 */

static void vtdp_query_available_domain_types(struct v3_dma_device *dev,
					      u32 *available)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	u32 mask = 0;

	might_sleep();
	if (!available)
		return;
	if (iommu) {
		mutex_lock(&iommu->lock);
		if (vtdp_find_device(iommu, dev))
			mask = vtdp_domain_types(iommu);
		mutex_unlock(&iommu->lock);
	}
	*available = mask;
}

static v3_status_t
vtdp_query_device_info(struct v3_dma_device *dev, u32 size, u32 *written,
		       struct v3_dma_device_information *info)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_dma_device *v;
	v3_status_t st = V3_STATUS_SUCCESS;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	v = vtdp_find_device(iommu, dev);
	if (!v)
		st = V3_STATUS_INVALID_PARAMETER_1;
	else if (!written)
		st = V3_STATUS_INVALID_PARAMETER_3;
	else if (size < sizeof(*info))
		st = V3_STATUS_BUFFER_TOO_SMALL;
	else if (!info)
		st = V3_STATUS_INVALID_PARAMETER_4;
	if (written)
		*written = 0;
	if (!st) {
		*info = v->info;
		*written = sizeof(*info);
	}
	mutex_unlock(&iommu->lock);
	return st;
}

static v3_status_t
vtdp_query_input_mappings(struct pci_dev *pdev,
			  struct v3_input_mapping_element *buf,
			  u32 buf_bytes, u32 *ret_bytes)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();

	might_sleep();
	if (ret_bytes)
		*ret_bytes = 0;
	/* Faithful x86 behaviour (spec §5.7): ARM64 only. */
	if (!READ_ONCE(input_mappings_rid))
		return V3_STATUS_UNSUCCESSFUL;

	/*
	 * The flagged extension of §5.7: one element, the requester id.
	 * Lengths are in bytes; BUFFER_TOO_SMALL reports the size needed.
	 */
	if (!pdev)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!iommu || pdev == iommu->pdev || !vtdp_behind(iommu, pdev))
		return V3_STATUS_UNSUCCESSFUL;
	if (buf_bytes < sizeof(*buf)) {
		if (ret_bytes)
			*ret_bytes = sizeof(*buf);
		return V3_STATUS_BUFFER_TOO_SMALL;
	}
	if (!buf)
		return V3_STATUS_INVALID_PARAMETER_2;
	buf->input_mapping_id = PCI_DEVID(pdev->bus->number, pdev->devfn);
	if (ret_bytes)
		*ret_bytes = sizeof(*buf);
	return V3_STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Logical-address tokens (spec §5.17 - §5.20)                             */

static struct vtdp_token *vtdp_find_token(struct vtdp_iommu *iommu,
					  const struct v3_la_token *token)
{
	struct vtdp_token *t;

	lockdep_assert_held(&iommu->token_lock);
	if (!token)
		return NULL;
	t = container_of(token, struct vtdp_token, pub);
	return vtdp_on_list(&iommu->tokens, &t->link) ? t : NULL;
}

static void vtdp_token_free(struct vtdp_token *t)
{
	bitmap_free(t->mapped);
	bitmap_free(t->seg_start);
	kfree(t);
	vtdp_live_add(tokens, -1);
}

static v3_status_t
vtdp_reserve_logical_address_range(struct v3_domain *domain, u64 size,
				   const u64 *explicit_la, const u64 *min_la,
				   const u64 *max_la, struct v3_la_token **out)
{
	struct vtdp_extent *ext = NULL;
	struct vtdp_token *t = NULL;
	struct v3_domain *d;
	u64 npages, first, span, i;
	unsigned long flags;
	v3_status_t st;

	might_sleep();
	if (out)
		*out = NULL;
	d = vtdp_domain_lock(domain);
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!vtdp_is_translate(d)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (!size || size & (VTDP_PAGE_SIZE - 1)) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	npages = size >> VTDP_PAGE_SHIFT;
	if (!out) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	st = vtdp_place(d, npages, explicit_la, min_la, max_la,
			V3_STATUS_INVALID_PARAMETER_3, &first, &span);
	if (st)
		goto out;
	if (vtdp_overlaps(d, first, first + span - 1)) {
		st = V3_STATUS_IN_USE;
		goto out;
	}
	st = V3_STATUS_INSUFFICIENT_RESOURCES;
	if (npages > VTDP_TOKEN_MAX_PAGES)
		goto out;
	ext = vtdp_extent_alloc();
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (t)
		vtdp_live_add(tokens, 1);
	if (!ext || !t)
		goto out_free;
	t->mapped = bitmap_zalloc(npages, GFP_KERNEL);
	t->seg_start = bitmap_zalloc(npages, GFP_KERNEL);
	if (!t->mapped || !t->seg_start)
		goto out_free;

	/*
	 * The promise of a token: every table level down to the leaf tables
	 * exists, so MapReserved never allocates.  One walk per leaf table.
	 * Tables built before a failure stay; they are freed with the domain.
	 */
	for (i = 0; i < npages; i = ((first + i) | (VTDP_LEVEL_ENTRIES - 1)) + 1 - first)
		if (!vtdp_pte(d, (first + i) << VTDP_PAGE_SHIFT, true))
			goto out_free;

	ext->node.start = first;
	ext->node.last = first + span - 1;
	ext->kind = VTDP_EXTENT_TOKEN;
	ext->npages = npages;
	interval_tree_insert(&ext->node, &d->extents);
	t->pub.logical_address_base = first << VTDP_PAGE_SHIFT;
	t->pub.size = size;
	t->domain = d;
	t->npages = npages;
	d->ntokens++;
	spin_lock_irqsave(&d->iommu->token_lock, flags);
	list_add_tail(&t->link, &d->iommu->tokens);
	spin_unlock_irqrestore(&d->iommu->token_lock, flags);
	*out = &t->pub;
	st = V3_STATUS_SUCCESS;
	goto out;

out_free:
	if (t)
		vtdp_token_free(t);
	vtdp_extent_free(ext);
out:
	mutex_unlock(&d->mutex);
	return st;
}

/*
 * First half of FreeReserved: validate @token and mark it "being freed",
 * after which a racing MapReserved gets STATUS_UNSUCCESSFUL (§5.18).
 */
static v3_status_t vtdp_token_begin_free(struct vtdp_iommu *iommu,
					 struct v3_la_token *token,
					 struct vtdp_token **out)
{
	v3_status_t st = V3_STATUS_SUCCESS;
	struct vtdp_token *t;
	unsigned long flags;

	spin_lock_irqsave(&iommu->token_lock, flags);
	t = vtdp_find_token(iommu, token);
	if (!t || t->freeing)
		st = V3_STATUS_INVALID_PARAMETER_1;
	else if (t->nsegs)
		st = V3_STATUS_RESOURCE_IN_USE;
	else
		t->freeing = true;
	spin_unlock_irqrestore(&iommu->token_lock, flags);
	*out = t;
	return st;
}

/* Second half: give the range back and free the token. */
static void vtdp_token_finish_free(struct vtdp_iommu *iommu,
				   struct vtdp_token *t)
{
	struct interval_tree_node *n;
	struct v3_domain *d = t->domain;
	unsigned long flags;
	u64 first = t->pub.logical_address_base >> VTDP_PAGE_SHIFT;

	/*
	 * The domain outlives its tokens (DeleteDomain refuses while any is
	 * live).  The pre-built tables are kept for the domain's lifetime:
	 * upper levels are shared with neighbours, and all leaves are clear.
	 */
	mutex_lock(&d->mutex);
	n = interval_tree_iter_first(&d->extents, first, first);
	if (!WARN_ON_ONCE(!n)) {
		interval_tree_remove(n, &d->extents);
		vtdp_extent_free(container_of(n, struct vtdp_extent, node));
	}
	vtdp_alloc_freed(d, first);
	d->ntokens--;
	mutex_unlock(&d->mutex);

	spin_lock_irqsave(&iommu->token_lock, flags);
	list_del(&t->link);
	spin_unlock_irqrestore(&iommu->token_lock, flags);
	vtdp_token_free(t);
}

static v3_status_t
vtdp_free_reserved_logical_address_range(struct v3_la_token *token)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct vtdp_token *t;
	v3_status_t st;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	st = vtdp_token_begin_free(iommu, token, &t);
	if (!st)
		vtdp_token_finish_free(iommu, t);
	return st;
}

/*
 * Context of the two fast-path calls below: any, including atomic (spec
 * §1.3).  They take only spinlocks, allocate nothing, and invalidate
 * through the polled queue; the unit pointer is read without the unit
 * mutex because a live token pins its domain and so the unit.
 */
static v3_status_t
vtdp_map_reserved_logical_range(struct v3_la_token *token, u64 offset,
				u32 perms, const struct v3_map_phys *phys,
				struct v3_mapped_segment *out)
{
	struct vtdp_iommu *iommu = READ_ONCE(vtdp_unit);
	v3_status_t st = V3_STATUS_SUCCESS;
	u64 npages, p0, i, la, bits, *pte;
	struct vtdp_token *t;
	struct v3_domain *d;
	unsigned long flags;

	if (!iommu || !token)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (offset & (VTDP_PAGE_SIZE - 1))
		return V3_STATUS_INVALID_PARAMETER_2;
	if (!perms || perms & ~(V3_ACCESS_READ | V3_ACCESS_WRITE))
		return V3_STATUS_INVALID_PARAMETER_3;
	npages = vtdp_phys_pages(phys, NULL);
	if (!npages)
		return V3_STATUS_INVALID_PARAMETER_4;
	if (!out)
		return V3_STATUS_INVALID_PARAMETER;

	spin_lock_irqsave(&iommu->token_lock, flags);
	t = vtdp_find_token(iommu, token);
	if (!t) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto unlock;
	}
	if (offset >= t->pub.size) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto unlock;
	}
	p0 = offset >> VTDP_PAGE_SHIFT;
	if (npages > t->npages - p0) {
		st = V3_STATUS_INVALID_PARAMETER_4;
		goto unlock;
	}
	if (t->freeing) {
		st = V3_STATUS_UNSUCCESSFUL;
		goto unlock;
	}
	if (find_next_bit(t->mapped, p0 + npages, p0) < p0 + npages) {
		st = V3_STATUS_RESOURCE_IN_USE;
		goto unlock;
	}
	d = t->domain;
	la = t->pub.logical_address_base + offset;
	bits = vtdp_leaf_bits(d, perms);
	for (i = 0; i < npages; i++) {
		pte = vtdp_pte(d, la + (i << VTDP_PAGE_SHIFT), false);
		if (WARN_ON_ONCE(!pte)) {	/* Reserve built them all */
			vtdp_clear_leaves(d, la, i);
			st = V3_STATUS_UNSUCCESSFUL;
			goto unlock;
		}
		WRITE_ONCE(*pte, (vtdp_phys_page(phys, i) & VTDP_SS_ADDR_MASK) |
				 bits);
		vtdp_flush_table(iommu, pte, sizeof(*pte));
	}
	bitmap_set(t->mapped, p0, npages);
	__set_bit(p0, t->seg_start);
	t->nsegs++;
	if (iommu->cap & VTDP_CAP_CM)
		vtdp_domain_inv_range(d, la, npages);
	out->owning_token = token;
	out->offset = offset;
	out->size = npages << VTDP_PAGE_SHIFT;
unlock:
	spin_unlock_irqrestore(&iommu->token_lock, flags);
	return st;
}

static v3_status_t
vtdp_unmap_reserved_logical_range(struct v3_mapped_segment *seg)
{
	struct vtdp_iommu *iommu = READ_ONCE(vtdp_unit);
	v3_status_t st = V3_STATUS_SUCCESS;
	struct vtdp_token *t;
	unsigned long flags;
	u64 p0, n, la;

	if (!iommu || !seg)
		return V3_STATUS_INVALID_PARAMETER;
	spin_lock_irqsave(&iommu->token_lock, flags);
	t = vtdp_find_token(iommu, seg->owning_token);
	if (!t || seg->offset & (VTDP_PAGE_SIZE - 1) || !seg->size ||
	    seg->size & (VTDP_PAGE_SIZE - 1) || seg->offset >= t->pub.size ||
	    (seg->size >> VTDP_PAGE_SHIFT) >
	    t->npages - (seg->offset >> VTDP_PAGE_SHIFT)) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto unlock;
	}
	p0 = seg->offset >> VTDP_PAGE_SHIFT;
	n = seg->size >> VTDP_PAGE_SHIFT;
	/* exactly one live segment: starts at p0, fully mapped, ends at p0+n */
	if (!test_bit(p0, t->seg_start) ||
	    find_next_zero_bit(t->mapped, p0 + n, p0) < p0 + n ||
	    find_next_bit(t->seg_start, p0 + n, p0 + 1) < p0 + n ||
	    (p0 + n < t->npages && test_bit(p0 + n, t->mapped) &&
	     !test_bit(p0 + n, t->seg_start))) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto unlock;
	}
	la = t->pub.logical_address_base + seg->offset;
	/* leaves only: the tables stay for the next MapReserved (§5.20) */
	vtdp_clear_leaves(t->domain, la, n);
	bitmap_clear(t->mapped, p0, n);
	__clear_bit(p0, t->seg_start);
	t->nsegs--;
	if (vtdp_domain_inv_range(t->domain, la, n)) {
		dev_err_ratelimited(&iommu->pdev->dev,
				    "unmap reserved %#llx+%llu pages: IOTLB invalidation failed\n",
				    la, n);
		st = V3_STATUS_UNSUCCESSFUL;
	}
	seg->owning_token = NULL;
	seg->size = 0;
unlock:
	spin_unlock_irqrestore(&iommu->token_lock, flags);
	return st;
}

/* ---------------------------------------------------------------------- */
/* State-change callbacks (spec §5.15, §5.16, §6.4)                        */

/*
 * Call @v's callback if it is registered and (unless @initial) a
 * subscribed field changed.  v->cb_mutex held: calls are serialised per
 * device and Unregister waits for them; no other lock of ours is held.
 */
static void vtdp_call_state_change(struct v3_dma_device *v, bool initial)
{
	struct vtdp_iommu *iommu = v->iommu;
	struct v3_state_change change = {};
	v3_state_change_cb_t cb;
	void *ctx;
	u32 fields, types;

	lockdep_assert_held(&v->cb_mutex);
	mutex_lock(&iommu->lock);
	cb = v->cb_registered ? v->cb : NULL;
	ctx = v->cb_context;
	fields = v->cb_fields;
	types = vtdp_domain_types(iommu);
	mutex_unlock(&iommu->lock);
	if (!cb)
		return;
	change.available_domain_types = types;
	if (initial)
		change.present_fields.as_u32 = fields;
	else if (types != v->cb_last_types)
		change.present_fields.available_domain_types = 1;
	change.present_fields.as_u32 &= fields;
	v->cb_last_types = types;
	if (change.present_fields.as_u32)
		cb(&change, ctx);
}

static v3_status_t
vtdp_register_state_change_cb(v3_state_change_cb_t cb, void *context,
			      struct v3_dma_device *dev,
			      const union v3_state_change_fields *fields)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	union v3_state_change_fields valid = { .available_domain_types = 1 };
	v3_status_t st = V3_STATUS_SUCCESS;
	struct v3_dma_device *v;

	might_sleep();
	if (!cb)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_3;
	mutex_lock(&iommu->lock);
	v = vtdp_find_device(iommu, dev);
	if (!v) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_3;
	}
	if (!fields || !fields->as_u32 || fields->as_u32 & ~valid.as_u32) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_4;
	}
	vtdp_device_pin(v);
	mutex_unlock(&iommu->lock);

	mutex_lock(&v->cb_mutex);
	mutex_lock(&iommu->lock);
	if (v->cb_registered) {
		st = V3_STATUS_UNSUCCESSFUL;
	} else {
		v->cb_registered = true;
		v->cb = cb;
		v->cb_context = context;
		v->cb_fields = fields->as_u32;
	}
	mutex_unlock(&iommu->lock);
	/* the immediate call, before Register returns (spec §5.15) */
	if (!st)
		vtdp_call_state_change(v, true);
	mutex_unlock(&v->cb_mutex);
	vtdp_device_unpin(v);
	return st;
}

static v3_status_t vtdp_unregister_state_change_cb(v3_state_change_cb_t cb,
						   struct v3_dma_device *dev)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	v3_status_t st = V3_STATUS_SUCCESS;
	struct v3_dma_device *v;

	might_sleep();
	if (!cb)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_2;
	mutex_lock(&iommu->lock);
	v = vtdp_find_device(iommu, dev);
	if (!v) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_2;
	}
	vtdp_device_pin(v);
	mutex_unlock(&iommu->lock);

	/* waits for a call in flight; none starts after we clear it */
	mutex_lock(&v->cb_mutex);
	mutex_lock(&iommu->lock);
	if (!v->cb_registered || v->cb != cb) {
		st = V3_STATUS_UNSUCCESSFUL;
	} else {
		v->cb_registered = false;
		v->cb = NULL;
		v->cb_context = NULL;
	}
	mutex_unlock(&iommu->lock);
	mutex_unlock(&v->cb_mutex);
	vtdp_device_unpin(v);
	return st;
}

/*
 * The policy changed: tell every registered device whose available domain
 * types changed.  No lock of ours is held while a callback runs, so it may
 * call V3 functions (other than Register/Unregister for its own device).
 */
static void vtdp_notify_state_change(void)
{
	struct v3_dma_device **list = NULL, *v;
	struct vtdp_iommu *iommu;
	unsigned int n = 0, i;

	mutex_lock(&vtdp_notify_lock);
	iommu = vtdp_get_unit();
	if (!iommu)
		goto out;
	mutex_lock(&iommu->lock);
	list_for_each_entry(v, &iommu->devices, link)
		n += v->cb_registered;
	list = n ? kcalloc(n, sizeof(*list), GFP_KERNEL) : NULL;
	if (n && !list) {
		dev_err(&iommu->pdev->dev,
			"no memory to notify %u state-change callbacks\n", n);
		n = 0;
	}
	i = 0;
	list_for_each_entry(v, &iommu->devices, link) {
		if (i < n && v->cb_registered) {
			vtdp_device_pin(v);
			list[i++] = v;
		}
	}
	mutex_unlock(&iommu->lock);
	for (n = i, i = 0; i < n; i++) {
		mutex_lock(&list[i]->cb_mutex);
		vtdp_call_state_change(list[i], false);
		mutex_unlock(&list[i]->cb_mutex);
		vtdp_device_unpin(list[i]);
	}
	kfree(list);
out:
	mutex_unlock(&vtdp_notify_lock);
}

/* ---------------------------------------------------------------------- */
/* PASID sub-devices (spec §5.23 - §5.26)                                  */

static struct v3_pasid_device *vtdp_find_pasid_device(struct vtdp_iommu *iommu,
						      struct v3_pasid_device *pd)
{
	lockdep_assert_held(&iommu->lock);
	return pd && vtdp_on_list(&iommu->pasid_devices, &pd->link) ? pd : NULL;
}

/*
 * The PASID-table entry of @pasid in @v's tables, allocating the table
 * (64 entries) when @alloc.  iommu->lock held.
 */
static struct vtdp_pasid_entry *vtdp_pasid_entry(struct v3_dma_device *v,
						 u32 pasid, bool alloc)
{
	u64 *de = &v->pasid_dir[VTDP_PASID_DIR_INDEX(pasid)];
	struct vtdp_pasid_entry *tbl;

	lockdep_assert_held(&v->iommu->lock);
	if (!(*de & VTDP_PDIR_P)) {
		if (!alloc)
			return NULL;
		tbl = (void *)get_zeroed_page(GFP_KERNEL);
		if (!tbl)
			return NULL;
		vtdp_live_add(table_pages, 1);
		vtdp_flush_table(v->iommu, tbl, PAGE_SIZE);
		WRITE_ONCE(*de, virt_to_phys(tbl) | VTDP_PDIR_P);
		vtdp_flush_table(v->iommu, de, sizeof(*de));
	}
	tbl = phys_to_virt(*de & VTDP_ADDR_MASK);
	return &tbl[VTDP_PASID_TBL_INDEX(pasid)];
}

static v3_status_t vtdp_create_pasid_device(struct v3_dma_device *dev,
					    struct v3_pasid_device **out,
					    u32 *pasid)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_pasid_device *p;
	struct v3_dma_device *v;
	v3_status_t st;
	int id;

	might_sleep();
	if (out)
		*out = NULL;
	if (pasid)
		*pasid = 0;
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	v = vtdp_find_device(iommu, dev);
	if (!v || !v->info.pasid_tagged_dma_enabled || !v->pasid_max) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (!out) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	if (!pasid) {
		st = V3_STATUS_INVALID_PARAMETER_3;
		goto out;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	vtdp_live_add(pasid_devices, 1);
	/* PASID 0 is the default (RID_PASID) and never handed out */
	id = ida_alloc_range(&iommu->pasid_ida, 1, v->pasid_max, GFP_KERNEL);
	if (id < 0) {
		kfree(p);
		vtdp_live_add(pasid_devices, -1);
		st = id == -ENOSPC ? V3_STATUS_NONE_MAPPED :
				     V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	/* the entry's table now, so that attach cannot fail for memory */
	if (!vtdp_pasid_entry(v, id, true)) {
		ida_free(&iommu->pasid_ida, id);
		kfree(p);
		vtdp_live_add(pasid_devices, -1);
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	p->parent = v;
	p->pasid = id;
	v->npasid++;
	list_add_tail(&p->link, &iommu->pasid_devices);
	*out = p;
	*pasid = id;
	st = V3_STATUS_SUCCESS;
out:
	mutex_unlock(&iommu->lock);
	return st;
}

static v3_status_t vtdp_delete_pasid_device(struct v3_pasid_device *pdev)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_pasid_device *p;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	p = vtdp_find_pasid_device(iommu, pdev);
	if (!p) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_1;
	}
	if (p->domain) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_RESOURCE_IN_USE;
	}
	/* detach cleared and invalidated the entry: the PASID is reusable */
	list_del(&p->link);
	p->parent->npasid--;
	ida_free(&iommu->pasid_ida, p->pasid);
	mutex_unlock(&iommu->lock);
	kfree(p);
	vtdp_live_add(pasid_devices, -1);
	return V3_STATUS_SUCCESS;
}

static v3_status_t vtdp_attach_pasid_device(struct v3_domain *domain,
					    struct v3_pasid_device *pdev)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	v3_status_t st = V3_STATUS_SUCCESS;
	struct vtdp_pasid_entry val, *pe;
	struct v3_pasid_device *p;
	struct v3_domain *d;
	unsigned long flags;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	d = vtdp_find_domain(iommu, domain);
	p = vtdp_find_pasid_device(iommu, pdev);
	/* Unmanaged (and unknown) domains: permanently incompatible */
	if (!d || vtdp_pasid_entry_for(d, &val)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	if (!p) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	if (p->domain) {
		st = V3_STATUS_UNSUCCESSFUL;
		goto out;
	}
	if (!(vtdp_domain_types(iommu) & BIT(d->type))) {
		st = V3_STATUS_ACCESS_DENIED;
		goto out;
	}
	/* SuppressPasidFaults: FPD in the sub-devices' entries only (§4.17) */
	if (p->parent->info.pasid_faults_suppressed)
		val.val[0] |= VTDP_PE0_FPD;
	pe = vtdp_pasid_entry(p->parent, p->pasid, false);
	if (WARN_ON_ONCE(!pe)) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	vtdp_write_pasid_entry(iommu, pe, &val);
	if (vtdp_inv_domain_pasid(d, p->pasid)) {
		vtdp_clear_pasid_entry(iommu, pe);
		vtdp_inv_domain_pasid(d, p->pasid);
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	p->domain = d;
	d->attached++;
	spin_lock_irqsave(&d->pasid_lock, flags);
	list_add_tail(&p->dom_link, &d->pasids);
	spin_unlock_irqrestore(&d->pasid_lock, flags);
out:
	mutex_unlock(&iommu->lock);
	return st;
}

static v3_status_t vtdp_detach_pasid_device(struct v3_pasid_device *pdev)
{
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_pasid_device *p;
	struct vtdp_pasid_entry *pe;
	unsigned long flags;

	might_sleep();
	if (!iommu)
		return V3_STATUS_INVALID_PARAMETER_1;
	mutex_lock(&iommu->lock);
	p = vtdp_find_pasid_device(iommu, pdev);
	if (!p || !p->domain) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_INVALID_PARAMETER_1;
	}
	pe = vtdp_pasid_entry(p->parent, p->pasid, false);
	if (pe)
		vtdp_clear_pasid_entry(iommu, pe);
	spin_lock_irqsave(&p->domain->pasid_lock, flags);
	list_del(&p->dom_link);
	spin_unlock_irqrestore(&p->domain->pasid_lock, flags);
	if (vtdp_inv_domain_pasid(p->domain, p->pasid))
		dev_err(&iommu->pdev->dev,
			"detach of PASID %u: invalidation failed, stale translations may survive\n",
			p->pasid);
	p->domain->attached--;
	p->domain = NULL;
	mutex_unlock(&iommu->lock);
	return V3_STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* ConfigureDomain (spec §5.13)                                            */

static v3_status_t
vtdp_configure_domain(struct v3_domain *domain,
		      const struct v3_domain_configuration *cfg)
{
	struct v3_domain *d = vtdp_domain_lock(domain);
	v3_status_t st;

	might_sleep();
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (d->type != V3_DOMAIN_TYPE_UNMANAGED)
		st = V3_STATUS_INVALID_PARAMETER_1;
	else if (!cfg || cfg->type >= V3_DOMAIN_CONFIG_INVALID)
		st = V3_STATUS_INVALID_PARAMETER_2;
	else
		/*
		 * X64 is reserved for the system [Doc]; Arm64 tables cannot be
		 * walked by a VT-d unit.  The faithful x86 answer for both.
		 */
		st = V3_STATUS_NOT_SUPPORTED;
	mutex_unlock(&d->mutex);
	return st;
}

const struct v3_iommu_ops vtdp_v3_ops = {
	.create_domain_ex = vtdp_create_domain_ex,
	.delete_domain = vtdp_delete_domain,
	.attach_device_ex = vtdp_attach_device_ex,
	.detach_device_ex = vtdp_detach_device_ex,
	.flush_domain = vtdp_flush_domain,
	.flush_domain_by_va_list = vtdp_flush_domain_by_va_list,
	.query_input_mappings = vtdp_query_input_mappings,
	.map_logical_range_ex = vtdp_map_logical_range_ex,
	.unmap_logical_range = vtdp_unmap_logical_range,
	.map_identity_range_ex = vtdp_map_identity_range_ex,
	.unmap_identity_range_ex = vtdp_unmap_identity_range_ex,
	.set_device_fault_reporting_ex = vtdp_set_device_fault_reporting_ex,
	.configure_domain = vtdp_configure_domain,
	.query_available_domain_types = vtdp_query_available_domain_types,
	.register_state_change_cb = vtdp_register_state_change_cb,
	.unregister_state_change_cb = vtdp_unregister_state_change_cb,
	.reserve_logical_address_range = vtdp_reserve_logical_address_range,
	.free_reserved_logical_address_range =
		vtdp_free_reserved_logical_address_range,
	.map_reserved_logical_range = vtdp_map_reserved_logical_range,
	.unmap_reserved_logical_range = vtdp_unmap_reserved_logical_range,
	.create_device = vtdp_create_device,
	.delete_device = vtdp_delete_device,
	.create_pasid_device = vtdp_create_pasid_device,
	.delete_pasid_device = vtdp_delete_pasid_device,
	.attach_pasid_device = vtdp_attach_pasid_device,
	.detach_pasid_device = vtdp_detach_pasid_device,
	.query_device_info = vtdp_query_device_info,
};

/* ---------------------------------------------------------------------- */
/* In-kernel self-test                                                     */

/**
 * vtdp_v3_selftest() - check states no caller can reach on purpose
 * @m: receives one "ok - ..." or "not ok - ..." line per check
 *
 * A MapReservedLogicalRange racing FreeReservedLogicalAddressRange must
 * get STATUS_UNSUCCESSFUL (§5.19), but the window is a few instructions
 * wide.  This holds a token between the two halves of FreeReserved (the
 * same helpers the real call uses) and makes the calls there.
 * Context: process context (debugfs read).
 * Return: 0.
 */
int vtdp_v3_selftest(struct seq_file *m)
{
	const struct v3_iommu_ops *ops = &vtdp_v3_ops;
	struct v3_map_phys phys = { .type = V3_MAP_PHYS_CONTIGUOUS };
	union v3_domain_creation_flags noflags = {};
	struct vtdp_iommu *iommu = vtdp_get_unit();
	struct v3_mapped_segment seg = {};
	struct v3_la_token *tok = NULL;
	struct v3_domain *d = NULL;
	struct page *pg = NULL;
	struct vtdp_token *t;
	u64 la = 0x100000;
	v3_status_t st;

	if (!iommu) {
		seq_puts(m, "not ok - selftest: no vtdp-iommu\n");
		return 0;
	}
	pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!pg ||
	    ops->create_domain_ex(V3_DOMAIN_TYPE_TRANSLATE, noflags, NULL, NULL, &d) ||
	    ops->reserve_logical_address_range(d, VTDP_PAGE_SIZE, &la, NULL, NULL,
					       &tok)) {
		seq_puts(m, "not ok - selftest: set-up\n");
		goto out;
	}
	phys.contiguous.base = page_to_phys(pg);
	phys.contiguous.size = VTDP_PAGE_SIZE;

	st = vtdp_token_begin_free(iommu, tok, &t);
	if (st) {
		seq_printf(m, "not ok - selftest: begin free -> %s\n",
			   v3_status_name(st));
		goto out;
	}
	st = ops->map_reserved_logical_range(tok, 0, V3_ACCESS_READ, &phys, &seg);
	seq_printf(m, "%sok - MapReservedLogicalRange: token being freed -> UNSUCCESSFUL (got %s)\n",
		   st == V3_STATUS_UNSUCCESSFUL ? "" : "not ", v3_status_name(st));
	if (V3_SUCCESS(st))
		ops->unmap_reserved_logical_range(&seg);
	st = ops->free_reserved_logical_address_range(tok);
	seq_printf(m, "%sok - FreeReservedLogicalAddressRange: token already being freed -> INVALID_PARAMETER_1 (got %s)\n",
		   st == V3_STATUS_INVALID_PARAMETER_1 ? "" : "not ",
		   v3_status_name(st));
	vtdp_token_finish_free(iommu, t);
	tok = NULL;
out:
	if (tok)
		ops->free_reserved_logical_address_range(tok);
	if (d)
		ops->delete_domain(d);
	if (pg)
		__free_page(pg);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Unit registration and teardown                                          */

/**
 * vtdp_v3_register() - make @iommu the unit behind the V3 interface
 * @iommu: a fully initialised unit
 *
 * Return: 0, or -EBUSY if another unit is registered (one unit for now).
 */
int vtdp_v3_register(struct vtdp_iommu *iommu)
{
	int ret = 0;

	mutex_lock(&vtdp_unit_lock);
	if (vtdp_unit) {
		dev_err(&iommu->pdev->dev,
			"only one vtdp-iommu is supported; %s is in use\n",
			pci_name(vtdp_unit->pdev));
		ret = -EBUSY;
	} else {
		vtdp_unit = iommu;
	}
	mutex_unlock(&vtdp_unit_lock);
	return ret;
}

/** vtdp_v3_current_unit() - the unit behind the V3 interface, or NULL */
struct vtdp_iommu *vtdp_v3_current_unit(void)
{
	return vtdp_get_unit();
}

/** vtdp_v3_unregister() - stop offering @iommu to new V3 calls */
void vtdp_v3_unregister(struct vtdp_iommu *iommu)
{
	/* after a state-change notification in progress */
	mutex_lock(&vtdp_notify_lock);
	mutex_lock(&vtdp_unit_lock);
	if (vtdp_unit == iommu)
		vtdp_unit = NULL;
	mutex_unlock(&vtdp_unit_lock);
	mutex_unlock(&vtdp_notify_lock);
}

/**
 * vtdp_v3_teardown() - free V3 objects still alive at removal
 * @iommu: the unit, translation already disabled
 *
 * Objects pin the module, so this only runs for a forced removal (e.g.
 * hot-unplug); their owners' handles become invalid.
 */
void vtdp_v3_teardown(struct vtdp_iommu *iommu)
{
	struct v3_dma_device *v, *vn;
	struct v3_domain *d, *dn;
	struct v3_pasid_device *p, *pn;
	struct vtdp_token *t, *tn;
	unsigned long flags;

	spin_lock_irqsave(&iommu->token_lock, flags);
	list_for_each_entry_safe(t, tn, &iommu->tokens, link) {
		list_del(&t->link);
		vtdp_token_free(t);
	}
	spin_unlock_irqrestore(&iommu->token_lock, flags);
	mutex_lock(&iommu->lock);
	list_for_each_entry_safe(p, pn, &iommu->pasid_devices, link) {
		list_del(&p->link);
		ida_free(&iommu->pasid_ida, p->pasid);
		kfree(p);
		vtdp_live_add(pasid_devices, -1);
	}
	list_for_each_entry_safe(v, vn, &iommu->devices, link) {
		dev_warn(&iommu->pdev->dev, "freeing live DMA device %s\n",
			 pci_name(v->pdev));
		list_del(&v->link);
		vtdp_pasid_disable(v);
		pci_dev_put(v->pdev);
		vtdp_device_free(v);
		module_put(THIS_MODULE);
	}
	list_for_each_entry_safe(d, dn, &iommu->domains, link) {
		dev_warn(&iommu->pdev->dev, "freeing live domain %u\n", d->did);
		list_del(&d->link);
		vtdp_domain_free(d);
		module_put(THIS_MODULE);
	}
	mutex_unlock(&iommu->lock);
}

/* ---------------------------------------------------------------------- */
/* Exported entry points                                                   */

/**
 * v3_iommu_get_interface() - obtain the V3 function table
 * @version: V3_IOMMU_INTERFACE_EX_VERSION_2 or _3
 * @flags: must be 0
 * @out: receives size, version and the ops table
 *
 * The analogue of IoGetIommuInterfaceEx() (spec §2.1).  The caller states
 * its DMA-remapping opt-in in @out->remapping_compatible (the registry
 * value DmaRemappingCompatible on Windows); only V3_REMAPPING_OPTED_IN
 * counts, since vtdp has neither external devices nor a DMA verifier.  On
 * success a reference on vtdp.ko is held until v3_iommu_put_interface().
 * Context: process context.
 * Return: V3_STATUS_SUCCESS; V3_STATUS_INVALID_PARAMETER_1 for a version
 * outside 2..3 (V1 is not a prefix of V3 and is not offered), _2 for
 * non-zero @flags, _3 for a NULL @out; V3_STATUS_NOT_SUPPORTED when no
 * vtdp-iommu is bound; V3_STATUS_ACCESS_DENIED without the opt-in.
 */
v3_status_t v3_iommu_get_interface(u32 version, u64 flags,
				   struct v3_iommu_interface_ex *out)
{
	v3_status_t st = V3_STATUS_SUCCESS;
	u32 opt_in;

	might_sleep();
	if (version < V3_IOMMU_INTERFACE_EX_VERSION_2 ||
	    version > V3_IOMMU_INTERFACE_EX_VERSION_MAX)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (flags)
		return V3_STATUS_INVALID_PARAMETER_2;
	if (!out)
		return V3_STATUS_INVALID_PARAMETER_3;
	opt_in = out->remapping_compatible;
	memset(out, 0, sizeof(*out));
	out->remapping_compatible = opt_in;

	mutex_lock(&vtdp_unit_lock);
	if (!vtdp_unit) {
		st = V3_STATUS_NOT_SUPPORTED;
	} else if (opt_in != V3_REMAPPING_OPTED_IN) {
		st = V3_STATUS_ACCESS_DENIED;
	} else if (!try_module_get(THIS_MODULE)) {
		st = V3_STATUS_NOT_SUPPORTED;
	} else {
		out->size = sizeof(*out);
		out->version = version;
		out->ops = &vtdp_v3_ops;
	}
	mutex_unlock(&vtdp_unit_lock);
	return st;
}
EXPORT_SYMBOL_GPL(v3_iommu_get_interface);

/**
 * v3_iommu_put_interface() - release an interface from v3_iommu_get_interface()
 * @ifc: the interface; its ops pointer is cleared
 *
 * Objects created through the interface keep their own module references,
 * so they may outlive the interface (they still must be deleted).
 * Context: any.
 */
void v3_iommu_put_interface(struct v3_iommu_interface_ex *ifc)
{
	if (!ifc || !ifc->ops)
		return;
	ifc->ops = NULL;
	module_put(THIS_MODULE);
}
EXPORT_SYMBOL_GPL(v3_iommu_put_interface);

/**
 * vtdp_v3_mapping_page_size() - the largest page that maps part of a range
 * @domain: a Translate or TranslateS1 domain
 * @la: logical address, 4 KiB aligned
 * @npages: 4 KiB pages from @la
 *
 * A vtdp extension (the V3 interface has no way to ask): tells a client
 * whether its mapping got large (2 MiB / 1 GiB) leaves.
 * Context: process context.
 * Return: bytes of the largest leaf mapping a page of the range, 0 when
 * none is mapped or @domain is not a live Translate(-S1) domain.
 */
u64 vtdp_v3_mapping_page_size(struct v3_domain *domain, u64 la, u64 npages)
{
	struct v3_domain *d = vtdp_domain_lock(domain);
	u64 i, max = 0;
	int level;

	if (!d)
		return 0;
	for (i = 0; d->pt.pgd && vtdp_is_translate(d) && i < npages; ) {
		u64 addr = la + (i << VTDP_PAGE_SHIFT), n;

		if (!vtdp_leaf(d, addr, &level)) {
			i++;
			continue;
		}
		n = VTDP_LEVEL_PAGES(level);
		max = max(max, n << VTDP_PAGE_SHIFT);
		i += n - ((addr >> VTDP_PAGE_SHIFT) & (n - 1));
		cond_resched();
	}
	mutex_unlock(&d->mutex);
	return max;
}
EXPORT_SYMBOL_GPL(vtdp_v3_mapping_page_size);

static const struct {
	v3_status_t status;
	int err;
	const char *name;
} vtdp_status_table[] = {
	{ V3_STATUS_SUCCESS, 0, "STATUS_SUCCESS" },
	{ V3_STATUS_UNSUCCESSFUL, -EIO, "STATUS_UNSUCCESSFUL" },
	{ V3_STATUS_NOT_IMPLEMENTED, -EOPNOTSUPP, "STATUS_NOT_IMPLEMENTED" },
	{ V3_STATUS_INVALID_PARAMETER, -EINVAL, "STATUS_INVALID_PARAMETER" },
	{ V3_STATUS_ACCESS_DENIED, -EACCES, "STATUS_ACCESS_DENIED" },
	{ V3_STATUS_BUFFER_TOO_SMALL, -ERANGE, "STATUS_BUFFER_TOO_SMALL" },
	{ V3_STATUS_INVALID_PARAMETER_MIX, -EINVAL,
	  "STATUS_INVALID_PARAMETER_MIX" },
	{ V3_STATUS_NONE_MAPPED, -ENOSPC, "STATUS_NONE_MAPPED" },
	{ V3_STATUS_INSUFFICIENT_RESOURCES, -ENOMEM,
	  "STATUS_INSUFFICIENT_RESOURCES" },
	{ V3_STATUS_NOT_SUPPORTED, -EOPNOTSUPP, "STATUS_NOT_SUPPORTED" },
	{ V3_STATUS_INVALID_PARAMETER_1, -EINVAL, "STATUS_INVALID_PARAMETER_1" },
	{ V3_STATUS_INVALID_PARAMETER_2, -EINVAL, "STATUS_INVALID_PARAMETER_2" },
	{ V3_STATUS_INVALID_PARAMETER_3, -EINVAL, "STATUS_INVALID_PARAMETER_3" },
	{ V3_STATUS_INVALID_PARAMETER_4, -EINVAL, "STATUS_INVALID_PARAMETER_4" },
	{ V3_STATUS_NOT_FOUND, -ENODEV, "STATUS_NOT_FOUND" },
	{ V3_STATUS_RESOURCE_IN_USE, -EBUSY, "STATUS_RESOURCE_IN_USE" },
	{ V3_STATUS_IN_USE, -EEXIST, "STATUS_IN_USE" },
};

/**
 * v3_status_to_errno() - the errno that stands for @status at an ioctl edge
 * @status: a V3 status
 *
 * Several statuses share an errno (spec §7.3); unknown failures give -EIO.
 * Return: 0 for success statuses, a negative errno otherwise.
 */
int v3_status_to_errno(v3_status_t status)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vtdp_status_table); i++)
		if (vtdp_status_table[i].status == status)
			return vtdp_status_table[i].err;
	return V3_SUCCESS(status) ? 0 : -EIO;
}
EXPORT_SYMBOL_GPL(v3_status_to_errno);

/**
 * v3_status_name() - symbolic name of a V3 status
 * @status: a V3 status
 *
 * Return: "STATUS_INVALID_PARAMETER_1" etc.; "STATUS_<unknown>" for a value
 * outside the enum; never NULL.
 */
const char *v3_status_name(v3_status_t status)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vtdp_status_table); i++)
		if (vtdp_status_table[i].status == status)
			return vtdp_status_table[i].name;
	return "STATUS_<unknown>";
}
EXPORT_SYMBOL_GPL(v3_status_name);
