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
#include <linux/slab.h>

#include "vtdp.h"

static DEFINE_MUTEX(vtdp_unit_lock);
static struct vtdp_iommu *vtdp_unit;

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

static struct v3_domain *vtdp_find_domain(struct vtdp_iommu *iommu,
					  struct v3_domain *domain)
{
	struct v3_domain *d;

	lockdep_assert_held(&iommu->lock);
	if (!domain)
		return NULL;
	list_for_each_entry(d, &iommu->domains, link)
		if (d == domain)
			return d;
	return NULL;
}

static struct v3_dma_device *vtdp_find_device(struct vtdp_iommu *iommu,
					      struct v3_dma_device *dev)
{
	struct v3_dma_device *v;

	lockdep_assert_held(&iommu->lock);
	if (!dev)
		return NULL;
	list_for_each_entry(v, &iommu->devices, link)
		if (v == dev)
			return v;
	return NULL;
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

static bool vtdp_is_translate(const struct v3_domain *d)
{
	return d->type == V3_DOMAIN_TYPE_TRANSLATE;
}

/* ---------------------------------------------------------------------- */
/* Physical page descriptions (spec §4.9)                                  */

#define VTDP_PHYS_LIMIT_PFN	(1ULL << (52 - VTDP_PAGE_SHIFT))

/* Return the page count of @p, or 0 if it is malformed. */
static u64 vtdp_phys_pages(const struct v3_map_phys *p)
{
	u64 i, n;

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
		return n;
	case V3_MAP_PHYS_PFN:
		n = p->pfn.number_of_pages;
		if (!p->pfn.pfns || !n || n > VTDP_PHYS_LIMIT_PFN)
			return 0;
		for (i = 0; i < n; i++)
			if (p->pfn.pfns[i] >= VTDP_PHYS_LIMIT_PFN)
				return 0;
		return n;
	case V3_MAP_PHYS_MDL:
		if (!p->mdl.mdl || !p->mdl.mdl->pages || p->mdl.mdl->byte_offset ||
		    !p->mdl.mdl->byte_count ||
		    p->mdl.mdl->byte_count & (VTDP_PAGE_SIZE - 1))
			return 0;
		n = p->mdl.mdl->byte_count >> VTDP_PAGE_SHIFT;
		for (i = 0; i < n; i++)
			if (!p->mdl.mdl->pages[i])
				return 0;
		return n;
	default:
		return 0;
	}
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

/* Is [la, la + npages pages) inside the domain's input width? */
static bool vtdp_range_fits(struct vtdp_iommu *iommu, u64 la, u64 npages)
{
	u64 limit = 1ULL << (iommu->aw_bits - VTDP_PAGE_SHIFT);
	u64 first = la >> VTDP_PAGE_SHIFT;

	return npages && npages <= limit && first <= limit - npages;
}

/* ---------------------------------------------------------------------- */
/* Second-stage page tables                                                */

#define VTDP_SS_PRESENT	(VTDP_SS_R | VTDP_SS_W)

static u64 *vtdp_pte(struct v3_domain *d, u64 la, bool alloc)
{
	struct vtdp_iommu *iommu = d->iommu;
	u64 *tbl = d->pgd;
	int level;

	for (level = VTDP_SS_LEVELS; level > 1; level--) {
		u64 *e = &tbl[VTDP_LEVEL_INDEX(la, level)];
		u64 v = READ_ONCE(*e);

		if (!(v & VTDP_SS_PRESENT)) {
			void *next;

			if (!alloc)
				return NULL;
			next = (void *)get_zeroed_page(GFP_KERNEL);
			if (!next)
				return NULL;
			vtdp_flush_table(iommu, next, PAGE_SIZE);
			/* non-leaf: R/W set, the leaf decides */
			v = virt_to_phys(next) | VTDP_SS_PRESENT;
			WRITE_ONCE(*e, v);
			vtdp_flush_table(iommu, e, sizeof(*e));
		}
		tbl = phys_to_virt(v & VTDP_SS_ADDR_MASK);
	}
	return &tbl[VTDP_LEVEL_INDEX(la, 1)];
}

static void vtdp_free_level(u64 *tbl, int level)
{
	unsigned int i;

	if (level > 1)
		for (i = 0; i < VTDP_LEVEL_ENTRIES; i++)
			if (tbl[i] & VTDP_SS_PRESENT)
				vtdp_free_level(phys_to_virt(tbl[i] & VTDP_SS_ADDR_MASK),
						level - 1);
	free_page((unsigned long)tbl);
}

static void vtdp_clear_leaves(struct v3_domain *d, u64 la, u64 npages)
{
	u64 i, *pte;

	if (!d->pgd)
		return;
	for (i = 0; i < npages; i++) {
		pte = vtdp_pte(d, la + (i << VTDP_PAGE_SHIFT), false);
		if (pte) {
			WRITE_ONCE(*pte, 0);
			vtdp_flush_table(d->iommu, pte, sizeof(*pte));
		}
	}
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
		kfree(container_of(n, struct vtdp_extent, node));
	}
}

/*
 * Map @npages pages at @la: page i of @phys, or la + i * 4K when @phys is
 * NULL (identity).  All-or-nothing; records one extent of @kind.
 * Context: d->mutex held.
 */
static v3_status_t vtdp_map_pages(struct v3_domain *d, u64 la,
				  const struct v3_map_phys *phys, u64 npages,
				  u32 perms, enum vtdp_extent_kind kind)
{
	u64 first = la >> VTDP_PAGE_SHIFT, last = first + npages - 1;
	u64 bits = 0, i, pa, *pte;
	struct vtdp_extent *ext;

	lockdep_assert_held(&d->mutex);
	if (vtdp_overlaps(d, first, last))
		return V3_STATUS_IN_USE;
	ext = kzalloc(sizeof(*ext), GFP_KERNEL);
	if (!ext)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	if (perms & V3_ACCESS_READ)
		bits |= VTDP_SS_R;
	if (perms & V3_ACCESS_WRITE)
		bits |= VTDP_SS_W;

	/* PassThrough domains only record extents (spec §5.10) */
	for (i = 0; d->pgd && i < npages; i++) {
		u64 addr = la + (i << VTDP_PAGE_SHIFT);

		pte = vtdp_pte(d, addr, true);
		if (!pte)
			goto rollback;
		pa = phys ? vtdp_phys_page(phys, i) : addr;
		WRITE_ONCE(*pte, (pa & VTDP_SS_ADDR_MASK) | bits);
		vtdp_flush_table(d->iommu, pte, sizeof(*pte));
		cond_resched();
	}
	ext->node.start = first;
	ext->node.last = last;
	ext->kind = kind;
	interval_tree_insert(&ext->node, &d->extents);

	/* Caching mode: not-present entries may be cached, so invalidate. */
	if (d->pgd && (d->iommu->cap & VTDP_CAP_CM))
		vtdp_inv_iotlb_range(d->iommu, d->did, la, npages);
	return V3_STATUS_SUCCESS;

rollback:
	vtdp_clear_leaves(d, la, i);
	if (i && d->pgd)
		vtdp_inv_iotlb_range(d->iommu, d->did, la, i);
	kfree(ext);
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
			interval_tree_insert(&(*left)->node, &d->extents);
			*left = NULL;
		}
		if (n->last > last) {
			(*right)->node.start = last + 1;
			(*right)->node.last = n->last;
			(*right)->kind = e->kind;
			interval_tree_insert(&(*right)->node, &d->extents);
			*right = NULL;
		}
		kfree(e);
	}
}

/* ---------------------------------------------------------------------- */
/* Domains                                                                 */

/* Validate a reserved-region list for a Translate domain (spec §4.7). */
static v3_status_t vtdp_check_regions(struct vtdp_iommu *iommu,
				      const struct v3_reserved_region *regions)
{
	const struct v3_reserved_region *r, *o;
	unsigned int n = 0;

	for (r = regions; r; r = r->next) {
		u64 first = r->base >> VTDP_PAGE_SHIFT, last;

		if (++n > VTDP_MAX_REGIONS)
			return V3_STATUS_INVALID_PARAMETER_4;
		if (r->base & (VTDP_PAGE_SIZE - 1) ||
		    !vtdp_range_fits(iommu, r->base, r->number_of_pages))
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
	struct vtdp_extent *ext = kzalloc(sizeof(*ext), GFP_KERNEL);

	if (!ext)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	ext->node.start = first;
	ext->node.last = last;
	ext->kind = VTDP_EXTENT_RESV_WITHHELD;
	interval_tree_insert(&ext->node, &d->extents);
	return V3_STATUS_SUCCESS;
}

static void vtdp_domain_free(struct v3_domain *d)
{
	if (d->pgd)
		vtdp_free_level(d->pgd, VTDP_SS_LEVELS);
	vtdp_free_extents(d);
	if (d->did)
		ida_free(&d->iommu->did_ida, d->did);
	kfree(d);
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
		     alloc->address_width > min(63U, iommu->aw_bits) ||
		     (type != V3_DOMAIN_TYPE_TRANSLATE &&
		      type != V3_DOMAIN_TYPE_TRANSLATE_S1)))
			return V3_STATUS_INVALID_PARAMETER_3;
	}
	if (type == V3_DOMAIN_TYPE_UNMANAGED && regions)
		return V3_STATUS_INVALID_PARAMETER_4;
	if (type == V3_DOMAIN_TYPE_TRANSLATE ||
	    type == V3_DOMAIN_TYPE_TRANSLATE_S1) {
		st = vtdp_check_regions(iommu, regions);
		if (st)
			return st;
	}
	if (!out)
		return V3_STATUS_INVALID_PARAMETER;

	/* Types this unit/driver cannot provide (yet). */
	if (type == V3_DOMAIN_TYPE_UNMANAGED ||
	    type == V3_DOMAIN_TYPE_TRANSLATE_S1 ||
	    (type == V3_DOMAIN_TYPE_PASS_THROUGH &&
	     !(iommu->ecap & VTDP_ECAP_PT)))
		return V3_STATUS_NOT_SUPPORTED;
	/* Buddy allocator: not implemented yet (later task). */
	if (alloc && alloc->type == V3_LOGICAL_ALLOCATOR_BUDDY)
		return V3_STATUS_NOT_SUPPORTED;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	d->iommu = iommu;
	d->type = type;
	mutex_init(&d->mutex);
	d->extents = RB_ROOT_CACHED;

	did = ida_alloc_range(&iommu->did_ida, 1, iommu->did_max, GFP_KERNEL);
	if (did < 0) {
		kfree(d);
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	}
	d->did = did;

	if (type == V3_DOMAIN_TYPE_TRANSLATE) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		d->pgd = (void *)get_zeroed_page(GFP_KERNEL);
		if (!d->pgd)
			goto err;
		vtdp_flush_table(iommu, d->pgd, PAGE_SIZE);

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
	if (d->attached) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_RESOURCE_IN_USE;
	}
	list_del(&d->link);
	/* wait for a map/unmap that validated the handle before list_del */
	mutex_lock(&d->mutex);
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

static void vtdp_write_pasid_entry(struct vtdp_iommu *iommu,
				   struct vtdp_pasid_entry *pe,
				   const struct vtdp_pasid_entry *val)
{
	unsigned int i;

	/* P last, so the hardware never sees a half-written present entry */
	for (i = 1; i < ARRAY_SIZE(pe->val); i++)
		WRITE_ONCE(pe->val[i], val->val[i]);
	wmb();
	WRITE_ONCE(pe->val[0], val->val[0]);
	vtdp_flush_table(iommu, pe, sizeof(*pe));
}

static void vtdp_clear_pasid_entry(struct vtdp_iommu *iommu,
				   struct vtdp_pasid_entry *pe)
{
	unsigned int i;

	WRITE_ONCE(pe->val[0], 0);
	wmb();
	for (i = 1; i < ARRAY_SIZE(pe->val); i++)
		WRITE_ONCE(pe->val[i], 0);
	vtdp_flush_table(iommu, pe, sizeof(*pe));
}

static int vtdp_inv_rid_pasid(struct vtdp_iommu *iommu, u16 did)
{
	int ret = vtdp_inv_pasid_cache(iommu, did, VTDP_PASID_RID_DEFAULT,
				       false);

	return ret ?: vtdp_inv_iotlb_domain(iommu, did);
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

	val.val[1] = d->did;
	if (d->type == V3_DOMAIN_TYPE_TRANSLATE) {
		val.val[0] = VTDP_PE0_P |
			     ((u64)VTDP_PE_AW_48 << VTDP_PE0_AW_SHIFT) |
			     ((u64)VTDP_PGTT_SS << VTDP_PE0_PGTT_SHIFT) |
			     (virt_to_phys(d->pgd) & VTDP_PE0_SSPTPTR_MASK);
	} else if (d->type == V3_DOMAIN_TYPE_PASS_THROUGH) {
		val.val[0] = VTDP_PE0_P |
			     ((u64)VTDP_PE_AW_48 << VTDP_PE0_AW_SHIFT) |
			     ((u64)VTDP_PGTT_PT << VTDP_PE0_PGTT_SHIFT);
	} else {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}

	pe = &v->pasid_table0[VTDP_PASID_RID_DEFAULT];
	vtdp_write_pasid_entry(iommu, pe, &val);
	if (vtdp_inv_rid_pasid(iommu, d->did)) {
		/* the hardware did not confirm: undo, report failure */
		vtdp_clear_pasid_entry(iommu, pe);
		vtdp_inv_rid_pasid(iommu, d->did);
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
	if (vtdp_inv_rid_pasid(iommu, d->did))
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
	/* Over-invalidation is allowed (spec §5.6): page by page. */
	for (i = 0; i < number; i++)
		if (vtdp_inv_iotlb_range(d->iommu, d->did, va_list[i], 1)) {
			st = V3_STATUS_UNSUCCESSFUL;
			break;
		}
out:
	mutex_unlock(&d->mutex);
	return st;
}

/* ---------------------------------------------------------------------- */
/* Map / unmap (spec §5.8, §5.9)                                           */

static v3_status_t vtdp_map_logical_range_ex(struct v3_domain *domain,
					     u32 perms,
					     const struct v3_map_phys *phys,
					     const u64 *explicit_la,
					     const u64 *min_la,
					     const u64 *max_la, u64 *la_out)
{
	struct v3_domain *d;
	v3_status_t st;
	u64 npages, la;

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
	npages = vtdp_phys_pages(phys);
	if (!npages) {
		st = V3_STATUS_INVALID_PARAMETER_3;
		goto out;
	}
	/* No allocator (Buddy domains are refused at creation for now). */
	if (!explicit_la) {
		st = V3_STATUS_NOT_SUPPORTED;
		goto out;
	}
	la = *explicit_la;
	if (la & (VTDP_PAGE_SIZE - 1) ||
	    !vtdp_range_fits(d->iommu, la, npages)) {
		st = V3_STATUS_INVALID_PARAMETER_4;
		goto out;
	}
	if (!la_out) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* min/max are ignored without an allocator (spec §5.8). */
	st = vtdp_map_pages(d, la, phys, npages, perms, VTDP_EXTENT_LOGICAL);
	if (!st)
		*la_out = la;
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
	if (!vtdp_range_fits(d->iommu, la, npages)) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	first = la >> VTDP_PAGE_SHIFT;
	last = first + npages - 1;

	/* Every page must lie in logical-map extents. */
	if (!vtdp_covered(d, first, last, VTDP_EXTENT_LOGICAL)) {
		st = V3_STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* Extents straddling the range ends are split: allocate first. */
	left = kzalloc(sizeof(*left), GFP_KERNEL);
	right = kzalloc(sizeof(*right), GFP_KERNEL);
	if (!left || !right) {
		st = V3_STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	vtdp_cut(d, first, last, &left, &right);

	vtdp_clear_leaves(d, la, npages);
	/* synchronous: no stale translation survives the return */
	if (vtdp_inv_iotlb_range(d->iommu, d->did, la, npages)) {
		dev_err(&d->iommu->pdev->dev,
			"unmap %#llx+%llu pages: IOTLB invalidation failed\n",
			la, npages);
		st = V3_STATUS_UNSUCCESSFUL;
	}
out:
	kfree(left);
	kfree(right);
	mutex_unlock(&d->mutex);
	return st;
}

/* ---------------------------------------------------------------------- */
/* Identity maps (spec §5.10, §5.11)                                       */

/* Pages i.. of @p that are physically contiguous with page i (>= 1). */
static u64 vtdp_phys_run(const struct v3_map_phys *p, u64 i, u64 n)
{
	u64 pa = vtdp_phys_page(p, i), len = 1;

	while (i + len < n &&
	       vtdp_phys_page(p, i + len) == pa + (len << VTDP_PAGE_SHIFT))
		len++;
	return len;
}

/* Undo one identity run mapped by vtdp_map_pages().  d->mutex held. */
static void vtdp_identity_undo(struct v3_domain *d, u64 pa, u64 len)
{
	u64 first = pa >> VTDP_PAGE_SHIFT;
	struct interval_tree_node *n;

	n = interval_tree_iter_first(&d->extents, first, first + len - 1);
	if (n) {
		interval_tree_remove(n, &d->extents);
		kfree(container_of(n, struct vtdp_extent, node));
	}
	vtdp_clear_leaves(d, pa, len);
	if (d->pgd)
		vtdp_inv_iotlb_range(d->iommu, d->did, pa, len);
}

static bool vtdp_identity_type(const struct v3_domain *d)
{
	return d->type == V3_DOMAIN_TYPE_TRANSLATE ||
	       d->type == V3_DOMAIN_TYPE_PASS_THROUGH;
}

static v3_status_t vtdp_map_identity_range_ex(struct v3_domain *domain,
					      u32 perms,
					      const struct v3_map_phys *phys)
{
	v3_status_t st = V3_STATUS_SUCCESS;
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
	n = vtdp_phys_pages(phys);
	if (!n) {
		st = V3_STATUS_INVALID_PARAMETER_3;
		goto out;
	}
	for (i = 0; i < n; i += len) {
		len = vtdp_phys_run(phys, i, n);
		pa = vtdp_phys_page(phys, i);
		if (!vtdp_range_fits(d->iommu, pa, len)) {
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
		st = vtdp_map_pages(d, vtdp_phys_page(phys, i), NULL, len, perms,
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
	struct v3_domain *d;

	might_sleep();
	d = vtdp_domain_lock(domain);
	if (!d)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (!vtdp_identity_type(d)) {
		st = V3_STATUS_INVALID_PARAMETER_1;
		goto out;
	}
	n = vtdp_phys_pages(phys);
	if (!n) {
		st = V3_STATUS_INVALID_PARAMETER_2;
		goto out;
	}
	for (i = 0; i < n; i += len, runs++) {
		len = vtdp_phys_run(phys, i, n);
		pa = vtdp_phys_page(phys, i);
		if (!vtdp_range_fits(d->iommu, pa, len) ||
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
		spare[k] = kzalloc(sizeof(**spare), GFP_KERNEL);
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
	if (d->pgd) {
		int ret = runs == 1 ?
			vtdp_inv_iotlb_range(d->iommu, d->did,
					     vtdp_phys_page(phys, 0), n) :
			vtdp_inv_iotlb_domain(d->iommu, d->did);

		if (ret)
			st = V3_STATUS_UNSUCCESSFUL;
	}
out:
	if (spare) {
		for (k = 0; k < 2 * runs; k++)
			kfree(spare[k]);
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

static struct pci_bus *vtdp_root_bus(struct pci_bus *bus)
{
	while (!pci_is_root_bus(bus))
		bus = bus->parent;
	return bus;
}

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
	free_page((unsigned long)v->pasid_table0);
	free_page((unsigned long)v->pasid_dir);
	kfree(v);
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
	u64 ctx0;

	might_sleep();
	if (out)
		*out = NULL;
	if (!pdev)
		return V3_STATUS_INVALID_PARAMETER;
	if (!iommu || pdev == iommu->pdev ||
	    vtdp_root_bus(pdev->bus) != vtdp_root_bus(iommu->pdev->bus))
		return V3_STATUS_NOT_FOUND;
	st = vtdp_parse_config(iommu, pdev, cfg, &info);
	if (st)
		return st;
	if (!out)
		return V3_STATUS_INVALID_PARAMETER_3;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	v->iommu = iommu;
	v->pdev = pdev;
	v->sid = PCI_DEVID(pdev->bus->number, pdev->devfn);
	v->info = info;
	spin_lock_init(&v->fault_lock);
	init_waitqueue_head(&v->fault_wq);
	v->pasid_dir = (void *)get_zeroed_page(GFP_KERNEL);
	v->pasid_table0 = (void *)get_zeroed_page(GFP_KERNEL);
	if (!v->pasid_dir || !v->pasid_table0) {
		vtdp_device_free(v);
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	}
	/* PASIDs 0..63: RID_PASID entry stays not present until attach */
	vtdp_flush_table(iommu, v->pasid_table0, PAGE_SIZE);
	v->pasid_dir[0] = virt_to_phys(v->pasid_table0) | VTDP_PDIR_P;
	vtdp_flush_table(iommu, v->pasid_dir, PAGE_SIZE);

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

	ctx0 = (virt_to_phys(v->pasid_dir) & VTDP_ADDR_MASK) |
	       ((u64)VTDP_PDTS << VTDP_CTX_PDTS_SHIFT) | VTDP_CTX_P;
	if (info.pasid_tagged_dma_enabled)
		ctx0 |= VTDP_CTX_PASIDE;
	WRITE_ONCE(ce->val[1], VTDP_PASID_RID_DEFAULT);	/* RID_PASID */
	WRITE_ONCE(ce->val[2], 0);
	WRITE_ONCE(ce->val[3], 0);
	wmb();
	WRITE_ONCE(ce->val[0], ctx0);
	vtdp_flush_table(iommu, ce, sizeof(*ce));
	if (vtdp_inv_context_device(iommu, v->sid) ||
	    vtdp_inv_pasid_cache_global(iommu))
		dev_warn(&iommu->pdev->dev,
			 "%s: invalidation after context setup failed\n",
			 pci_name(pdev));

	pci_dev_get(pdev);
	list_add_tail(&v->link, &iommu->devices);
	mutex_unlock(&iommu->lock);
	*out = v;
	return V3_STATUS_SUCCESS;

err_unlock:
	mutex_unlock(&iommu->lock);
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
	if (v->domain) {
		mutex_unlock(&iommu->lock);
		return V3_STATUS_RESOURCE_IN_USE;
	}
	ce = vtdp_context_entry(iommu, v->pdev->bus->number, v->pdev->devfn,
				false);
	if (ce) {
		WRITE_ONCE(ce->val[0], 0);
		wmb();
		WRITE_ONCE(ce->val[1], 0);
		vtdp_flush_table(iommu, ce, sizeof(*ce));
	}
	if (vtdp_inv_context_device(iommu, v->sid) ||
	    vtdp_inv_pasid_cache_global(iommu))
		dev_err(&iommu->pdev->dev,
			"%s: invalidation after context teardown failed\n",
			pci_name(v->pdev));
	list_del(&v->link);
	mutex_unlock(&iommu->lock);

	wait_event(v->fault_wq, vtdp_fault_idle(v));
	vtdp_pasid_disable(v);
	pci_dev_put(v->pdev);
	vtdp_device_free(v);
	module_put(THIS_MODULE);
	return V3_STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                 */

static u32 vtdp_domain_types(struct vtdp_iommu *iommu)
{
	u32 mask = BIT(V3_DOMAIN_TYPE_TRANSLATE);

	if (iommu->ecap & VTDP_ECAP_PT)
		mask |= BIT(V3_DOMAIN_TYPE_PASS_THROUGH);
	return mask;
}

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
	/* Faithful x86 behaviour (spec §5.7): ARM64 only. */
	if (ret_bytes)
		*ret_bytes = 0;
	return V3_STATUS_UNSUCCESSFUL;
}

/* ---------------------------------------------------------------------- */
/* Not implemented yet: honest NOT_IMPLEMENTED, never a NULL slot          */

static v3_status_t
vtdp_ni_configure_domain(struct v3_domain *domain,
			 const struct v3_domain_configuration *cfg)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t
vtdp_ni_register_state_change_cb(v3_state_change_cb_t cb, void *context,
				 struct v3_dma_device *dev,
				 const union v3_state_change_fields *fields)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t vtdp_ni_unregister_state_change_cb(v3_state_change_cb_t cb,
						      struct v3_dma_device *dev)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t
vtdp_ni_reserve_logical_address_range(struct v3_domain *domain, u64 size,
				      const u64 *explicit_la, const u64 *min_la,
				      const u64 *max_la, struct v3_la_token **out)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t
vtdp_ni_free_reserved_logical_address_range(struct v3_la_token *token)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t
vtdp_ni_map_reserved_logical_range(struct v3_la_token *token, u64 offset,
				   u32 perms, const struct v3_map_phys *phys,
				   struct v3_mapped_segment *out)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t
vtdp_ni_unmap_reserved_logical_range(struct v3_mapped_segment *seg)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t vtdp_ni_create_pasid_device(struct v3_dma_device *dev,
					       struct v3_pasid_device **out,
					       u32 *pasid)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t vtdp_ni_delete_pasid_device(struct v3_pasid_device *pdev)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t vtdp_ni_attach_pasid_device(struct v3_domain *domain,
					       struct v3_pasid_device *pdev)
{
	return V3_STATUS_NOT_IMPLEMENTED;
}

static v3_status_t vtdp_ni_detach_pasid_device(struct v3_pasid_device *pdev)
{
	return V3_STATUS_NOT_IMPLEMENTED;
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
	.configure_domain = vtdp_ni_configure_domain,
	.query_available_domain_types = vtdp_query_available_domain_types,
	.register_state_change_cb = vtdp_ni_register_state_change_cb,
	.unregister_state_change_cb = vtdp_ni_unregister_state_change_cb,
	.reserve_logical_address_range = vtdp_ni_reserve_logical_address_range,
	.free_reserved_logical_address_range =
		vtdp_ni_free_reserved_logical_address_range,
	.map_reserved_logical_range = vtdp_ni_map_reserved_logical_range,
	.unmap_reserved_logical_range = vtdp_ni_unmap_reserved_logical_range,
	.create_device = vtdp_create_device,
	.delete_device = vtdp_delete_device,
	.create_pasid_device = vtdp_ni_create_pasid_device,
	.delete_pasid_device = vtdp_ni_delete_pasid_device,
	.attach_pasid_device = vtdp_ni_attach_pasid_device,
	.detach_pasid_device = vtdp_ni_detach_pasid_device,
	.query_device_info = vtdp_query_device_info,
};

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

/** vtdp_v3_unregister() - stop offering @iommu to new V3 calls */
void vtdp_v3_unregister(struct vtdp_iommu *iommu)
{
	mutex_lock(&vtdp_unit_lock);
	if (vtdp_unit == iommu)
		vtdp_unit = NULL;
	mutex_unlock(&vtdp_unit_lock);
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

	mutex_lock(&iommu->lock);
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
 * The analogue of IoGetIommuInterfaceEx() (spec §2.1).  On success a
 * reference on vtdp.ko is held until v3_iommu_put_interface().
 * Context: process context.
 * Return: V3_STATUS_SUCCESS; V3_STATUS_INVALID_PARAMETER_1 for a version
 * outside 2..3 (V1 is not a prefix of V3 and is not offered), _2 for
 * non-zero @flags, _3 for a NULL @out; V3_STATUS_NOT_SUPPORTED when no
 * vtdp-iommu is bound.
 */
v3_status_t v3_iommu_get_interface(u32 version, u64 flags,
				   struct v3_iommu_interface_ex *out)
{
	v3_status_t st = V3_STATUS_SUCCESS;

	might_sleep();
	if (version < V3_IOMMU_INTERFACE_EX_VERSION_2 ||
	    version > V3_IOMMU_INTERFACE_EX_VERSION_MAX)
		return V3_STATUS_INVALID_PARAMETER_1;
	if (flags)
		return V3_STATUS_INVALID_PARAMETER_2;
	if (!out)
		return V3_STATUS_INVALID_PARAMETER_3;
	memset(out, 0, sizeof(*out));

	mutex_lock(&vtdp_unit_lock);
	if (!vtdp_unit || !try_module_get(THIS_MODULE)) {
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
