// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp.ko: driver for the vtdp-iommu PCI function (a VT-d style IOMMU in
 * scalable mode) and provider of the V3 IOMMU interface.
 *
 * This file owns the hardware: bring-up and tear-down of the register
 * file, the root/context tables, queued invalidation and the fault
 * interrupt.  The V3 objects live in vtdp-v3.c.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/cacheflush.h>

#include "vtdp.h"

#define VTDP_GSTS_TIMEOUT_US	1000000
/* Invalidation wait: polled, atomic-safe; generous for TCG guests. */
#define VTDP_QI_TIMEOUT_US	2000000

static struct dentry *vtdp_debugfs_root;

/* ---------------------------------------------------------------------- */
/* Fault reasons (VTDP_FR_* in iommu-hw.h) and their V3 fault types        */

static const char *const vtdp_fault_reason_names[256] = {
#define VTDP_REASON_NAME(code, name) [code] = name,
	VTDP_FAULT_REASONS(VTDP_REASON_NAME)
#undef VTDP_REASON_NAME
};

/* The V3 fault type (spec §4.24) a VT-d fault reason is reported as. */
static enum v3_fault_type vtdp_fault_v3_type(u8 reason)
{
	switch (reason) {
	case VTDP_FR_SM_RTA_INVALID:
	case VTDP_FR_SM_ROOT_NOT_PRESENT:
	case VTDP_FR_SM_CTX_NOT_PRESENT:
	case VTDP_FR_SM_PASID_TOO_LARGE:
	case VTDP_FR_SM_PDIR_NOT_PRESENT:
	case VTDP_FR_SM_PTE_NOT_PRESENT:
	case VTDP_FR_SM_INTERRUPT_ADDR:
		return V3_FAULT_UNSUPPORTED_UPSTREAM_TRANSACTION;
	case VTDP_FR_SM_ROOT_ACCESS:
	case VTDP_FR_SM_CTX_ACCESS:
	case VTDP_FR_SM_PDIR_ACCESS:
	case VTDP_FR_SM_PTE_ACCESS:
	case VTDP_FR_SM_FS_ACCESS:
	case VTDP_FR_SM_SS_ACCESS:
		return V3_FAULT_EXTERNAL;
	case VTDP_FR_SM_ROOT_RSVD:
	case VTDP_FR_SM_CTX_RSVD:
	case VTDP_FR_SM_CTX_INVALID:
	case VTDP_FR_SM_PDIR_RSVD:
	case VTDP_FR_SM_PTE_RSVD:
	case VTDP_FR_SM_PTE_INVALID:
	case VTDP_FR_SM_FS_NOT_PRESENT:
	case VTDP_FR_SM_FS_RSVD:
	case VTDP_FR_SM_SS_NOT_PRESENT:
	case VTDP_FR_SM_SS_RSVD:
		return V3_FAULT_TRANSLATION;
	case VTDP_FR_SM_PTE_SRE_CLEAR:
	case VTDP_FR_SM_FS_USER:
	case VTDP_FR_SM_WRITE:
	case VTDP_FR_SM_READ:
		return V3_FAULT_PERMISSION;
	case VTDP_FR_SM_FS_NON_CANONICAL:
	case VTDP_FR_SM_ADDR_BEYOND_AW:
		return V3_FAULT_ADDRESS_SIZE;
	}
	return V3_FAULT_UNSUPPORTED_UPSTREAM_TRANSACTION;
}

/* ---------------------------------------------------------------------- */
/* Table helpers                                                           */

/**
 * vtdp_flush_table() - make CPU writes to a translation structure visible
 * @iommu: the unit that walks the structure
 * @addr: first byte written
 * @len: bytes written
 *
 * A no-op on coherent units (ECAP.C = 1, the vtdp-iommu default).
 */
void vtdp_flush_table(struct vtdp_iommu *iommu, void *addr, size_t len)
{
	if (!iommu->coherent)
		clflush_cache_range(addr, len);
}

/**
 * vtdp_context_entry() - find (optionally create) the context entry of a RID
 * @iommu: the unit
 * @bus: bus number
 * @devfn: device/function
 * @alloc: allocate the context table if it does not exist yet
 *
 * Context: process context with iommu->lock held (may allocate).
 * Return: the entry, or NULL (no table and !@alloc, or out of memory).
 */
struct vtdp_context_entry *vtdp_context_entry(struct vtdp_iommu *iommu,
					      u8 bus, u8 devfn, bool alloc)
{
	unsigned int half = devfn >= 128;
	struct vtdp_context_entry *tbl = iommu->ctx[bus][half];
	u64 *rootp;

	lockdep_assert_held(&iommu->lock);
	if (!tbl) {
		if (!alloc)
			return NULL;
		tbl = (void *)get_zeroed_page(GFP_KERNEL);
		if (!tbl)
			return NULL;
		vtdp_flush_table(iommu, tbl, PAGE_SIZE);
		iommu->ctx[bus][half] = tbl;
		rootp = half ? &iommu->root[bus].hi : &iommu->root[bus].lo;
		WRITE_ONCE(*rootp, virt_to_phys(tbl) | VTDP_ROOT_P);
		vtdp_flush_table(iommu, rootp, sizeof(*rootp));
		/* root entries may be cached together with context entries */
		{
			struct vtdp_inv_desc d = {
				.lo = VTDP_INV_TYPE_CC | VTDP_INV_CC_GLOBAL,
			};

			vtdp_qi_submit(iommu, &d, 1);
		}
	}
	return &tbl[devfn & 0x7f];
}

/**
 * vtdp_behind() - is @pdev's DMA translated by @iommu?
 * @iommu: the unit
 * @pdev: a PCI function
 *
 * The model translates the functions of its root bus and everything below
 * it (bridges included), but not its own.
 */
bool vtdp_behind(struct vtdp_iommu *iommu, struct pci_dev *pdev)
{
	struct pci_bus *a = pdev->bus, *b = iommu->pdev->bus;

	while (!pci_is_root_bus(a))
		a = a->parent;
	while (!pci_is_root_bus(b))
		b = b->parent;
	return a == b;
}

/**
 * vtdp_context_set() - point a scalable-mode context entry at a PASID dir
 * @iommu: the unit
 * @ce: the entry (from vtdp_context_entry())
 * @pasid_dir: PASID directory of 2^(@pdts + 7) entries
 * @pdts: its size field
 * @pasid_tagged: accept PASID-tagged requests (PASIDE)
 *
 * Requests without PASID use RID_PASID 0.  Present last: the hardware
 * never sees a half-written entry.  The caller invalidates.
 */
void vtdp_context_set(struct vtdp_iommu *iommu, struct vtdp_context_entry *ce,
		      u64 *pasid_dir, unsigned int pdts, bool pasid_tagged)
{
	u64 ctx0 = (virt_to_phys(pasid_dir) & VTDP_ADDR_MASK) |
		   ((u64)pdts << VTDP_CTX_PDTS_SHIFT) | VTDP_CTX_P;

	if (pasid_tagged)
		ctx0 |= VTDP_CTX_PASIDE;
	WRITE_ONCE(ce->val[0], 0);
	wmb();	/* not present before the other words change */
	WRITE_ONCE(ce->val[1], VTDP_PASID_RID_DEFAULT);	/* RID_PASID */
	WRITE_ONCE(ce->val[2], 0);
	WRITE_ONCE(ce->val[3], 0);
	wmb();	/* the other words before present */
	WRITE_ONCE(ce->val[0], ctx0);
	vtdp_flush_table(iommu, ce, sizeof(*ce));
}

/**
 * vtdp_context_clear() - make a context entry not present
 * @iommu: the unit
 * @ce: the entry
 *
 * The caller invalidates.
 */
void vtdp_context_clear(struct vtdp_iommu *iommu, struct vtdp_context_entry *ce)
{
	WRITE_ONCE(ce->val[0], 0);
	wmb();	/* not present before the other words change */
	WRITE_ONCE(ce->val[1], 0);
	vtdp_flush_table(iommu, ce, sizeof(*ce));
}

/**
 * vtdp_write_pasid_entry() - install a PASID-table entry
 * @iommu: the unit
 * @pe: the entry in the table
 * @val: its new value
 */
void vtdp_write_pasid_entry(struct vtdp_iommu *iommu,
			    struct vtdp_pasid_entry *pe,
			    const struct vtdp_pasid_entry *val)
{
	unsigned int i;

	/* P last, so the hardware never sees a half-written present entry */
	for (i = 1; i < ARRAY_SIZE(pe->val); i++)
		WRITE_ONCE(pe->val[i], val->val[i]);
	wmb();	/* the other words before present */
	WRITE_ONCE(pe->val[0], val->val[0]);
	vtdp_flush_table(iommu, pe, sizeof(*pe));
}

/**
 * vtdp_clear_pasid_entry() - make a PASID-table entry not present
 * @iommu: the unit
 * @pe: the entry
 */
void vtdp_clear_pasid_entry(struct vtdp_iommu *iommu,
			    struct vtdp_pasid_entry *pe)
{
	unsigned int i;

	WRITE_ONCE(pe->val[0], 0);
	wmb();	/* not present before the other words change */
	for (i = 1; i < ARRAY_SIZE(pe->val); i++)
		WRITE_ONCE(pe->val[i], 0);
	vtdp_flush_table(iommu, pe, sizeof(*pe));
}

/**
 * vtdp_pasid_entry_ss() - PASID-entry value: second-stage translation
 * @val: receives the value
 * @did: domain id
 * @pgd: the 4-level second-stage table
 */
void vtdp_pasid_entry_ss(struct vtdp_pasid_entry *val, u16 did, u64 *pgd)
{
	memset(val, 0, sizeof(*val));
	val->val[0] = VTDP_PE0_P | ((u64)VTDP_PE_AW_48 << VTDP_PE0_AW_SHIFT) |
		      ((u64)VTDP_PGTT_SS << VTDP_PE0_PGTT_SHIFT) |
		      (virt_to_phys(pgd) & VTDP_PE0_SSPTPTR_MASK);
	val->val[1] = did;
}

/**
 * vtdp_pasid_entry_pt() - PASID-entry value: pass-through (no translation)
 * @val: receives the value
 * @did: domain id that tags the entry
 */
void vtdp_pasid_entry_pt(struct vtdp_pasid_entry *val, u16 did)
{
	memset(val, 0, sizeof(*val));
	val->val[0] = VTDP_PE0_P | ((u64)VTDP_PE_AW_48 << VTDP_PE0_AW_SHIFT) |
		      ((u64)VTDP_PGTT_PT << VTDP_PE0_PGTT_SHIFT);
	val->val[1] = did;
}

/* ---------------------------------------------------------------------- */
/* Queued invalidation                                                     */

static void vtdp_qi_recover(struct vtdp_iommu *iommu)
{
	u64 head = readq(iommu->regs + VTDP_REG_IQH) & VTDP_IQ_INDEX_MASK;
	u64 ercd = readq(iommu->regs + VTDP_REG_IQERCD);
	unsigned int idx = head >> VTDP_IQ_INDEX_SHIFT;
	u64 *q = (u64 *)iommu->iq;

	dev_err(&iommu->pdev->dev,
		"invalidation queue error (IQEI %llu) at descriptor %u: %016llx %016llx\n",
		VTDP_IQERCD_IQEI(ercd), idx, q[idx * 2], q[idx * 2 + 1]);
	/* drop the rejected descriptor and everything after it */
	writeq(head, iommu->regs + VTDP_REG_IQT);
	iommu->iq_tail = idx;
	writel(VTDP_FSTS_IQE, iommu->regs + VTDP_REG_FSTS);
	atomic64_inc(&iommu->inv_errors);
}

/* Is @d a descriptor fault injection wants left out?  Under qi_lock. */
static bool vtdp_inject_skip(struct vtdp_iommu *iommu,
			     const struct vtdp_inv_desc *d)
{
	u32 kind;

	if (likely(!iommu->inject_skip_count))
		return false;
	switch (VTDP_INV_TYPE(d->lo)) {
	case VTDP_INV_TYPE_CC:
		kind = VTDP_INJECT_SKIP_CONTEXT;
		break;
	case VTDP_INV_TYPE_PC:
		kind = VTDP_INJECT_SKIP_PASID;
		break;
	case VTDP_INV_TYPE_IOTLB:
	case VTDP_INV_TYPE_PIOTLB:
		kind = VTDP_INJECT_SKIP_IOTLB;
		break;
	default:
		return false;
	}
	if (!(iommu->inject_skip_mask & kind))
		return false;
	iommu->inject_skip_count--;
	dev_warn(&iommu->pdev->dev,
		 "fault injection: invalidation descriptor %#llx %#llx skipped\n",
		 d->lo, d->hi);
	return true;
}

/**
 * vtdp_qi_submit() - run invalidation descriptors synchronously
 * @iommu: the unit
 * @descs: descriptors (lo/hi used; 128-bit queue)
 * @n: number of descriptors
 *
 * Appends @descs plus an invalidation-wait descriptor with status write and
 * polls the status word until the hardware has processed all of them.
 * Context: any (spinlock, no sleeping; bounded busy wait).
 * Return: 0, -EIO if the hardware rejected a descriptor (FSTS.IQE),
 * -ETIMEDOUT if the wait did not complete, -EINVAL if @n is too large.
 */
int vtdp_qi_submit(struct vtdp_iommu *iommu, const struct vtdp_inv_desc *descs,
		   unsigned int n)
{
	u64 *q = (u64 *)iommu->iq;
	unsigned long flags;
	unsigned int i, slot;
	u32 seq, fsts;
	long budget;
	int ret = -ETIMEDOUT;

	if (n + 1 > VTDP_IQ_ENTRIES - 1)
		return -EINVAL;

	spin_lock_irqsave(&iommu->qi_lock, flags);
	seq = ++iommu->wait_seq;
	if (!seq)
		seq = ++iommu->wait_seq;
	WRITE_ONCE(*iommu->wait_status, 0);

	slot = iommu->iq_tail;
	for (i = 0; i <= n; i++) {
		u64 lo, hi;

		if (i < n) {
			if (vtdp_inject_skip(iommu, &descs[i]))
				continue;
			lo = descs[i].lo;
			hi = descs[i].hi;
		} else {
			lo = VTDP_INV_TYPE_WAIT | VTDP_INV_WAIT_SW |
			     VTDP_INV_WAIT_FN |
			     ((u64)seq << VTDP_INV_WAIT_SDATA_SHIFT);
			hi = virt_to_phys(iommu->wait_status);
		}
		q[slot * 2] = lo;
		q[slot * 2 + 1] = hi;
		vtdp_flush_table(iommu, &q[slot * 2], 16);
		slot = (slot + 1) % VTDP_IQ_ENTRIES;
	}
	iommu->iq_tail = slot;
	wmb();	/* descriptors before the tail update */
	writeq((u64)slot << VTDP_IQ_INDEX_SHIFT, iommu->regs + VTDP_REG_IQT);

	for (budget = VTDP_QI_TIMEOUT_US; budget > 0; budget--) {
		if (READ_ONCE(*iommu->wait_status) == seq) {
			ret = 0;
			break;
		}
		fsts = readl(iommu->regs + VTDP_REG_FSTS);
		if (fsts & VTDP_FSTS_IQE) {
			vtdp_qi_recover(iommu);
			ret = -EIO;
			break;
		}
		udelay(1);
	}
	if (ret == -ETIMEDOUT) {
		atomic64_inc(&iommu->inv_errors);
		dev_err(&iommu->pdev->dev,
			"invalidation wait timed out (IQH %#llx IQT %#llx FSTS %#x)\n",
			readq(iommu->regs + VTDP_REG_IQH),
			readq(iommu->regs + VTDP_REG_IQT),
			readl(iommu->regs + VTDP_REG_FSTS));
	}
	spin_unlock_irqrestore(&iommu->qi_lock, flags);
	return ret;
}

static u64 vtdp_iotlb_drain(struct vtdp_iommu *iommu)
{
	u64 v = 0;

	if (iommu->cap & VTDP_CAP_DRD)
		v |= VTDP_INV_IOTLB_DR;
	if (iommu->cap & VTDP_CAP_DWD)
		v |= VTDP_INV_IOTLB_DW;
	return v;
}

/** vtdp_inv_context_device() - device-selective context-cache invalidation */
int vtdp_inv_context_device(struct vtdp_iommu *iommu, u16 sid)
{
	struct vtdp_inv_desc d = {
		.lo = VTDP_INV_TYPE_CC | VTDP_INV_CC_DEVICE | ((u64)sid << 32),
	};

	return vtdp_qi_submit(iommu, &d, 1);
}

/**
 * vtdp_inv_pasid_cache() - PASID-cache invalidation within domain @did
 * @iommu: the unit
 * @did: domain id the PASID entries carry
 * @pasid: the PASID (ignored if @all_pasids)
 * @all_pasids: invalidate every PASID of @did
 *
 * Return: 0 or the error of vtdp_qi_submit().
 */
int vtdp_inv_pasid_cache(struct vtdp_iommu *iommu, u16 did, u32 pasid,
			 bool all_pasids)
{
	struct vtdp_inv_desc d = {
		.lo = VTDP_INV_TYPE_PC |
		      (all_pasids ? VTDP_INV_PC_DOMAIN : VTDP_INV_PC_PASID) |
		      ((u64)did << 16) |
		      ((u64)pasid << VTDP_INV_PC_PASID_SHIFT),
	};

	return vtdp_qi_submit(iommu, &d, 1);
}

/** vtdp_inv_pasid_cache_global() - invalidate the whole PASID cache */
int vtdp_inv_pasid_cache_global(struct vtdp_iommu *iommu)
{
	struct vtdp_inv_desc d = { .lo = VTDP_INV_TYPE_PC | VTDP_INV_PC_GLOBAL };

	return vtdp_qi_submit(iommu, &d, 1);
}

/** vtdp_inv_iotlb_domain() - domain-selective IOTLB invalidation */
int vtdp_inv_iotlb_domain(struct vtdp_iommu *iommu, u16 did)
{
	struct vtdp_inv_desc d = {
		.lo = VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_DOMAIN |
		      vtdp_iotlb_drain(iommu) | ((u64)did << 16),
	};

	return vtdp_qi_submit(iommu, &d, 1);
}

/**
 * vtdp_inv_iotlb_range_hint() - invalidate IOTLB entries of @did for a range
 * @iommu: the unit
 * @did: domain id
 * @addr: first logical address (page aligned)
 * @npages: number of 4 KiB pages
 * @leaf_only: set the Invalidation Hint: only leaf entries changed, paging
 *	structure caches may be kept
 *
 * Uses one page-selective descriptor whose naturally aligned 2^AM block
 * covers the range, or a domain-selective one when the hardware cannot
 * (no CAP.PSI, or AM above CAP.MAMV).  Over-invalidation is harmless.
 *
 * Return: 0 or the error of vtdp_qi_submit().
 */
int vtdp_inv_iotlb_range_hint(struct vtdp_iommu *iommu, u16 did, u64 addr,
			      u64 npages, bool leaf_only)
{
	u64 first = addr >> VTDP_PAGE_SHIFT, last = first + npages - 1;
	unsigned int am = 0;
	struct vtdp_inv_desc d;

	while (am < 52 && (first >> am) != (last >> am))
		am++;
	if (!(iommu->cap & VTDP_CAP_PSI) || am > VTDP_CAP_MAMV(iommu->cap))
		return vtdp_inv_iotlb_domain(iommu, did);

	d.lo = VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_PAGE |
	       vtdp_iotlb_drain(iommu) | ((u64)did << 16);
	d.hi = ((first >> am) << (am + VTDP_PAGE_SHIFT)) | am |
	       (leaf_only ? VTDP_INV_IOTLB_IH : 0);
	return vtdp_qi_submit(iommu, &d, 1);
}

/** vtdp_inv_iotlb_range() - vtdp_inv_iotlb_range_hint() without the hint */
int vtdp_inv_iotlb_range(struct vtdp_iommu *iommu, u16 did, u64 addr,
			 u64 npages)
{
	return vtdp_inv_iotlb_range_hint(iommu, did, addr, npages, false);
}

/**
 * vtdp_inv_piotlb_pasid() - PASID-based IOTLB invalidation, all of one PASID
 * @iommu: the unit
 * @did: domain id the PASID entry carried
 * @pasid: the PASID
 *
 * Return: 0 or the error of vtdp_qi_submit().
 */
int vtdp_inv_piotlb_pasid(struct vtdp_iommu *iommu, u16 did, u32 pasid)
{
	struct vtdp_inv_desc d = {
		.lo = VTDP_INV_TYPE_PIOTLB | VTDP_INV_PIOTLB_ALL_PASID |
		      ((u64)did << 16) |
		      ((u64)pasid << VTDP_INV_PIOTLB_PASID_SHIFT),
	};

	return vtdp_qi_submit(iommu, &d, 1);
}

/**
 * vtdp_inv_piotlb_range() - PASID-based IOTLB invalidation of a range
 * @iommu: the unit
 * @did: domain id
 * @pasid: the PASID whose (first-stage) translations go
 * @addr: first logical address (page aligned)
 * @npages: number of 4 KiB pages
 *
 * Like vtdp_inv_iotlb_range(): one page-selective-within-PASID descriptor
 * whose aligned 2^AM block covers the range, or all of the PASID.
 * Return: 0 or the error of vtdp_qi_submit().
 */
int vtdp_inv_piotlb_range(struct vtdp_iommu *iommu, u16 did, u32 pasid,
			  u64 addr, u64 npages)
{
	u64 first = addr >> VTDP_PAGE_SHIFT, last = first + npages - 1;
	unsigned int am = 0;
	struct vtdp_inv_desc d = {};

	while (am < 52 && (first >> am) != (last >> am))
		am++;
	if (am > VTDP_CAP_MAMV(iommu->cap))
		return vtdp_inv_piotlb_pasid(iommu, did, pasid);
	d.lo = VTDP_INV_TYPE_PIOTLB | VTDP_INV_PIOTLB_PAGE | ((u64)did << 16) |
	       ((u64)pasid << VTDP_INV_PIOTLB_PASID_SHIFT);
	d.hi = ((first >> am) << (am + VTDP_PAGE_SHIFT)) | am;
	return vtdp_qi_submit(iommu, &d, 1);
}

static int vtdp_inv_all(struct vtdp_iommu *iommu)
{
	struct vtdp_inv_desc d[3] = {
		{ .lo = VTDP_INV_TYPE_CC | VTDP_INV_CC_GLOBAL },
		{ .lo = VTDP_INV_TYPE_PC | VTDP_INV_PC_GLOBAL },
		{ .lo = VTDP_INV_TYPE_IOTLB | VTDP_INV_IOTLB_GLOBAL },
	};

	d[2].lo |= vtdp_iotlb_drain(iommu);
	return vtdp_qi_submit(iommu, d, ARRAY_SIZE(d));
}

/* ---------------------------------------------------------------------- */
/* Faults                                                                  */

static void vtdp_handle_fault(struct vtdp_iommu *iommu, u64 lo, u64 hi)
{
	const char *reason_name;
	struct v3_fault_information info = {};
	u8 reason = VTDP_FRCD_HI_FR(hi);
	u16 sid = VTDP_FRCD_HI_SID(hi);
	bool write = !(hi & VTDP_FRCD_HI_T1);
	bool pp = hi & VTDP_FRCD_HI_PP;
	u32 pasid = VTDP_FRCD_HI_PV(hi);
	char tag[24];

	atomic64_inc(&iommu->faults_total);
	reason_name = vtdp_fault_reason_names[reason] ?: "unknown fault reason";

	if (pp)
		snprintf(tag, sizeof(tag), "PASID 0x%x", pasid);
	else
		strscpy(tag, "NO_PASID", sizeof(tag));
	dev_err_ratelimited(&iommu->pdev->dev,
			    "[DMA %s %s] device %02x:%02x.%d fault addr 0x%llx reason 0x%02x (%s)\n",
			    write ? "Write" : "Read", tag, PCI_BUS_NUM(sid),
			    PCI_SLOT(sid & 0xff), PCI_FUNC(sid & 0xff),
			    lo & VTDP_FRCD_LO_FI_MASK, reason,
			    reason_name);

	info.type = V3_FAULT_INFORMATION_X64;
	info.is_stage1 = reason >= VTDP_FR_SM_FS_ACCESS &&
			 reason <= VTDP_FR_SM_FS_RSVD;
	info.x64.fault_address = lo & VTDP_FRCD_LO_FI_MASK;
	info.x64.flags = V3_FAULT_FLAG_ADDRESS_VALID;
	if (write)
		info.x64.flags |= V3_FAULT_FLAG_WRITE;
	if (hi & VTDP_FRCD_HI_PRIV)
		info.x64.flags |= V3_FAULT_FLAG_PRIVILEGED;
	if (hi & VTDP_FRCD_HI_EXE)
		info.x64.flags |= V3_FAULT_FLAG_INSTRUCTION;
	info.x64.fault_type = vtdp_fault_v3_type(reason);
	info.x64.iommu_base_address = iommu->reg_phys;
	info.x64.pci_segment = pci_domain_nr(iommu->pdev->bus);
	info.source_id = sid;
	info.pasid = pp ? pasid : 0;
	info.pasid_valid = pp;
	info.reason = reason;

	vtdp_v3_deliver_fault(iommu, &info);
}

/*
 * Threaded fault handler: walks the fault recording registers from FRI
 * (as Linux's dmar_fault() does), clearing each record before acting on it
 * so the hardware can reuse it.  Bounded: at most NFR records per pass and
 * a few passes per interrupt.
 */
static irqreturn_t vtdp_fault_thread(int irq, void *data)
{
	struct vtdp_iommu *iommu = data;
	void __iomem *frcd = iommu->regs + iommu->fro;
	unsigned int pass, n, idx;
	u32 fsts;

	for (pass = 0; pass < 4; pass++) {
		fsts = readl(iommu->regs + VTDP_REG_FSTS);
		if (fsts & (VTDP_FSTS_ICE | VTDP_FSTS_ITE)) {
			dev_err_ratelimited(&iommu->pdev->dev,
					    "invalidation error, FSTS %#x\n", fsts);
			writel(fsts & (VTDP_FSTS_ICE | VTDP_FSTS_ITE),
			       iommu->regs + VTDP_REG_FSTS);
		}
		if (!(fsts & (VTDP_FSTS_PPF | VTDP_FSTS_PFO)))
			break;

		idx = VTDP_FSTS_FRI(fsts) % iommu->nfr;
		for (n = 0; (fsts & VTDP_FSTS_PPF) && n < iommu->nfr; n++) {
			void __iomem *rec = frcd + idx * VTDP_FRCD_SIZE;
			u64 hi = readq(rec + 8), lo;

			if (!(hi & VTDP_FRCD_HI_F))
				break;
			lo = readq(rec);
			/* F is bit 31 of the record's top dword; RW1C */
			writel(VTDP_FRCD_HI_F >> 32, rec + 12);
			vtdp_handle_fault(iommu, lo, hi);
			idx = (idx + 1) % iommu->nfr;
		}
		if (fsts & VTDP_FSTS_PFO) {
			dev_err_ratelimited(&iommu->pdev->dev,
					    "primary fault overflow: faults were lost\n");
			writel(VTDP_FSTS_PFO, iommu->regs + VTDP_REG_FSTS);
		}
	}
	return IRQ_HANDLED;
}

static void vtdp_clear_faults(struct vtdp_iommu *iommu)
{
	unsigned int i;

	for (i = 0; i < iommu->nfr; i++)
		writel(VTDP_FRCD_HI_F >> 32,
		       iommu->regs + iommu->fro + i * VTDP_FRCD_SIZE + 12);
	writel(VTDP_FSTS_RW1C, iommu->regs + VTDP_REG_FSTS);
}

/* ---------------------------------------------------------------------- */
/* Global command                                                          */

static int vtdp_gcmd_latch(struct vtdp_iommu *iommu, u32 bit, bool on)
{
	u32 sts;
	int ret;

	if (on)
		iommu->gcmd |= bit;
	else
		iommu->gcmd &= ~bit;
	writel(iommu->gcmd, iommu->regs + VTDP_REG_GCMD);
	ret = readl_poll_timeout(iommu->regs + VTDP_REG_GSTS, sts,
				 !!(sts & bit) == on, 10, VTDP_GSTS_TIMEOUT_US);
	if (ret)
		dev_err(&iommu->pdev->dev, "GCMD %#x %s timed out (GSTS %#x)\n",
			bit, on ? "set" : "clear", sts);
	return ret;
}

static int vtdp_set_root_table(struct vtdp_iommu *iommu)
{
	u32 sts;
	int ret;

	writeq(virt_to_phys(iommu->root) | VTDP_RTADDR_TTM_SM,
	       iommu->regs + VTDP_REG_RTADDR);
	writel(iommu->gcmd | VTDP_GCMD_SRTP, iommu->regs + VTDP_REG_GCMD);
	ret = readl_poll_timeout(iommu->regs + VTDP_REG_GSTS, sts,
				 sts & VTDP_GSTS_RTPS, 10, VTDP_GSTS_TIMEOUT_US);
	if (ret)
		dev_err(&iommu->pdev->dev, "SRTP timed out (GSTS %#x)\n", sts);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* debugfs                                                                 */

static int vtdp_regs_show(struct seq_file *m, void *unused)
{
	struct vtdp_iommu *iommu = m->private;
	void __iomem *r = iommu->regs;
	unsigned int i;

	seq_printf(m, "VER     %#010x\n", readl(r + VTDP_REG_VER));
	seq_printf(m, "CAP     %#018llx\n", readq(r + VTDP_REG_CAP));
	seq_printf(m, "ECAP    %#018llx\n", readq(r + VTDP_REG_ECAP));
	seq_printf(m, "GSTS    %#010x\n", readl(r + VTDP_REG_GSTS));
	seq_printf(m, "RTADDR  %#018llx\n", readq(r + VTDP_REG_RTADDR));
	seq_printf(m, "FSTS    %#010x\n", readl(r + VTDP_REG_FSTS));
	seq_printf(m, "FECTL   %#010x\n", readl(r + VTDP_REG_FECTL));
	seq_printf(m, "IQH     %#018llx\n", readq(r + VTDP_REG_IQH));
	seq_printf(m, "IQT     %#018llx\n", readq(r + VTDP_REG_IQT));
	seq_printf(m, "IQA     %#018llx\n", readq(r + VTDP_REG_IQA));
	seq_printf(m, "ICS     %#010x\n", readl(r + VTDP_REG_ICS));
	seq_printf(m, "IECTL   %#010x\n", readl(r + VTDP_REG_IECTL));
	seq_printf(m, "IQERCD  %#018llx\n", readq(r + VTDP_REG_IQERCD));
	for (i = 0; i < iommu->nfr; i++)
		seq_printf(m, "FRCD%-3u %#018llx %#018llx\n", i,
			   readq(r + iommu->fro + i * VTDP_FRCD_SIZE + 8),
			   readq(r + iommu->fro + i * VTDP_FRCD_SIZE));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vtdp_regs);

static int vtdp_stats_show(struct seq_file *m, void *unused)
{
	struct vtdp_iommu *iommu = m->private;

	seq_printf(m, "faults_total %lld\n",
		   (long long)atomic64_read(&iommu->faults_total));
	seq_printf(m, "faults_delivered %lld\n",
		   (long long)atomic64_read(&iommu->faults_delivered));
	seq_printf(m, "inv_errors %lld\n",
		   (long long)atomic64_read(&iommu->inv_errors));
	seq_printf(m, "hw_faults_recorded %llu\n",
		   readq(iommu->regs + VTDP_REG_EXT_FAULTS_RECORDED));
	seq_printf(m, "hw_faults_suppressed %llu\n",
		   readq(iommu->regs + VTDP_REG_EXT_FAULTS_SUPPRESSED));
	seq_printf(m, "hw_faults_dropped %llu\n",
		   readq(iommu->regs + VTDP_REG_EXT_FAULTS_DROPPED));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vtdp_stats);

struct vtdp_live vtdp_live;

/* Module-wide, so it outlives the unit: objects may outlive a probe. */
static const struct {
	const char *name;
	atomic_long_t *count;
} vtdp_live_fields[] = {
	{ "domains", &vtdp_live.domains },
	{ "devices", &vtdp_live.devices },
	{ "pasid_devices", &vtdp_live.pasid_devices },
	{ "extents", &vtdp_live.extents },
	{ "tokens", &vtdp_live.tokens },
	{ "table_pages", &vtdp_live.table_pages },
	{ "files", &vtdp_live.files },
	{ "handles", &vtdp_live.handles },
	{ "pinned_pages", &vtdp_live.pinned_pages },
};

static int vtdp_objects_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vtdp_live_fields); i++)
		seq_printf(m, "%s %ld\n", vtdp_live_fields[i].name,
			   atomic_long_read(vtdp_live_fields[i].count));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vtdp_objects);

static int vtdp_iommu_core_show(struct seq_file *m, void *unused)
{
	return vtdp_core_debugfs_show(m, m->private);
}
DEFINE_SHOW_ATTRIBUTE(vtdp_iommu_core);

static int vtdp_iommu_core_selftest_show(struct seq_file *m, void *unused)
{
	return vtdp_core_selftest(m, m->private);
}
DEFINE_SHOW_ATTRIBUTE(vtdp_iommu_core_selftest);

static int vtdp_selftest_show(struct seq_file *m, void *unused)
{
	return vtdp_v3_selftest(m);
}
DEFINE_SHOW_ATTRIBUTE(vtdp_selftest);

/*
 * "inject_skip_invalidation": write "<kinds> <count>", kinds a comma list
 * of context, pasid, iotlb (or "none"); read back what is still pending.
 */
static const char *const vtdp_inject_kind_names[] = { "context", "pasid", "iotlb" };

static int vtdp_inject_show(struct seq_file *m, void *unused)
{
	struct vtdp_iommu *iommu = m->private;
	unsigned long flags;
	u32 mask, count;
	unsigned int i;

	spin_lock_irqsave(&iommu->qi_lock, flags);
	mask = iommu->inject_skip_mask;
	count = iommu->inject_skip_count;
	spin_unlock_irqrestore(&iommu->qi_lock, flags);
	for (i = 0; i < ARRAY_SIZE(vtdp_inject_kind_names); i++)
		if (mask & BIT(i))
			seq_printf(m, "%s%s", mask & (BIT(i) - 1) ? "," : "",
				   vtdp_inject_kind_names[i]);
	seq_printf(m, "%s %u\n", mask ? "" : "none", count);
	return 0;
}

static int vtdp_inject_open(struct inode *inode, struct file *file)
{
	return single_open(file, vtdp_inject_show, inode->i_private);
}

static ssize_t vtdp_inject_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct vtdp_iommu *iommu = file_inode(file)->i_private;
	char buf[64], *p = buf, *kinds, *kind;
	unsigned long flags;
	u32 mask = 0, count;
	unsigned int i;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	kinds = strsep(&p, " ");
	if (!p || kstrtou32(strim(p), 0, &count))
		return -EINVAL;
	while ((kind = strsep(&kinds, ",")) != NULL) {
		if (!strcmp(kind, "none"))
			continue;
		for (i = 0; i < ARRAY_SIZE(vtdp_inject_kind_names); i++)
			if (!strcmp(kind, vtdp_inject_kind_names[i]))
				break;
		if (i == ARRAY_SIZE(vtdp_inject_kind_names))
			return -EINVAL;
		mask |= BIT(i);
	}
	spin_lock_irqsave(&iommu->qi_lock, flags);
	iommu->inject_skip_mask = mask;
	iommu->inject_skip_count = mask ? count : 0;
	spin_unlock_irqrestore(&iommu->qi_lock, flags);
	return len;
}

static const struct file_operations vtdp_inject_fops = {
	.owner = THIS_MODULE,
	.open = vtdp_inject_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = vtdp_inject_write,
};

/* ---------------------------------------------------------------------- */
/* probe / remove                                                          */

static void vtdp_free_tables(struct vtdp_iommu *iommu)
{
	unsigned int bus, half;

	for (bus = 0; bus < 256; bus++)
		for (half = 0; half < 2; half++)
			if (iommu->ctx[bus][half])
				free_page((unsigned long)iommu->ctx[bus][half]);
	free_page((unsigned long)iommu->root);
	free_page((unsigned long)iommu->iq);
	free_page((unsigned long)iommu->wait_status);
}

static int vtdp_check_caps(struct vtdp_iommu *iommu)
{
	struct device *dev = &iommu->pdev->dev;
	u64 cap = iommu->cap, ecap = iommu->ecap;
	unsigned int nd;

	if (VTDP_VER_MAJOR(iommu->ver) < 1) {
		dev_err(dev, "unsupported version %#x\n", iommu->ver);
		return -ENODEV;
	}
	if (!(ecap & VTDP_ECAP_SMTS) || !(ecap & VTDP_ECAP_QI) ||
	    !(ecap & VTDP_ECAP_SLTS)) {
		dev_err(dev, "need scalable mode, queued invalidation and second-stage tables (ECAP %#llx)\n",
			ecap);
		return -ENODEV;
	}
	if (!(cap & VTDP_CAP_SAGAW_48)) {
		dev_err(dev, "4-level second-stage tables not supported (CAP %#llx)\n",
			cap);
		return -ENODEV;
	}
	iommu->fro = VTDP_CAP_FRO(cap);
	iommu->nfr = VTDP_CAP_NFR(cap);
	if (iommu->fro + iommu->nfr * VTDP_FRCD_SIZE >
	    pci_resource_len(iommu->pdev, VTDP_IOMMU_REG_BAR)) {
		dev_err(dev, "fault recording registers outside BAR 0\n");
		return -ENODEV;
	}
	nd = VTDP_CAP_ND(cap);
	iommu->did_max = min_t(unsigned int, (1U << (4 + 2 * nd)) - 1,
			       VTDP_DID_MAX);
	iommu->aw_bits = min_t(unsigned int, VTDP_CAP_MGAW(cap),
			       VTDP_SS_AW_BITS);
	iommu->coherent = ecap & VTDP_ECAP_C;
	iommu->pasid_bits = (ecap & VTDP_ECAP_PASID) ? VTDP_ECAP_PSS(ecap) + 1 : 0;
	if (cap & VTDP_CAP_CM)
		dev_info(dev, "caching mode: map operations invalidate too\n");
	return 0;
}

static int vtdp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct vtdp_iommu *iommu;
	u32 sts;
	int ret;

	iommu = devm_kzalloc(dev, sizeof(*iommu), GFP_KERNEL);
	if (!iommu)
		return -ENOMEM;
	iommu->pdev = pdev;
	spin_lock_init(&iommu->qi_lock);
	mutex_init(&iommu->lock);
	INIT_LIST_HEAD(&iommu->devices);
	INIT_LIST_HEAD(&iommu->domains);
	INIT_LIST_HEAD(&iommu->pasid_devices);
	INIT_LIST_HEAD(&iommu->tokens);
	spin_lock_init(&iommu->token_lock);
	ida_init(&iommu->did_ida);
	ida_init(&iommu->pasid_ida);
	INIT_LIST_HEAD(&iommu->pt_devices);
	INIT_LIST_HEAD(&iommu->core_devices);
	pci_set_drvdata(pdev, iommu);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	iommu->regs = pcim_iomap_region(pdev, VTDP_IOMMU_REG_BAR, "vtdp");
	if (IS_ERR(iommu->regs))
		return PTR_ERR(iommu->regs);
	iommu->reg_phys = pci_resource_start(pdev, VTDP_IOMMU_REG_BAR);
	pci_set_master(pdev);

	iommu->ver = readl(iommu->regs + VTDP_REG_VER);
	iommu->cap = readq(iommu->regs + VTDP_REG_CAP);
	iommu->ecap = readq(iommu->regs + VTDP_REG_ECAP);
	ret = vtdp_check_caps(iommu);
	if (ret)
		return ret;

	/* Start from a quiet unit: translation and queue off. */
	sts = readl(iommu->regs + VTDP_REG_GSTS);
	iommu->gcmd = sts & (VTDP_GCMD_TE | VTDP_GCMD_QIE);
	if (iommu->gcmd & VTDP_GCMD_TE) {
		ret = vtdp_gcmd_latch(iommu, VTDP_GCMD_TE, false);
		if (ret)
			return ret;
	}
	if (iommu->gcmd & VTDP_GCMD_QIE) {
		ret = vtdp_gcmd_latch(iommu, VTDP_GCMD_QIE, false);
		if (ret)
			return ret;
	}

	ret = -ENOMEM;
	iommu->root = (void *)get_zeroed_page(GFP_KERNEL);
	iommu->iq = (void *)get_zeroed_page(GFP_KERNEL);
	iommu->wait_status = (void *)get_zeroed_page(GFP_KERNEL);
	if (!iommu->root || !iommu->iq || !iommu->wait_status)
		goto err_tables;
	vtdp_flush_table(iommu, iommu->root, PAGE_SIZE);

	ret = vtdp_set_root_table(iommu);
	if (ret)
		goto err_tables;

	/* Queue: one page (QS = 0) of 128-bit descriptors (DW = 0). */
	iommu->iq_tail = 0;
	writeq(0, iommu->regs + VTDP_REG_IQT);
	writeq(virt_to_phys(iommu->iq), iommu->regs + VTDP_REG_IQA);
	writel(VTDP_IECTL_IM, iommu->regs + VTDP_REG_IECTL);
	ret = vtdp_gcmd_latch(iommu, VTDP_GCMD_QIE, true);
	if (ret)
		goto err_tables;
	ret = vtdp_inv_all(iommu);
	if (ret)
		goto err_qi;

	ret = pci_alloc_irq_vectors(pdev, 1, VTDP_IOMMU_NR_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(dev, "no MSI-X vectors: %d\n", ret);
		goto err_qi;
	}
	iommu->fault_irq = pci_irq_vector(pdev, VTDP_IOMMU_VEC_FAULT);
	writel(VTDP_FECTL_IM, iommu->regs + VTDP_REG_FECTL);
	ret = request_threaded_irq(iommu->fault_irq, NULL, vtdp_fault_thread,
				   IRQF_ONESHOT, "vtdp-fault", iommu);
	if (ret)
		goto err_vectors;
	vtdp_clear_faults(iommu);
	writel(0, iommu->regs + VTDP_REG_FECTL);

	/*
	 * Functions that already have a driver (built in, bound at boot)
	 * keep working: pass-through context entries before translation.
	 */
	ret = ida_alloc_range(&iommu->did_ida, 1, iommu->did_max, GFP_KERNEL);
	if (ret < 0)
		goto err_irq;
	iommu->pt_did = ret;
	ret = vtdp_core_passthrough_bound(iommu);
	if (ret)
		goto err_pt;

	ret = vtdp_gcmd_latch(iommu, VTDP_GCMD_TE, true);
	if (ret)
		goto err_pt;

	ret = vtdp_v3_register(iommu);
	if (ret)
		goto err_te;

	if (vtdp_debugfs_root) {
		debugfs_create_file("regs", 0400, vtdp_debugfs_root, iommu,
				    &vtdp_regs_fops);
		debugfs_create_file("stats", 0400, vtdp_debugfs_root, iommu,
				    &vtdp_stats_fops);
		debugfs_create_file("selftest", 0400, vtdp_debugfs_root, iommu,
				    &vtdp_selftest_fops);
		debugfs_create_file("iommu_core", 0400, vtdp_debugfs_root,
				    iommu, &vtdp_iommu_core_fops);
		debugfs_create_file("iommu_core_selftest", 0400,
				    vtdp_debugfs_root, iommu,
				    &vtdp_iommu_core_selftest_fops);
		debugfs_create_file("inject_skip_invalidation", 0600,
				    vtdp_debugfs_root, iommu, &vtdp_inject_fops);
	}

	dev_info(dev, "vtdp-iommu %u.%u: CAP %#llx ECAP %#llx, %u fault records, %u domain ids, AW %u, translation enabled\n",
		 VTDP_VER_MAJOR(iommu->ver), VTDP_VER_MINOR(iommu->ver),
		 iommu->cap, iommu->ecap, iommu->nfr, iommu->did_max,
		 iommu->aw_bits);

	/* Last: the core probes and attaches devices right away. */
	vtdp_core_register(iommu);
	return 0;

err_te:
	vtdp_gcmd_latch(iommu, VTDP_GCMD_TE, false);
err_pt:
	vtdp_core_free_passthrough(iommu);
err_irq:
	writel(VTDP_FECTL_IM, iommu->regs + VTDP_REG_FECTL);
	free_irq(iommu->fault_irq, iommu);
err_vectors:
	pci_free_irq_vectors(pdev);
err_qi:
	vtdp_gcmd_latch(iommu, VTDP_GCMD_QIE, false);
err_tables:
	vtdp_free_tables(iommu);
	ida_destroy(&iommu->did_ida);
	return ret;
}

static void vtdp_remove(struct pci_dev *pdev)
{
	struct vtdp_iommu *iommu = pci_get_drvdata(pdev);

	/* No new clients; objects still alive are torn down below. */
	vtdp_core_unregister(iommu);
	vtdp_v3_unregister(iommu);
	if (vtdp_debugfs_root) {
		debugfs_lookup_and_remove("regs", vtdp_debugfs_root);
		debugfs_lookup_and_remove("stats", vtdp_debugfs_root);
		debugfs_lookup_and_remove("selftest", vtdp_debugfs_root);
		debugfs_lookup_and_remove("iommu_core", vtdp_debugfs_root);
		debugfs_lookup_and_remove("inject_skip_invalidation",
					  vtdp_debugfs_root);
	}
	vtdp_gcmd_latch(iommu, VTDP_GCMD_TE, false);
	writel(VTDP_FECTL_IM, iommu->regs + VTDP_REG_FECTL);
	free_irq(iommu->fault_irq, iommu);
	pci_free_irq_vectors(pdev);
	vtdp_v3_teardown(iommu);
	vtdp_core_free_passthrough(iommu);
	vtdp_gcmd_latch(iommu, VTDP_GCMD_QIE, false);
	vtdp_free_tables(iommu);
	ida_destroy(&iommu->did_ida);
	ida_destroy(&iommu->pasid_ida);
}

static const struct pci_device_id vtdp_ids[] = {
	{ PCI_DEVICE(VTDP_PCI_VENDOR_ID, VTDP_IOMMU_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vtdp_ids);

static struct pci_driver vtdp_driver = {
	.name = "vtdp",
	.id_table = vtdp_ids,
	.probe = vtdp_probe,
	.remove = vtdp_remove,
	/*
	 * V3 clients hold raw pointers into our objects and a module
	 * reference; a sysfs unbind could not honour them, so there is none.
	 */
	.driver.suppress_bind_attrs = true,
};

static int __init vtdp_init(void)
{
	int ret;

	vtdp_debugfs_root = debugfs_create_dir("vtdp", NULL);
	if (IS_ERR(vtdp_debugfs_root))
		vtdp_debugfs_root = NULL;
	else
		debugfs_create_file("objects", 0400, vtdp_debugfs_root, NULL,
				    &vtdp_objects_fops);
	ret = pci_register_driver(&vtdp_driver);
	if (ret)
		goto err_debugfs;
	ret = vtdp_uapi_init();
	if (ret)
		goto err_driver;
	return 0;

err_driver:
	pci_unregister_driver(&vtdp_driver);
err_debugfs:
	debugfs_remove_recursive(vtdp_debugfs_root);
	return ret;
}

static void __exit vtdp_exit(void)
{
	unsigned int i;
	long n;

	vtdp_uapi_exit();
	pci_unregister_driver(&vtdp_driver);
	debugfs_remove_recursive(vtdp_debugfs_root);
	/* every object pins the module: anything left here is a leak */
	for (i = 0; i < ARRAY_SIZE(vtdp_live_fields); i++) {
		n = atomic_long_read(vtdp_live_fields[i].count);
		if (n)
			pr_err("vtdp: unload with %ld %s still counted live\n",
			       n, vtdp_live_fields[i].name);
	}
}

module_init(vtdp_init);
module_exit(vtdp_exit);

MODULE_DESCRIPTION("vtdp-iommu driver and V3 IOMMU interface provider");
MODULE_LICENSE("GPL");
