// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp.ko: /dev/vtdp-v3, the conformance interface (uapi/vtdp/v3.h).
 *
 * Every ioctl calls one V3 function through vtdp_v3_ops, exactly as an
 * in-kernel client would, and hands the status back unchanged.  Handles
 * are per open file (an xarray of objects).  @rwsem keeps objects alive
 * while they are used: ordinary calls hold it shared (so maps and unmaps
 * from many threads really run concurrently in the V3 layer), calls that
 * free an object hold it exclusively.  Objects of another file are never
 * reachable, and no user value is ever used as a kernel pointer.
 */

#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "vtdp.h"

static_assert(V3_DOMAIN_TYPE_MAX == VTDP_V3_DOMAIN_MAX);
static_assert(V3_LOGICAL_ALLOCATOR_MAX == VTDP_V3_ALLOCATOR_MAX);
static_assert(V3_MAP_PHYS_MAX == VTDP_V3_PHYS_MAX);
static_assert(V3_DEVICE_CONFIG_MAX == VTDP_V3_DEVCFG_MAX);
static_assert(V3_DOMAIN_CONFIG_INVALID == VTDP_V3_DOMCFG_INVALID);
static_assert(V3_ACCESS_WRITE == VTDP_V3_ACCESS_WRITE);
static_assert(sizeof(struct v3_dma_device_information) == 3);

enum vtdp_obj_kind {
	VTDP_OBJ_DEVICE = 1,
	VTDP_OBJ_DOMAIN,
	VTDP_OBJ_PASID,
	VTDP_OBJ_TOKEN,
	VTDP_OBJ_SEGMENT,
	VTDP_OBJ_BUFFER,
};

struct vtdp_obj {
	enum vtdp_obj_kind kind;
	u32 handle;
	union {
		struct {
			struct v3_dma_device *dev;
			struct pci_dev *pdev;
			v3_state_change_cb_t cb;	/* registered, or NULL */
			bool faults_on;
			/* written by the callback / fault handler */
			spinlock_t lock;
			u64 cb_calls;
			u64 cb_last_end_ns;
			u32 cb_last_present;
			u32 cb_last_types;
			bool cb_active;
			u64 faults;
			u64 fault_end_ns;
			bool fault_active;
			u64 fault_address;
			u32 fault_reason;
			u32 fault_pasid;
			u32 fault_pasid_valid;
		} dev;
		struct v3_domain *dom;
		struct v3_pasid_device *pasid;
		struct v3_la_token *token;
		struct v3_mapped_segment seg;	/* caller storage (spec §4.12) */
		struct {
			struct page **pages;
			unsigned long npages;
		} buf;
	};
};

struct vtdp_file {
	struct rw_semaphore rwsem;
	struct xarray objs;
	bool teardown_failed;	/* release: some object could not go */
};

/* Serialises the "atomic" fast-path calls: they run under this spinlock. */
static DEFINE_SPINLOCK(vtdp_atomic_probe_lock);

static struct vtdp_obj *vtdp_obj_get(struct vtdp_file *f, u32 handle,
				     enum vtdp_obj_kind kind)
{
	struct vtdp_obj *o = xa_load(&f->objs, handle);

	return o && o->kind == kind ? o : NULL;
}

/*
 * Resolve a handle to the V3 pointer: 0 is NULL (a legal test input);
 * -ENOENT for a handle this file does not have.
 */
#define VTDP_RESOLVE(f, h, kind, field, out) ({				\
	struct vtdp_obj *__o = (h) ? vtdp_obj_get(f, h, kind) : NULL;	\
	int __r = 0;							\
	if ((h) && !__o)						\
		__r = -ENOENT;						\
	else								\
		(out) = __o ? __o->field : NULL;			\
	__r;								\
})

static struct vtdp_obj *vtdp_obj_new(enum vtdp_obj_kind kind)
{
	struct vtdp_obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (o)
		o->kind = kind;
	return o;
}

static int vtdp_obj_insert(struct vtdp_file *f, struct vtdp_obj *o)
{
	int ret = xa_alloc(&f->objs, &o->handle, o, xa_limit_32b, GFP_KERNEL);

	if (!ret)
		vtdp_live_add(handles, 1);
	return ret;
}

static void vtdp_obj_remove(struct vtdp_file *f, struct vtdp_obj *o)
{
	xa_erase(&f->objs, o->handle);
	kfree(o);
	vtdp_live_add(handles, -1);
}

/* ---------------------------------------------------------------------- */
/* Physical descriptions from pinned buffers                               */

struct vtdp_phys_tmp {
	struct v3_map_phys phys;
	struct v3_mdl mdl;
	u64 *pfns;
};

/*
 * Build the V3 description of @u in @t; *@out is NULL for
 * VTDP_V3_PHYS_NULL.  Malformed descriptions (misaligned, zero length,
 * bad type) are built as asked: judging them is the V3 function's job.
 */
static int vtdp_phys_build(struct vtdp_file *f, const struct vtdp_v3_phys *u,
			   struct vtdp_phys_tmp *t,
			   const struct v3_map_phys **out)
{
	struct vtdp_obj *b;
	unsigned long first, i, n;
	u64 base;

	memset(t, 0, sizeof(*t));
	*out = NULL;
	if (u->type == VTDP_V3_PHYS_NULL)
		return 0;
	*out = &t->phys;
	t->phys.type = u->type;
	if (u->type >= VTDP_V3_PHYS_MAX)
		return 0;
	b = vtdp_obj_get(f, u->buffer, VTDP_OBJ_BUFFER);
	if (!b)
		return -ENOENT;
	if (u->offset > ((u64)b->buf.npages << PAGE_SHIFT) ||
	    u->length > ((u64)b->buf.npages << PAGE_SHIFT) - u->offset)
		return -ERANGE;
	first = u->offset >> PAGE_SHIFT;

	switch (u->type) {
	case VTDP_V3_PHYS_MDL:
		t->mdl.pages = b->buf.pages + first;
		t->mdl.byte_offset = u->offset & ~PAGE_MASK;
		t->mdl.byte_count = u->length;
		t->phys.mdl.mdl = &t->mdl;
		return 0;
	case VTDP_V3_PHYS_CONTIGUOUS:
		/* only if the spanned pages really are contiguous */
		n = DIV_ROUND_UP((u->offset & ~PAGE_MASK) + u->length, PAGE_SIZE);
		base = page_to_phys(b->buf.pages[min(first, b->buf.npages - 1)]);
		for (i = 1; i < n; i++)
			if (page_to_phys(b->buf.pages[first + i]) !=
			    base + (i << PAGE_SHIFT))
				return -EINVAL;
		t->phys.contiguous.base = base + (u->offset & ~PAGE_MASK);
		t->phys.contiguous.size = u->length;
		return 0;
	default:	/* PFN */
		n = u->length >> PAGE_SHIFT;
		if (n) {
			t->pfns = kvmalloc_array(n, sizeof(*t->pfns), GFP_KERNEL);
			if (!t->pfns)
				return -ENOMEM;
			for (i = 0; i < n; i++)
				t->pfns[i] = page_to_pfn(b->buf.pages[first + i]);
		}
		t->phys.pfn.pfns = t->pfns;
		t->phys.pfn.number_of_pages = n;
		return 0;
	}
}

static void vtdp_phys_done(struct vtdp_phys_tmp *t)
{
	kvfree(t->pfns);
}

/* ---------------------------------------------------------------------- */
/* Callbacks the interface registers for user space                        */

static void vtdp_uapi_state_cb(struct v3_state_change *change, void *context)
{
	struct vtdp_obj *o = context;
	unsigned long flags;

	spin_lock_irqsave(&o->dev.lock, flags);
	o->dev.cb_calls++;
	o->dev.cb_last_present = change->present_fields.as_u32;
	o->dev.cb_last_types = change->available_domain_types;
	o->dev.cb_last_end_ns = ktime_get_ns();
	spin_unlock_irqrestore(&o->dev.lock, flags);
}

/*
 * A callback that takes its time (callbacks run in process context and
 * may sleep), so that a test can see Unregister wait for a call in flight.
 */
static void vtdp_uapi_slow_cb(struct v3_state_change *change, void *context)
{
	struct vtdp_obj *o = context;
	unsigned long flags;

	spin_lock_irqsave(&o->dev.lock, flags);
	o->dev.cb_active = true;
	spin_unlock_irqrestore(&o->dev.lock, flags);
	msleep(300);
	spin_lock_irqsave(&o->dev.lock, flags);
	o->dev.cb_active = false;
	spin_unlock_irqrestore(&o->dev.lock, flags);
	vtdp_uapi_state_cb(change, context);
}

/* Only its address matters: "the wrong callback" for Unregister tests. */
static void vtdp_uapi_other_cb(struct v3_state_change *change, void *context)
{
}

static void vtdp_uapi_fault(void *context, struct v3_fault_information *info)
{
	struct vtdp_obj *o = context;
	unsigned long flags;

	spin_lock_irqsave(&o->dev.lock, flags);
	o->dev.faults++;
	o->dev.fault_address = info->x64.fault_address;
	o->dev.fault_reason = info->reason;
	o->dev.fault_pasid = info->pasid;
	o->dev.fault_pasid_valid = info->pasid_valid;
	o->dev.fault_end_ns = ktime_get_ns();
	spin_unlock_irqrestore(&o->dev.lock, flags);
}

/* The handler runs in process context: one that takes its time. */
static void vtdp_uapi_slow_fault(void *context, struct v3_fault_information *info)
{
	struct vtdp_obj *o = context;
	unsigned long flags;

	spin_lock_irqsave(&o->dev.lock, flags);
	o->dev.fault_active = true;
	spin_unlock_irqrestore(&o->dev.lock, flags);
	msleep(300);
	spin_lock_irqsave(&o->dev.lock, flags);
	o->dev.fault_active = false;
	spin_unlock_irqrestore(&o->dev.lock, flags);
	vtdp_uapi_fault(context, info);
}

/* ---------------------------------------------------------------------- */
/* ioctls                                                                  */

static struct pci_dev *vtdp_uapi_pci(u32 bdf)
{
	return pci_get_domain_bus_and_slot(bdf >> 16, (bdf >> 8) & 0xff,
					   bdf & 0xff);
}

static long vtdp_ioc_info(void __user *uarg)
{
	struct vtdp_v3_info a = {
		.uapi_version = VTDP_V3_UAPI_VERSION,
		.interface_max = V3_IOMMU_INTERFACE_EX_VERSION_MAX,
	};
	struct v3_iommu_interface_ex ifc;
	struct vtdp_iommu *iommu;

	/* the unit's facts, read while holding an interface reference */
	ifc.remapping_compatible = V3_REMAPPING_OPTED_IN;
	if (V3_SUCCESS(v3_iommu_get_interface(3, 0, &ifc))) {
		iommu = vtdp_v3_current_unit();
		if (iommu) {
			a.aw_bits = iommu->aw_bits;
			a.pasid_bits = iommu->pasid_bits;
			a.cap = iommu->cap;
			a.ecap = iommu->ecap;
		}
		v3_iommu_put_interface(&ifc);
	}
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_get_interface(void __user *uarg)
{
	struct vtdp_v3_get_interface a;
	struct v3_iommu_interface_ex ifc = {};

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~VTDP_V3_GI_NULL_OUT)
		return -EINVAL;
	ifc.remapping_compatible = a.remapping_compatible;
	a.status = v3_iommu_get_interface(a.version, a.flags,
					  a.opt & VTDP_V3_GI_NULL_OUT ? NULL : &ifc);
	a.size = ifc.size;
	if (V3_SUCCESS(a.status))
		v3_iommu_put_interface(&ifc);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_pin(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_pin a;
	struct vtdp_obj *o;
	unsigned long n, i;
	int pinned, ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || !a.length || !PAGE_ALIGNED(a.length) ||
	    !PAGE_ALIGNED(a.user_addr) || a.length > VTDP_V3_MAX_PIN_BYTES)
		return -EINVAL;
	n = a.length >> PAGE_SHIFT;
	o = vtdp_obj_new(VTDP_OBJ_BUFFER);
	if (!o)
		return -ENOMEM;
	o->buf.pages = kvcalloc(n, sizeof(*o->buf.pages), GFP_KERNEL);
	if (!o->buf.pages) {
		kfree(o);
		return -ENOMEM;
	}
	/* writable: the device may write through any mapping of it */
	pinned = pin_user_pages_fast(a.user_addr, n, FOLL_WRITE | FOLL_LONGTERM,
				     o->buf.pages);
	if (pinned != n) {
		ret = pinned < 0 ? pinned : -EFAULT;
		if (pinned > 0)
			unpin_user_pages(o->buf.pages, pinned);
		goto err_free;
	}
	o->buf.npages = n;
	if (a.phys_ptr) {
		u64 __user *up = u64_to_user_ptr(a.phys_ptr);

		for (i = 0; i < n; i++)
			if (put_user((u64)page_to_phys(o->buf.pages[i]), up + i)) {
				ret = -EFAULT;
				goto err_unpin;
			}
	}
	ret = vtdp_obj_insert(f, o);
	if (ret)
		goto err_unpin;
	vtdp_live_add(pinned_pages, n);
	a.handle = o->handle;
	/* the buffer stays with the file even if this copy fails */
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;

err_unpin:
	unpin_user_pages(o->buf.pages, n);
err_free:
	kvfree(o->buf.pages);
	kfree(o);
	return ret;
}

static long vtdp_ioc_create_device(struct vtdp_file *f, void __user *uarg)
{
	struct v3_device_creation_config cfg[VTDP_V3_MAX_CONFIGS];
	struct vtdp_v3_create_device a;
	struct v3_dma_device *dev = NULL;
	struct pci_dev *pdev = NULL;
	struct vtdp_obj *o;
	unsigned int i;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~(VTDP_V3_CD_NULL_OUT | VTDP_V3_CD_NULL_DEVICE) ||
	    a.nconfigs > VTDP_V3_MAX_CONFIGS)
		return -EINVAL;
	if (!(a.opt & VTDP_V3_CD_NULL_DEVICE)) {
		pdev = vtdp_uapi_pci(a.bdf);
		if (!pdev)
			return -ENODEV;
	}
	/* a ring in which the element passed is a member (spec §4.14) */
	memset(cfg, 0, sizeof(cfg));
	for (i = 0; i < a.nconfigs; i++) {
		cfg[i].type = a.configs[i].type;
		cfg[i].pasid.type = a.configs[i].pasid_type;
		cfg[i].pasid.suppress_pasid_faults =
			!!a.configs[i].suppress_pasid_faults;
		cfg[i].link.next = &cfg[(i + 1) % a.nconfigs].link;
		cfg[i].link.prev = &cfg[(i + a.nconfigs - 1) % a.nconfigs].link;
	}
	o = vtdp_obj_new(VTDP_OBJ_DEVICE);
	if (!o) {
		pci_dev_put(pdev);
		return -ENOMEM;
	}
	spin_lock_init(&o->dev.lock);
	a.status = vtdp_v3_ops.create_device(pdev, a.nconfigs ? cfg : NULL,
					     a.opt & VTDP_V3_CD_NULL_OUT ?
					     NULL : &dev);
	a.handle = 0;
	if (V3_SUCCESS(a.status) && dev) {
		o->dev.dev = dev;
		o->dev.pdev = pdev;
		ret = vtdp_obj_insert(f, o);
		if (ret) {
			vtdp_v3_ops.delete_device(dev);
			pci_dev_put(pdev);
			kfree(o);
			return ret;
		}
		a.handle = o->handle;
	} else {
		pci_dev_put(pdev);
		kfree(o);
	}
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_create_domain(struct vtdp_file *f, void __user *uarg)
{
	struct v3_logical_allocator_config alloc;
	struct v3_reserved_region *regions = NULL;
	struct vtdp_v3_create_domain a;
	struct v3_domain *dom = NULL;
	struct vtdp_v3_region *ur;
	struct vtdp_obj *o;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~(VTDP_V3_DOM_ALLOCATOR | VTDP_V3_DOM_NULL_OUT))
		return -EINVAL;
	if (a.nregions > VTDP_V3_MAX_REGIONS)
		return -E2BIG;
	if (a.nregions) {
		ur = memdup_array_user(u64_to_user_ptr(a.regions_ptr),
				       a.nregions, sizeof(*ur));
		if (IS_ERR(ur))
			return PTR_ERR(ur);
		regions = kvcalloc(a.nregions, sizeof(*regions), GFP_KERNEL);
		if (!regions) {
			kfree(ur);
			return -ENOMEM;
		}
		for (i = 0; i < a.nregions; i++) {
			regions[i].next = i + 1 < a.nregions ? &regions[i + 1] : NULL;
			regions[i].base = ur[i].base;
			regions[i].number_of_pages = ur[i].number_of_pages;
			regions[i].should_map = !!ur[i].should_map;
		}
		kfree(ur);
	}
	alloc.type = a.allocator_type;
	alloc.address_width = a.address_width;
	o = vtdp_obj_new(VTDP_OBJ_DOMAIN);
	if (!o) {
		ret = -ENOMEM;
		goto out;
	}
	a.status = vtdp_v3_ops.create_domain_ex(a.type,
		(union v3_domain_creation_flags){ .as_u64 = a.flags },
		a.opt & VTDP_V3_DOM_ALLOCATOR ? &alloc : NULL, regions,
		a.opt & VTDP_V3_DOM_NULL_OUT ? NULL : &dom);
	a.handle = 0;
	if (V3_SUCCESS(a.status) && dom) {
		o->dom = dom;
		ret = vtdp_obj_insert(f, o);
		if (ret) {
			vtdp_v3_ops.delete_domain(dom);
			kfree(o);
			goto out;
		}
		a.handle = o->handle;
	} else {
		kfree(o);
	}
	if (copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
out:
	kvfree(regions);
	return ret;
}

/* Calls that take one handle; deletes drop the handle on success. */
static long vtdp_ioc_handle_op(struct vtdp_file *f, unsigned int cmd,
			       void __user *uarg)
{
	struct vtdp_v3_handle_op a;
	struct v3_pasid_device *pd = NULL;
	struct v3_dma_device *dev = NULL;
	struct v3_la_token *tok = NULL;
	struct v3_domain *dom = NULL;
	struct vtdp_obj *o = NULL;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	switch (cmd) {
	case VTDP_V3_IOC_DELETE_DOMAIN:
	case VTDP_V3_IOC_FLUSH_DOMAIN:
		ret = VTDP_RESOLVE(f, a.handle, VTDP_OBJ_DOMAIN, dom, dom);
		if (ret)
			return ret;
		if (cmd == VTDP_V3_IOC_FLUSH_DOMAIN) {
			a.status = vtdp_v3_ops.flush_domain(dom);
			break;
		}
		a.status = vtdp_v3_ops.delete_domain(dom);
		o = dom ? vtdp_obj_get(f, a.handle, VTDP_OBJ_DOMAIN) : NULL;
		break;
	case VTDP_V3_IOC_DETACH_DEVICE:
	case VTDP_V3_IOC_DELETE_DEVICE:
		ret = VTDP_RESOLVE(f, a.handle, VTDP_OBJ_DEVICE, dev.dev, dev);
		if (ret)
			return ret;
		if (cmd == VTDP_V3_IOC_DETACH_DEVICE) {
			a.status = vtdp_v3_ops.detach_device_ex(dev);
			break;
		}
		a.status = vtdp_v3_ops.delete_device(dev);
		o = dev ? vtdp_obj_get(f, a.handle, VTDP_OBJ_DEVICE) : NULL;
		if (o && V3_SUCCESS(a.status))
			pci_dev_put(o->dev.pdev);
		break;
	case VTDP_V3_IOC_FREE_RESERVED:
		ret = VTDP_RESOLVE(f, a.handle, VTDP_OBJ_TOKEN, token, tok);
		if (ret)
			return ret;
		a.status = vtdp_v3_ops.free_reserved_logical_address_range(tok);
		o = tok ? vtdp_obj_get(f, a.handle, VTDP_OBJ_TOKEN) : NULL;
		break;
	case VTDP_V3_IOC_DELETE_PASID_DEVICE:
	case VTDP_V3_IOC_DETACH_PASID_DEVICE:
		ret = VTDP_RESOLVE(f, a.handle, VTDP_OBJ_PASID, pasid, pd);
		if (ret)
			return ret;
		if (cmd == VTDP_V3_IOC_DETACH_PASID_DEVICE) {
			a.status = vtdp_v3_ops.detach_pasid_device(pd);
			break;
		}
		a.status = vtdp_v3_ops.delete_pasid_device(pd);
		o = pd ? vtdp_obj_get(f, a.handle, VTDP_OBJ_PASID) : NULL;
		break;
	default:
		return -ENOTTY;
	}
	if (o && V3_SUCCESS(a.status))
		vtdp_obj_remove(f, o);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_attach(struct vtdp_file *f, unsigned int cmd,
			    void __user *uarg)
{
	struct vtdp_v3_attach a;
	struct v3_pasid_device *pd = NULL;
	struct v3_dma_device *dev = NULL;
	struct v3_domain *dom = NULL;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad)
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.domain, VTDP_OBJ_DOMAIN, dom, dom);
	if (ret)
		return ret;
	if (cmd == VTDP_V3_IOC_ATTACH_DEVICE) {
		ret = VTDP_RESOLVE(f, a.device, VTDP_OBJ_DEVICE, dev.dev, dev);
		if (ret)
			return ret;
		a.status = vtdp_v3_ops.attach_device_ex(dom, dev);
	} else {
		ret = VTDP_RESOLVE(f, a.device, VTDP_OBJ_PASID, pasid, pd);
		if (ret)
			return ret;
		a.status = vtdp_v3_ops.attach_pasid_device(dom, pd);
	}
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_flush_va_list(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_flush_va_list a;
	struct v3_domain *dom = NULL;
	u64 *va = NULL;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~VTDP_V3_FV_NULL_LIST)
		return -EINVAL;
	if (a.number > VTDP_V3_MAX_VA_LIST)
		return -E2BIG;
	ret = VTDP_RESOLVE(f, a.domain, VTDP_OBJ_DOMAIN, dom, dom);
	if (ret)
		return ret;
	if (!(a.opt & VTDP_V3_FV_NULL_LIST) && a.number) {
		va = memdup_array_user(u64_to_user_ptr(a.va_ptr), a.number,
				       sizeof(*va));
		if (IS_ERR(va))
			return PTR_ERR(va);
	} else if (!(a.opt & VTDP_V3_FV_NULL_LIST)) {
		/* Number == 0 with a list: any valid pointer will do */
		va = kzalloc(sizeof(*va), GFP_KERNEL);
		if (!va)
			return -ENOMEM;
	}
	a.status = vtdp_v3_ops.flush_domain_by_va_list(dom, !!a.last_level,
							a.number, va);
	kfree(va);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_query_input_mappings(void __user *uarg)
{
	struct vtdp_v3_query_input_mappings a;
	struct v3_input_mapping_element *buf = NULL;
	struct pci_dev *pdev;
	long ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~VTDP_V3_QIM_NULL_RETURN)
		return -EINVAL;
	if (a.buffer_length > PAGE_SIZE)
		return -E2BIG;
	pdev = vtdp_uapi_pci(a.bdf);
	if (!pdev)
		return -ENODEV;
	if (a.buffer_length) {
		buf = kzalloc(a.buffer_length, GFP_KERNEL);
		if (!buf) {
			ret = -ENOMEM;
			goto out;
		}
	}
	a.return_length = 0;
	a.status = vtdp_v3_ops.query_input_mappings(pdev, buf, a.buffer_length,
		a.opt & VTDP_V3_QIM_NULL_RETURN ? NULL : &a.return_length);
	if (V3_SUCCESS(a.status) && a.buffer_length &&
	    copy_to_user(u64_to_user_ptr(a.buf_ptr), buf,
			 min(a.buffer_length, a.return_length))) {
		ret = -EFAULT;
		goto out;
	}
	if (copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
out:
	kfree(buf);
	pci_dev_put(pdev);
	return ret;
}

#define VTDP_ML_ALL	(VTDP_V3_ML_EXPLICIT | VTDP_V3_ML_MIN | VTDP_V3_ML_MAX | \
			 VTDP_V3_ML_NULL_OUT)

static long vtdp_ioc_map_logical(struct vtdp_file *f, void __user *uarg)
{
	const struct v3_map_phys *phys;
	struct vtdp_v3_map_logical a;
	struct v3_domain *dom = NULL;
	struct vtdp_phys_tmp t;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.opt & ~VTDP_ML_ALL)
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.domain, VTDP_OBJ_DOMAIN, dom, dom);
	if (ret)
		return ret;
	ret = vtdp_phys_build(f, &a.phys, &t, &phys);
	if (ret)
		goto out;
	a.la = 0;
	a.status = vtdp_v3_ops.map_logical_range_ex(dom, a.perms, phys,
		a.opt & VTDP_V3_ML_EXPLICIT ? &a.explicit_la : NULL,
		a.opt & VTDP_V3_ML_MIN ? &a.min_la : NULL,
		a.opt & VTDP_V3_ML_MAX ? &a.max_la : NULL,
		a.opt & VTDP_V3_ML_NULL_OUT ? NULL : &a.la);
	if (copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
out:
	vtdp_phys_done(&t);
	return ret;
}

static long vtdp_ioc_unmap_logical(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_unmap_logical a;
	struct v3_domain *dom = NULL;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ret = VTDP_RESOLVE(f, a.domain, VTDP_OBJ_DOMAIN, dom, dom);
	if (ret)
		return ret;
	a.status = vtdp_v3_ops.unmap_logical_range(dom, a.la, a.number_of_pages);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_identity(struct vtdp_file *f, unsigned int cmd,
			      void __user *uarg)
{
	const struct v3_map_phys *phys;
	struct vtdp_v3_identity a;
	struct v3_domain *dom = NULL;
	struct vtdp_phys_tmp t;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad)
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.domain, VTDP_OBJ_DOMAIN, dom, dom);
	if (ret)
		return ret;
	ret = vtdp_phys_build(f, &a.phys, &t, &phys);
	if (ret)
		goto out;
	if (cmd == VTDP_V3_IOC_MAP_IDENTITY)
		a.status = vtdp_v3_ops.map_identity_range_ex(dom, a.perms, phys);
	else
		a.status = vtdp_v3_ops.unmap_identity_range_ex(dom, phys);
	if (copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
out:
	vtdp_phys_done(&t);
	return ret;
}

static long vtdp_ioc_fault_reporting(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_fault_reporting a;
	struct v3_device_fault_config cfg = {};
	struct v3_dma_device *dev = NULL;
	struct vtdp_obj *o;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.config > VTDP_V3_FR_CONFIG_SLOW_HANDLER)
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.device, VTDP_OBJ_DEVICE, dev.dev, dev);
	if (ret)
		return ret;
	o = a.device ? vtdp_obj_get(f, a.device, VTDP_OBJ_DEVICE) : NULL;
	if (a.config == VTDP_V3_FR_CONFIG_HANDLER ||
	    a.config == VTDP_V3_FR_CONFIG_SLOW_HANDLER) {
		cfg.fault_handler = a.config == VTDP_V3_FR_CONFIG_HANDLER ?
				    vtdp_uapi_fault : vtdp_uapi_slow_fault;
		cfg.fault_context = o;
	}
	a.status = vtdp_v3_ops.set_device_fault_reporting_ex(dev,
		a.input_mapping_id_base, !!a.enable,
		a.config == VTDP_V3_FR_CONFIG_NULL ? NULL : &cfg);
	if (o && V3_SUCCESS(a.status))
		o->dev.faults_on = a.enable;
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_configure_domain(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_configure_domain a;
	struct v3_domain_configuration cfg = {};
	struct v3_domain *dom = NULL;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~VTDP_V3_CFG_NULL)
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.domain, VTDP_OBJ_DOMAIN, dom, dom);
	if (ret)
		return ret;
	cfg.type = a.type;
	if (a.type == VTDP_V3_DOMCFG_X64) {
		cfg.x64.first_level_page_table_root = a.root;
		cfg.x64.translation_enabled = !!a.translation_enabled;
	} else {
		cfg.arm64.ttbr0 = a.root;
		cfg.arm64.translation_enabled = !!a.translation_enabled;
	}
	a.status = vtdp_v3_ops.configure_domain(dom,
				a.opt & VTDP_V3_CFG_NULL ? NULL : &cfg);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_query_domain_types(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_query_domain_types a;
	struct v3_dma_device *dev = NULL;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ret = VTDP_RESOLVE(f, a.device, VTDP_OBJ_DEVICE, dev.dev, dev);
	if (ret)
		return ret;
	a.available = 0xdeadbeef;	/* must always be written */
	vtdp_v3_ops.query_available_domain_types(dev, &a.available);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_state_cb(struct vtdp_file *f, unsigned int cmd,
			      void __user *uarg)
{
	union v3_state_change_fields fields;
	struct vtdp_v3_state_cb a;
	struct v3_dma_device *dev = NULL;
	v3_state_change_cb_t cb;
	struct vtdp_obj *o;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.opt & ~(VTDP_V3_CB_NULL_CALLBACK | VTDP_V3_CB_NULL_FIELDS |
		      VTDP_V3_CB_OTHER_CALLBACK | VTDP_V3_CB_SLOW))
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.device, VTDP_OBJ_DEVICE, dev.dev, dev);
	if (ret)
		return ret;
	o = a.device ? vtdp_obj_get(f, a.device, VTDP_OBJ_DEVICE) : NULL;
	cb = a.opt & VTDP_V3_CB_OTHER_CALLBACK ? vtdp_uapi_other_cb :
	     a.opt & VTDP_V3_CB_SLOW ? vtdp_uapi_slow_cb : vtdp_uapi_state_cb;
	if (a.opt & VTDP_V3_CB_NULL_CALLBACK)
		cb = NULL;
	fields.as_u32 = a.fields;
	if (cmd == VTDP_V3_IOC_REGISTER_CB) {
		a.status = vtdp_v3_ops.register_state_change_cb(cb, o, dev,
				a.opt & VTDP_V3_CB_NULL_FIELDS ? NULL : &fields);
		if (o && V3_SUCCESS(a.status))
			o->dev.cb = cb;
	} else {
		a.status = vtdp_v3_ops.unregister_state_change_cb(cb, dev);
		if (o && V3_SUCCESS(a.status))
			o->dev.cb = NULL;
	}
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_device_state(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_device_state a;
	unsigned long flags;
	struct vtdp_obj *o;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	o = vtdp_obj_get(f, a.device, VTDP_OBJ_DEVICE);
	if (!o)
		return -ENOENT;
	spin_lock_irqsave(&o->dev.lock, flags);
	a.cb_calls = o->dev.cb_calls;
	a.cb_last_present = o->dev.cb_last_present;
	a.cb_last_types = o->dev.cb_last_types;
	a.faults = o->dev.faults;
	a.fault_last_address = o->dev.fault_address;
	a.fault_last_reason = o->dev.fault_reason;
	a.fault_last_pasid = o->dev.fault_pasid;
	a.fault_last_pasid_valid = o->dev.fault_pasid_valid;
	a.cb_last_end_ns = o->dev.cb_last_end_ns;
	a.cb_active = o->dev.cb_active;
	a.fault_active = o->dev.fault_active;
	a.fault_last_end_ns = o->dev.fault_end_ns;
	spin_unlock_irqrestore(&o->dev.lock, flags);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_reserve(struct vtdp_file *f, void __user *uarg)
{
	struct v3_la_token *tok = NULL;
	struct v3_domain *dom = NULL;
	struct vtdp_v3_reserve a;
	struct vtdp_obj *o;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.opt & ~VTDP_ML_ALL)
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.domain, VTDP_OBJ_DOMAIN, dom, dom);
	if (ret)
		return ret;
	o = vtdp_obj_new(VTDP_OBJ_TOKEN);
	if (!o)
		return -ENOMEM;
	a.status = vtdp_v3_ops.reserve_logical_address_range(dom, a.size,
		a.opt & VTDP_V3_ML_EXPLICIT ? &a.explicit_la : NULL,
		a.opt & VTDP_V3_ML_MIN ? &a.min_la : NULL,
		a.opt & VTDP_V3_ML_MAX ? &a.max_la : NULL,
		a.opt & VTDP_V3_ML_NULL_OUT ? NULL : &tok);
	a.handle = 0;
	a.base = 0;
	a.token_size = 0;
	if (V3_SUCCESS(a.status) && tok) {
		o->token = tok;
		ret = vtdp_obj_insert(f, o);
		if (ret) {
			vtdp_v3_ops.free_reserved_logical_address_range(tok);
			kfree(o);
			return ret;
		}
		a.handle = o->handle;
		a.base = tok->logical_address_base;
		a.token_size = tok->size;
	} else {
		kfree(o);
	}
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_map_reserved(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_map_reserved a;
	const struct v3_map_phys *phys;
	struct v3_la_token *tok = NULL;
	struct vtdp_phys_tmp t;
	struct vtdp_obj *o;
	unsigned long flags;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~(VTDP_V3_MR_ATOMIC | VTDP_V3_MR_NULL_OUT))
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.token, VTDP_OBJ_TOKEN, token, tok);
	if (ret)
		return ret;
	ret = vtdp_phys_build(f, &a.phys, &t, &phys);
	if (ret)
		goto out;
	o = vtdp_obj_new(VTDP_OBJ_SEGMENT);
	if (!o) {
		ret = -ENOMEM;
		goto out;
	}
	/* ATOMIC: prove the fast path neither sleeps nor allocates (§1.3) */
	if (a.opt & VTDP_V3_MR_ATOMIC)
		spin_lock_irqsave(&vtdp_atomic_probe_lock, flags);
	a.status = vtdp_v3_ops.map_reserved_logical_range(tok, a.offset,
		a.perms, phys, a.opt & VTDP_V3_MR_NULL_OUT ? NULL : &o->seg);
	if (a.opt & VTDP_V3_MR_ATOMIC)
		spin_unlock_irqrestore(&vtdp_atomic_probe_lock, flags);
	a.segment = 0;
	a.seg_offset = o->seg.offset;
	a.seg_size = o->seg.size;
	if (V3_SUCCESS(a.status) && !(a.opt & VTDP_V3_MR_NULL_OUT)) {
		ret = vtdp_obj_insert(f, o);
		if (ret) {
			vtdp_v3_ops.unmap_reserved_logical_range(&o->seg);
			kfree(o);
			goto out;
		}
		a.segment = o->handle;
	} else {
		kfree(o);
	}
	if (copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
out:
	vtdp_phys_done(&t);
	return ret;
}

static long vtdp_ioc_unmap_reserved(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_unmap_reserved a;
	struct v3_mapped_segment tmp, *seg = NULL;
	struct vtdp_obj *o = NULL;
	unsigned long flags;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~(VTDP_V3_UR_ATOMIC | VTDP_V3_UR_KEEP |
			       VTDP_V3_UR_OVERRIDE | VTDP_V3_UR_NULL))
		return -EINVAL;
	if (!(a.opt & VTDP_V3_UR_NULL)) {
		o = vtdp_obj_get(f, a.segment, VTDP_OBJ_SEGMENT);
		if (!o)
			return -ENOENT;
		seg = &o->seg;
		if (a.opt & VTDP_V3_UR_OVERRIDE) {
			/* a forged structure: same token, other range */
			tmp = o->seg;
			tmp.offset = a.offset;
			tmp.size = a.size;
			seg = &tmp;
		}
	}
	if (a.opt & VTDP_V3_UR_ATOMIC)
		spin_lock_irqsave(&vtdp_atomic_probe_lock, flags);
	a.status = vtdp_v3_ops.unmap_reserved_logical_range(seg);
	if (a.opt & VTDP_V3_UR_ATOMIC)
		spin_unlock_irqrestore(&vtdp_atomic_probe_lock, flags);
	if (o && seg == &o->seg && V3_SUCCESS(a.status) &&
	    !(a.opt & VTDP_V3_UR_KEEP))
		vtdp_obj_remove(f, o);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_create_pasid_device(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_create_pasid_device a;
	struct v3_pasid_device *pd = NULL;
	struct v3_dma_device *dev = NULL;
	struct vtdp_obj *o;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~(VTDP_V3_CP_NULL_OUT | VTDP_V3_CP_NULL_PASID))
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.device, VTDP_OBJ_DEVICE, dev.dev, dev);
	if (ret)
		return ret;
	o = vtdp_obj_new(VTDP_OBJ_PASID);
	if (!o)
		return -ENOMEM;
	a.pasid = 0;
	a.status = vtdp_v3_ops.create_pasid_device(dev,
		a.opt & VTDP_V3_CP_NULL_OUT ? NULL : &pd,
		a.opt & VTDP_V3_CP_NULL_PASID ? NULL : &a.pasid);
	a.handle = 0;
	if (V3_SUCCESS(a.status) && pd) {
		o->pasid = pd;
		ret = vtdp_obj_insert(f, o);
		if (ret) {
			vtdp_v3_ops.delete_pasid_device(pd);
			kfree(o);
			return ret;
		}
		a.handle = o->handle;
	} else {
		kfree(o);
	}
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long vtdp_ioc_query_device_info(struct vtdp_file *f, void __user *uarg)
{
	struct vtdp_v3_query_device_info a;
	struct v3_dma_device *dev = NULL;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.pad || a.opt & ~(VTDP_V3_QDI_NULL_WRITTEN | VTDP_V3_QDI_NULL_BUFFER))
		return -EINVAL;
	ret = VTDP_RESOLVE(f, a.device, VTDP_OBJ_DEVICE, dev.dev, dev);
	if (ret)
		return ret;
	/* Size is at most the real buffer: the function trusts it */
	a.size = min_t(u32, a.size, sizeof(a.info));
	memset(a.info, 0xa5, sizeof(a.info));
	a.written = 0xffffffff;
	a.status = vtdp_v3_ops.query_device_info(dev, a.size,
		a.opt & VTDP_V3_QDI_NULL_WRITTEN ? NULL : &a.written,
		a.opt & VTDP_V3_QDI_NULL_BUFFER ? NULL :
		(struct v3_dma_device_information *)a.info);
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static bool vtdp_ioc_exclusive(unsigned int cmd)
{
	switch (cmd) {
	case VTDP_V3_IOC_DELETE_DOMAIN:
	case VTDP_V3_IOC_DELETE_DEVICE:
	case VTDP_V3_IOC_DELETE_PASID_DEVICE:
	case VTDP_V3_IOC_FREE_RESERVED:
	case VTDP_V3_IOC_UNMAP_RESERVED:
		return true;
	}
	return false;
}

static long vtdp_uapi_dispatch(struct vtdp_file *f, unsigned int cmd,
			       void __user *uarg)
{
	switch (cmd) {
	case VTDP_V3_IOC_INFO:
		return vtdp_ioc_info(uarg);
	case VTDP_V3_IOC_GET_INTERFACE:
		return vtdp_ioc_get_interface(uarg);
	case VTDP_V3_IOC_PIN:
		return vtdp_ioc_pin(f, uarg);
	case VTDP_V3_IOC_CREATE_DOMAIN:
		return vtdp_ioc_create_domain(f, uarg);
	case VTDP_V3_IOC_DELETE_DOMAIN:
	case VTDP_V3_IOC_DETACH_DEVICE:
	case VTDP_V3_IOC_FLUSH_DOMAIN:
	case VTDP_V3_IOC_FREE_RESERVED:
	case VTDP_V3_IOC_DELETE_DEVICE:
	case VTDP_V3_IOC_DELETE_PASID_DEVICE:
	case VTDP_V3_IOC_DETACH_PASID_DEVICE:
		return vtdp_ioc_handle_op(f, cmd, uarg);
	case VTDP_V3_IOC_ATTACH_DEVICE:
	case VTDP_V3_IOC_ATTACH_PASID_DEVICE:
		return vtdp_ioc_attach(f, cmd, uarg);
	case VTDP_V3_IOC_FLUSH_VA_LIST:
		return vtdp_ioc_flush_va_list(f, uarg);
	case VTDP_V3_IOC_QUERY_INPUT_MAPPINGS:
		return vtdp_ioc_query_input_mappings(uarg);
	case VTDP_V3_IOC_MAP_LOGICAL:
		return vtdp_ioc_map_logical(f, uarg);
	case VTDP_V3_IOC_UNMAP_LOGICAL:
		return vtdp_ioc_unmap_logical(f, uarg);
	case VTDP_V3_IOC_MAP_IDENTITY:
	case VTDP_V3_IOC_UNMAP_IDENTITY:
		return vtdp_ioc_identity(f, cmd, uarg);
	case VTDP_V3_IOC_FAULT_REPORTING:
		return vtdp_ioc_fault_reporting(f, uarg);
	case VTDP_V3_IOC_CONFIGURE_DOMAIN:
		return vtdp_ioc_configure_domain(f, uarg);
	case VTDP_V3_IOC_QUERY_DOMAIN_TYPES:
		return vtdp_ioc_query_domain_types(f, uarg);
	case VTDP_V3_IOC_REGISTER_CB:
	case VTDP_V3_IOC_UNREGISTER_CB:
		return vtdp_ioc_state_cb(f, cmd, uarg);
	case VTDP_V3_IOC_DEVICE_STATE:
		return vtdp_ioc_device_state(f, uarg);
	case VTDP_V3_IOC_RESERVE:
		return vtdp_ioc_reserve(f, uarg);
	case VTDP_V3_IOC_MAP_RESERVED:
		return vtdp_ioc_map_reserved(f, uarg);
	case VTDP_V3_IOC_UNMAP_RESERVED:
		return vtdp_ioc_unmap_reserved(f, uarg);
	case VTDP_V3_IOC_CREATE_DEVICE:
		return vtdp_ioc_create_device(f, uarg);
	case VTDP_V3_IOC_CREATE_PASID_DEVICE:
		return vtdp_ioc_create_pasid_device(f, uarg);
	case VTDP_V3_IOC_QUERY_DEVICE_INFO:
		return vtdp_ioc_query_device_info(f, uarg);
	}
	return -ENOTTY;
}

static long vtdp_uapi_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct vtdp_file *f = file->private_data;
	bool excl = vtdp_ioc_exclusive(cmd);
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (excl)
		down_write(&f->rwsem);
	else
		down_read(&f->rwsem);
	ret = vtdp_uapi_dispatch(f, cmd, (void __user *)arg);
	if (excl)
		up_write(&f->rwsem);
	else
		up_read(&f->rwsem);
	return ret;
}

static int vtdp_uapi_open(struct inode *inode, struct file *file)
{
	struct vtdp_file *f;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	init_rwsem(&f->rwsem);
	xa_init_flags(&f->objs, XA_FLAGS_ALLOC1);
	file->private_data = f;
	vtdp_live_add(files, 1);
	return 0;
}

/* Apply @fn to every object of @kind; it may remove the object. */
static void vtdp_for_each(struct vtdp_file *f, enum vtdp_obj_kind kind,
			  void (*fn)(struct vtdp_file *f, struct vtdp_obj *o))
{
	struct vtdp_obj *o;
	unsigned long i;

	xa_for_each(&f->objs, i, o)
		if (o->kind == kind)
			fn(f, o);
}

static void vtdp_close_warn(struct vtdp_file *f, const char *what,
			    v3_status_t st)
{
	f->teardown_failed = true;
	pr_warn_ratelimited("vtdp-v3: close: %s -> %s; the object stays (module pinned)\n",
			    what, v3_status_name(st));
}

static void vtdp_close_dev_off(struct vtdp_file *f, struct vtdp_obj *o)
{
	if (o->dev.cb)
		vtdp_v3_ops.unregister_state_change_cb(o->dev.cb, o->dev.dev);
	if (o->dev.faults_on)
		vtdp_v3_ops.set_device_fault_reporting_ex(o->dev.dev, 0, false,
							  NULL);
}

static void vtdp_close_segment(struct vtdp_file *f, struct vtdp_obj *o)
{
	/* kept (already unmapped) segments just go */
	if (o->seg.owning_token)
		vtdp_v3_ops.unmap_reserved_logical_range(&o->seg);
	vtdp_obj_remove(f, o);
}

static void vtdp_close_token(struct vtdp_file *f, struct vtdp_obj *o)
{
	v3_status_t st = vtdp_v3_ops.free_reserved_logical_address_range(o->token);

	if (V3_SUCCESS(st))
		vtdp_obj_remove(f, o);
	else
		vtdp_close_warn(f, "FreeReservedLogicalAddressRange", st);
}

static void vtdp_close_pasid(struct vtdp_file *f, struct vtdp_obj *o)
{
	v3_status_t st;

	vtdp_v3_ops.detach_pasid_device(o->pasid);	/* may not be attached */
	st = vtdp_v3_ops.delete_pasid_device(o->pasid);
	if (V3_SUCCESS(st))
		vtdp_obj_remove(f, o);
	else
		vtdp_close_warn(f, "DeletePasidDevice", st);
}

static void vtdp_close_detach(struct vtdp_file *f, struct vtdp_obj *o)
{
	vtdp_v3_ops.detach_device_ex(o->dev.dev);	/* may not be attached */
}

static void vtdp_close_domain(struct vtdp_file *f, struct vtdp_obj *o)
{
	v3_status_t st = vtdp_v3_ops.delete_domain(o->dom);

	if (V3_SUCCESS(st))
		vtdp_obj_remove(f, o);
	else
		vtdp_close_warn(f, "DeleteDomain", st);
}

static void vtdp_close_device(struct vtdp_file *f, struct vtdp_obj *o)
{
	v3_status_t st = vtdp_v3_ops.delete_device(o->dev.dev);

	if (V3_SUCCESS(st)) {
		pci_dev_put(o->dev.pdev);
		vtdp_obj_remove(f, o);
	} else {
		vtdp_close_warn(f, "DeleteDevice", st);
	}
}

static void vtdp_close_buffer(struct vtdp_file *f, struct vtdp_obj *o)
{
	/*
	 * Normally every mapping that could reach the pages is gone by now.
	 * If some object could not be torn down, keep the pages pinned
	 * (leaked) rather than give memory the device may reach back.
	 */
	if (f->teardown_failed) {
		pr_warn_ratelimited("vtdp-v3: close: %lu pages stay pinned\n",
				    o->buf.npages);
	} else {
		unpin_user_pages_dirty_lock(o->buf.pages, o->buf.npages, true);
		kvfree(o->buf.pages);
		vtdp_live_add(pinned_pages, -(long)o->buf.npages);
	}
	vtdp_obj_remove(f, o);
}

static int vtdp_uapi_release(struct inode *inode, struct file *file)
{
	struct vtdp_file *f = file->private_data;

	/* the spec's teardown order (§3.3); nothing else runs on @f now */
	vtdp_for_each(f, VTDP_OBJ_DEVICE, vtdp_close_dev_off);
	vtdp_for_each(f, VTDP_OBJ_SEGMENT, vtdp_close_segment);
	vtdp_for_each(f, VTDP_OBJ_TOKEN, vtdp_close_token);
	vtdp_for_each(f, VTDP_OBJ_PASID, vtdp_close_pasid);
	vtdp_for_each(f, VTDP_OBJ_DEVICE, vtdp_close_detach);
	vtdp_for_each(f, VTDP_OBJ_DOMAIN, vtdp_close_domain);
	vtdp_for_each(f, VTDP_OBJ_DEVICE, vtdp_close_device);
	vtdp_for_each(f, VTDP_OBJ_BUFFER, vtdp_close_buffer);
	/* objects that could not be torn down stay allocated, on purpose */
	xa_destroy(&f->objs);
	kfree(f);
	vtdp_live_add(files, -1);
	return 0;
}

static const struct file_operations vtdp_uapi_fops = {
	.owner = THIS_MODULE,
	.open = vtdp_uapi_open,
	.release = vtdp_uapi_release,
	.unlocked_ioctl = vtdp_uapi_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vtdp_uapi_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = VTDP_V3_DEVICE_NAME,
	.fops = &vtdp_uapi_fops,
	.mode = 0600,
};

/** vtdp_uapi_init() - create /dev/vtdp-v3 */
int vtdp_uapi_init(void)
{
	return misc_register(&vtdp_uapi_misc);
}

/** vtdp_uapi_exit() - remove /dev/vtdp-v3 */
void vtdp_uapi_exit(void)
{
	misc_deregister(&vtdp_uapi_misc);
}
