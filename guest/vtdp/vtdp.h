/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp.ko internals: the vtdp-iommu unit, its invalidation queue and the
 * V3 objects (DMA devices and domains) built on top of it.
 */
#ifndef VTDP_INTERNAL_H
#define VTDP_INTERNAL_H

#include <linux/interval_tree.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <vtdp/iommu-hw.h>
#include <vtdp/v3.h>

/* Second-stage geometry used for every Translate domain: 4-level, AW 48. */
#define VTDP_SS_LEVELS		4
#define VTDP_SS_AW_BITS		48

/*
 * PASID directory: 2^(PDTS + 7) eight-byte entries of 64 PASIDs each.
 * Sized per device: one page (PDTS 2, PASIDs 0..32767) unless the device
 * has more PASIDs; PDTS 7 covers all 2^20.
 */
#define VTDP_PDTS_MIN		2
#define VTDP_PDTS_MAX		7
#define VTDP_PDIR_ENTRIES(pdts)	(1U << ((pdts) + 7))

/* Pages a leaf at @level maps: 1, 512 (2 MiB) or 512 * 512 (1 GiB). */
#define VTDP_LEVEL_PAGES(level)	(1ULL << (9 * ((level) - 1)))

/* The invalidation queue is one 4 KiB page of 128-bit descriptors. */
#define VTDP_IQ_ENTRIES		(PAGE_SIZE / 16)

struct vtdp_iommu {
	struct pci_dev *pdev;
	void __iomem *regs;
	phys_addr_t reg_phys;		/* BAR 0, reported in fault records */
	u32 ver;
	u64 cap, ecap;
	unsigned int nfr;		/* fault recording registers */
	unsigned int fro;		/* their offset in BAR 0 */
	unsigned int did_max;		/* highest usable domain id */
	unsigned int aw_bits;		/* domain input width (<= 48) */
	bool coherent;			/* ECAP.C: no cache flushes of tables */
	u32 gcmd;			/* latched GCMD bits (TE, QIE) */

	/* root table + lazily allocated context tables (per bus, lo/hi) */
	struct vtdp_root_entry *root;
	struct vtdp_context_entry *ctx[256][2];

	/* queued invalidation; qi_lock is a spinlock: usable from atomic */
	spinlock_t qi_lock;
	struct vtdp_inv_desc *iq;	/* viewed as 128-bit slots */
	unsigned int iq_tail;		/* next free slot */
	u32 *wait_status;		/* DMA-visible status word */
	u32 wait_seq;

	int fault_irq;

	/* V3 objects; @lock protects the lists and attach state */
	struct mutex lock;
	struct list_head devices;
	struct list_head domains;
	struct list_head pasid_devices;
	struct ida did_ida;
	struct ida pasid_ida;		/* PASIDs of sub-devices, unit-wide */
	unsigned int pasid_bits;	/* ECAP.PSS + 1, 0 without ECAP.PASID */

	/*
	 * Logical-address tokens.  A spinlock, because MapReserved and
	 * UnmapReserved run in atomic context: it guards the list and every
	 * token's segment bitmaps and state.
	 */
	spinlock_t token_lock;
	struct list_head tokens;

	/*
	 * Fault injection (debugfs "inject_skip_invalidation", under
	 * @qi_lock): the next @inject_skip_count descriptors whose kind is
	 * in @inject_skip_mask (VTDP_INJECT_SKIP_*) are left out of the
	 * queue, so the driver commits on purpose the missing-invalidation
	 * bug that the model's DMA sanitizer exists to catch.
	 */
	u32 inject_skip_mask;
	u32 inject_skip_count;

	/*
	 * Linux IOMMU core (vtdp-iommu-core.c).  @core_registered: @core is
	 * registered (module parameter iommu_core).  @pt_did tags pass-through
	 * PASID entries.  @pt_devices: PCI functions already bound to a
	 * driver when the unit came up, kept working with a pass-through
	 * context; @core_devices: those the core manages (struct
	 * vtdp_core_dev, both under iommu->lock).
	 */
	struct iommu_device core;
	bool core_registered;
	u16 pt_did;
	struct list_head pt_devices;
	struct list_head core_devices;

	/* statistics (debugfs) */
	atomic64_t faults_total;
	atomic64_t faults_delivered;
	atomic64_t inv_errors;

	struct dentry *debugfs;
};

#define VTDP_INJECT_SKIP_CONTEXT	BIT(0)	/* context-cache invalidations */
#define VTDP_INJECT_SKIP_PASID		BIT(1)	/* PASID-cache invalidations */
#define VTDP_INJECT_SKIP_IOTLB		BIT(2)	/* IOTLB and PASID-IOTLB */

enum vtdp_extent_kind {
	VTDP_EXTENT_LOGICAL,		/* MapLogicalRangeEx */
	VTDP_EXTENT_IDENTITY,		/* MapIdentityRangeEx */
	VTDP_EXTENT_RESV_IDENTITY,	/* reserved region, ShouldMap */
	VTDP_EXTENT_RESV_WITHHELD,	/* reserved region, !ShouldMap; holes */
	VTDP_EXTENT_TOKEN,		/* ReserveLogicalAddressRange */
};

/*
 * One extent of the logical address space, in 4 KiB page numbers.  With a
 * logical allocator the node covers the whole power-of-two block while
 * only @npages pages from its start are mapped.
 */
struct vtdp_extent {
	struct interval_tree_node node;
	enum vtdp_extent_kind kind;
	u64 npages;
};

/*
 * A domain's 4-level page table, in the second-stage or (@s1) the
 * first-stage format (vtdp-pgtable.c).  Its user serialises edits.
 */
struct vtdp_pgtable {
	struct vtdp_iommu *iommu;
	u64 *pgd;			/* level-4 table, NULL: none */
	bool s1;
	/*
	 * invalidate [la, +npages), paging-structure caches included, after
	 * a large leaf was split or replaced a table; any context
	 */
	int (*inv_range)(struct vtdp_pgtable *pt, u64 la, u64 npages);
};

struct v3_domain {
	struct list_head link;		/* iommu->domains */
	struct vtdp_iommu *iommu;
	enum v3_domain_type type;
	u16 did;
	/* DMA devices and PASID sub-devices attached; iommu->lock */
	unsigned int attached;
	unsigned int ntokens;		/* live tokens; @mutex */
	u32 alloc_width;		/* buddy AddressWidth, 0: no allocator */
	/*
	 * The allocator's cache of free addresses: for each block order, a
	 * page number below which no free block of that order exists.
	 * Raised past each block handed out, lowered when one is freed.
	 */
	u64 alloc_low[64];
	unsigned int aw_bits;		/* input width of the tables */

	/*
	 * Attached PASID sub-devices, for first-stage invalidation.  A
	 * spinlock: UnmapReserved walks it in atomic context.
	 */
	spinlock_t pasid_lock;
	struct list_head pasids;

	/* @mutex serialises page-table edits and the extent tree */
	struct mutex mutex;
	struct vtdp_pgtable pt;		/* pgd NULL for PassThrough */
	struct rb_root_cached extents;
};

/*
 * A logical-address token (spec §4.11).  Its page tables are built at
 * reservation and stay until the domain is deleted, so mapping into it
 * needs no memory.  Segments are tracked in two bitmaps allocated with
 * the token: @mapped (page is mapped) and @seg_start (page starts a
 * segment); an exact (offset, size) match is decidable from them alone.
 */
struct vtdp_token {
	struct v3_la_token pub;		/* what the caller sees */
	struct list_head link;		/* iommu->tokens */
	struct v3_domain *domain;
	u64 npages;
	u64 nsegs;			/* live segments */
	bool freeing;			/* FreeReserved under way */
	unsigned long *mapped;
	unsigned long *seg_start;
};

/* A PASID sub-device (spec §5.23). */
struct v3_pasid_device {
	struct list_head link;		/* iommu->pasid_devices */
	struct v3_dma_device *parent;
	u32 pasid;
	struct v3_domain *domain;	/* attached domain; iommu->lock */
	struct list_head dom_link;	/* domain->pasids while attached */
};

struct v3_dma_device {
	struct list_head link;		/* iommu->devices */
	struct vtdp_iommu *iommu;
	struct pci_dev *pdev;
	u16 sid;			/* bus << 8 | devfn */
	struct v3_domain *domain;	/* attached domain; iommu->lock */

	struct v3_dma_device_information info;
	/* iommu_device_claim_dma_owner() taken from the Linux IOMMU core */
	bool dma_owner_claimed;
	bool pasid_enabled_by_api;	/* pci_enable_pasid() succeeded */
	bool pasid_enabled_raw;		/* PASID Enable written directly */

	u64 *pasid_dir;			/* VTDP_PDIR_ENTRIES(pdts) entries */
	unsigned int pdts;		/* context entry PDTS */
	struct vtdp_pasid_entry *pasid_table0;	/* PASIDs 0..63 */
	u32 pasid_max;			/* highest sub-device PASID, 0: none */
	unsigned int npasid;		/* live sub-devices; iommu->lock */

	/*
	 * State-change callback (spec §5.15).  @cb_mutex is held while the
	 * callback runs (calls are serialised per device, Unregister waits
	 * for a call in flight) and is taken before iommu->lock.  The
	 * registration itself is guarded by iommu->lock so that DeleteDevice
	 * can see it.  @cb_pin counts callers that hold a pointer to the
	 * device without iommu->lock; DeleteDevice waits for it to reach 0.
	 */
	struct mutex cb_mutex;
	bool cb_registered;
	v3_state_change_cb_t cb;
	void *cb_context;
	u32 cb_fields;
	u32 cb_last_types;
	unsigned int cb_pin;
	wait_queue_head_t cb_wq;

	/*
	 * Fault delivery.  @fault_lock guards the handler and the count of
	 * running handler calls; disable/delete wait on @fault_wq until it
	 * drops to 0.  No lock of ours is held while the handler runs.
	 */
	spinlock_t fault_lock;
	v3_fault_handler_t fault_handler;
	void *fault_context;
	unsigned int fault_inflight;
	wait_queue_head_t fault_wq;
};

/*
 * Live objects of the module, counted where they are allocated and freed
 * (not by walking lists) so that an object freed from its list but never
 * released shows as a leak too.  Read-only in debugfs vtdp/objects; a
 * hostile-input test compares them before and after (docs/hostile.md).
 */
struct vtdp_live {
	atomic_long_t domains;
	atomic_long_t devices;
	atomic_long_t pasid_devices;
	atomic_long_t extents;		/* mapped, reserved and withheld ranges */
	atomic_long_t tokens;		/* logical-address reservations */
	atomic_long_t table_pages;	/* page-table and PASID-table pages */
	atomic_long_t files;		/* open /dev/vtdp-v3 */
	atomic_long_t handles;		/* objects named by /dev/vtdp-v3 handles */
	atomic_long_t pinned_pages;	/* user pages pinned by /dev/vtdp-v3 */
};
extern struct vtdp_live vtdp_live;
#define vtdp_live_add(field, n)	atomic_long_add((n), &vtdp_live.field)

/* vtdp-main.c */
bool vtdp_behind(struct vtdp_iommu *iommu, struct pci_dev *pdev);
void vtdp_flush_table(struct vtdp_iommu *iommu, void *addr, size_t len);
int vtdp_qi_submit(struct vtdp_iommu *iommu, const struct vtdp_inv_desc *descs,
		   unsigned int n);
int vtdp_inv_context_device(struct vtdp_iommu *iommu, u16 sid);
int vtdp_inv_pasid_cache(struct vtdp_iommu *iommu, u16 did, u32 pasid,
			 bool all_pasids);
int vtdp_inv_pasid_cache_global(struct vtdp_iommu *iommu);
int vtdp_inv_iotlb_domain(struct vtdp_iommu *iommu, u16 did);
int vtdp_inv_iotlb_range(struct vtdp_iommu *iommu, u16 did, u64 addr,
			 u64 npages);
int vtdp_inv_iotlb_range_hint(struct vtdp_iommu *iommu, u16 did, u64 addr,
			      u64 npages, bool leaf_only);
int vtdp_inv_piotlb_pasid(struct vtdp_iommu *iommu, u16 did, u32 pasid);
int vtdp_inv_piotlb_range(struct vtdp_iommu *iommu, u16 did, u32 pasid,
			  u64 addr, u64 npages);
struct vtdp_context_entry *vtdp_context_entry(struct vtdp_iommu *iommu,
					      u8 bus, u8 devfn, bool alloc);
void vtdp_context_set(struct vtdp_iommu *iommu, struct vtdp_context_entry *ce,
		      u64 *pasid_dir, unsigned int pdts, bool pasid_tagged);
void vtdp_context_clear(struct vtdp_iommu *iommu, struct vtdp_context_entry *ce);
void vtdp_write_pasid_entry(struct vtdp_iommu *iommu,
			    struct vtdp_pasid_entry *pe,
			    const struct vtdp_pasid_entry *val);
void vtdp_clear_pasid_entry(struct vtdp_iommu *iommu,
			    struct vtdp_pasid_entry *pe);
void vtdp_pasid_entry_ss(struct vtdp_pasid_entry *val, u16 did, u64 *pgd);
void vtdp_pasid_entry_pt(struct vtdp_pasid_entry *val, u16 did);

/* vtdp-pgtable.c */
int vtdp_pgt_init(struct vtdp_pgtable *pt, gfp_t gfp);
void vtdp_pgt_destroy(struct vtdp_pgtable *pt);
u64 *vtdp_pgt_pte_at(struct vtdp_pgtable *pt, u64 la, int target, gfp_t gfp);
u64 *vtdp_pgt_leaf(struct vtdp_pgtable *pt, u64 la, int *level);
bool vtdp_pgt_large_ok(const struct vtdp_pgtable *pt, int level);
u64 vtdp_pgt_leaf_bits(const struct vtdp_pgtable *pt, bool read, bool write);
int vtdp_pgt_set_large(struct vtdp_pgtable *pt, u64 la, u64 pa, int level,
		       u64 bits, gfp_t gfp);
u64 vtdp_pgt_leaf_run(u64 la, u64 npages);
void vtdp_pgt_set_run(struct vtdp_pgtable *pt, u64 *pte, u64 pa, u64 n,
		      u64 bits);
void vtdp_pgt_clear_leaves(struct vtdp_pgtable *pt, u64 la, u64 npages);

/* vtdp-iommu-core.c: the unit under the Linux IOMMU core */
struct seq_file;
int vtdp_core_passthrough_bound(struct vtdp_iommu *iommu);
int vtdp_core_register(struct vtdp_iommu *iommu);
void vtdp_core_unregister(struct vtdp_iommu *iommu);
void vtdp_core_free_passthrough(struct vtdp_iommu *iommu);
void vtdp_core_drop_passthrough(struct vtdp_iommu *iommu, u16 sid);
bool vtdp_core_owns(struct vtdp_iommu *iommu, struct pci_dev *pdev);
int vtdp_core_debugfs_show(struct seq_file *m, struct vtdp_iommu *iommu);
int vtdp_core_selftest(struct seq_file *m, struct vtdp_iommu *iommu);

/* vtdp-v3.c */
extern const struct v3_iommu_ops vtdp_v3_ops;
int vtdp_v3_register(struct vtdp_iommu *iommu);
void vtdp_v3_unregister(struct vtdp_iommu *iommu);
void vtdp_v3_teardown(struct vtdp_iommu *iommu);
struct vtdp_iommu *vtdp_v3_current_unit(void);
struct seq_file;
int vtdp_v3_selftest(struct seq_file *m);
void vtdp_v3_deliver_fault(struct vtdp_iommu *iommu,
			   struct v3_fault_information *info);

/* vtdp-uapi.c: /dev/vtdp-v3 */
int vtdp_uapi_init(void);
void vtdp_uapi_exit(void);

#endif /* VTDP_INTERNAL_H */
