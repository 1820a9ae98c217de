/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * V3-style IOMMU interface (modelled on the Windows DMA_IOMMU_INTERFACE_V3)
 * as offered by vtdp.ko to other kernel modules.
 *
 * The contract is ../shared/spec/v3-interface.md; vtdp.ko's choices where
 * it leaves room are in docs/v3-interface-notes.md.  The slot order of
 * struct v3_iommu_ops is ABI and follows the spec's §2.3; every function
 * returns a v3_status_t from enum v3_status, whose values
 * are the NTSTATUS codes the spec names, each kept distinct.  Errnos appear
 * only at the ioctl edge (v3_status_to_errno()).
 */
#ifndef VTDP_V3_H
#define VTDP_V3_H

#include <linux/list.h>
#include <linux/types.h>
#include <uapi/vtdp/v3.h>

struct pci_dev;

typedef s32 v3_status_t;

/* The values are shared with user space (the conformance uapi). */
enum v3_status {
	V3_STATUS_SUCCESS			= VTDP_V3_STATUS_SUCCESS,
	V3_STATUS_UNSUCCESSFUL			= VTDP_V3_STATUS_UNSUCCESSFUL,
	V3_STATUS_NOT_IMPLEMENTED		= VTDP_V3_STATUS_NOT_IMPLEMENTED,
	V3_STATUS_INVALID_PARAMETER		= VTDP_V3_STATUS_INVALID_PARAMETER,
	V3_STATUS_ACCESS_DENIED			= VTDP_V3_STATUS_ACCESS_DENIED,
	V3_STATUS_BUFFER_TOO_SMALL		= VTDP_V3_STATUS_BUFFER_TOO_SMALL,
	V3_STATUS_INVALID_PARAMETER_MIX		= VTDP_V3_STATUS_INVALID_PARAMETER_MIX,
	V3_STATUS_NONE_MAPPED			= VTDP_V3_STATUS_NONE_MAPPED,
	V3_STATUS_INSUFFICIENT_RESOURCES	= VTDP_V3_STATUS_INSUFFICIENT_RESOURCES,
	V3_STATUS_NOT_SUPPORTED			= VTDP_V3_STATUS_NOT_SUPPORTED,
	V3_STATUS_INVALID_PARAMETER_1		= VTDP_V3_STATUS_INVALID_PARAMETER_1,
	V3_STATUS_INVALID_PARAMETER_2		= VTDP_V3_STATUS_INVALID_PARAMETER_2,
	V3_STATUS_INVALID_PARAMETER_3		= VTDP_V3_STATUS_INVALID_PARAMETER_3,
	V3_STATUS_INVALID_PARAMETER_4		= VTDP_V3_STATUS_INVALID_PARAMETER_4,
	V3_STATUS_NOT_FOUND			= VTDP_V3_STATUS_NOT_FOUND,
	V3_STATUS_RESOURCE_IN_USE		= VTDP_V3_STATUS_RESOURCE_IN_USE,
	/* Not an NTSTATUS: private customer-space value, see spec §1.4. */
	V3_STATUS_IN_USE			= VTDP_V3_STATUS_IN_USE,
};

#define V3_SUCCESS(s)	((s32)(s) >= 0)

/* Interface versions (spec §2.2) */
#define V3_IOMMU_INTERFACE_EX_VERSION_1		1
#define V3_IOMMU_INTERFACE_EX_VERSION_2		2
#define V3_IOMMU_INTERFACE_EX_VERSION_3		3
#define V3_IOMMU_INTERFACE_EX_VERSION_MIN	1
#define V3_IOMMU_INTERFACE_EX_VERSION_MAX	3

#define V3_PAGE_SIZE	4096ULL
#define V3_PAGE_SHIFT	12

/* Opaque handles */
struct v3_domain;
struct v3_dma_device;
struct v3_pasid_device;

enum v3_domain_type {
	V3_DOMAIN_TYPE_TRANSLATE	= 0,
	V3_DOMAIN_TYPE_PASS_THROUGH	= 1,
	V3_DOMAIN_TYPE_UNMANAGED	= 2,
	V3_DOMAIN_TYPE_TRANSLATE_S1	= 3,
	V3_DOMAIN_TYPE_MAX		= 4,
};

union v3_domain_creation_flags {
	u64 as_u64;	/* no flags defined: must be 0 */
};

enum v3_logical_allocator_type {
	V3_LOGICAL_ALLOCATOR_NONE	= 0,
	V3_LOGICAL_ALLOCATOR_BUDDY	= 1,
	V3_LOGICAL_ALLOCATOR_MAX	= 2,
};

struct v3_logical_allocator_config {
	u32 type;		/* enum v3_logical_allocator_type */
	u32 address_width;	/* buddy: 13 .. min(63, hardware) */
};

struct v3_reserved_region {
	struct v3_reserved_region *next;	/* NULL-terminated */
	u64 base;				/* page aligned */
	u64 number_of_pages;
	u8 should_map;				/* identity-map it (R|W) */
};

enum v3_map_phys_type {
	V3_MAP_PHYS_MDL			= 0,	/* Linux: page array */
	V3_MAP_PHYS_CONTIGUOUS		= 1,
	V3_MAP_PHYS_PFN			= 2,
	V3_MAP_PHYS_MAX			= 3,
};

/*
 * Linux stand-in for an MDL: a locked, page-aligned buffer described by
 * its pages (spec §7.1).  byte_offset must be 0, byte_count a multiple of 4 KiB.
 */
struct v3_mdl {
	struct page **pages;
	u64 byte_offset;
	u64 byte_count;
};

struct v3_map_phys {
	u32 type;			/* enum v3_map_phys_type */
	union {
		struct {
			const struct v3_mdl *mdl;
		} mdl;
		struct {
			u64 base;	/* physical, 4 KiB aligned */
			u64 size;	/* bytes, non-zero multiple of 4 KiB */
		} contiguous;
		struct {
			const u64 *pfns;	/* phys >> 12 */
			u64 number_of_pages;
		} pfn;
	};
};

#define V3_ACCESS_NONE	0
#define V3_ACCESS_READ	1	/* device may read memory */
#define V3_ACCESS_WRITE	2	/* device may write memory */

struct v3_la_token {
	u64 logical_address_base;
	u64 size;		/* bytes */
};

struct v3_mapped_segment {
	struct v3_la_token *owning_token;
	u64 offset;		/* bytes from logical_address_base */
	u64 size;		/* bytes */
};

enum v3_device_config_type {
	V3_DEVICE_CONFIG_NONE		= 0,
	V3_DEVICE_CONFIG_ACPI		= 1,
	V3_DEVICE_CONFIG_DEVICE_ID	= 2,
	V3_DEVICE_CONFIG_PASID		= 3,
	V3_DEVICE_CONFIG_MAX		= 4,
};

enum v3_pasid_config_type {
	V3_PASID_CONFIG_DEFAULT_PASID_ONLY	= 0,
	V3_PASID_CONFIG_PASID_TAGGED_DMA	= 1,
	V3_PASID_CONFIG_MAX			= 2,
};

/*
 * Creation configurations form a circular ring through @link in which the
 * element passed to create_device() is itself a member (spec §4.14).
 */
struct v3_device_creation_config {
	struct list_head link;
	u32 type;			/* enum v3_device_config_type */
	union {
		struct {
			u32 input_mapping_base;
			u32 mappings_count;
		} acpi;
		void *device_id;
		struct {
			u32 type;	/* enum v3_pasid_config_type */
			u8 suppress_pasid_faults;
		} pasid;
	};
};

struct v3_dma_device_information {
	u8 default_pasid_enabled;
	u8 pasid_tagged_dma_enabled;
	u8 pasid_faults_suppressed;
} __packed;

union v3_state_change_fields {
	struct {
		u32 available_domain_types : 1;
		u32 reserved : 31;
	};
	u32 as_u32;
};

struct v3_state_change {
	union v3_state_change_fields present_fields;
	u32 available_domain_types;	/* bit (1 << type) */
};

typedef void (*v3_state_change_cb_t)(struct v3_state_change *change,
				     void *context);

/* Fault information (spec §4.24; Type = X64) */
enum v3_fault_arch {
	V3_FAULT_INFORMATION_INVALID	= 0,
	V3_FAULT_INFORMATION_ARM64	= 1,
	V3_FAULT_INFORMATION_X64	= 2,
};

enum v3_fault_type {
	V3_FAULT_UNSUPPORTED_UPSTREAM_TRANSACTION = 0,
	V3_FAULT_ADDRESS_SIZE			= 1,
	V3_FAULT_TLB_MATCH_CONFLICT		= 2,
	V3_FAULT_EXTERNAL			= 3,
	V3_FAULT_PERMISSION			= 4,
	V3_FAULT_ACCESS_FLAG			= 5,
	V3_FAULT_TRANSLATION			= 6,
	V3_FAULT_MAX				= 7,
};

#define V3_FAULT_FLAG_WRITE		(1U << 0)	/* WriteNotRead */
#define V3_FAULT_FLAG_INSTRUCTION	(1U << 1)
#define V3_FAULT_FLAG_PRIVILEGED	(1U << 2)
#define V3_FAULT_FLAG_ADDRESS_VALID	(1U << 3)

struct v3_fault_information {
	u32 type;			/* enum v3_fault_arch: X64 */
	u8 is_stage1;
	struct {
		struct v3_domain *domain;
		u64 fault_address;	/* input (logical) address */
		u32 flags;		/* V3_FAULT_FLAG_* */
		u32 fault_type;		/* enum v3_fault_type */
		u64 iommu_base_address;	/* MMIO base of the reporting unit */
		u32 pci_segment;
	} x64;
	/* vtdp additions (spec §4.24 [Interp]) */
	u16 source_id;			/* bus << 8 | devfn */
	u32 pasid;
	u8 pasid_valid;
	u8 reason;			/* VT-d fault reason code */
};

typedef void (*v3_fault_handler_t)(void *context,
				   struct v3_fault_information *info);

struct v3_device_fault_config {
	v3_fault_handler_t fault_handler;	/* called in process context */
	void *fault_context;
};

struct v3_input_mapping_element {
	u32 input_mapping_id;
};

enum v3_domain_config_arch {
	V3_DOMAIN_CONFIG_ARM64		= 0,
	V3_DOMAIN_CONFIG_X64		= 1,
	V3_DOMAIN_CONFIG_INVALID	= 2,
};

struct v3_domain_configuration {
	u32 type;			/* enum v3_domain_config_arch */
	union {
		struct {
			u64 ttbr0, ttbr1;
			u32 mair0, mair1;
			u8 input_size0, input_size1;
			u8 coherent_table_walks;
			u8 translation_enabled;
		} arm64;
		struct {
			u64 first_level_page_table_root;
			u8 translation_enabled;
		} x64;
	};
};

/* The function table: slot order is the spec's §2.3 and is ABI. */
struct v3_iommu_ops {
	v3_status_t (*create_domain_ex)(enum v3_domain_type type,
					union v3_domain_creation_flags flags,
					const struct v3_logical_allocator_config *alloc,
					const struct v3_reserved_region *regions,
					struct v3_domain **out);
	v3_status_t (*delete_domain)(struct v3_domain *domain);
	v3_status_t (*attach_device_ex)(struct v3_domain *domain,
					struct v3_dma_device *dev);
	v3_status_t (*detach_device_ex)(struct v3_dma_device *dev);
	v3_status_t (*flush_domain)(struct v3_domain *domain);
	v3_status_t (*flush_domain_by_va_list)(struct v3_domain *domain,
					       bool last_level, u32 number,
					       const u64 *va_list);
	v3_status_t (*query_input_mappings)(struct pci_dev *pdev,
					    struct v3_input_mapping_element *buf,
					    u32 buf_bytes, u32 *ret_bytes);
	v3_status_t (*map_logical_range_ex)(struct v3_domain *domain, u32 perms,
					    const struct v3_map_phys *phys,
					    const u64 *explicit_la,
					    const u64 *min_la, const u64 *max_la,
					    u64 *la_out);
	v3_status_t (*unmap_logical_range)(struct v3_domain *domain, u64 la,
					   u64 number_of_pages);
	v3_status_t (*map_identity_range_ex)(struct v3_domain *domain, u32 perms,
					     const struct v3_map_phys *phys);
	v3_status_t (*unmap_identity_range_ex)(struct v3_domain *domain,
					       const struct v3_map_phys *phys);
	v3_status_t (*set_device_fault_reporting_ex)(struct v3_dma_device *dev,
						     u32 input_mapping_id_base,
						     bool enable,
						     const struct v3_device_fault_config *cfg);
	v3_status_t (*configure_domain)(struct v3_domain *domain,
					const struct v3_domain_configuration *cfg);
	void (*query_available_domain_types)(struct v3_dma_device *dev,
					     u32 *available);
	v3_status_t (*register_state_change_cb)(v3_state_change_cb_t cb,
						void *context,
						struct v3_dma_device *dev,
						const union v3_state_change_fields *fields);
	v3_status_t (*unregister_state_change_cb)(v3_state_change_cb_t cb,
						  struct v3_dma_device *dev);
	v3_status_t (*reserve_logical_address_range)(struct v3_domain *domain,
						     u64 size,
						     const u64 *explicit_la,
						     const u64 *min_la,
						     const u64 *max_la,
						     struct v3_la_token **out);
	v3_status_t (*free_reserved_logical_address_range)(struct v3_la_token *token);
	v3_status_t (*map_reserved_logical_range)(struct v3_la_token *token,
						  u64 offset, u32 perms,
						  const struct v3_map_phys *phys,
						  struct v3_mapped_segment *out);
	v3_status_t (*unmap_reserved_logical_range)(struct v3_mapped_segment *seg);
	v3_status_t (*create_device)(struct pci_dev *pdev,
				     const struct v3_device_creation_config *cfg,
				     struct v3_dma_device **out);
	v3_status_t (*delete_device)(struct v3_dma_device *dev);
	v3_status_t (*create_pasid_device)(struct v3_dma_device *dev,
					   struct v3_pasid_device **out,
					   u32 *pasid);
	v3_status_t (*delete_pasid_device)(struct v3_pasid_device *pdev);
	v3_status_t (*attach_pasid_device)(struct v3_domain *domain,
					   struct v3_pasid_device *pdev);
	v3_status_t (*detach_pasid_device)(struct v3_pasid_device *pdev);
	v3_status_t (*query_device_info)(struct v3_dma_device *dev, u32 size,
					 u32 *written,
					 struct v3_dma_device_information *info);
};

/*
 * DMA_IOMMU_INTERFACE_EX.  V1 and V2 arms are not offered separately:
 * V2 is a strict prefix of V3, so a V2 caller reads the first 22 slots;
 * V1 is refused (spec §2.2: not a prefix).
 */
struct v3_iommu_interface_ex {
	u64 size;
	u32 version;
	/*
	 * In: the caller's DMA-remapping opt-in, the analogue of the
	 * DmaRemappingCompatible registry value (spec §2.1, §7.1).
	 */
	u32 remapping_compatible;	/* V3_REMAPPING_* */
	const struct v3_iommu_ops *ops;
};

#define V3_REMAPPING_OPTED_OUT		0
#define V3_REMAPPING_OPTED_IN		1
/* only for external devices or with the DMA verifier: neither exists here */
#define V3_REMAPPING_EXTERNAL_ONLY	2

/**
 * v3_iommu_get_interface() - obtain the V3 function table
 * @version: V3_IOMMU_INTERFACE_EX_VERSION_2 or _3
 * @flags: must be 0
 * @out: receives size, version and the ops table
 *
 * The analogue of IoGetIommuInterfaceEx().  @out->remapping_compatible
 * must be set by the caller (its opt-in); the rest is filled in.  Takes a
 * reference on vtdp.ko's ops table, released by v3_iommu_put_interface().
 * Context: process context.
 * Return: V3_STATUS_SUCCESS, V3_STATUS_INVALID_PARAMETER_1 (version),
 * _2 (flags), _3 (NULL @out), V3_STATUS_NOT_SUPPORTED (no vtdp-iommu bound),
 * V3_STATUS_ACCESS_DENIED (not opted in).
 */
v3_status_t v3_iommu_get_interface(u32 version, u64 flags,
				   struct v3_iommu_interface_ex *out);
void v3_iommu_put_interface(struct v3_iommu_interface_ex *ifc);

/**
 * vtdp_v3_mapping_page_size() - largest leaf (bytes) mapping a page of
 * [@la, +@npages) in @domain, 0 if none: a vtdp extension
 */
u64 vtdp_v3_mapping_page_size(struct v3_domain *domain, u64 la, u64 npages);

struct device;
/**
 * vtdp_core_mapping_page_size() - largest leaf (bytes) mapping a page of
 * [@iova, +@npages) in the vtdp paging domain of @dev (the Linux IOMMU
 * core's, with vtdp.iommu_core=1), 0 if none: a vtdp extension
 */
u64 vtdp_core_mapping_page_size(struct device *dev, u64 iova, u64 npages);

/**
 * v3_status_to_errno() - the errno that stands for @status at an ioctl edge
 */
int v3_status_to_errno(v3_status_t status);

/**
 * v3_status_name() - "STATUS_INVALID_PARAMETER_1" etc., never NULL
 */
const char *v3_status_name(v3_status_t status);

#endif /* VTDP_V3_H */
