/* SPDX-License-Identifier: GPL-2.0-or-later WITH Linux-syscall-note */
/*
 * vtdp.ko conformance interface: /dev/vtdp-v3.
 *
 * One ioctl per V3 function (shared/spec/v3-interface.md §5), so that user
 * space can call every function with every argument the spec talks about,
 * including the invalid ones, and see the exact status.  Opening the node
 * and every ioctl need CAP_SYS_ADMIN.
 *
 * Return convention (spec §7.3): 0 when the V3 function was called; its
 * status (an NTSTATUS value, VTDP_V3_STATUS_*) is then in the structure's
 * status field.  A negative errno only when the request could not be made:
 * -EFAULT (copy), -ENOTTY (unknown ioctl or structure size), -EINVAL
 * (non-zero padding, unknown flag), -ENOENT (no such handle in this file,
 * or a handle of another kind), -ERANGE (a buffer range outside its
 * buffer), -E2BIG (a list longer than the limits below), -ENOMEM, -ENODEV
 * (no such PCI device).
 *
 * Objects (DMA devices, domains, PASID sub-devices, tokens, mapped
 * segments, pinned buffers) are named by u32 handles that belong to the
 * open file; handle 0 stands for a NULL pointer, which lets a test pass
 * NULL where the spec defines a status for it.  Closing the file tears
 * everything down in the spec's order (§3.3): callbacks and fault
 * reporting off, segments unmapped, tokens freed, PASID sub-devices
 * detached and deleted, devices detached, domains deleted, devices
 * deleted, buffers unpinned.
 *
 * Physical memory is always described through pinned buffers of the same
 * file (VTDP_V3_IOC_PIN): user space can only ever make the IOMMU point at
 * pages it owns.
 *
 * ioctl magic: 0xDB, numbers 0x00..0x1f.
 */
#ifndef _UAPI_VTDP_V3_H
#define _UAPI_VTDP_V3_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VTDP_V3_UAPI_VERSION		1
#define VTDP_V3_DEVICE_NAME		"vtdp-v3"

/* V3 statuses (NTSTATUS values, spec §1.4 and §7.3) */
#define VTDP_V3_STATUS_SUCCESS			0x00000000
#define VTDP_V3_STATUS_UNSUCCESSFUL		((__s32)0xC0000001)
#define VTDP_V3_STATUS_NOT_IMPLEMENTED		((__s32)0xC0000002)
#define VTDP_V3_STATUS_INVALID_PARAMETER	((__s32)0xC000000D)
#define VTDP_V3_STATUS_ACCESS_DENIED		((__s32)0xC0000022)
#define VTDP_V3_STATUS_BUFFER_TOO_SMALL		((__s32)0xC0000023)
#define VTDP_V3_STATUS_INVALID_PARAMETER_MIX	((__s32)0xC0000030)
#define VTDP_V3_STATUS_NONE_MAPPED		((__s32)0xC0000073)
#define VTDP_V3_STATUS_INSUFFICIENT_RESOURCES	((__s32)0xC000009A)
#define VTDP_V3_STATUS_NOT_SUPPORTED		((__s32)0xC00000BB)
#define VTDP_V3_STATUS_INVALID_PARAMETER_1	((__s32)0xC00000EF)
#define VTDP_V3_STATUS_INVALID_PARAMETER_2	((__s32)0xC00000F0)
#define VTDP_V3_STATUS_INVALID_PARAMETER_3	((__s32)0xC00000F1)
#define VTDP_V3_STATUS_INVALID_PARAMETER_4	((__s32)0xC00000F2)
#define VTDP_V3_STATUS_NOT_FOUND		((__s32)0xC0000225)
#define VTDP_V3_STATUS_RESOURCE_IN_USE		((__s32)0xC0000708)
/* Not an NTSTATUS: private customer-space value (spec §1.4) */
#define VTDP_V3_STATUS_IN_USE			((__s32)0xE0000001)

/* Spec enumerations, same values as the spec's (§4) */
#define VTDP_V3_DOMAIN_TRANSLATE	0
#define VTDP_V3_DOMAIN_PASS_THROUGH	1
#define VTDP_V3_DOMAIN_UNMANAGED	2
#define VTDP_V3_DOMAIN_TRANSLATE_S1	3
#define VTDP_V3_DOMAIN_MAX		4

#define VTDP_V3_ALLOCATOR_NONE		0
#define VTDP_V3_ALLOCATOR_BUDDY		1
#define VTDP_V3_ALLOCATOR_MAX		2

#define VTDP_V3_PHYS_MDL		0
#define VTDP_V3_PHYS_CONTIGUOUS		1
#define VTDP_V3_PHYS_PFN		2
#define VTDP_V3_PHYS_MAX		3
#define VTDP_V3_PHYS_NULL		0xffffffffU	/* pass a NULL description */

#define VTDP_V3_ACCESS_READ		1
#define VTDP_V3_ACCESS_WRITE		2

#define VTDP_V3_DEVCFG_NONE		0
#define VTDP_V3_DEVCFG_ACPI		1
#define VTDP_V3_DEVCFG_DEVICE_ID	2
#define VTDP_V3_DEVCFG_PASID		3
#define VTDP_V3_DEVCFG_MAX		4

#define VTDP_V3_PASID_DEFAULT_ONLY	0
#define VTDP_V3_PASID_TAGGED_DMA	1

#define VTDP_V3_DOMCFG_ARM64		0
#define VTDP_V3_DOMCFG_X64		1
#define VTDP_V3_DOMCFG_INVALID		2

#define VTDP_V3_STATE_FIELD_DOMAIN_TYPES	(1U << 0)

/* Limits of this interface (not of V3) */
#define VTDP_V3_MAX_REGIONS		4096
#define VTDP_V3_MAX_CONFIGS		8
#define VTDP_V3_MAX_VA_LIST		4096
#define VTDP_V3_MAX_PIN_BYTES		(64ULL << 20)

/* VTDP_V3_IOC_INFO */
struct vtdp_v3_info {
	__u32 uapi_version;	/* out: VTDP_V3_UAPI_VERSION */
	__u32 interface_max;	/* out: highest V3 interface version offered */
	__u32 aw_bits;		/* out: domain input width */
	__u32 pasid_bits;	/* out: the unit's PASID width, 0 = none */
	__u64 cap;		/* out: the unit's CAP register */
	__u64 ecap;		/* out: the unit's ECAP register */
};

/* VTDP_V3_IOC_GET_INTERFACE: v3_iommu_get_interface(), released at once */
#define VTDP_V3_GI_NULL_OUT		(1U << 0)
struct vtdp_v3_get_interface {
	__u32 version;		/* in */
	__u32 opt;		/* in: VTDP_V3_GI_* */
	__u64 flags;		/* in */
	__u32 remapping_compatible; /* in: the opt-in, 0 out, 1 in, 2 external only */
	__u32 size;		/* out: InterfaceOut->Size */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_PIN: pin user pages as a buffer for physical descriptions */
struct vtdp_v3_pin {
	__u64 user_addr;	/* in: page aligned */
	__u64 length;		/* in: page multiple, <= VTDP_V3_MAX_PIN_BYTES */
	__u64 phys_ptr;		/* in: optional __u64[length / 4096]: page addresses */
	__u32 handle;		/* out */
	__u32 pad;
};

/* A physical description (spec §4.9) made of a pinned buffer's pages. */
struct vtdp_v3_phys {
	__u32 type;		/* VTDP_V3_PHYS_*, any value (>= MAX is passed on) */
	__u32 buffer;		/* pinned buffer handle */
	__u64 offset;		/* bytes into the buffer; need not be aligned */
	__u64 length;		/* bytes; PFN: floor(length / 4096) pages */
};

/* VTDP_V3_IOC_CREATE_DEVICE */
struct vtdp_v3_devcfg {
	__u32 type;		/* VTDP_V3_DEVCFG_*, any value */
	__u32 pasid_type;	/* VTDP_V3_PASID_*, any value */
	__u32 suppress_pasid_faults;
	__u32 pad;
};
#define VTDP_V3_CD_NULL_OUT		(1U << 0)
#define VTDP_V3_CD_NULL_DEVICE		(1U << 1)	/* DeviceObject = NULL */
struct vtdp_v3_create_device {
	__u32 bdf;		/* in: segment << 16 | bus << 8 | devfn */
	__u32 opt;		/* in: VTDP_V3_CD_* */
	__u32 nconfigs;		/* in: 0 = NULL config, else a ring of these */
	__u32 handle;		/* out */
	struct vtdp_v3_devcfg configs[VTDP_V3_MAX_CONFIGS];
	__s32 status;		/* out */
	__u32 pad;
};

/*
 * Calls taking one handle: DeleteDevice, DeleteDomain, DetachDeviceEx,
 * FlushDomain, FreeReservedLogicalAddressRange, DeletePasidDevice,
 * DetachPasidDevice.  On a successful delete/free the handle is gone.
 */
struct vtdp_v3_handle_op {
	__u32 handle;		/* in */
	__s32 status;		/* out */
};

/* AttachDeviceEx(domain, device), AttachPasidDevice(domain, pasid device) */
struct vtdp_v3_attach {
	__u32 domain;		/* in */
	__u32 device;		/* in */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_CREATE_DOMAIN */
struct vtdp_v3_region {
	__u64 base;
	__u64 number_of_pages;
	__u32 should_map;
	__u32 pad;
};
#define VTDP_V3_DOM_ALLOCATOR		(1U << 0)	/* pass the allocator config */
#define VTDP_V3_DOM_NULL_OUT		(1U << 1)
struct vtdp_v3_create_domain {
	__u32 type;		/* in: any value */
	__u32 opt;		/* in: VTDP_V3_DOM_* */
	__u64 flags;		/* in: creation flags */
	__u32 allocator_type;	/* in */
	__u32 address_width;	/* in */
	__u64 regions_ptr;	/* in: struct vtdp_v3_region[nregions] */
	__u32 nregions;		/* in: 0 = NULL list */
	__u32 handle;		/* out */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_FLUSH_VA_LIST */
#define VTDP_V3_FV_NULL_LIST		(1U << 0)
struct vtdp_v3_flush_va_list {
	__u32 domain;		/* in */
	__u32 last_level;	/* in */
	__u32 number;		/* in */
	__u32 opt;		/* in: VTDP_V3_FV_* */
	__u64 va_ptr;		/* in: __u64[number] */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_QUERY_INPUT_MAPPINGS */
#define VTDP_V3_QIM_NULL_RETURN		(1U << 0)
struct vtdp_v3_query_input_mappings {
	__u32 bdf;		/* in */
	__u32 buffer_length;	/* in: bytes, <= 4096 */
	__u64 buf_ptr;		/* in: user buffer */
	__u32 opt;		/* in: VTDP_V3_QIM_* */
	__u32 return_length;	/* out */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_MAP_LOGICAL (MapLogicalRangeEx) */
#define VTDP_V3_ML_EXPLICIT		(1U << 0)
#define VTDP_V3_ML_MIN			(1U << 1)
#define VTDP_V3_ML_MAX			(1U << 2)
#define VTDP_V3_ML_NULL_OUT		(1U << 3)
struct vtdp_v3_map_logical {
	__u32 domain;		/* in */
	__u32 perms;		/* in */
	struct vtdp_v3_phys phys; /* in */
	__u32 opt;		/* in: VTDP_V3_ML_*: which optional pointers */
	__s32 status;		/* out */
	__u64 explicit_la;	/* in */
	__u64 min_la;		/* in */
	__u64 max_la;		/* in */
	__u64 la;		/* out */
};

/* VTDP_V3_IOC_UNMAP_LOGICAL */
struct vtdp_v3_unmap_logical {
	__u32 domain;		/* in */
	__s32 status;		/* out */
	__u64 la;		/* in */
	__u64 number_of_pages;	/* in */
};

/* VTDP_V3_IOC_MAP_IDENTITY, VTDP_V3_IOC_UNMAP_IDENTITY (perms unused) */
struct vtdp_v3_identity {
	__u32 domain;		/* in */
	__u32 perms;		/* in */
	struct vtdp_v3_phys phys; /* in */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_FAULT_REPORTING (SetDeviceFaultReportingEx) */
#define VTDP_V3_FR_CONFIG_NULL		0	/* FaultConfig = NULL */
#define VTDP_V3_FR_CONFIG_HANDLER	1	/* the interface's own counting handler */
#define VTDP_V3_FR_CONFIG_NO_HANDLER	2	/* FaultConfig with a NULL handler */
#define VTDP_V3_FR_CONFIG_SLOW_HANDLER	3	/* the counting handler, 300 ms per call */
struct vtdp_v3_fault_reporting {
	__u32 device;		/* in */
	__u32 input_mapping_id_base; /* in */
	__u32 enable;		/* in */
	__u32 config;		/* in: VTDP_V3_FR_CONFIG_* */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_CONFIGURE_DOMAIN */
#define VTDP_V3_CFG_NULL		(1U << 0)
struct vtdp_v3_configure_domain {
	__u32 domain;		/* in */
	__u32 opt;		/* in: VTDP_V3_CFG_* */
	__u32 type;		/* in: VTDP_V3_DOMCFG_*, any value */
	__u32 translation_enabled; /* in */
	__u64 root;		/* in: X64 FirstLevelPageTableRoot / Arm64 Ttbr0 */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_QUERY_DOMAIN_TYPES (no status: the function is VOID) */
struct vtdp_v3_query_domain_types {
	__u32 device;		/* in */
	__u32 available;	/* out: bit (1 << type) */
};

/* VTDP_V3_IOC_REGISTER_CB / VTDP_V3_IOC_UNREGISTER_CB */
#define VTDP_V3_CB_NULL_CALLBACK	(1U << 0)
#define VTDP_V3_CB_NULL_FIELDS		(1U << 1)
#define VTDP_V3_CB_OTHER_CALLBACK	(1U << 2)	/* a second function */
#define VTDP_V3_CB_SLOW			(1U << 3)	/* one that sleeps 300 ms per call */
struct vtdp_v3_state_cb {
	__u32 device;		/* in */
	__u32 fields;		/* in: subscription mask */
	__u32 opt;		/* in: VTDP_V3_CB_* */
	__s32 status;		/* out */
};

/* VTDP_V3_IOC_DEVICE_STATE: what the callbacks and fault handler saw */
struct vtdp_v3_device_state {
	__u32 device;		/* in */
	__u32 cb_last_present;	/* out: PresentFields of the last call */
	__u64 cb_calls;		/* out: state-change callback calls */
	__u32 cb_last_types;	/* out: AvailableDomainTypes of the last call */
	__u32 fault_last_reason; /* out: VT-d fault reason */
	__u64 faults;		/* out: fault handler calls */
	__u64 fault_last_address; /* out */
	__u32 fault_last_pasid;	/* out */
	__u32 fault_last_pasid_valid; /* out */
	__u64 cb_last_end_ns;	/* out: CLOCK_MONOTONIC when the last call returned */
	__u32 cb_active;	/* out: a callback call is running now */
	__u32 fault_active;	/* out: a fault handler call is running now */
	__u64 fault_last_end_ns; /* out: CLOCK_MONOTONIC when the last one returned */
};

/* VTDP_V3_IOC_RESERVE (ReserveLogicalAddressRange) */
struct vtdp_v3_reserve {
	__u32 domain;		/* in */
	__u32 opt;		/* in: VTDP_V3_ML_EXPLICIT/MIN/MAX/NULL_OUT */
	__u64 size;		/* in: bytes */
	__u64 explicit_la;	/* in */
	__u64 min_la;		/* in */
	__u64 max_la;		/* in */
	__u64 base;		/* out: token LogicalAddressBase */
	__u64 token_size;	/* out: token Size */
	__u32 handle;		/* out */
	__s32 status;		/* out */
};

/* VTDP_V3_IOC_MAP_RESERVED */
#define VTDP_V3_MR_ATOMIC		(1U << 0)	/* call it with a spinlock held */
#define VTDP_V3_MR_NULL_OUT		(1U << 1)
struct vtdp_v3_map_reserved {
	__u32 token;		/* in */
	__u32 perms;		/* in */
	__u64 offset;		/* in */
	struct vtdp_v3_phys phys; /* in */
	__u32 opt;		/* in: VTDP_V3_MR_* */
	__u32 segment;		/* out: handle of the segment structure */
	__u64 seg_offset;	/* out: MappedSegment->Offset */
	__u64 seg_size;		/* out: MappedSegment->Size */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_UNMAP_RESERVED */
#define VTDP_V3_UR_ATOMIC		(1U << 0)
#define VTDP_V3_UR_KEEP			(1U << 1)	/* keep the handle after success */
#define VTDP_V3_UR_OVERRIDE		(1U << 2)	/* pass offset/size below instead */
#define VTDP_V3_UR_NULL			(1U << 3)	/* MappedSegment = NULL */
struct vtdp_v3_unmap_reserved {
	__u32 segment;		/* in */
	__u32 opt;		/* in: VTDP_V3_UR_* */
	__u64 offset;		/* in, with OVERRIDE */
	__u64 size;		/* in, with OVERRIDE */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_CREATE_PASID_DEVICE */
#define VTDP_V3_CP_NULL_OUT		(1U << 0)
#define VTDP_V3_CP_NULL_PASID		(1U << 1)
struct vtdp_v3_create_pasid_device {
	__u32 device;		/* in */
	__u32 opt;		/* in: VTDP_V3_CP_* */
	__u32 handle;		/* out */
	__u32 pasid;		/* out */
	__s32 status;		/* out */
	__u32 pad;
};

/* VTDP_V3_IOC_QUERY_DEVICE_INFO */
#define VTDP_V3_QDI_NULL_WRITTEN	(1U << 0)
#define VTDP_V3_QDI_NULL_BUFFER		(1U << 1)
struct vtdp_v3_query_device_info {
	__u32 device;		/* in */
	__u32 size;		/* in: Size argument (the buffer has 8 bytes) */
	__u32 opt;		/* in: VTDP_V3_QDI_* */
	__u32 written;		/* out: BytesWritten */
	/*
	 * out: DefaultPasidEnabled, PasidTaggedDmaEnabled,
	 * PasidFaultsSuppressed; the rest stays 0xa5
	 */
	__u8 info[8];
	__s32 status;		/* out */
	__u32 pad;
};

#define VTDP_V3_IOC_MAGIC		0xDB
#define VTDP_V3_IOC_INFO		_IOR(VTDP_V3_IOC_MAGIC, 0x00, struct vtdp_v3_info)
#define VTDP_V3_IOC_GET_INTERFACE	_IOWR(VTDP_V3_IOC_MAGIC, 0x01, struct vtdp_v3_get_interface)
#define VTDP_V3_IOC_PIN			_IOWR(VTDP_V3_IOC_MAGIC, 0x02, struct vtdp_v3_pin)
#define VTDP_V3_IOC_CREATE_DOMAIN	_IOWR(VTDP_V3_IOC_MAGIC, 0x03, struct vtdp_v3_create_domain)
#define VTDP_V3_IOC_DELETE_DOMAIN	_IOWR(VTDP_V3_IOC_MAGIC, 0x04, struct vtdp_v3_handle_op)
#define VTDP_V3_IOC_ATTACH_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x05, struct vtdp_v3_attach)
#define VTDP_V3_IOC_DETACH_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x06, struct vtdp_v3_handle_op)
#define VTDP_V3_IOC_FLUSH_DOMAIN	_IOWR(VTDP_V3_IOC_MAGIC, 0x07, struct vtdp_v3_handle_op)
#define VTDP_V3_IOC_FLUSH_VA_LIST	_IOWR(VTDP_V3_IOC_MAGIC, 0x08, struct vtdp_v3_flush_va_list)
#define VTDP_V3_IOC_QUERY_INPUT_MAPPINGS _IOWR(VTDP_V3_IOC_MAGIC, 0x09, struct vtdp_v3_query_input_mappings)
#define VTDP_V3_IOC_MAP_LOGICAL		_IOWR(VTDP_V3_IOC_MAGIC, 0x0a, struct vtdp_v3_map_logical)
#define VTDP_V3_IOC_UNMAP_LOGICAL	_IOWR(VTDP_V3_IOC_MAGIC, 0x0b, struct vtdp_v3_unmap_logical)
#define VTDP_V3_IOC_MAP_IDENTITY	_IOWR(VTDP_V3_IOC_MAGIC, 0x0c, struct vtdp_v3_identity)
#define VTDP_V3_IOC_UNMAP_IDENTITY	_IOWR(VTDP_V3_IOC_MAGIC, 0x0d, struct vtdp_v3_identity)
#define VTDP_V3_IOC_FAULT_REPORTING	_IOWR(VTDP_V3_IOC_MAGIC, 0x0e, struct vtdp_v3_fault_reporting)
#define VTDP_V3_IOC_CONFIGURE_DOMAIN	_IOWR(VTDP_V3_IOC_MAGIC, 0x0f, struct vtdp_v3_configure_domain)
#define VTDP_V3_IOC_QUERY_DOMAIN_TYPES	_IOWR(VTDP_V3_IOC_MAGIC, 0x10, struct vtdp_v3_query_domain_types)
#define VTDP_V3_IOC_REGISTER_CB		_IOWR(VTDP_V3_IOC_MAGIC, 0x11, struct vtdp_v3_state_cb)
#define VTDP_V3_IOC_UNREGISTER_CB	_IOWR(VTDP_V3_IOC_MAGIC, 0x12, struct vtdp_v3_state_cb)
#define VTDP_V3_IOC_RESERVE		_IOWR(VTDP_V3_IOC_MAGIC, 0x13, struct vtdp_v3_reserve)
#define VTDP_V3_IOC_FREE_RESERVED	_IOWR(VTDP_V3_IOC_MAGIC, 0x14, struct vtdp_v3_handle_op)
#define VTDP_V3_IOC_MAP_RESERVED	_IOWR(VTDP_V3_IOC_MAGIC, 0x15, struct vtdp_v3_map_reserved)
#define VTDP_V3_IOC_UNMAP_RESERVED	_IOWR(VTDP_V3_IOC_MAGIC, 0x16, struct vtdp_v3_unmap_reserved)
#define VTDP_V3_IOC_CREATE_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x17, struct vtdp_v3_create_device)
#define VTDP_V3_IOC_DELETE_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x18, struct vtdp_v3_handle_op)
#define VTDP_V3_IOC_CREATE_PASID_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x19, struct vtdp_v3_create_pasid_device)
#define VTDP_V3_IOC_DELETE_PASID_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x1a, struct vtdp_v3_handle_op)
#define VTDP_V3_IOC_ATTACH_PASID_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x1b, struct vtdp_v3_attach)
#define VTDP_V3_IOC_DETACH_PASID_DEVICE	_IOWR(VTDP_V3_IOC_MAGIC, 0x1c, struct vtdp_v3_handle_op)
#define VTDP_V3_IOC_QUERY_DEVICE_INFO	_IOWR(VTDP_V3_IOC_MAGIC, 0x1d, struct vtdp_v3_query_device_info)
#define VTDP_V3_IOC_DEVICE_STATE	_IOWR(VTDP_V3_IOC_MAGIC, 0x1e, struct vtdp_v3_device_state)

#endif /* _UAPI_VTDP_V3_H */
