// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp_testdev.ko - driver of the vtdp DMA test endpoint.
 *
 * A real client of vtdp.ko's V3 IOMMU interface, used the way a Windows
 * driver uses DMA_IOMMU_INTERFACE_V3: it makes a DMA-device token for its
 * endpoint, a Translate domain without allocator, attaches, maps its
 * descriptor ring at a driver-reserved IOVA and, through the ioctls of
 * /dev/vtdp-testdev<N>, maps pinned user buffers at IOVAs chosen by user
 * space and runs descriptors against them.  IOMMU faults come back through
 * the V3 fault handler (a vtdp extension) and are kept in a small ring.
 *
 * When the endpoint and the IOMMU support PASID-tagged DMA, the RID device
 * is created PasidTaggedDma and user space can make PASID sub-devices
 * (CreatePasidDevice), each attached to a domain of its own, map buffers
 * into those domains and run descriptors whose data requests carry the
 * sub-device's PASID.  Every queue the device has (as far as MSI-X vectors
 * go) runs descriptors, each queue under its own lock.
 *
 * vtdp.ko is a soft dependency: the V3 entry points are looked up with
 * symbol_get() at probe time, so this module loads without it and then
 * falls back to the plain Linux DMA API (for running behind QEMU's
 * intel-iommu with Linux's own IOMMU driver, or behind no IOMMU at all).
 * In that mode the kernel picks the device addresses, a buffer must come
 * out as one DMA segment, and IOMMU faults are only seen in completions.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <vtdp/iommu-hw.h>
#include <vtdp/testdev-hw.h>
#include <vtdp/v3.h>
#include <uapi/vtdp/testdev.h>

static_assert(sizeof(struct vtdp_td_desc) == VTDP_TD_DESC_SIZE);
static_assert(PAGE_SIZE == V3_PAGE_SIZE);
static_assert(sizeof(struct vtdp_td_info) == 40);
static_assert(sizeof(struct vtdp_td_map) == 32);
static_assert(sizeof(struct vtdp_td_unmap) == 16);
static_assert(sizeof(struct vtdp_td_submit) == 64);
static_assert(sizeof(struct vtdp_td_fault) == 48);
static_assert(sizeof(struct vtdp_td_faults) == 24);
static_assert(sizeof(struct vtdp_td_bench_sample) == 8);
static_assert(sizeof(struct vtdp_td_map_bench) == 48);
static_assert(sizeof(struct vtdp_td_pasid_create) == 24);
static_assert(sizeof(struct vtdp_td_pasid_op) == 8);
static_assert(sizeof(struct vtdp_td_map_ex) == 48);
static_assert(sizeof(struct vtdp_td_unmap_ex) == 16);
static_assert(sizeof(struct vtdp_td_submit_ex) == 72);
static_assert(sizeof(struct vtdp_td_rid_domain) == 16);

#define TD_DRV_NAME		"vtdp_testdev"

/*
 * IOVAs from TD_RING_IOVA_BASE up belong to the driver (one ring page per
 * queue); user mappings must stay below it, so user space can never make
 * the device overwrite a ring.
 */
#define TD_RING_IOVA_BASE	(1ULL << 40)
#define TD_RING_ENTRIES		(PAGE_SIZE / VTDP_TD_DESC_SIZE)
#define TD_SUBMIT_TIMEOUT	(5 * HZ)
/*
 * Upper bound of one MAP: bounds the page array (8 bytes a page) and the
 * pinned memory; one 1 GiB huge page must fit.
 */
#define TD_MAP_MAX_BYTES	(1ULL << 30)

static char *mode = "auto";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "auto (default: v3 when vtdp.ko offers it for the device, else dma-api), v3 or dma-api");

static char *domain = "translate";
module_param(domain, charp, 0444);
MODULE_PARM_DESC(domain, "V3 mode: the device's domain, translate (default) or passthrough (for measuring translation's cost)");

static DEFINE_IDA(td_ida);

/*
 * Live user mappings and the user pages they pin, all devices together:
 * read-only in debugfs vtdp_testdev/objects for leak checks
 * (docs/hostile.md).  Pages left pinned on purpose stay counted.
 */
static atomic_long_t td_live_mappings, td_live_pinned_pages;
static struct dentry *td_debugfs;

struct td_queue {
	struct td_dev *td;
	unsigned int index;
	/* Serialises the queue's submissions (ring slots, QCTRL, QPASID). */
	struct mutex lock;
	u32 qctrl;		/* as last written */
	u32 qpasid;		/* as last written, valid with PASID_EN */
	struct page *ring_page;		/* v3 mode */
	dma_addr_t ring_dma;		/* dma-api mode */
	struct vtdp_td_desc *ring;
	u64 ring_iova;
	bool ring_mapped;
	u32 tail;		/* next slot the driver fills */
	bool broken;		/* reset failed: refuse submissions */
	int irq;
	wait_queue_head_t wq;
};

/* A user buffer mapped through one file. */
struct td_mapping {
	struct list_head link;
	struct file *owner;
	u64 iova;
	unsigned long npages;
	struct page **pages;
	u32 perms;
	u32 handle;			/* 0: RID domain, else the sub-device's */
	struct v3_domain *dom;		/* v3 mode: the domain it is mapped in */
	struct sg_table sgt;		/* dma-api mode */
};

/* A PASID sub-device made through one file, with its own domain. */
struct td_pasid {
	struct list_head link;
	struct file *owner;
	u32 handle;
	u32 pasid;
	struct v3_pasid_device *pdev;
	struct v3_domain *dom;
	bool attached;
};

struct td_dev {
	struct kref kref;
	struct pci_dev *pdev;
	void __iomem *regs;
	int instance;
	char name[32];
	struct miscdevice misc;
	bool misc_registered;

	u32 hw_version, caps, nqueues;
	u32 mode;		/* VTDP_TD_MODE_* */

	/* V3 mode */
	typeof(&v3_iommu_get_interface) v3_get;
	typeof(&v3_iommu_put_interface) v3_put;
	typeof(&vtdp_v3_mapping_page_size) page_size;
	struct v3_iommu_interface_ex ifc;
	bool have_ifc;
	const struct v3_iommu_ops *ops;
	struct v3_dma_device *vdev;
	struct v3_domain *dom;		/* the RID device's */
	u32 dom_type;			/* V3 type of @dom */
	bool attached;
	bool fault_reporting;
	bool passthrough;	/* PassThrough domain: identity maps, iova == phys */
	bool pasid_capable;		/* created PasidTaggedDma */

	/*
	 * Held for reading across a submission, for writing by whatever
	 * takes away what a submission uses (a sub-device's PASID, the RID
	 * domain, the device itself): so no DMA is in flight then.
	 */
	struct rw_semaphore submit_sem;
	/* Serialises mapping and sub-device lists, V3 calls and @dead. */
	struct mutex lock;
	bool dead;
	struct list_head mappings;
	struct list_head pasids;
	/*
	 * The sub-devices by handle: every tagged submission looks its
	 * handle up, and a linear walk of thousands of sub-devices cost more
	 * than the DMA (4096 sub-devices: ~8 MB/s instead of ~45).
	 */
	struct xarray pasid_xa;
	u32 next_handle;

	unsigned int nactive;		/* queues with a ring and a vector */
	struct td_queue queues[VTDP_TD_MAX_QUEUES];

	spinlock_t fault_lock;
	u64 fault_total;
	struct vtdp_td_fault faults[VTDP_TD_FAULT_RING];
	wait_queue_head_t fault_wq;
};

static void td_release(struct kref *kref)
{
	struct td_dev *td = container_of(kref, struct td_dev, kref);

	xa_destroy(&td->pasid_xa);
	kfree(td);
}

/* ---- registers ---- */

static u32 td_rd(struct td_dev *td, u32 off)
{
	return readl(td->regs + off);
}

static void td_wr(struct td_dev *td, u32 off, u32 val)
{
	writel(val, td->regs + off);
}

/* ---- V3 fault handler ---- */

/*
 * Called by vtdp.ko from its fault workqueue (process context) for every
 * fault recorded for our device.
 */
static void td_fault_handler(void *context, struct v3_fault_information *info)
{
	struct td_dev *td = context;
	struct vtdp_td_fault *f;
	unsigned long flags;
	u64 seq;

	if (!info)
		return;

	spin_lock_irqsave(&td->fault_lock, flags);
	seq = ++td->fault_total;
	f = &td->faults[(seq - 1) % VTDP_TD_FAULT_RING];
	memset(f, 0, sizeof(*f));
	f->seq = seq;
	f->address = info->x64.fault_address;
	f->source_id = info->source_id;
	f->pasid = info->pasid;
	f->pasid_valid = !!info->pasid_valid;
	f->write = !!(info->x64.flags & V3_FAULT_FLAG_WRITE);
	f->reason = info->reason;
	f->fault_type = info->x64.fault_type;
	f->v3_flags = info->x64.flags;
	f->is_stage1 = !!info->is_stage1;
	spin_unlock_irqrestore(&td->fault_lock, flags);

	dev_info_ratelimited(&td->pdev->dev,
			     "DMA fault #%llu: sid %02x:%02x.%u pasid %s%#x addr %#llx %s reason %#x type %u\n",
			     seq, info->source_id >> 8,
			     PCI_SLOT(info->source_id & 0xff),
			     PCI_FUNC(info->source_id & 0xff),
			     info->pasid_valid ? "" : "(none) ", info->pasid,
			     info->x64.fault_address,
			     (info->x64.flags & V3_FAULT_FLAG_WRITE) ? "write" : "read",
			     info->reason, info->x64.fault_type);
	wake_up_all(&td->fault_wq);
}

/* ---- queues ---- */

static irqreturn_t td_irq(int irq, void *data)
{
	struct td_queue *q = data;

	wake_up(&q->wq);
	return IRQ_HANDLED;
}

/* Program and enable a queue whose ring is mapped; indices restart at 0. */
static void td_queue_start(struct td_queue *q)
{
	struct td_dev *td = q->td;

	td_wr(td, VTDP_TD_QREG(q->index, VTDP_TD_QCTRL), 0);
	lo_hi_writeq(q->ring_iova, td->regs + VTDP_TD_QREG(q->index, VTDP_TD_QRING_BASE));
	td_wr(td, VTDP_TD_QREG(q->index, VTDP_TD_QRING_SIZE), TD_RING_ENTRIES);
	/* No HALT_ON_ERROR: a faulting descriptor must not stop the queue. */
	q->qctrl = VTDP_TD_QCTRL_ENABLE;
	td_wr(td, VTDP_TD_QREG(q->index, VTDP_TD_QCTRL), q->qctrl);
	q->tail = 0;
}

/*
 * Make the queue's next data requests untagged (@tag false) or tagged with
 * @pasid.  The queue is idle (submissions are synchronous), so QCTRL can
 * change under ENABLE without disturbing the ring.  Called with q->lock.
 */
static void td_queue_set_pasid(struct td_queue *q, bool tag, u32 pasid)
{
	struct td_dev *td = q->td;
	u32 ctrl = VTDP_TD_QCTRL_ENABLE | (tag ? VTDP_TD_QCTRL_PASID_EN : 0);

	if (tag && (!(q->qctrl & VTDP_TD_QCTRL_PASID_EN) || q->qpasid != pasid)) {
		td_wr(td, VTDP_TD_QREG(q->index, VTDP_TD_QPASID), pasid);
		q->qpasid = pasid;
	}
	if (ctrl != q->qctrl) {
		td_wr(td, VTDP_TD_QREG(q->index, VTDP_TD_QCTRL), ctrl);
		q->qctrl = ctrl;
	}
}

static void td_queue_stop(struct td_queue *q)
{
	td_wr(q->td, VTDP_TD_QREG(q->index, VTDP_TD_QCTRL), 0);
}

/* Disable + re-enable (the device resets head/tail); check the result. */
static int td_queue_reset(struct td_queue *q)
{
	struct td_dev *td = q->td;
	u32 st;

	td_queue_start(q);
	st = td_rd(td, VTDP_TD_QREG(q->index, VTDP_TD_QSTATUS));
	q->broken = st != 0 ||
		td_rd(td, VTDP_TD_QREG(q->index, VTDP_TD_QHEAD)) != 0;
	if (q->broken) {
		dev_err(&td->pdev->dev, "queue %u does not restart (QSTATUS %#x)\n",
			q->index, st);
		return -EIO;
	}
	return 0;
}

static bool td_desc_done(struct vtdp_td_desc *d)
{
	return READ_ONCE(d->status) & VTDP_TD_ST_DONE;
}

static bool td_range_hits_rings(struct td_dev *td, u64 addr, u64 len)
{
	unsigned int i;

	if (!len)
		return false;
	if (addr + len < addr)		/* wraps: certainly crosses */
		return true;
	for (i = 0; i < td->nactive; i++) {
		u64 ring = td->queues[i].ring_iova;

		if (addr < ring + PAGE_SIZE && addr + len > ring)
			return true;
	}
	return false;
}

/*
 * Untagged DMA writes to the interrupt window are MSIs, translated by no
 * IOMMU without interrupt remapping (vtdp-iommu has none; neither has
 * "no IOMMU"): a descriptor aimed there would let user space send any
 * vector, NMI or INIT to any CPU.  No buffer ever lives there (V3
 * withholds it in every domain, the DMA API never hands it out).
 */
static bool td_range_hits_irq_window(u64 addr, u64 len)
{
	if (!len)
		return false;
	if (addr + len < addr)
		return true;
	return addr <= VTDP_INTERRUPT_RANGE_END &&
	       addr + len > VTDP_INTERRUPT_RANGE_START;
}

/*
 * Runs one descriptor on queue @s->queue, its data requests tagged with
 * @pasid when @tag, and waits for it.  Called with td->submit_sem (read)
 * and q->lock.
 */
static int td_submit(struct td_dev *td, struct vtdp_td_submit *s, bool tag,
		     u32 pasid)
{
	struct td_queue *q = &td->queues[s->queue];
	struct vtdp_td_desc *d;
	u32 st, qst;
	long left;

	if (q->broken)
		return -EIO;

	qst = td_rd(td, VTDP_TD_QREG(q->index, VTDP_TD_QSTATUS));
	if (qst) {
		dev_warn(&td->pdev->dev, "queue %u status %#x before submit: resetting\n",
			 q->index, qst);
		if (td_queue_reset(q))
			return -EIO;
	}
	td_queue_set_pasid(q, tag, pasid);

	d = &q->ring[q->tail];
	memset(d, 0, sizeof(*d));
	d->opcode = s->opcode;
	d->flags = VTDP_TD_DF_IRQ;
	d->len = s->len;
	d->src = s->src;
	d->dst = s->dst;
	d->pattern = s->pattern;
	d->cookie = q->tail;
	/* The descriptor must be in memory before the doorbell. */
	dma_wmb();
	q->tail = (q->tail + 1) % TD_RING_ENTRIES;
	td_wr(td, VTDP_TD_QREG(q->index, VTDP_TD_QTAIL), q->tail);

	left = wait_event_timeout(q->wq, td_desc_done(d), TD_SUBMIT_TIMEOUT);
	if (!left && !td_desc_done(d)) {
		dev_err(&td->pdev->dev,
			"queue %u: descriptor not completed in %u ms (QSTATUS %#x QHEAD %u): resetting queue\n",
			q->index, jiffies_to_msecs(TD_SUBMIT_TIMEOUT),
			td_rd(td, VTDP_TD_QREG(q->index, VTDP_TD_QSTATUS)),
			td_rd(td, VTDP_TD_QREG(q->index, VTDP_TD_QHEAD)));
		td_queue_reset(q);
		return -ETIMEDOUT;
	}
	if (!left)
		dev_warn_ratelimited(&td->pdev->dev,
				     "queue %u: completion without interrupt\n",
				     q->index);
	/* Status is written last: read the other fields after it. */
	dma_rmb();
	st = READ_ONCE(d->status);
	s->status = st;
	s->fault_info = READ_ONCE(d->fault_info);
	s->result = READ_ONCE(d->result);
	s->fault_addr = READ_ONCE(d->fault_addr);

	qst = td_rd(td, VTDP_TD_QREG(q->index, VTDP_TD_QSTATUS));
	if (qst) {
		dev_warn(&td->pdev->dev, "queue %u status %#x after completion: resetting\n",
			 q->index, qst);
		td_queue_reset(q);
	}
	return 0;
}

/* ---- V3 bring-up / teardown ---- */

/* A physically contiguous run as a V3 description. */
static struct v3_map_phys td_phys_contig(u64 base, unsigned long npages)
{
	return (struct v3_map_phys) {
		.type = V3_MAP_PHYS_CONTIGUOUS,
		.contiguous = { .base = base, .size = (u64)npages << PAGE_SHIFT },
	};
}

static void td_ring_unmap(struct td_dev *td, struct td_queue *q)
{
	v3_status_t st;

	if (!q->ring_mapped)
		return;
	if (td->passthrough) {
		struct v3_map_phys phys = td_phys_contig(q->ring_iova, 1);

		st = td->ops->unmap_identity_range_ex(td->dom, &phys);
	} else {
		st = td->ops->unmap_logical_range(td->dom, q->ring_iova, 1);
	}
	if (!V3_SUCCESS(st))
		dev_warn(&td->pdev->dev, "ring %u: Unmap%sRange -> %#x\n",
			 q->index, td->passthrough ? "IdentityEx" : "Logical", st);
	q->ring_mapped = false;
}

static void td_v3_teardown(struct td_dev *td)
{
	v3_status_t st;

	if (td->fault_reporting) {
		/* Waits for an in-flight handler (spec 5.12 extension). */
		td->ops->set_device_fault_reporting_ex(td->vdev, 0, false, NULL);
		td->fault_reporting = false;
	}
	if (td->attached) {
		st = td->ops->detach_device_ex(td->vdev);
		if (!V3_SUCCESS(st))
			dev_warn(&td->pdev->dev, "DetachDeviceEx -> %#x\n", st);
		td->attached = false;
	}
	if (td->dom) {
		st = td->ops->delete_domain(td->dom);
		if (!V3_SUCCESS(st))
			dev_warn(&td->pdev->dev, "DeleteDomain -> %#x\n", st);
		td->dom = NULL;
	}
	if (td->vdev) {
		st = td->ops->delete_device(td->vdev);
		if (!V3_SUCCESS(st))
			dev_warn(&td->pdev->dev, "DeleteDevice -> %#x\n", st);
		td->vdev = NULL;
	}
	if (td->have_ifc) {
		td->v3_put(&td->ifc);
		td->have_ifc = false;
	}
	td->ops = NULL;
	if (td->v3_get) {
		symbol_put(v3_iommu_get_interface);
		td->v3_get = NULL;
	}
	if (td->v3_put) {
		symbol_put(v3_iommu_put_interface);
		td->v3_put = NULL;
	}
	if (td->page_size) {
		symbol_put(vtdp_v3_mapping_page_size);
		td->page_size = NULL;
	}
}

static int td_v3_setup(struct td_dev *td)
{
	struct device *dev = &td->pdev->dev;
	union v3_domain_creation_flags dflags = { .as_u64 = 0 };
	struct v3_device_fault_config fcfg = {
		.fault_handler = td_fault_handler,
		.fault_context = td,
	};
	struct v3_device_creation_config pcfg = {};
	v3_status_t st;

	td->v3_get = symbol_get(v3_iommu_get_interface);
	td->v3_put = symbol_get(v3_iommu_put_interface);
	td->page_size = symbol_get(vtdp_v3_mapping_page_size);
	if (!td->v3_get || !td->v3_put || !td->page_size) {
		dev_info(dev, "vtdp.ko is not loaded (v3_iommu_get_interface unavailable)\n");
		goto nodev;
	}
	td->ifc.size = sizeof(td->ifc);
	/* this driver is DMA-remapping compatible (spec §2.1 opt-in) */
	td->ifc.remapping_compatible = V3_REMAPPING_OPTED_IN;
	st = td->v3_get(V3_IOMMU_INTERFACE_EX_VERSION_3, 0, &td->ifc);
	if (!V3_SUCCESS(st) || !td->ifc.ops) {
		dev_info(dev, "v3_iommu_get_interface(3) -> %#x: no V3 interface\n", st);
		goto nodev;
	}
	td->have_ifc = true;
	td->ops = td->ifc.ops;
	if (td->ifc.version < V3_IOMMU_INTERFACE_EX_VERSION_3) {
		dev_info(dev, "V3 interface version %u < 3\n", td->ifc.version);
		goto nodev;
	}

	/*
	 * Ask for PASID-tagged DMA when the endpoint can issue it; the IOMMU
	 * refuses (INVALID_PARAMETER_2) when it cannot take it, and the
	 * device then runs untagged only.
	 */
	if (td->caps & VTDP_TD_CAPS_PASID) {
		INIT_LIST_HEAD(&pcfg.link);
		pcfg.type = V3_DEVICE_CONFIG_PASID;
		pcfg.pasid.type = V3_PASID_CONFIG_PASID_TAGGED_DMA;
		st = td->ops->create_device(td->pdev, &pcfg, &td->vdev);
		if (V3_SUCCESS(st))
			td->pasid_capable = true;
		else
			dev_info(dev, "CreateDevice(PasidTaggedDma) -> %#x: no PASID sub-devices\n",
				 st);
	}
	if (!td->vdev) {
		st = td->ops->create_device(td->pdev, NULL, &td->vdev);
		if (!V3_SUCCESS(st)) {
			dev_info(dev, "CreateDevice -> %#x (not behind a vtdp-iommu?)\n", st);
			td->vdev = NULL;
			goto nodev;
		}
	}
	td->passthrough = !strcmp(domain, "passthrough");
	if (!td->passthrough && strcmp(domain, "translate"))
		dev_info(dev, "unknown domain=%s, using translate\n", domain);
	st = td->ops->create_domain_ex(td->passthrough ?
				       V3_DOMAIN_TYPE_PASS_THROUGH :
				       V3_DOMAIN_TYPE_TRANSLATE, dflags,
				       NULL, NULL, &td->dom);
	if (!V3_SUCCESS(st)) {
		dev_err(dev, "CreateDomainEx(%s) -> %#x\n",
			td->passthrough ? "PassThrough" : "Translate", st);
		td->dom = NULL;
		goto fail;
	}
	td->dom_type = td->passthrough ? V3_DOMAIN_TYPE_PASS_THROUGH :
					 V3_DOMAIN_TYPE_TRANSLATE;
	st = td->ops->attach_device_ex(td->dom, td->vdev);
	if (!V3_SUCCESS(st)) {
		dev_err(dev, "AttachDeviceEx -> %#x\n", st);
		goto fail;
	}
	td->attached = true;

	st = td->ops->set_device_fault_reporting_ex(td->vdev, 0, true, &fcfg);
	if (V3_SUCCESS(st))
		td->fault_reporting = true;
	else if (st == V3_STATUS_NOT_IMPLEMENTED)
		dev_info(dev, "SetDeviceFaultReportingEx not implemented: faults only seen in completions\n");
	else
		dev_warn(dev, "SetDeviceFaultReportingEx -> %#x: faults only seen in completions\n",
			 st);
	return 0;

nodev:
	td_v3_teardown(td);
	return -ENODEV;
fail:
	td_v3_teardown(td);
	return -EIO;
}

static int td_ring_setup_dma_api(struct td_dev *td, struct td_queue *q)
{
	q->ring = dma_alloc_coherent(&td->pdev->dev, PAGE_SIZE, &q->ring_dma,
				     GFP_KERNEL);
	if (!q->ring)
		return -ENOMEM;
	q->ring_iova = q->ring_dma;
	return 0;
}

/* Map @q's ring page at its IOVA in @dom (the RID device's domain). */
static v3_status_t td_ring_map(struct td_dev *td, struct td_queue *q,
			       struct v3_domain *dom)
{
	struct v3_map_phys phys = { .type = V3_MAP_PHYS_CONTIGUOUS };
	u64 la;

	phys.contiguous.base = page_to_phys(q->ring_page);
	phys.contiguous.size = PAGE_SIZE;
	if (td->passthrough) {
		/* a PassThrough domain: the ring's address is its own */
		q->ring_iova = phys.contiguous.base;
		return td->ops->map_identity_range_ex(dom,
						      V3_ACCESS_READ | V3_ACCESS_WRITE,
						      &phys);
	}
	return td->ops->map_logical_range_ex(dom, V3_ACCESS_READ | V3_ACCESS_WRITE,
					     &phys, &q->ring_iova, NULL, NULL,
					     &la);
}

static int td_rings_setup(struct td_dev *td)
{
	unsigned int i;

	for (i = 0; i < td->nactive; i++) {
		struct td_queue *q = &td->queues[i];
		v3_status_t st;

		if (td->mode == VTDP_TD_MODE_DMA_API) {
			if (td_ring_setup_dma_api(td, q))
				return -ENOMEM;
			goto start;
		}
		q->ring_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!q->ring_page)
			return -ENOMEM;
		q->ring = page_address(q->ring_page);
		q->ring_iova = TD_RING_IOVA_BASE + (u64)i * PAGE_SIZE;
		st = td_ring_map(td, q, td->dom);
		if (!V3_SUCCESS(st)) {
			dev_err(&td->pdev->dev, "ring %u: Map%sRangeEx -> %#x\n",
				i, td->passthrough ? "Identity" : "Logical", st);
			return -EIO;
		}
		q->ring_mapped = true;
start:
		td_queue_start(q);
		if (td_rd(td, VTDP_TD_QREG(i, VTDP_TD_QSTATUS))) {
			dev_err(&td->pdev->dev, "queue %u refuses its ring (QSTATUS %#x)\n",
				i, td_rd(td, VTDP_TD_QREG(i, VTDP_TD_QSTATUS)));
			return -EIO;
		}
	}
	return 0;
}

static void td_rings_teardown(struct td_dev *td)
{
	unsigned int i;

	for (i = 0; i < td->nactive; i++) {
		struct td_queue *q = &td->queues[i];

		if (td->regs)
			td_queue_stop(q);
		if (td->ops)
			td_ring_unmap(td, q);
		if (q->ring_page)
			__free_page(q->ring_page);
		else if (q->ring)
			dma_free_coherent(&td->pdev->dev, PAGE_SIZE, q->ring,
					  q->ring_dma);
		q->ring_page = NULL;
		q->ring = NULL;
	}
}

/* ---- user mappings ---- */

static void td_mapping_release_pages(struct td_mapping *m)
{
	/* The device may have written the pages: mark them dirty. */
	unpin_user_pages_dirty_lock(m->pages, m->npages,
				    m->perms & VTDP_TD_MAP_WRITE);
	atomic_long_sub(m->npages, &td_live_pinned_pages);
	atomic_long_dec(&td_live_mappings);
	kvfree(m->pages);
	kfree(m);
}

static enum dma_data_direction td_dma_dir(u32 perms)
{
	switch (perms) {
	case VTDP_TD_MAP_READ:
		return DMA_TO_DEVICE;
	case VTDP_TD_MAP_WRITE:
		return DMA_FROM_DEVICE;
	}
	return DMA_BIDIRECTIONAL;
}

/*
 * passthrough mode: the device uses physical addresses, so a buffer must
 * be physically contiguous to be one device range.
 */
static bool td_pages_contiguous(struct page **pages, unsigned long npages)
{
	unsigned long i;

	for (i = 1; i < npages; i++)
		if (page_to_pfn(pages[i]) != page_to_pfn(pages[0]) + i)
			return false;
	return true;
}

/* Removes the device's access to @m; the pages stay pinned. */
static v3_status_t td_mapping_hw_unmap(struct td_dev *td, struct td_mapping *m)
{
	struct v3_map_phys phys;

	if (td->mode == VTDP_TD_MODE_DMA_API) {
		dma_unmap_sgtable(&td->pdev->dev, &m->sgt, td_dma_dir(m->perms), 0);
		sg_free_table(&m->sgt);
		return V3_STATUS_SUCCESS;
	}
	if (td->passthrough && !m->handle) {	/* the RID's PassThrough domain */
		phys = td_phys_contig(m->iova, m->npages);
		return td->ops->unmap_identity_range_ex(m->dom, &phys);
	}
	return td->ops->unmap_logical_range(m->dom, m->iova, m->npages);
}

/*
 * dma-api mode: the DMA API picks the address; the buffer must come out as
 * one DMA segment (always true behind an IOMMU, and for a single page).
 */
static v3_status_t td_map_dma_api(struct td_dev *td, struct td_mapping *m,
				  u64 *iova)
{
	struct device *dev = &td->pdev->dev;
	int ret;

	ret = sg_alloc_table_from_pages(&m->sgt, m->pages, m->npages, 0,
					(u64)m->npages << PAGE_SHIFT, GFP_KERNEL);
	if (ret)
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	ret = dma_map_sgtable(dev, &m->sgt, td_dma_dir(m->perms), 0);
	if (ret) {
		sg_free_table(&m->sgt);
		return V3_STATUS_INSUFFICIENT_RESOURCES;
	}
	if (m->sgt.nents != 1) {
		dev_dbg(dev, "buffer maps to %u DMA segments, need 1\n",
			m->sgt.nents);
		dma_unmap_sgtable(dev, &m->sgt, td_dma_dir(m->perms), 0);
		sg_free_table(&m->sgt);
		return V3_STATUS_NOT_SUPPORTED;
	}
	*iova = sg_dma_address(m->sgt.sgl);
	return V3_STATUS_SUCCESS;
}

/*
 * The DMA API does not say how it mapped; vtdp.ko does for its own paging
 * domains (vtdp.iommu_core=1).  Looked up per call rather than held, so
 * that this driver never pins vtdp.ko: 0 behind any other IOMMU or none.
 */
static u32 td_dma_api_page_size(struct td_dev *td, u64 iova,
				unsigned long npages)
{
	typeof(&vtdp_core_mapping_page_size) fn;
	u64 size;

	fn = symbol_get(vtdp_core_mapping_page_size);
	if (!fn)
		return 0;
	size = fn(&td->pdev->dev, iova, npages);
	symbol_put(vtdp_core_mapping_page_size);
	return size;
}

/* Called with td->lock held and !td->dead. */
static v3_status_t td_mapping_unmap(struct td_dev *td, struct td_mapping *m)
{
	v3_status_t st;

	st = td_mapping_hw_unmap(td, m);
	if (!V3_SUCCESS(st))
		return st;
	list_del(&m->link);
	td_mapping_release_pages(m);
	return st;
}

/* The sub-device @handle of @file, or NULL.  Called with td->lock. */
static struct td_pasid *td_pasid_find(struct td_dev *td, struct file *file,
				      u32 handle)
{
	struct td_pasid *p = xa_load(&td->pasid_xa, handle);

	lockdep_assert_held(&td->lock);
	return p && p->owner == file ? p : NULL;
}

/*
 * The largest naturally aligned run of physically contiguous pages in
 * @m, in bytes (1 GiB at most): what an IOMMU could map with one large
 * page, given an IOVA of the same alignment.
 */
static u64 td_mapping_phys_contig(const struct td_mapping *m)
{
	static const unsigned int orders[] = { PUD_SHIFT - PAGE_SHIFT,
					       PMD_SHIFT - PAGE_SHIFT };
	unsigned long i, j, n;
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(orders); k++) {
		n = 1UL << orders[k];
		for (i = 0; i + n <= m->npages; i += n) {
			unsigned long pfn = page_to_pfn(m->pages[i]);

			if (pfn & (n - 1))
				continue;
			for (j = 1; j < n; j++)
				if (page_to_pfn(m->pages[i + j]) != pfn + j)
					break;
			if (j == n)
				return (u64)n << PAGE_SHIFT;
		}
	}
	return PAGE_SIZE;
}

/*
 * MAP and MAP_EX: pin @a->length bytes at @a->user_addr and map them at
 * @a->iova in the domain of @a->handle (0: the RID device's).
 */
static long td_do_map(struct td_dev *td, struct file *file,
		      struct vtdp_td_map_ex *a)
{
	struct td_mapping *m;
	struct v3_mdl mdl;
	struct v3_map_phys phys = { .type = V3_MAP_PHYS_MDL };
	struct v3_domain *dom = NULL;
	unsigned long npages;
	unsigned int gup;
	int pinned, ret;
	u64 la;
	v3_status_t st;

	if (!a->length || a->length > TD_MAP_MAX_BYTES ||
	    !PAGE_ALIGNED(a->length) || !PAGE_ALIGNED(a->user_addr) ||
	    !a->perms || (a->perms & ~(VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE)) ||
	    a->user_addr + a->length < a->user_addr)
		return -EINVAL;
	/*
	 * dma-api mode ignores the requested iova: the DMA API picks it;
	 * passthrough mode too: the address is the physical one.
	 */
	if (td->mode == VTDP_TD_MODE_V3 && !td->passthrough &&
	    (!PAGE_ALIGNED(a->iova) || a->iova >= TD_RING_IOVA_BASE ||
	     a->length > TD_RING_IOVA_BASE - a->iova))
		return -EINVAL;
	if (a->handle && td->mode != VTDP_TD_MODE_V3)
		return -ENOENT;
	if (!access_ok(u64_to_user_ptr(a->user_addr), a->length))
		return -EFAULT;

	npages = a->length >> PAGE_SHIFT;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->pages = kvmalloc_array(npages, sizeof(*m->pages), GFP_KERNEL);
	if (!m->pages) {
		kfree(m);
		return -ENOMEM;
	}
	m->npages = npages;
	m->perms = a->perms;
	m->iova = a->iova;
	m->owner = file;
	m->handle = a->handle;

	/* Device writes need writable pages; reads need them only present. */
	gup = FOLL_LONGTERM;
	if (a->perms & VTDP_TD_MAP_WRITE)
		gup |= FOLL_WRITE;
	pinned = pin_user_pages_fast(a->user_addr, npages, gup, m->pages);
	if (pinned != npages) {
		if (pinned > 0)
			unpin_user_pages(m->pages, pinned);
		kvfree(m->pages);
		kfree(m);
		return pinned < 0 ? pinned : -EFAULT;
	}

	mdl.pages = m->pages;
	mdl.byte_offset = 0;
	mdl.byte_count = a->length;
	phys.mdl.mdl = &mdl;

	mutex_lock(&td->lock);
	if (td->dead) {
		ret = -ENODEV;
		goto out_unpin;
	}
	if (a->handle) {
		struct td_pasid *p = td_pasid_find(td, file, a->handle);

		if (!p) {
			ret = -ENOENT;
			goto out_unpin;
		}
		dom = p->dom;
	} else if (td->mode == VTDP_TD_MODE_V3) {
		dom = td->dom;
	}
	if (td->mode == VTDP_TD_MODE_DMA_API) {
		st = td_map_dma_api(td, m, &la);
	} else if (td->passthrough && !a->handle) {
		la = page_to_phys(m->pages[0]);
		if (td_pages_contiguous(m->pages, npages))
			st = td->ops->map_identity_range_ex(dom, a->perms,
							    &phys);
		else
			st = V3_STATUS_NOT_SUPPORTED;
	} else {
		st = td->ops->map_logical_range_ex(dom, a->perms, &phys,
						   &a->iova, NULL, NULL, &la);
	}
	a->status = st;
	a->phys_contig = td_mapping_phys_contig(m);
	if (V3_SUCCESS(st)) {
		a->page_size = td->mode == VTDP_TD_MODE_DMA_API ?
			       td_dma_api_page_size(td, la, npages) :
			       td->page_size(dom, la, npages);
		a->iova = la;
		m->iova = la;
		m->dom = dom;
		list_add_tail(&m->link, &td->mappings);
		atomic_long_inc(&td_live_mappings);
		atomic_long_add(npages, &td_live_pinned_pages);
		m = NULL;
	}
	mutex_unlock(&td->lock);

	if (m) {
		unpin_user_pages(m->pages, npages);
		kvfree(m->pages);
		kfree(m);
	}
	return 0;

out_unpin:
	mutex_unlock(&td->lock);
	unpin_user_pages(m->pages, npages);
	kvfree(m->pages);
	kfree(m);
	return ret;
}

static long td_ioc_map(struct td_dev *td, struct file *file,
		       struct vtdp_td_map __user *uarg)
{
	struct vtdp_td_map a;
	struct vtdp_td_map_ex ex = {};
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ex.user_addr = a.user_addr;
	ex.length = a.length;
	ex.iova = a.iova;
	ex.perms = a.perms;
	ret = td_do_map(td, file, &ex);
	if (ret)
		return ret;
	a.iova = ex.iova;
	a.status = ex.status;
	/*
	 * A failed copy-out leaves the mapping in place; it is still the
	 * file's and goes away at close.
	 */
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

static long td_ioc_map_ex(struct td_dev *td, struct file *file,
			  struct vtdp_td_map_ex __user *uarg)
{
	struct vtdp_td_map_ex a;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.status || a.page_size || a.phys_contig)
		return -EINVAL;
	ret = td_do_map(td, file, &a);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

/* UNMAP and UNMAP_EX: 0 with the V3 status in *@status, or -errno. */
static long td_do_unmap(struct td_dev *td, struct file *file, u64 iova,
			u32 handle, s32 *status)
{
	struct td_mapping *m, *found = NULL;
	long ret = 0;

	if (!PAGE_ALIGNED(iova))
		return -EINVAL;

	mutex_lock(&td->lock);
	if (td->dead) {
		ret = -ENODEV;
		goto out;
	}
	list_for_each_entry(m, &td->mappings, link) {
		if (m->owner == file && m->handle == handle && m->iova == iova) {
			found = m;
			break;
		}
	}
	if (!found) {
		ret = -ENOENT;
		goto out;
	}
	*status = td_mapping_unmap(td, found);
out:
	mutex_unlock(&td->lock);
	return ret;
}

static long td_ioc_unmap(struct td_dev *td, struct file *file,
			 struct vtdp_td_unmap __user *uarg)
{
	struct vtdp_td_unmap a;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad)
		return -EINVAL;
	ret = td_do_unmap(td, file, a.iova, 0, &a.status);
	if (!ret && copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
	return ret;
}

static long td_ioc_unmap_ex(struct td_dev *td, struct file *file,
			    struct vtdp_td_unmap_ex __user *uarg)
{
	struct vtdp_td_unmap_ex a;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ret = td_do_unmap(td, file, a.iova, a.handle, &a.status);
	if (!ret && copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
	return ret;
}

/*
 * SUBMIT and SUBMIT_EX: run @s on its queue, tagged with the PASID of
 * sub-device @handle of @file when @handle is not 0.  Descriptors on
 * different queues run concurrently.
 */
static long td_do_submit(struct td_dev *td, struct file *file,
			 struct vtdp_td_submit *s, u32 handle, u32 *pasid)
{
	struct td_queue *q;
	long ret;

	if (s->opcode > 0xff || s->flags || s->queue >= td->nactive)
		return -EINVAL;
	/* Never let user space aim the device at the driver's rings. */
	if (td->mode == VTDP_TD_MODE_V3 &&
	    (td_range_hits_rings(td, s->src, s->len) ||
	     td_range_hits_rings(td, s->dst, s->len)))
		return -EINVAL;
	/* WRITE_IMM writes up to 8 bytes whatever len says */
	if (td_range_hits_irq_window(s->src, max(s->len, 8U)) ||
	    td_range_hits_irq_window(s->dst, max(s->len, 8U)))
		return -EINVAL;

	*pasid = 0;
	/* The PASID stays this sub-device's until the semaphore is released. */
	down_read(&td->submit_sem);
	if (td->dead) {
		ret = -ENODEV;
		goto out;
	}
	if (handle) {
		struct td_pasid *p;

		mutex_lock(&td->lock);
		p = td_pasid_find(td, file, handle);
		if (p)
			*pasid = p->pasid;
		mutex_unlock(&td->lock);
		if (!p) {
			ret = -ENOENT;
			goto out;
		}
	}
	q = &td->queues[s->queue];
	mutex_lock(&q->lock);
	ret = td_submit(td, s, handle != 0, *pasid);
	mutex_unlock(&q->lock);
out:
	up_read(&td->submit_sem);
	return ret;
}

static long td_ioc_submit(struct td_dev *td, struct file *file,
			  struct vtdp_td_submit __user *uarg)
{
	struct vtdp_td_submit a;
	u32 pasid;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ret = td_do_submit(td, file, &a, 0, &pasid);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

static long td_ioc_submit_ex(struct td_dev *td, struct file *file,
			     struct vtdp_td_submit_ex __user *uarg)
{
	struct vtdp_td_submit_ex a;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ret = td_do_submit(td, file, &a.desc, a.handle, &a.pasid);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

/* ---- PASID sub-devices ---- */

/* Only remapping types: a pass-through PASID could reach any page. */
static bool td_domain_type_ok(u32 type)
{
	return type == VTDP_TD_DOMAIN_TRANSLATE ||
	       type == VTDP_TD_DOMAIN_TRANSLATE_S1;
}

/*
 * Undo a sub-device: its mappings, attachment, domain and PASID.  Called
 * with td->submit_sem (write) and td->lock: no DMA tagged with its PASID
 * is in flight.  Returns the first failing V3 status.
 */
static v3_status_t td_pasid_free(struct td_dev *td, struct td_pasid *p)
{
	struct td_mapping *m, *tmp;
	v3_status_t st, ret = V3_STATUS_SUCCESS;

	list_for_each_entry_safe(m, tmp, &td->mappings, link) {
		if (m->owner != p->owner || m->handle != p->handle)
			continue;
		st = td_mapping_unmap(td, m);
		if (!V3_SUCCESS(st)) {
			/* Leave the pages pinned: the domain may still map them. */
			dev_err(&td->pdev->dev,
				"PASID %u: UnmapLogicalRange(%#llx, %lu) -> %#x, pages stay pinned\n",
				p->pasid, m->iova, m->npages, st);
			list_del(&m->link);
			atomic_long_dec(&td_live_mappings);
			kvfree(m->pages);
			kfree(m);
			ret = ret ?: st;
		}
	}
	if (p->attached) {
		st = td->ops->detach_pasid_device(p->pdev);
		if (!V3_SUCCESS(st))
			dev_warn(&td->pdev->dev, "DetachPasidDevice(%u) -> %#x\n",
				 p->pasid, st);
		ret = V3_SUCCESS(ret) ? st : ret;
		p->attached = false;
	}
	st = td->ops->delete_domain(p->dom);
	if (!V3_SUCCESS(st))
		dev_warn(&td->pdev->dev, "PASID %u: DeleteDomain -> %#x\n",
			 p->pasid, st);
	ret = V3_SUCCESS(ret) ? st : ret;
	st = td->ops->delete_pasid_device(p->pdev);
	if (!V3_SUCCESS(st))
		dev_warn(&td->pdev->dev, "DeletePasidDevice(%u) -> %#x\n",
			 p->pasid, st);
	ret = V3_SUCCESS(ret) ? st : ret;
	xa_erase(&td->pasid_xa, p->handle);
	list_del(&p->link);
	kfree(p);
	return ret;
}

static long td_ioc_pasid_create(struct td_dev *td, struct file *file,
				struct vtdp_td_pasid_create __user *uarg)
{
	union v3_domain_creation_flags dflags = { .as_u64 = 0 };
	struct vtdp_td_pasid_create a;
	struct td_pasid *p;
	v3_status_t st;
	long ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags || a.pad || a.handle || a.pasid || a.status ||
	    !td_domain_type_ok(a.domain_type))
		return -EINVAL;
	if (td->mode != VTDP_TD_MODE_V3 || !td->pasid_capable)
		return -EOPNOTSUPP;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->owner = file;

	mutex_lock(&td->lock);
	if (td->dead) {
		ret = -ENODEV;
		goto out_free;
	}
	st = td->ops->create_pasid_device(td->vdev, &p->pdev, &p->pasid);
	if (!V3_SUCCESS(st))
		goto out_status;
	st = td->ops->create_domain_ex(a.domain_type, dflags, NULL, NULL, &p->dom);
	if (!V3_SUCCESS(st)) {
		td->ops->delete_pasid_device(p->pdev);
		goto out_status;
	}
	st = td->ops->attach_pasid_device(p->dom, p->pdev);
	if (!V3_SUCCESS(st)) {
		td->ops->delete_domain(p->dom);
		td->ops->delete_pasid_device(p->pdev);
		goto out_status;
	}
	p->attached = true;
	/*
	 * Handles are allocated cyclically: one is reused only after 2^32
	 * creations, and never while its sub-device lives.
	 */
	if (xa_alloc_cyclic(&td->pasid_xa, &p->handle, p, XA_LIMIT(1, U32_MAX),
			    &td->next_handle, GFP_KERNEL) < 0) {
		td->ops->detach_pasid_device(p->pdev);
		td->ops->delete_domain(p->dom);
		td->ops->delete_pasid_device(p->pdev);
		ret = -ENOMEM;
		goto out_free;
	}
	list_add_tail(&p->link, &td->pasids);
	a.handle = p->handle;
	a.pasid = p->pasid;
	p = NULL;
out_status:
	a.status = st;
out_free:
	mutex_unlock(&td->lock);
	kfree(p);
	if (ret)
		return ret;
	/* A failed copy-out leaves the sub-device to be undone at close. */
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

/* PASID_ATTACH, PASID_DETACH, PASID_DESTROY */
static long td_ioc_pasid_op(struct td_dev *td, struct file *file,
			    unsigned int cmd,
			    struct vtdp_td_pasid_op __user *uarg)
{
	struct vtdp_td_pasid_op a;
	struct td_pasid *p;
	long ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.status)
		return -EINVAL;
	/* Detaching or destroying takes the PASID away from submissions. */
	down_write(&td->submit_sem);
	mutex_lock(&td->lock);
	p = td->dead ? NULL : td_pasid_find(td, file, a.handle);
	if (!p) {
		ret = td->dead ? -ENODEV : -ENOENT;
		goto out;
	}
	switch (cmd) {
	case VTDP_TD_IOC_PASID_ATTACH:
		/* V3's own answer (UNSUCCESSFUL) when already attached */
		a.status = td->ops->attach_pasid_device(p->dom, p->pdev);
		if (V3_SUCCESS(a.status))
			p->attached = true;
		break;
	case VTDP_TD_IOC_PASID_DETACH:
		a.status = td->ops->detach_pasid_device(p->pdev);
		if (V3_SUCCESS(a.status))
			p->attached = false;
		break;
	default:
		a.status = td_pasid_free(td, p);
		break;
	}
out:
	mutex_unlock(&td->lock);
	up_write(&td->submit_sem);
	if (!ret && copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
	return ret;
}

/*
 * RID_DOMAIN: report, or change, the type of the RID device's domain.  A
 * change makes a new domain, maps the rings into it and attaches it in
 * place of the old one; it needs the RID domain free of user mappings
 * (-EBUSY otherwise).  The type stays until changed again or the driver
 * unbinds: it is the device's setting, not a file's.
 */
static long td_ioc_rid_domain(struct td_dev *td,
			      struct vtdp_td_rid_domain __user *uarg)
{
	union v3_domain_creation_flags dflags = { .as_u64 = 0 };
	struct vtdp_td_rid_domain a;
	struct v3_domain *dom = NULL, *old;
	struct td_mapping *m;
	unsigned int i;
	v3_status_t st = V3_STATUS_SUCCESS;
	long ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.status || a.available ||
	    (a.domain_type != VTDP_TD_DOMAIN_QUERY &&
	     !td_domain_type_ok(a.domain_type)))
		return -EINVAL;
	if (td->mode != VTDP_TD_MODE_V3)
		return -EOPNOTSUPP;

	down_write(&td->submit_sem);
	mutex_lock(&td->lock);
	if (td->dead) {
		ret = -ENODEV;
		goto out;
	}
	td->ops->query_available_domain_types(td->vdev, &a.available);
	if (a.domain_type == VTDP_TD_DOMAIN_QUERY || a.domain_type == td->dom_type)
		goto done;
	/* domain=passthrough fixes the RID domain for the driver's life */
	if (td->passthrough) {
		ret = -EBUSY;
		goto out;
	}
	list_for_each_entry(m, &td->mappings, link) {
		if (!m->handle) {
			ret = -EBUSY;
			goto out;
		}
	}
	st = td->ops->create_domain_ex(a.domain_type, dflags, NULL, NULL, &dom);
	if (!V3_SUCCESS(st))
		goto done;
	for (i = 0; i < td->nactive && V3_SUCCESS(st); i++)
		st = td_ring_map(td, &td->queues[i], dom);
	if (!V3_SUCCESS(st))
		goto undo;
	/* No submission runs (submit_sem): the queues are idle. */
	for (i = 0; i < td->nactive; i++)
		td_queue_stop(&td->queues[i]);
	st = td->ops->detach_device_ex(td->vdev);
	if (V3_SUCCESS(st)) {
		st = td->ops->attach_device_ex(dom, td->vdev);
		if (!V3_SUCCESS(st) &&
		    !V3_SUCCESS(td->ops->attach_device_ex(td->dom, td->vdev))) {
			dev_err(&td->pdev->dev, "RID domain: cannot reattach the old domain\n");
			td->attached = false;
		}
	}
	for (i = 0; i < td->nactive; i++)
		td_queue_reset(&td->queues[i]);
	if (!V3_SUCCESS(st))
		goto undo;
	old = td->dom;
	td->dom = dom;
	td->dom_type = a.domain_type;
	for (i = 0; i < td->nactive; i++)
		td->ops->unmap_logical_range(old, td->queues[i].ring_iova, 1);
	td->ops->delete_domain(old);
	dev_info(&td->pdev->dev, "RID domain now of V3 type %u\n", td->dom_type);
	goto done;
undo:
	/* DeleteDomain of a domain with mappings is allowed (it unmaps). */
	td->ops->delete_domain(dom);
done:
	a.status = st;
	a.domain_type = td->dom_type;
out:
	mutex_unlock(&td->lock);
	up_write(&td->submit_sem);
	if (!ret && copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
	return ret;
}

static long td_ioc_faults(struct td_dev *td, struct vtdp_td_faults __user *uarg)
{
	struct vtdp_td_faults a;
	struct vtdp_td_fault *buf;
	unsigned long flags;
	u64 total, first, seq;
	u32 n, i;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.max && !a.faults_ptr)
		return -EFAULT;
	n = min_t(u32, a.max, VTDP_TD_FAULT_RING);
	buf = n ? kcalloc(n, sizeof(*buf), GFP_KERNEL) : NULL;
	if (n && !buf)
		return -ENOMEM;

	spin_lock_irqsave(&td->fault_lock, flags);
	total = td->fault_total;
	if (n > total)
		n = total;
	first = total - n + 1;	/* the newest n, oldest first */
	for (i = 0, seq = first; i < n; i++, seq++)
		buf[i] = td->faults[(seq - 1) % VTDP_TD_FAULT_RING];
	spin_unlock_irqrestore(&td->fault_lock, flags);

	a.count = n;
	a.total_faults = total;
	if (n && copy_to_user(u64_to_user_ptr(a.faults_ptr), buf,
			      n * sizeof(*buf))) {
		kfree(buf);
		return -EFAULT;
	}
	kfree(buf);
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

/* ---- map+unmap latency (MAP_BENCH) ---- */

struct td_bench {
	struct sg_table sgt;		/* dma-api mode */
	struct v3_mdl mdl;		/* Translate, pages not contiguous */
	struct v3_map_phys phys;	/* V3 mode */
	enum dma_data_direction dir;
};

/* One map of the bench buffer; the device address goes to *@la. */
static v3_status_t td_bench_map(struct td_dev *td, struct td_bench *b,
				struct vtdp_td_map_bench *a, u64 *la)
{
	if (td->mode == VTDP_TD_MODE_DMA_API) {
		if (dma_map_sgtable(&td->pdev->dev, &b->sgt, b->dir, 0))
			return V3_STATUS_INSUFFICIENT_RESOURCES;
		return V3_STATUS_SUCCESS;
	}
	if (td->passthrough)
		return td->ops->map_identity_range_ex(td->dom, a->perms, &b->phys);
	return td->ops->map_logical_range_ex(td->dom, a->perms, &b->phys,
					     &a->iova, NULL, NULL, la);
}

static v3_status_t td_bench_unmap(struct td_dev *td, struct td_bench *b,
				  struct vtdp_td_map_bench *a, u64 la)
{
	if (td->mode == VTDP_TD_MODE_DMA_API) {
		dma_unmap_sgtable(&td->pdev->dev, &b->sgt, b->dir, 0);
		return V3_STATUS_SUCCESS;
	}
	if (td->passthrough)
		return td->ops->unmap_identity_range_ex(td->dom, &b->phys);
	return td->ops->unmap_logical_range(td->dom, la, a->length >> PAGE_SHIFT);
}

/*
 * Runs the cycles with td->lock held.  Returns 0 with a->done cycles in
 * @smp and a->status set, or -errno.  Returns -EBUSY, leaving the pages
 * pinned (*@leak), if an unmap failed: the device may still reach them.
 */
static long td_bench_run(struct td_dev *td, struct td_bench *b,
			 struct vtdp_td_map_bench *a,
			 struct vtdp_td_bench_sample *smp, bool *leak)
{
	u64 t0, t1, t2, la = 0;
	v3_status_t st;
	u32 i;

	for (i = 0; i < a->iterations; i++) {
		t0 = ktime_get_ns();
		st = td_bench_map(td, b, a, &la);
		t1 = ktime_get_ns();
		if (!V3_SUCCESS(st)) {
			a->status = st;
			break;
		}
		st = td_bench_unmap(td, b, a, la);
		t2 = ktime_get_ns();
		if (!V3_SUCCESS(st)) {
			dev_err(&td->pdev->dev,
				"MAP_BENCH: unmap of %#llx -> %#x, pages stay pinned\n",
				la, st);
			a->status = st;
			*leak = true;
			return -EBUSY;
		}
		smp[i].map_ns = min_t(u64, t1 - t0, U32_MAX);
		smp[i].unmap_ns = min_t(u64, t2 - t1, U32_MAX);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	a->done = i;
	return 0;
}

static long td_ioc_map_bench(struct td_dev *td,
			     struct vtdp_td_map_bench __user *uarg)
{
	struct vtdp_td_map_bench a;
	struct vtdp_td_bench_sample *smp;
	struct td_bench b = { };
	struct page **pages;
	unsigned long npages;
	unsigned int gup;
	bool leak = false;
	int pinned;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (!a.length || a.length > TD_MAP_MAX_BYTES ||
	    !PAGE_ALIGNED(a.length) || !PAGE_ALIGNED(a.user_addr) ||
	    !a.perms || (a.perms & ~(VTDP_TD_MAP_READ | VTDP_TD_MAP_WRITE)) ||
	    a.user_addr + a.length < a.user_addr || !a.samples_ptr ||
	    !a.iterations || a.iterations > VTDP_TD_BENCH_MAX_ITER ||
	    (u64)a.iterations * (a.length >> PAGE_SHIFT) > VTDP_TD_BENCH_MAX_PAGES ||
	    a.status || a.done)
		return -EINVAL;
	if (td->mode == VTDP_TD_MODE_V3 && !td->passthrough &&
	    (!PAGE_ALIGNED(a.iova) || a.iova >= TD_RING_IOVA_BASE ||
	     a.length > TD_RING_IOVA_BASE - a.iova))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(a.user_addr), a.length))
		return -EFAULT;

	npages = a.length >> PAGE_SHIFT;
	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
	smp = kvmalloc_array(a.iterations, sizeof(*smp), GFP_KERNEL);
	if (!pages || !smp) {
		ret = -ENOMEM;
		goto out_free;
	}
	gup = FOLL_LONGTERM;
	if (a.perms & VTDP_TD_MAP_WRITE)
		gup |= FOLL_WRITE;
	pinned = pin_user_pages_fast(a.user_addr, npages, gup, pages);
	if (pinned != npages) {
		if (pinned > 0)
			unpin_user_pages(pages, pinned);
		ret = pinned < 0 ? pinned : -EFAULT;
		goto out_free;
	}

	/* Everything but the map and unmap calls is done once, here. */
	b.dir = td_dma_dir(a.perms);
	if (td->mode == VTDP_TD_MODE_DMA_API) {
		ret = sg_alloc_table_from_pages(&b.sgt, pages, npages, 0,
						a.length, GFP_KERNEL);
		if (ret)
			goto out_unpin;
	} else if (td_pages_contiguous(pages, npages)) {
		/*
		 * Described once, as the sg table above is: that one has the
		 * run coalesced into one entry by sg_alloc_table_from_pages(),
		 * the V3 calls get it as a ContiguousRange, not page by page.
		 */
		b.phys = td_phys_contig(page_to_phys(pages[0]), npages);
	} else if (td->passthrough) {
		ret = -EINVAL;
		goto out_unpin;
	} else {
		b.mdl.pages = pages;
		b.mdl.byte_count = a.length;
		b.phys.type = V3_MAP_PHYS_MDL;
		b.phys.mdl.mdl = &b.mdl;
	}

	mutex_lock(&td->lock);
	ret = td->dead ? -ENODEV : td_bench_run(td, &b, &a, smp, &leak);
	mutex_unlock(&td->lock);

	if (td->mode == VTDP_TD_MODE_DMA_API)
		sg_free_table(&b.sgt);
	if (!ret && (copy_to_user(u64_to_user_ptr(a.samples_ptr), smp,
				  (size_t)a.done * sizeof(*smp)) ||
		     copy_to_user(uarg, &a, sizeof(a))))
		ret = -EFAULT;
out_unpin:
	if (!leak)
		unpin_user_pages(pages, npages);
out_free:
	if (!leak)
		kvfree(pages);
	kvfree(smp);
	return ret;
}

static long td_ioc_info(struct td_dev *td, struct vtdp_td_info __user *uarg)
{
	struct vtdp_td_info a = {
		.version = VTDP_TESTDEV_UAPI_VERSION,
		.mode = td->mode,
		.bdf = (pci_domain_nr(td->pdev->bus) << 16) |
		       (td->pdev->bus->number << 8) | td->pdev->devfn,
		.nqueues = td->nactive,
		.caps = td->caps,
		.pasid_width = (td->caps & VTDP_TD_CAPS_PASID) ?
			       VTDP_TD_CAPS_PASID_BITS(td->caps) : 0,
		.hw_version = td->hw_version,
		.flags = (td->fault_reporting ? VTDP_TD_INFO_FAULT_REPORTING : 0) |
			 (td->passthrough ? VTDP_TD_INFO_PASSTHROUGH : 0),
		.iova_limit = td->mode == VTDP_TD_MODE_V3 && !td->passthrough ?
			      TD_RING_IOVA_BASE : 0,
	};

	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

/* ---- file operations ---- */

static int td_open(struct inode *inode, struct file *file)
{
	struct td_dev *td = container_of(file->private_data, struct td_dev, misc);

	/* misc_open() set private_data to the miscdevice; keep td instead. */
	kref_get(&td->kref);
	file->private_data = td;
	return 0;
}

static int td_close(struct inode *inode, struct file *file)
{
	struct td_dev *td = file->private_data;
	struct td_mapping *m, *tmp;
	struct td_pasid *p, *ptmp;
	v3_status_t st;

	/* Sub-devices go: no submission may be using their PASIDs. */
	down_write(&td->submit_sem);
	mutex_lock(&td->lock);
	if (!td->dead) {
		list_for_each_entry_safe(p, ptmp, &td->pasids, link)
			if (p->owner == file)
				td_pasid_free(td, p);
		list_for_each_entry_safe(m, tmp, &td->mappings, link) {
			if (m->owner != file)
				continue;
			st = td_mapping_unmap(td, m);
			if (!V3_SUCCESS(st)) {
				/*
				 * The IOMMU may still translate to these pages:
				 * leave them pinned rather than free memory the
				 * device can reach.
				 */
				dev_err(&td->pdev->dev,
					"close: UnmapLogicalRange(%#llx, %lu) -> %#x, pages stay pinned\n",
					m->iova, m->npages, st);
				list_del(&m->link);
				atomic_long_dec(&td_live_mappings);
				kvfree(m->pages);
				kfree(m);
			}
		}
	}
	mutex_unlock(&td->lock);
	up_write(&td->submit_sem);
	kref_put(&td->kref, td_release);
	return 0;
}

static long td_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct td_dev *td = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case VTDP_TD_IOC_INFO:
		return td_ioc_info(td, uarg);
	case VTDP_TD_IOC_MAP:
		return td_ioc_map(td, file, uarg);
	case VTDP_TD_IOC_UNMAP:
		return td_ioc_unmap(td, file, uarg);
	case VTDP_TD_IOC_SUBMIT:
		return td_ioc_submit(td, file, uarg);
	case VTDP_TD_IOC_FAULTS:
		return td_ioc_faults(td, uarg);
	case VTDP_TD_IOC_MAP_BENCH:
		return td_ioc_map_bench(td, uarg);
	case VTDP_TD_IOC_PASID_CREATE:
		return td_ioc_pasid_create(td, file, uarg);
	case VTDP_TD_IOC_PASID_ATTACH:
	case VTDP_TD_IOC_PASID_DETACH:
	case VTDP_TD_IOC_PASID_DESTROY:
		return td_ioc_pasid_op(td, file, cmd, uarg);
	case VTDP_TD_IOC_MAP_EX:
		return td_ioc_map_ex(td, file, uarg);
	case VTDP_TD_IOC_UNMAP_EX:
		return td_ioc_unmap_ex(td, file, uarg);
	case VTDP_TD_IOC_SUBMIT_EX:
		return td_ioc_submit_ex(td, file, uarg);
	case VTDP_TD_IOC_RID_DOMAIN:
		return td_ioc_rid_domain(td, uarg);
	}
	return -ENOTTY;
}

static const struct file_operations td_fops = {
	.owner = THIS_MODULE,
	.open = td_open,
	.release = td_close,
	.unlocked_ioctl = td_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* ---- PCI ---- */

static bool td_want_v3(struct device *dev)
{
	if (!strcmp(mode, "dma-api"))
		return false;
	if (strcmp(mode, "v3") && strcmp(mode, "auto"))
		dev_info(dev, "unknown mode=%s, using auto\n", mode);
	return true;
}

static void td_teardown(struct td_dev *td)
{
	struct td_mapping *m, *tmp;
	struct td_pasid *p, *ptmp;
	unsigned int i;

	/* Open files may outlive the device: they then see -ENODEV. */
	down_write(&td->submit_sem);
	mutex_lock(&td->lock);
	td->dead = true;
	for (i = 0; i < td->nactive; i++)
		if (td->regs)
			td_queue_stop(&td->queues[i]);
	list_for_each_entry_safe(p, ptmp, &td->pasids, link)
		td_pasid_free(td, p);
	list_for_each_entry_safe(m, tmp, &td->mappings, link) {
		if (td->ops || td->mode == VTDP_TD_MODE_DMA_API)
			td_mapping_hw_unmap(td, m);
		list_del(&m->link);
		td_mapping_release_pages(m);
	}
	mutex_unlock(&td->lock);
	up_write(&td->submit_sem);

	for (i = 0; i < td->nactive; i++)
		if (td->queues[i].irq > 0)
			free_irq(td->queues[i].irq, &td->queues[i]);
	td_rings_teardown(td);
	if (td->ops)
		td_v3_teardown(td);
}

static int td_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct td_dev *td;
	unsigned int i;
	u32 magic;
	int nvec, ret;

	td = kzalloc(sizeof(*td), GFP_KERNEL);
	if (!td)
		return -ENOMEM;
	kref_init(&td->kref);
	td->pdev = pdev;
	mutex_init(&td->lock);
	init_rwsem(&td->submit_sem);
	INIT_LIST_HEAD(&td->mappings);
	INIT_LIST_HEAD(&td->pasids);
	xa_init_flags(&td->pasid_xa, XA_FLAGS_ALLOC1);
	spin_lock_init(&td->fault_lock);
	init_waitqueue_head(&td->fault_wq);
	for (i = 0; i < VTDP_TD_MAX_QUEUES; i++) {
		td->queues[i].td = td;
		td->queues[i].index = i;
		mutex_init(&td->queues[i].lock);
		init_waitqueue_head(&td->queues[i].wq);
	}
	td->instance = -1;
	pci_set_drvdata(pdev, td);

	ret = pcim_enable_device(pdev);
	if (ret)
		goto err_put;
	td->regs = pcim_iomap_region(pdev, VTDP_TESTDEV_REG_BAR, TD_DRV_NAME);
	if (IS_ERR(td->regs)) {
		ret = PTR_ERR(td->regs);
		td->regs = NULL;
		goto err_put;
	}
	pci_set_master(pdev);

	magic = td_rd(td, VTDP_TD_REG_ID);
	td->hw_version = td_rd(td, VTDP_TD_REG_VERSION);
	if (magic != VTDP_TD_ID_MAGIC || td->hw_version != VTDP_TD_VERSION) {
		dev_err(dev, "unexpected ID %#x / VERSION %u (want %#x / %u)\n",
			magic, td->hw_version, VTDP_TD_ID_MAGIC, VTDP_TD_VERSION);
		ret = -ENODEV;
		goto err_put;
	}
	td->caps = td_rd(td, VTDP_TD_REG_CAPS);
	td->nqueues = VTDP_TD_CAPS_NQUEUES(td->caps);
	if (td->nqueues < 1 || td->nqueues > VTDP_TD_MAX_QUEUES) {
		dev_err(dev, "device reports %u queues\n", td->nqueues);
		ret = -ENODEV;
		goto err_put;
	}
	/* Leave every queue stopped until its ring is mapped. */
	td_wr(td, VTDP_TD_REG_CTRL, VTDP_TD_CTRL_RESET);

	/* Queue i uses vector i: as many queues run as vectors were granted. */
	nvec = pci_alloc_irq_vectors(pdev, 1, td->nqueues, PCI_IRQ_MSIX);
	if (nvec < 0) {
		dev_err(dev, "no MSI-X vectors: %d\n", nvec);
		ret = nvec;
		goto err_put;
	}
	td->nactive = nvec;

	ret = -ENODEV;
	if (td_want_v3(dev)) {
		ret = td_v3_setup(td);
		if (ret == -ENODEV && strcmp(mode, "v3"))
			dev_info(dev, "V3 interface unavailable: using the Linux DMA API\n");
		else if (ret == -ENODEV)
			dev_info(dev, "mode=v3 but the V3 interface is unavailable; not binding\n");
		else if (ret)
			goto err_vectors;
		else
			td->mode = VTDP_TD_MODE_V3;
	}
	if (ret == -ENODEV && strcmp(mode, "v3")) {
		ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
		if (ret) {
			dev_err(dev, "no usable DMA mask: %d\n", ret);
			goto err_vectors;
		}
		td->mode = VTDP_TD_MODE_DMA_API;
	}
	if (ret)
		goto err_vectors;

	ret = td_rings_setup(td);
	if (ret)
		goto err_teardown;

	for (i = 0; i < td->nactive; i++) {
		int irq = pci_irq_vector(pdev, i);

		if (irq < 0) {
			ret = irq;
			goto err_teardown;
		}
		ret = request_irq(irq, td_irq, 0, TD_DRV_NAME, &td->queues[i]);
		if (ret)
			goto err_teardown;
		td->queues[i].irq = irq;
	}

	ret = ida_alloc(&td_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_teardown;
	td->instance = ret;
	snprintf(td->name, sizeof(td->name), "vtdp-testdev%d", td->instance);
	td->misc.minor = MISC_DYNAMIC_MINOR;
	td->misc.name = td->name;
	td->misc.fops = &td_fops;
	td->misc.parent = dev;
	td->misc.mode = 0600;
	ret = misc_register(&td->misc);
	if (ret)
		goto err_ida;
	td->misc_registered = true;

	dev_info(dev, "/dev/%s: mode %s, %u of %u queue(s) running, ring IOVA %#llx, PASID sub-devices %s, fault reporting %s\n",
		 td->name, td->mode == VTDP_TD_MODE_DMA_API ? "dma-api" :
		 td->passthrough ? "v3 (passthrough domain)" : "v3",
		 td->nactive, td->nqueues, td->queues[0].ring_iova,
		 td->pasid_capable ? "yes" : "no",
		 td->fault_reporting ? "on" : "off (completions only)");
	return 0;

err_ida:
	ida_free(&td_ida, td->instance);
err_teardown:
	td_teardown(td);
err_vectors:
	pci_free_irq_vectors(pdev);
err_put:
	pci_set_drvdata(pdev, NULL);
	kref_put(&td->kref, td_release);
	return ret;
}

static void td_remove(struct pci_dev *pdev)
{
	struct td_dev *td = pci_get_drvdata(pdev);

	/* No new opens; open files keep td alive but see td->dead. */
	misc_deregister(&td->misc);
	td_teardown(td);
	pci_free_irq_vectors(pdev);
	ida_free(&td_ida, td->instance);
	kref_put(&td->kref, td_release);
}

/*
 * Function reset (sysfs reset, FLR): the device forgets its queues.  The
 * PCI core calls these around the reset, in one task.  td->submit_sem is
 * held for writing from prepare to done: a submission holds it for
 * reading until its descriptor has completed, so none is in flight during
 * the reset and none starts; the queues are programmed again before
 * anyone can submit.  td->lock keeps the lists and V3 calls out too.
 */
static void td_reset_prepare(struct pci_dev *pdev)
{
	struct td_dev *td = pci_get_drvdata(pdev);
	unsigned int i;

	down_write(&td->submit_sem);
	mutex_lock(&td->lock);
	if (td->dead)
		return;
	for (i = 0; i < td->nactive; i++)
		td_queue_stop(&td->queues[i]);
}

static void td_reset_done(struct pci_dev *pdev)
{
	struct td_dev *td = pci_get_drvdata(pdev);
	unsigned int i;

	if (!td->dead)
		for (i = 0; i < td->nactive; i++)
			td_queue_reset(&td->queues[i]);
	mutex_unlock(&td->lock);
	up_write(&td->submit_sem);
	dev_info(&pdev->dev, "reset: queues restarted\n");
}

static const struct pci_error_handlers td_err_handler = {
	.reset_prepare = td_reset_prepare,
	.reset_done = td_reset_done,
};

static const struct pci_device_id td_ids[] = {
	{ PCI_DEVICE(VTDP_PCI_VENDOR_ID, VTDP_TESTDEV_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, td_ids);

static struct pci_driver td_driver = {
	.name = TD_DRV_NAME,
	.id_table = td_ids,
	.probe = td_probe,
	.remove = td_remove,
	.err_handler = &td_err_handler,
	/*
	 * In V3 mode vtdp.ko owns the endpoint's translation: binding must
	 * not make the Linux IOMMU core (vtdp.ko iommu_core=1) count us as a
	 * user of its default domain, or V3 CreateDevice could not claim DMA
	 * ownership.  In dma-api mode the default domain stays attached, as
	 * nobody claims it.
	 */
	.driver_managed_dma = true,
};
static int td_objects_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "mappings %ld\n", atomic_long_read(&td_live_mappings));
	seq_printf(m, "pinned_pages %ld\n",
		   atomic_long_read(&td_live_pinned_pages));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(td_objects);

static int __init td_init(void)
{
	int ret;

	td_debugfs = debugfs_create_dir(TD_DRV_NAME, NULL);
	debugfs_create_file("objects", 0400, td_debugfs, NULL, &td_objects_fops);
	ret = pci_register_driver(&td_driver);
	if (ret)
		debugfs_remove_recursive(td_debugfs);
	return ret;
}

static void __exit td_exit(void)
{
	pci_unregister_driver(&td_driver);
	debugfs_remove_recursive(td_debugfs);
	/* open files pin the module and every mapping belongs to one */
	if (atomic_long_read(&td_live_mappings) ||
	    atomic_long_read(&td_live_pinned_pages))
		pr_err(TD_DRV_NAME ": unload with %ld mappings, %ld pinned pages still counted live\n",
		       atomic_long_read(&td_live_mappings),
		       atomic_long_read(&td_live_pinned_pages));
}
module_init(td_init);
module_exit(td_exit);

MODULE_DESCRIPTION("vtdp DMA test endpoint driver (V3 interface client)");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: vtdp");
