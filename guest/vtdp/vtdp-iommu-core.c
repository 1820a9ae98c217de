// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp.ko under the Linux IOMMU core (module parameter iommu_core).
 *
 * The unit registers as an IOMMU of the PCI functions on its root bus, so
 * that unmodified drivers' DMA API goes through it (dma-iommu on a paging
 * domain), while V3 clients keep their own devices.  Design and rules:
 * docs/iommu-core.md.  In short:
 *
 * - vtdp.ko is a module that loads after boot: functions already bound to
 *   a driver then (a virtio disk, say) are declined by probe_device (the
 *   core would change their DMA ops under a running driver), and, whether
 *   or not iommu_core is set, get a pass-through context entry before
 *   translation is enabled, so their DMA keeps working.  The unit's own
 *   function is declined too: the model does not translate its DMA.
 * - A device the core manages and a V3 device are never the same: V3
 *   CreateDevice claims DMA ownership from the core (which attaches the
 *   blocked domain) and DeleteDevice gives it back.
 * - Every device the core takes holds a reference on this module (the
 *   core takes it): rmmod vtdp is refused until they are removed.
 *
 * Context entries of core-managed and pass-through functions point at a
 * one-page PASID directory of their own (struct vtdp_core_dev) whose
 * RID_PASID entry selects the domain: second stage (paging domains),
 * pass-through (identity) or nothing (blocked: the context entry is
 * cleared).
 */

#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sizes.h>

#include "vtdp.h"

static bool iommu_core;
module_param(iommu_core, bool, 0444);
MODULE_PARM_DESC(iommu_core,
		 "also register with the Linux IOMMU core, for the DMA API of unbound PCI functions behind the unit (default: N; docs/iommu-core.md)");

/* One unit (vtdp_v3_register() refuses a second); probe_device finds it here. */
static struct vtdp_iommu *vtdp_core_unit;

/* A PCI function whose context entry belongs to this file. */
struct vtdp_core_dev {
	struct list_head link;		/* iommu->pt_devices or ->core_devices */
	struct vtdp_iommu *iommu;
	u16 sid;
	u64 *pasid_dir;			/* PDTS VTDP_PDTS_MIN: one page */
	struct vtdp_pasid_entry *pasid_table0;
};

/* A paging domain (IOMMU_DOMAIN_DMA, DMA_FQ or UNMANAGED). */
struct vtdp_core_domain {
	struct iommu_domain domain;
	struct vtdp_iommu *iommu;
	u16 did;
	/*
	 * A spinlock: map_pages and unmap_pages run in atomic context
	 * (dma-iommu maps with GFP_ATOMIC, block drivers under their queue
	 * locks).  It serialises every edit of @pt.
	 */
	spinlock_t lock;
	struct vtdp_pgtable pt;
};

static struct vtdp_core_domain *to_vtdp_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct vtdp_core_domain, domain);
}

/* ---------------------------------------------------------------------- */
/* Context entries of core devices                                         */

static struct vtdp_core_dev *vtdp_core_dev_alloc(struct vtdp_iommu *iommu,
						 struct pci_dev *pdev)
{
	struct vtdp_core_dev *cd = kzalloc(sizeof(*cd), GFP_KERNEL);

	if (!cd)
		return NULL;
	cd->iommu = iommu;
	cd->sid = pci_dev_id(pdev);
	cd->pasid_dir = (u64 *)get_zeroed_page(GFP_KERNEL);
	cd->pasid_table0 = (void *)get_zeroed_page(GFP_KERNEL);
	if (!cd->pasid_dir || !cd->pasid_table0) {
		free_page((unsigned long)cd->pasid_dir);
		free_page((unsigned long)cd->pasid_table0);
		kfree(cd);
		return NULL;
	}
	vtdp_live_add(table_pages, 2);
	vtdp_flush_table(iommu, cd->pasid_table0, PAGE_SIZE);
	cd->pasid_dir[0] = virt_to_phys(cd->pasid_table0) | VTDP_PDIR_P;
	vtdp_flush_table(iommu, cd->pasid_dir, PAGE_SIZE);
	return cd;
}

/* Free @cd; no context entry may point at its tables any more. */
static void vtdp_core_dev_free(struct vtdp_core_dev *cd)
{
	free_page((unsigned long)cd->pasid_dir);
	free_page((unsigned long)cd->pasid_table0);
	vtdp_live_add(table_pages, -2);
	kfree(cd);
}

/* Does the context entry of @cd's function point at @cd's directory? */
static struct vtdp_context_entry *vtdp_core_dev_ctx(struct vtdp_core_dev *cd,
						    bool alloc)
{
	struct vtdp_context_entry *ce;

	ce = vtdp_context_entry(cd->iommu, PCI_BUS_NUM(cd->sid),
				cd->sid & 0xff, alloc);
	if (!ce || alloc)
		return ce;
	if (!(READ_ONCE(ce->val[0]) & VTDP_CTX_P) ||
	    (READ_ONCE(ce->val[0]) & VTDP_ADDR_MASK) != virt_to_phys(cd->pasid_dir))
		return NULL;
	return ce;
}

/*
 * Make @cd's function use the PASID-entry value @val (NULL: block it by
 * clearing its context entry).  The old RID_PASID entry goes first, with
 * its caches, so the unit never combines the old and the new one.
 * Context: process, iommu->lock held.
 */
static int vtdp_core_dev_set(struct vtdp_core_dev *cd,
			     const struct vtdp_pasid_entry *val)
{
	struct vtdp_iommu *iommu = cd->iommu;
	struct vtdp_pasid_entry *pe = &cd->pasid_table0[VTDP_PASID_RID_DEFAULT];
	struct vtdp_context_entry *ce;
	int ret = 0;

	lockdep_assert_held(&iommu->lock);
	if (READ_ONCE(pe->val[0]) & VTDP_PE0_P) {
		u16 old_did = READ_ONCE(pe->val[1]) & 0xffff;

		vtdp_clear_pasid_entry(iommu, pe);
		ret = vtdp_inv_pasid_cache(iommu, old_did,
					   VTDP_PASID_RID_DEFAULT, false) ?:
		      vtdp_inv_iotlb_domain(iommu, old_did);
	}
	if (!val) {
		ce = vtdp_core_dev_ctx(cd, false);
		if (ce) {
			vtdp_context_clear(iommu, ce);
			ret = vtdp_inv_context_device(iommu, cd->sid) ?: ret;
		}
		return ret;
	}

	ce = vtdp_core_dev_ctx(cd, true);
	if (!ce)
		return -ENOMEM;
	vtdp_write_pasid_entry(iommu, pe, val);
	if (!vtdp_core_dev_ctx(cd, false)) {
		vtdp_context_set(iommu, ce, cd->pasid_dir, VTDP_PDTS_MIN, false);
		ret = vtdp_inv_context_device(iommu, cd->sid) ?: ret;
	}
	ret = vtdp_inv_pasid_cache(iommu, val->val[1] & 0xffff,
				   VTDP_PASID_RID_DEFAULT, false) ?: ret;
	return vtdp_inv_iotlb_domain(iommu, val->val[1] & 0xffff) ?: ret;
}

/* ---------------------------------------------------------------------- */
/* Functions bound before the unit came up: pass-through                   */

/**
 * vtdp_core_passthrough_bound() - keep already-bound functions working
 * @iommu: the unit, translation not yet enabled
 *
 * Every PCI function behind @iommu (but its own) that has a driver when
 * vtdp.ko comes up gets a pass-through context entry: without one, its
 * DMA would fault as soon as translation is enabled.  Runs whatever
 * iommu_core says.
 *
 * Return: 0 or -ENOMEM.
 */
int vtdp_core_passthrough_bound(struct vtdp_iommu *iommu)
{
	struct pci_dev *pdev = NULL;
	struct vtdp_pasid_entry val;
	struct vtdp_core_dev *cd;
	const char *drv;
	int ret;

	vtdp_pasid_entry_pt(&val, iommu->pt_did);
	for_each_pci_dev(pdev) {
		if (pdev == iommu->pdev || !vtdp_behind(iommu, pdev))
			continue;
		/* the driver cannot go away while we look at its name */
		device_lock(&pdev->dev);
		drv = pdev->dev.driver ? pdev->dev.driver->name : NULL;
		if (!drv) {
			device_unlock(&pdev->dev);
			continue;
		}
		if (!(iommu->ecap & VTDP_ECAP_PT)) {
			dev_warn(&pdev->dev,
				 "vtdp: bound to %s before vtdp.ko, and the unit has no pass-through (ECAP.PT): its DMA will fault\n",
				 drv);
			device_unlock(&pdev->dev);
			continue;
		}
		cd = vtdp_core_dev_alloc(iommu, pdev);
		ret = -ENOMEM;
		if (cd) {
			mutex_lock(&iommu->lock);
			ret = vtdp_core_dev_set(cd, &val);
			if (!ret)
				list_add_tail(&cd->link, &iommu->pt_devices);
			mutex_unlock(&iommu->lock);
		}
		if (ret) {
			dev_err(&pdev->dev, "vtdp: pass-through context failed: %d\n",
				ret);
			if (cd)
				vtdp_core_dev_free(cd);
			device_unlock(&pdev->dev);
			pci_dev_put(pdev);
			return ret;
		}
		dev_info(&pdev->dev,
			 "vtdp: bound to %s before vtdp.ko: pass-through context, DMA not translated\n",
			 drv);
		device_unlock(&pdev->dev);
	}
	return 0;
}

/**
 * vtdp_core_drop_passthrough() - forget the load-time context of @sid
 * @iommu: the unit
 * @sid: requester id whose context entry now belongs to someone else
 *
 * The caller has rewritten (and invalidated) the context entry, or is
 * about to; the pass-through tables are freed.  Context: iommu->lock held.
 */
void vtdp_core_drop_passthrough(struct vtdp_iommu *iommu, u16 sid)
{
	struct vtdp_core_dev *cd, *n;

	lockdep_assert_held(&iommu->lock);
	list_for_each_entry_safe(cd, n, &iommu->pt_devices, link) {
		if (cd->sid != sid)
			continue;
		if (vtdp_core_dev_ctx(cd, false))
			vtdp_core_dev_set(cd, NULL);
		list_del(&cd->link);
		vtdp_core_dev_free(cd);
	}
}

/**
 * vtdp_core_free_passthrough() - free the load-time pass-through contexts
 * @iommu: the unit, translation disabled
 */
void vtdp_core_free_passthrough(struct vtdp_iommu *iommu)
{
	struct vtdp_core_dev *cd, *n;

	mutex_lock(&iommu->lock);
	list_for_each_entry_safe(cd, n, &iommu->pt_devices, link) {
		list_del(&cd->link);
		vtdp_core_dev_free(cd);
	}
	mutex_unlock(&iommu->lock);
}

/* ---------------------------------------------------------------------- */
/* Static domains                                                          */

static int vtdp_identity_attach(struct iommu_domain *domain, struct device *dev)
{
	struct vtdp_core_dev *cd = dev_iommu_priv_get(dev);
	struct vtdp_pasid_entry val;
	int ret;

	vtdp_pasid_entry_pt(&val, cd->iommu->pt_did);
	mutex_lock(&cd->iommu->lock);
	ret = vtdp_core_dev_set(cd, &val);
	mutex_unlock(&cd->iommu->lock);
	return ret;
}

static struct iommu_domain vtdp_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &(const struct iommu_domain_ops) {
		.attach_dev = vtdp_identity_attach,
	},
};

static int vtdp_blocked_attach(struct iommu_domain *domain, struct device *dev)
{
	struct vtdp_core_dev *cd = dev_iommu_priv_get(dev);
	int ret;

	mutex_lock(&cd->iommu->lock);
	ret = vtdp_core_dev_set(cd, NULL);
	mutex_unlock(&cd->iommu->lock);
	return ret;
}

static struct iommu_domain vtdp_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &(const struct iommu_domain_ops) {
		.attach_dev = vtdp_blocked_attach,
	},
};

/* ---------------------------------------------------------------------- */
/* Paging domains                                                          */

/*
 * vtdp_pgtable.inv_range: a large leaf replaced an empty table.  (Core
 * domains never split a leaf: unmap_pages takes large leaves whole.)
 */
static int vtdp_core_pt_inv_range(struct vtdp_pgtable *pt, u64 la, u64 npages)
{
	struct vtdp_core_domain *dom = container_of(pt, struct vtdp_core_domain, pt);

	return vtdp_inv_iotlb_range(dom->iommu, dom->did, la, npages);
}

static const struct iommu_domain_ops vtdp_core_paging_ops;

/* 4 KiB, and the large leaves of second stage CAP.SLLPS offers. */
static unsigned long vtdp_core_pgsizes(const struct vtdp_pgtable *pt)
{
	unsigned long sizes = SZ_4K;

	if (vtdp_pgt_large_ok(pt, 2))
		sizes |= SZ_2M;
	if (vtdp_pgt_large_ok(pt, 3))
		sizes |= SZ_1G;
	return sizes;
}

static struct iommu_domain *vtdp_core_domain_alloc_paging(struct device *dev)
{
	struct vtdp_core_dev *cd = dev ? dev_iommu_priv_get(dev) : NULL;
	struct vtdp_iommu *iommu = cd ? cd->iommu : vtdp_core_unit;
	struct vtdp_core_domain *dom;
	int did;

	if (!iommu)
		return ERR_PTR(-ENODEV);
	dom = kzalloc(sizeof(*dom), GFP_KERNEL);
	if (!dom)
		return ERR_PTR(-ENOMEM);
	did = ida_alloc_range(&iommu->did_ida, 1, iommu->did_max, GFP_KERNEL);
	if (did < 0) {
		kfree(dom);
		return ERR_PTR(-ENOSPC);
	}
	dom->iommu = iommu;
	dom->did = did;
	spin_lock_init(&dom->lock);
	dom->pt.iommu = iommu;
	dom->pt.inv_range = vtdp_core_pt_inv_range;
	if (vtdp_pgt_init(&dom->pt, GFP_KERNEL)) {
		ida_free(&iommu->did_ida, did);
		kfree(dom);
		return ERR_PTR(-ENOMEM);
	}
	dom->domain.ops = &vtdp_core_paging_ops;
	dom->domain.pgsize_bitmap = vtdp_core_pgsizes(&dom->pt);
	dom->domain.geometry.aperture_start = 0;
	dom->domain.geometry.aperture_end = (1ULL << iommu->aw_bits) - 1;
	dom->domain.geometry.force_aperture = true;
	return &dom->domain;
}

static void vtdp_core_domain_free(struct iommu_domain *domain)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);

	/*
	 * No device uses it any more (the core detached them all).  Its
	 * domain id goes back to the IDA, and a later domain of V3 or of the
	 * core must not find these translations under it.
	 */
	vtdp_inv_iotlb_domain(dom->iommu, dom->did);
	vtdp_pgt_destroy(&dom->pt);
	ida_free(&dom->iommu->did_ida, dom->did);
	kfree(dom);
}

static int vtdp_core_attach(struct iommu_domain *domain, struct device *dev)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);
	struct vtdp_core_dev *cd = dev_iommu_priv_get(dev);
	struct vtdp_pasid_entry val;
	int ret;

	if (cd->iommu != dom->iommu)
		return -EINVAL;
	vtdp_pasid_entry_ss(&val, dom->did, dom->pt.pgd);
	mutex_lock(&cd->iommu->lock);
	ret = vtdp_core_dev_set(cd, &val);
	mutex_unlock(&cd->iommu->lock);
	return ret;
}

static int vtdp_core_map_pages(struct iommu_domain *domain, unsigned long iova,
			       phys_addr_t paddr, size_t pgsize, size_t pgcount,
			       int prot, gfp_t gfp, size_t *mapped)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);
	u64 bits = vtdp_pgt_leaf_bits(&dom->pt, prot & IOMMU_READ,
				      prot & IOMMU_WRITE);
	int level = pgsize == SZ_1G ? 3 : pgsize == SZ_2M ? 2 : 1;
	unsigned long flags;
	u64 i, n = 0;
	int ret = 0;

	/* the core only passes sizes of domain->pgsize_bitmap */
	if (WARN_ON_ONCE(!(pgsize & domain->pgsize_bitmap) ||
			 pgsize != VTDP_LEVEL_PAGES(level) << VTDP_PAGE_SHIFT))
		return -EINVAL;
	/* Under a spinlock: never sleep for a table, whoever called. */
	gfp &= ~__GFP_DIRECT_RECLAIM;
	spin_lock_irqsave(&dom->lock, flags);
	/* The core aligned iova and paddr to pgsize: one leaf per page. */
	for (i = 0; level > 1 && i < pgcount; i++) {
		ret = vtdp_pgt_set_large(&dom->pt, iova + i * pgsize,
					 paddr + i * pgsize, level, bits, gfp);
		if (ret)
			break;
	}
	/* 4 KiB leaves a leaf table at a time (one walk each) */
	for (; level == 1 && i < pgcount; i += n) {
		u64 la = iova + (i << VTDP_PAGE_SHIFT);
		u64 *pte = vtdp_pgt_pte_at(&dom->pt, la, 1, gfp);

		if (!pte) {	/* a large leaf maps @la, or no memory */
			ret = vtdp_pgt_leaf(&dom->pt, la, &(int){ 0 }) ?
			      -EBUSY : -ENOMEM;
			break;
		}
		n = vtdp_pgt_leaf_run(la, pgcount - i);
		vtdp_pgt_set_run(&dom->pt, pte, paddr + (i << VTDP_PAGE_SHIFT),
				 n, bits);
	}
	spin_unlock_irqrestore(&dom->lock, flags);
	*mapped = i * pgsize;
	return ret;
}

/* The first byte of the leaf that maps @la, or @la if none. */
static u64 vtdp_core_leaf_start(struct vtdp_core_domain *dom, u64 la)
{
	int level;

	if (!vtdp_pgt_leaf(&dom->pt, la, &level))
		return la;
	return la & ~((VTDP_LEVEL_PAGES(level) << VTDP_PAGE_SHIFT) - 1);
}

/*
 * The leaves go; the tables that held them stay until the domain is freed
 * (the core's page-list helpers for freeing them later are not exported to
 * modules).  A large leaf that the range only covers in part goes whole,
 * and the size returned says so: that is what intel-iommu does and what
 * __iommu_unmap() accounts for (it moves on by the size returned); a split
 * would need a table, which atomic context cannot wait for.  dma-iommu
 * always unmaps exactly what it mapped, so it never meets this.
 * Invalidation is the caller's: iotlb_sync or, in lazy mode, the flush
 * queue's flush_iotlb_all.
 */
static size_t vtdp_core_unmap_pages(struct iommu_domain *domain,
				    unsigned long iova, size_t pgsize,
				    size_t pgcount,
				    struct iommu_iotlb_gather *gather)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);
	u64 start, end = iova + pgsize * pgcount;
	unsigned long flags;
	int level;

	spin_lock_irqsave(&dom->lock, flags);
	start = vtdp_core_leaf_start(dom, iova);
	if (vtdp_pgt_leaf(&dom->pt, end - 1, &level))
		end = vtdp_core_leaf_start(dom, end - 1) +
		      (VTDP_LEVEL_PAGES(level) << VTDP_PAGE_SHIFT);
	vtdp_pgt_clear_leaves(&dom->pt, start, (end - start) >> VTDP_PAGE_SHIFT);
	spin_unlock_irqrestore(&dom->lock, flags);
	iommu_iotlb_gather_add_range(gather, start, end - start);
	return end - iova;
}

static void vtdp_core_flush_iotlb_all(struct iommu_domain *domain)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);

	vtdp_inv_iotlb_domain(dom->iommu, dom->did);
}

static void vtdp_core_iotlb_sync(struct iommu_domain *domain,
				 struct iommu_iotlb_gather *gather)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);
	u64 first, last;

	if (gather->start > gather->end || iommu_iotlb_gather_queued(gather))
		return;
	first = gather->start >> VTDP_PAGE_SHIFT;
	last = gather->end >> VTDP_PAGE_SHIFT;
	/*
	 * One aligned block over the range (a 2 MiB leaf: AM 9), with the
	 * hint: unmap only cleared leaves, every table stays.
	 */
	vtdp_inv_iotlb_range_hint(dom->iommu, dom->did,
				  first << VTDP_PAGE_SHIFT, last - first + 1,
				  true);
}

/* Caching mode (CAP.CM): not-present entries may be cached. */
static int vtdp_core_iotlb_sync_map(struct iommu_domain *domain,
				    unsigned long iova, size_t size)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);

	if (!(dom->iommu->cap & VTDP_CAP_CM) || !size)
		return 0;
	return vtdp_inv_iotlb_range(dom->iommu, dom->did,
				    iova & ~(VTDP_PAGE_SIZE - 1),
				    DIV_ROUND_UP((iova & (VTDP_PAGE_SIZE - 1)) + size,
						 VTDP_PAGE_SIZE));
}

static phys_addr_t vtdp_core_iova_to_phys(struct iommu_domain *domain,
					  dma_addr_t iova)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);
	phys_addr_t pa = 0;
	unsigned long flags;
	int level;
	u64 *pte;

	spin_lock_irqsave(&dom->lock, flags);
	pte = vtdp_pgt_leaf(&dom->pt, iova, &level);
	if (pte)
		pa = (READ_ONCE(*pte) & VTDP_SS_ADDR_MASK) +
		     (iova & ((VTDP_LEVEL_PAGES(level) << VTDP_PAGE_SHIFT) - 1));
	spin_unlock_irqrestore(&dom->lock, flags);
	return pa;
}

/* The largest leaf (bytes) that maps a page of [@iova, +@npages), or 0. */
static u64 vtdp_core_page_size(struct vtdp_core_domain *dom, u64 iova,
			       u64 npages)
{
	unsigned long flags;
	u64 i, n, max = 0;
	int level;

	spin_lock_irqsave(&dom->lock, flags);
	for (i = 0; i < npages; i += n) {
		u64 la = iova + (i << VTDP_PAGE_SHIFT);

		n = 1;
		if (!vtdp_pgt_leaf(&dom->pt, la, &level))
			continue;
		n = VTDP_LEVEL_PAGES(level) - ((la >> VTDP_PAGE_SHIFT) &
					       (VTDP_LEVEL_PAGES(level) - 1));
		max = max(max, VTDP_LEVEL_PAGES(level) << VTDP_PAGE_SHIFT);
	}
	spin_unlock_irqrestore(&dom->lock, flags);
	return max;
}

/**
 * vtdp_core_mapping_page_size() - the largest leaf mapping part of a range
 * @dev: a device the Linux IOMMU core manages
 * @iova: DMA address (from the DMA API), 4 KiB aligned
 * @npages: 4 KiB pages from @iova
 *
 * A vtdp extension, the counterpart of vtdp_v3_mapping_page_size() for the
 * DMA API (which never says how it mapped): tells a test whether a buffer
 * got large (2 MiB / 1 GiB) leaves in vtdp's paging domain.  The caller
 * keeps the mapping and its driver's binding alive during the call.
 * Context: any.
 * Return: bytes of the largest leaf mapping a page of the range, 0 when
 * none is or @dev is not on one of vtdp's paging domains.
 */
u64 vtdp_core_mapping_page_size(struct device *dev, u64 iova, u64 npages)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (!domain || domain->ops != &vtdp_core_paging_ops)
		return 0;
	return vtdp_core_page_size(to_vtdp_domain(domain), iova, npages);
}
EXPORT_SYMBOL_GPL(vtdp_core_mapping_page_size);

static const struct iommu_domain_ops vtdp_core_paging_ops = {
	.attach_dev = vtdp_core_attach,
	.map_pages = vtdp_core_map_pages,
	.unmap_pages = vtdp_core_unmap_pages,
	.flush_iotlb_all = vtdp_core_flush_iotlb_all,
	.iotlb_sync = vtdp_core_iotlb_sync,
	.iotlb_sync_map = vtdp_core_iotlb_sync_map,
	.iova_to_phys = vtdp_core_iova_to_phys,
	.free = vtdp_core_domain_free,
};

/* ---------------------------------------------------------------------- */
/* Devices                                                                 */

static struct iommu_device *vtdp_core_probe_device(struct device *dev)
{
	struct vtdp_iommu *iommu = vtdp_core_unit;
	struct vtdp_core_dev *cd;
	struct pci_dev *pdev;

	if (!iommu || !dev_is_pci(dev))
		return ERR_PTR(-ENODEV);
	pdev = to_pci_dev(dev);
	if (!vtdp_behind(iommu, pdev))
		return ERR_PTR(-ENODEV);
	if (pdev == iommu->pdev) {
		dev_info(dev, "vtdp: not taken: the IOMMU's own function (its DMA is not translated)\n");
		return ERR_PTR(-ENODEV);
	}
	/*
	 * A driver already runs it: the core would change its DMA ops under
	 * it.  It keeps the pass-through context it got at load.
	 */
	if (dev->driver) {
		dev_info(dev, "vtdp: not taken: bound to %s before vtdp.ko registered (pass-through; remove and rescan it to put it behind vtdp)\n",
			 dev->driver->name);
		return ERR_PTR(-ENODEV);
	}
	cd = vtdp_core_dev_alloc(iommu, pdev);
	if (!cd)
		return ERR_PTR(-ENOMEM);
	/* a function removed and rescanned: its load-time context goes */
	mutex_lock(&iommu->lock);
	vtdp_core_drop_passthrough(iommu, cd->sid);
	list_add_tail(&cd->link, &iommu->core_devices);
	mutex_unlock(&iommu->lock);
	dev_iommu_priv_set(dev, cd);
	dev_info(dev, "vtdp: taken by the Linux IOMMU core on %s\n",
		 dev_name(iommu->core.dev));
	return &iommu->core;
}

static void vtdp_core_release_device(struct device *dev)
{
	struct vtdp_core_dev *cd = dev_iommu_priv_get(dev);

	/* The core attached the blocked (release) domain: nothing uses cd. */
	mutex_lock(&cd->iommu->lock);
	vtdp_core_dev_set(cd, NULL);
	list_del(&cd->link);
	mutex_unlock(&cd->iommu->lock);
	dev_iommu_priv_set(dev, NULL);
	vtdp_core_dev_free(cd);
}

static void vtdp_core_get_resv_regions(struct device *dev,
				       struct list_head *head)
{
	struct iommu_resv_region *msi;

	/* Requests into the interrupt window are interrupts, never DMA. */
	msi = iommu_alloc_resv_region(VTDP_INTERRUPT_RANGE_START,
				      VTDP_INTERRUPT_RANGE_END -
				      VTDP_INTERRUPT_RANGE_START + 1,
				      IOMMU_WRITE | IOMMU_MMIO, IOMMU_RESV_MSI,
				      GFP_KERNEL);
	/* (dma-iommu itself keeps the host bridge windows out of its IOVAs) */
	if (msi)
		list_add_tail(&msi->list, head);
}

static bool vtdp_core_capable(struct device *dev, enum iommu_cap cap)
{
	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
		return true;
	case IOMMU_CAP_DEFERRED_FLUSH:
		/* flush_iotlb_all invalidates a whole domain: lazy mode works */
		return true;
	default:
		return false;
	}
}

static const struct iommu_ops vtdp_core_ops = {
	.capable = vtdp_core_capable,
	.domain_alloc_paging = vtdp_core_domain_alloc_paging,
	.probe_device = vtdp_core_probe_device,
	.release_device = vtdp_core_release_device,
	.device_group = pci_device_group,
	.get_resv_regions = vtdp_core_get_resv_regions,
	.identity_domain = &vtdp_identity_domain,
	.blocked_domain = &vtdp_blocked_domain,
	.release_domain = &vtdp_blocked_domain,
	.default_domain_ops = &vtdp_core_paging_ops,
	.pgsize_bitmap = SZ_4K,
	.owner = THIS_MODULE,
};

/*
 * The vtdp_core_dev of @pdev: the core's, or a load-time one.  Looked up
 * by requester id in our lists, not through pdev->dev.iommu, which the
 * core frees on release.  Context: iommu->lock held.
 */
static struct vtdp_core_dev *vtdp_core_dev_of(struct vtdp_iommu *iommu,
					      struct pci_dev *pdev,
					      const char **who)
{
	struct vtdp_core_dev *cd;

	lockdep_assert_held(&iommu->lock);
	list_for_each_entry(cd, &iommu->core_devices, link) {
		if (cd->sid == pci_dev_id(pdev)) {
			*who = "core";
			return cd;
		}
	}
	list_for_each_entry(cd, &iommu->pt_devices, link) {
		if (cd->sid == pci_dev_id(pdev)) {
			*who = "bound-at-load";
			return cd;
		}
	}
	*who = "-";
	return NULL;
}

/*
 * The domain id of the RID_PASID entry that a context entry written by
 * someone else (V3) leads to, read through the tables as the unit would;
 * -1 if none is present.  Context: iommu->lock held, so that V3 can
 * neither change nor free them meanwhile.
 */
static int vtdp_core_foreign_did(struct vtdp_context_entry *ce)
{
	u64 *dir = phys_to_virt(READ_ONCE(ce->val[0]) & VTDP_ADDR_MASK);
	u64 de = READ_ONCE(dir[VTDP_PASID_RID_DEFAULT >> 6]);
	struct vtdp_pasid_entry *pt;

	if (!(de & VTDP_PDIR_P))
		return -1;
	pt = phys_to_virt(de & VTDP_ADDR_MASK);
	pt += VTDP_PASID_RID_DEFAULT & 63;
	if (!(READ_ONCE(pt->val[0]) & VTDP_PE0_P))
		return -1;
	return READ_ONCE(pt->val[1]) & 0xffff;
}

/**
 * vtdp_core_debugfs_show() - debugfs "iommu_core": who owns each function
 * @m: the seq_file
 * @iommu: the unit
 *
 * One line per PCI function behind the unit: its name, who set up its
 * context ("core": the Linux IOMMU core; "bound-at-load": the pass-through
 * kept for a driver that ran before vtdp.ko; "-": neither, e.g. V3), what
 * the context entry does now, read back from the tables ("translated did
 * N", "pass-through did N", "v3" for a context entry the V3 side wrote,
 * "none" for not present) and the function's IOMMU group (-1: none).
 * A V3 context entry whose requests without PASID go to a domain adds a
 * line "v3-domain BDF did N".
 *
 * Return: 0.
 */
int vtdp_core_debugfs_show(struct seq_file *m, struct vtdp_iommu *iommu)
{
	struct pci_dev *pdev = NULL;

	seq_printf(m, "iommu_core %d registered %d\n", iommu_core,
		   iommu->core_registered);
	for_each_pci_dev(pdev) {
		struct iommu_group *group;
		struct vtdp_context_entry *ce;
		struct vtdp_core_dev *cd;
		const char *who;
		u64 pe0 = 0, pe1 = 0;
		int state = 0;		/* 0 none, 1 ours, 2 someone else's */
		int gid = -1, v3_did = -1;

		if (pdev == iommu->pdev || !vtdp_behind(iommu, pdev))
			continue;
		mutex_lock(&iommu->lock);
		cd = vtdp_core_dev_of(iommu, pdev, &who);
		ce = vtdp_context_entry(iommu, pdev->bus->number, pdev->devfn,
					false);
		if (ce && (READ_ONCE(ce->val[0]) & VTDP_CTX_P)) {
			state = 2;
			v3_did = vtdp_core_foreign_did(ce);
			if (cd && vtdp_core_dev_ctx(cd, false)) {
				state = 1;
				pe0 = READ_ONCE(cd->pasid_table0[0].val[0]);
				pe1 = READ_ONCE(cd->pasid_table0[0].val[1]);
			}
		}
		mutex_unlock(&iommu->lock);
		group = iommu_group_get(&pdev->dev);
		if (group) {
			gid = iommu_group_id(group);
			iommu_group_put(group);
		}
		seq_printf(m, "%s %s ", pci_name(pdev), who);
		if (state == 2)
			seq_puts(m, "v3");
		else if (state == 0 || !(pe0 & VTDP_PE0_P))
			seq_puts(m, "none");
		else if (VTDP_PE0_PGTT(pe0) == VTDP_PGTT_PT)
			seq_printf(m, "pass-through did %llu", pe1 & 0xffff);
		else
			seq_printf(m, "translated did %llu", pe1 & 0xffff);
		seq_printf(m, " group %d\n", gid);
		if (state == 2 && v3_did >= 0)
			seq_printf(m, "v3-domain %s did %d\n", pci_name(pdev),
				   v3_did);
	}
	return 0;
}

/* One TAP line of vtdp_core_selftest(). */
#define VTDP_ST(m, cond, fmt, ...)					\
	seq_printf(m, "%sok - iommu_core: " fmt "\n", (cond) ? "" : "not ", \
		   ##__VA_ARGS__)

/*
 * The checks of vtdp_core_selftest() on @domain, a fresh paging domain.
 * The output addresses are made up: the domain is never attached, no DMA
 * goes through it.
 */
static void vtdp_core_selftest_domain(struct seq_file *m,
				      struct iommu_domain *domain)
{
	struct vtdp_core_domain *dom = to_vtdp_domain(domain);
	const unsigned long va = SZ_1G;		/* an empty 1 GiB slot */
	const phys_addr_t pa = 3ULL * SZ_1G;
	unsigned long want = SZ_4K;
	long tables;
	size_t n;
	int ret;

	if (dom->iommu->cap & VTDP_CAP_SLLPS_2M)
		want |= SZ_2M;
	if (dom->iommu->cap & VTDP_CAP_SLLPS_1G)
		want |= SZ_1G;
	VTDP_ST(m, domain->pgsize_bitmap == want,
		"pgsize_bitmap %#lx: 4 KiB and what CAP.SLLPS offers (%#lx)",
		domain->pgsize_bitmap, want);

	/* a 4 KiB mapping leaves a leaf table behind when it goes */
	ret = iommu_map(domain, va + SZ_4K, pa + SZ_4K, SZ_4K,
			IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
	n = iommu_unmap(domain, va + SZ_4K, SZ_4K);
	VTDP_ST(m, !ret && n == SZ_4K && !iommu_iova_to_phys(domain, va + SZ_4K),
		"map and unmap 4 KiB (map %d, unmapped %zu)", ret, n);

	if (!(want & SZ_2M))
		return;
	/* 2 MiB where that empty leaf table is: the leaf replaces it */
	tables = atomic_long_read(&vtdp_live.table_pages);
	ret = iommu_map(domain, va, pa, SZ_2M, IOMMU_READ | IOMMU_WRITE,
			GFP_KERNEL);
	VTDP_ST(m, !ret && vtdp_core_page_size(dom, va, 512) == SZ_2M &&
		iommu_iova_to_phys(domain, va + 0x12345) == pa + 0x12345,
		"map 2 MiB: one 2 MiB leaf, translates (map %d)", ret);
	VTDP_ST(m, atomic_long_read(&vtdp_live.table_pages) == tables - 1,
		"the empty leaf table it replaced is freed (table pages %ld -> %ld)",
		tables, atomic_long_read(&vtdp_live.table_pages));
	ret = iommu_map(domain, va + SZ_8K, pa, SZ_4K, IOMMU_READ, GFP_KERNEL);
	VTDP_ST(m, ret == -EBUSY, "map 4 KiB inside the 2 MiB leaf: -EBUSY (%d)",
		ret);
	ret = iommu_map(domain, va, pa, SZ_2M, IOMMU_READ, GFP_KERNEL);
	VTDP_ST(m, ret == -EBUSY, "map 2 MiB over the 2 MiB leaf: -EBUSY (%d)",
		ret);
	/* as intel-iommu: a partial unmap takes the whole leaf, and says so */
	n = iommu_unmap(domain, va + SZ_4K, SZ_4K);
	VTDP_ST(m, n == SZ_2M - SZ_4K && !iommu_iova_to_phys(domain, va) &&
		!iommu_iova_to_phys(domain, va + SZ_2M - SZ_4K),
		"unmap 4 KiB of the 2 MiB leaf: all of it goes, %zu bytes from the IOVA reported",
		n);

	/* the core splits a range by alignment: 4 KiB, 2 MiB, 4 KiB leaves */
	ret = iommu_map(domain, va + SZ_2M - SZ_8K, pa + SZ_2M - SZ_8K,
			SZ_2M + SZ_16K, IOMMU_READ, GFP_KERNEL);
	VTDP_ST(m, !ret && vtdp_core_page_size(dom, va + SZ_2M - SZ_8K, 2) == SZ_4K &&
		vtdp_core_page_size(dom, va + SZ_2M, 512) == SZ_2M &&
		vtdp_core_page_size(dom, va + SZ_4M, 2) == SZ_4K &&
		iommu_iova_to_phys(domain, va + SZ_4M + 0x1234) == pa + SZ_4M + 0x1234,
		"map 2 MiB + 16 KiB across 2 MiB boundaries: 4 KiB, 2 MiB and 4 KiB leaves (map %d)",
		ret);
	n = iommu_unmap(domain, va + SZ_2M - SZ_8K, SZ_2M + SZ_16K);
	VTDP_ST(m, n == SZ_2M + SZ_16K && !vtdp_core_page_size(dom, va, 1536),
		"unmap it: %zu bytes, nothing left", n);

	/* pgcount > 1 */
	ret = iommu_map(domain, va, pa, SZ_4M, IOMMU_READ, GFP_KERNEL);
	n = iommu_unmap(domain, va, SZ_4M);
	VTDP_ST(m, !ret && n == SZ_4M && !vtdp_core_page_size(dom, va, 1024),
		"map and unmap 4 MiB as two 2 MiB leaves (map %d, unmapped %zu)",
		ret, n);

	if (!(want & SZ_1G))
		return;
	/* 1 GiB over the now empty level-2 table and its leaf tables */
	tables = atomic_long_read(&vtdp_live.table_pages);
	ret = iommu_map(domain, va, pa, SZ_1G, IOMMU_READ | IOMMU_WRITE,
			GFP_KERNEL);
	VTDP_ST(m, !ret && vtdp_core_page_size(dom, va, 1) == SZ_1G &&
		iommu_iova_to_phys(domain, va + 0x12345678) == pa + 0x12345678 &&
		atomic_long_read(&vtdp_live.table_pages) < tables,
		"map 1 GiB: one 1 GiB leaf replacing the empty tables (map %d, table pages %ld -> %ld)",
		ret, tables, atomic_long_read(&vtdp_live.table_pages));
	n = iommu_unmap(domain, va, SZ_1G);
	VTDP_ST(m, n == SZ_1G && !iommu_iova_to_phys(domain, va),
		"unmap 1 GiB (%zu bytes)", n);
}

/**
 * vtdp_core_selftest() - debugfs "iommu_core_selftest"
 * @m: the seq_file, TAP lines go there
 * @iommu: the unit
 *
 * The paging domains' large leaves through the Linux IOMMU API, on an
 * unattached domain of one of the devices the core gave us: the page
 * sizes offered, a 2 MiB leaf replacing an emptied leaf table, overlaps
 * refused, a partial unmap of a large leaf, ranges the core splits, 1 GiB.
 *
 * Return: 0.
 */
int vtdp_core_selftest(struct seq_file *m, struct vtdp_iommu *iommu)
{
	struct iommu_domain *domain;
	struct pci_dev *pdev = NULL;
	struct vtdp_core_dev *cd;
	int sid = -1;
	long tables;

	mutex_lock(&iommu->lock);
	cd = list_first_entry_or_null(&iommu->core_devices,
				      struct vtdp_core_dev, link);
	if (cd)
		sid = cd->sid;
	mutex_unlock(&iommu->lock);
	/* (the PCI lookup may sleep on the bus lock: not under iommu->lock) */
	if (sid >= 0)
		pdev = pci_get_domain_bus_and_slot(pci_domain_nr(iommu->pdev->bus),
						   PCI_BUS_NUM(sid), sid & 0xff);
	if (!pdev) {
		seq_puts(m, "not ok - iommu_core: no device under the Linux IOMMU core (iommu_core=1?)\n");
		return 0;
	}
	tables = atomic_long_read(&vtdp_live.table_pages);
	domain = iommu_paging_domain_alloc(&pdev->dev);
	VTDP_ST(m, !IS_ERR(domain) && domain->ops == &vtdp_core_paging_ops,
		"paging domain for %s (%d)", pci_name(pdev),
		PTR_ERR_OR_ZERO(domain));
	if (!IS_ERR(domain)) {
		if (domain->ops == &vtdp_core_paging_ops)
			vtdp_core_selftest_domain(m, domain);
		iommu_domain_free(domain);
	}
	VTDP_ST(m, atomic_long_read(&vtdp_live.table_pages) == tables,
		"its tables are all freed with it (table pages %ld -> %ld)",
		tables, atomic_long_read(&vtdp_live.table_pages));
	pci_dev_put(pdev);
	return 0;
}

/**
 * vtdp_core_owns() - does the Linux IOMMU core manage @pdev?
 * @iommu: the unit
 * @pdev: a PCI function behind it
 *
 * True when @pdev is in an IOMMU group, which only this unit's
 * registration gives functions behind it.
 */
bool vtdp_core_owns(struct vtdp_iommu *iommu, struct pci_dev *pdev)
{
	struct iommu_group *group;

	if (!iommu->core_registered)
		return false;
	group = iommu_group_get(&pdev->dev);
	if (!group)
		return false;
	iommu_group_put(group);
	return true;
}

/**
 * vtdp_core_register() - register @iommu with the Linux IOMMU core
 * @iommu: the unit, translation enabled, V3 registered
 *
 * Only with iommu_core=1.  A failure is logged and leaves the unit to V3.
 *
 * Return: 0 (registered or not wanted) or the error of the core.
 */
int vtdp_core_register(struct vtdp_iommu *iommu)
{
	struct device *dev = &iommu->pdev->dev;
	int ret;

	if (!iommu_core)
		return 0;
	if (!(iommu->ecap & VTDP_ECAP_PT)) {
		dev_err(dev, "iommu_core needs pass-through (ECAP.PT) for identity domains: not registered\n");
		return -ENODEV;
	}
	/* One unit (vtdp_v3_register() refuses a second), so always vtdp0. */
	ret = iommu_device_sysfs_add(&iommu->core, dev, NULL, "vtdp%d", 0);
	if (ret) {
		dev_err(dev, "iommu_device_sysfs_add: %d\n", ret);
		return ret;
	}
	WRITE_ONCE(vtdp_core_unit, iommu);
	/*
	 * No firmware node: a PCI function without fwspec is looked up with
	 * iommu_ops_from_fwnode(NULL) by __iommu_probe_device(), which finds
	 * the units registered without one.  Passing our PCI device would set
	 * its ACPI companion's fwnode, and no device would ever match.
	 */
	ret = iommu_device_register(&iommu->core, &vtdp_core_ops, NULL);
	if (ret) {
		dev_err(dev, "iommu_device_register: %d\n", ret);
		WRITE_ONCE(vtdp_core_unit, NULL);
		iommu_device_sysfs_remove(&iommu->core);
		return ret;
	}
	iommu->core_registered = true;
	dev_info(dev, "registered with the Linux IOMMU core as %s\n",
		 dev_name(iommu->core.dev));
	return 0;
}

/**
 * vtdp_core_unregister() - leave the Linux IOMMU core
 * @iommu: the unit
 *
 * Every device the core gave us pins the module, so on rmmod none is
 * left; on a forced removal of the unit they are released here.
 */
void vtdp_core_unregister(struct vtdp_iommu *iommu)
{
	if (!iommu->core_registered)
		return;
	iommu_device_unregister(&iommu->core);
	iommu_device_sysfs_remove(&iommu->core);
	WRITE_ONCE(vtdp_core_unit, NULL);
	iommu->core_registered = false;
}
