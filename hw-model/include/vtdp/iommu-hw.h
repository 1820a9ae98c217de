/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp-iommu hardware interface: register file, bit fields, in-memory
 * table and descriptor formats.
 *
 * This header is the single source of truth for the interface between the
 * emulated IOMMU (hw-model/, built into QEMU and into host unit tests) and
 * the guest driver (guest/vtdp/).  It contains only macros and fixed-width
 * types so that it compiles unchanged in QEMU, in the Linux kernel and in
 * plain host C.
 *
 * Formats follow the Intel VT-d specification (scalable mode).  Where
 * vtdp-iommu deviates from VT-d the deviation is named next to the
 * definition and listed in docs/hardware.md.
 */
#ifndef VTDP_IOMMU_HW_H
#define VTDP_IOMMU_HW_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

/*
 * PCI identity.  Deviation: VT-d units are described by ACPI DMAR and live
 * at fixed MMIO addresses; vtdp-iommu is a PCI function (class 0x0806,
 * "IOMMU") whose BAR 0 holds the register file and whose MSI-X vectors
 * replace FEDATA/FEADDR.  Vendor 0x1234 is the experimental id QEMU's edu
 * device uses too.
 */
#define VTDP_PCI_VENDOR_ID		0x1234
#define VTDP_IOMMU_PCI_DEVICE_ID	0x7d10
#define VTDP_IOMMU_PCI_CLASS		0x0806
#define VTDP_IOMMU_REG_BAR		0
#define VTDP_IOMMU_MSIX_BAR		4
#define VTDP_IOMMU_REG_SIZE		0x1000

/* MSI-X vectors */
#define VTDP_IOMMU_VEC_FAULT		0	/* fault event (FECTL) */
#define VTDP_IOMMU_VEC_INV		1	/* invalidation completion (IECTL) */
#define VTDP_IOMMU_NR_VECTORS		2

/* ---------------------------------------------------------------------- */
/* Register offsets (VT-d chapter 11)                                      */

#define VTDP_REG_VER		0x000	/* 32: version */
#define VTDP_REG_CAP		0x008	/* 64: capabilities */
#define VTDP_REG_ECAP		0x010	/* 64: extended capabilities */
#define VTDP_REG_GCMD		0x018	/* 32: global command */
#define VTDP_REG_GSTS		0x01c	/* 32: global status */
#define VTDP_REG_RTADDR		0x020	/* 64: root table address */
#define VTDP_REG_CCMD		0x028	/* 64: context command */
#define VTDP_REG_FSTS		0x034	/* 32: fault status */
#define VTDP_REG_FECTL		0x038	/* 32: fault event control */
#define VTDP_REG_FEDATA		0x03c	/* 32: unused (MSI-X), reads 0 */
#define VTDP_REG_FEADDR		0x040	/* 32: unused (MSI-X), reads 0 */
#define VTDP_REG_FEUADDR	0x044	/* 32: unused (MSI-X), reads 0 */
#define VTDP_REG_IQH		0x080	/* 64: invalidation queue head */
#define VTDP_REG_IQT		0x088	/* 64: invalidation queue tail */
#define VTDP_REG_IQA		0x090	/* 64: invalidation queue address */
#define VTDP_REG_ICS		0x09c	/* 32: invalidation completion status */
#define VTDP_REG_IECTL		0x0a0	/* 32: invalidation event control */
#define VTDP_REG_IQERCD		0x0b0	/* 64: invalidation queue error record */

/*
 * IOTLB registers (register-based invalidation) live at ECAP.IRO * 16 and
 * the fault recording registers at CAP.FRO * 16; vtdp-iommu places them
 * at fixed offsets so the CAP/ECAP fields and these macros agree.
 */
#define VTDP_REG_IVA		0x100	/* 64: invalidate address */
#define VTDP_REG_IOTLB		0x108	/* 64: IOTLB invalidate */
#define VTDP_IOTLB_REG_OFFSET	VTDP_REG_IVA
#define VTDP_REG_FRCD_BASE	0x200	/* 128 bits per fault record */
#define VTDP_FRCD_SIZE		16
#define VTDP_FRCD_MAX		256	/* NFR is 8 bits: 1..256 records */

/*
 * vtdp extension registers (beyond VT-d; at 0x800, read-only counters
 * the guest may use for diagnostics; the monitor shows the same values).
 */
#define VTDP_REG_EXT_FAULTS_RECORDED	0x800	/* 64 */
#define VTDP_REG_EXT_FAULTS_SUPPRESSED	0x808	/* 64: FPD set */
#define VTDP_REG_EXT_FAULTS_DROPPED	0x810	/* 64: no free record (PFO) */

/* VER_REG */
#define VTDP_VER_MAJOR(v)	(((v) >> 4) & 0xf)
#define VTDP_VER_MINOR(v)	((v) & 0xf)
#define VTDP_VERSION		0x10	/* 1.0, as QEMU's intel-iommu */

/* CAP_REG */
#define VTDP_CAP_ND(c)		((c) & 0x7)		/* domains: 2^(4+2*ND) */
#define VTDP_CAP_ND_16BIT	6ULL
#define VTDP_CAP_RWBF		(1ULL << 4)
#define VTDP_CAP_CM		(1ULL << 7)		/* caching mode */
#define VTDP_CAP_SAGAW_SHIFT	8
#define VTDP_CAP_SAGAW_39	(1ULL << 9)		/* 3-level */
#define VTDP_CAP_SAGAW_48	(1ULL << 10)		/* 4-level */
#define VTDP_CAP_SAGAW_57	(1ULL << 11)		/* 5-level */
#define VTDP_CAP_SAGAW(c)	(((c) >> 8) & 0x1f)
#define VTDP_CAP_MGAW_SHIFT	16
#define VTDP_CAP_MGAW(c)	((((c) >> 16) & 0x3f) + 1)
#define VTDP_CAP_FRO_SHIFT	24
#define VTDP_CAP_FRO(c)		((((c) >> 24) & 0x3ff) * 16)
#define VTDP_CAP_SLLPS_2M	(1ULL << 34)
#define VTDP_CAP_SLLPS_1G	(1ULL << 35)
#define VTDP_CAP_PSI		(1ULL << 39)
#define VTDP_CAP_NFR_SHIFT	40
#define VTDP_CAP_NFR(c)		((((c) >> 40) & 0xff) + 1)
#define VTDP_CAP_MAMV_SHIFT	48
#define VTDP_CAP_MAMV(c)	(((c) >> 48) & 0x3f)
#define VTDP_CAP_DWD		(1ULL << 54)
#define VTDP_CAP_DRD		(1ULL << 55)
#define VTDP_CAP_FL1GP		(1ULL << 56)
#define VTDP_CAP_FL5LP		(1ULL << 60)

/* ECAP_REG */
#define VTDP_ECAP_C		(1ULL << 0)
#define VTDP_ECAP_QI		(1ULL << 1)
#define VTDP_ECAP_DT		(1ULL << 2)
#define VTDP_ECAP_PT		(1ULL << 6)
#define VTDP_ECAP_IRO_SHIFT	8
#define VTDP_ECAP_IRO(e)	((((e) >> 8) & 0x3ff) * 16)
#define VTDP_ECAP_MHMV_SHIFT	20
#define VTDP_ECAP_SRS		(1ULL << 31)
#define VTDP_ECAP_PSS_SHIFT	35
#define VTDP_ECAP_PSS(e)	(((e) >> 35) & 0x1f)	/* PASID bits - 1 */
#define VTDP_ECAP_PASID		(1ULL << 40)
#define VTDP_ECAP_SMTS		(1ULL << 43)
#define VTDP_ECAP_SLTS		(1ULL << 46)
#define VTDP_ECAP_FLTS		(1ULL << 47)
#define VTDP_ECAP_SMPWC		(1ULL << 48)

/* GCMD_REG / GSTS_REG (same bit positions) */
#define VTDP_GCMD_TE		(1U << 31)	/* translation enable */
#define VTDP_GCMD_SRTP		(1U << 30)	/* set root table pointer */
#define VTDP_GCMD_SFL		(1U << 29)
#define VTDP_GCMD_EAFL		(1U << 28)
#define VTDP_GCMD_WBF		(1U << 27)
#define VTDP_GCMD_QIE		(1U << 26)	/* queued invalidation enable */
#define VTDP_GCMD_IRE		(1U << 25)
#define VTDP_GCMD_SIRTP		(1U << 24)
#define VTDP_GCMD_CFI		(1U << 23)
#define VTDP_GSTS_TES		VTDP_GCMD_TE
#define VTDP_GSTS_RTPS		VTDP_GCMD_SRTP
#define VTDP_GSTS_QIES		VTDP_GCMD_QIE
/* One-shot commands: GSTS reports their completion, they are not latched. */
#define VTDP_GCMD_ONESHOT	(VTDP_GCMD_SRTP | VTDP_GCMD_SFL | VTDP_GCMD_WBF | \
				 VTDP_GCMD_SIRTP)

/* RTADDR_REG */
#define VTDP_RTADDR_ADDR_MASK	0xfffffffffffff000ULL
#define VTDP_RTADDR_TTM_SHIFT	10
#define VTDP_RTADDR_TTM_MASK	(3ULL << 10)
#define VTDP_RTADDR_TTM_LEGACY	(0ULL << 10)
#define VTDP_RTADDR_TTM_SM	(1ULL << 10)	/* scalable mode */

/* CCMD_REG (register-based context-cache invalidation) */
#define VTDP_CCMD_ICC		(1ULL << 63)
#define VTDP_CCMD_CIRG_SHIFT	61
#define VTDP_CCMD_CIRG_MASK	(3ULL << 61)
#define VTDP_CCMD_GLOBAL	(1ULL << 61)
#define VTDP_CCMD_DOMAIN	(2ULL << 61)
#define VTDP_CCMD_DEVICE	(3ULL << 61)
#define VTDP_CCMD_CAIG_SHIFT	59
#define VTDP_CCMD_DID(c)	((c) & 0xffff)
#define VTDP_CCMD_SID(c)	(((c) >> 16) & 0xffff)

/* IOTLB_REG (register-based IOTLB invalidation) */
#define VTDP_IOTLB_IVT		(1ULL << 63)
#define VTDP_IOTLB_IIRG_SHIFT	60
#define VTDP_IOTLB_IIRG_MASK	(3ULL << 60)
#define VTDP_IOTLB_GLOBAL	(1ULL << 60)
#define VTDP_IOTLB_DOMAIN	(2ULL << 60)
#define VTDP_IOTLB_PAGE		(3ULL << 60)
#define VTDP_IOTLB_IAIG_SHIFT	57
#define VTDP_IOTLB_DR		(1ULL << 49)
#define VTDP_IOTLB_DW		(1ULL << 48)
#define VTDP_IOTLB_DID_SHIFT	32
#define VTDP_IOTLB_DID(v)	(((v) >> 32) & 0xffff)
#define VTDP_IVA_ADDR_MASK	0xfffffffffffff000ULL
#define VTDP_IVA_IH		(1ULL << 6)
#define VTDP_IVA_AM(v)		((v) & 0x3f)

/* FSTS_REG */
#define VTDP_FSTS_PFO		(1U << 0)	/* primary fault overflow (RW1C) */
#define VTDP_FSTS_PPF		(1U << 1)	/* primary pending fault (RO) */
#define VTDP_FSTS_IQE		(1U << 4)	/* invalidation queue error (RW1C) */
#define VTDP_FSTS_ICE		(1U << 5)	/* invalidation completion error (RW1C) */
#define VTDP_FSTS_ITE		(1U << 6)	/* invalidation time-out error (RW1C) */
#define VTDP_FSTS_FRI_SHIFT	8
#define VTDP_FSTS_FRI(s)	(((s) >> 8) & 0xff)
#define VTDP_FSTS_RW1C		(VTDP_FSTS_PFO | VTDP_FSTS_IQE | VTDP_FSTS_ICE | \
				 VTDP_FSTS_ITE)

/* FECTL_REG / IECTL_REG */
#define VTDP_FECTL_IM		(1U << 31)	/* interrupt mask */
#define VTDP_FECTL_IP		(1U << 30)	/* interrupt pending (RO) */
#define VTDP_IECTL_IM		VTDP_FECTL_IM
#define VTDP_IECTL_IP		VTDP_FECTL_IP

/* ICS_REG */
#define VTDP_ICS_IWC		(1U << 0)	/* invalidation wait complete (RW1C) */

/* IQA_REG */
#define VTDP_IQA_ADDR_MASK	0xfffffffffffff000ULL
#define VTDP_IQA_DW		(1ULL << 11)	/* 256-bit descriptors */
#define VTDP_IQA_QS(v)		((v) & 0x7)	/* 2^QS 4 KiB pages */

/* IQH_REG / IQT_REG: descriptor index in bits 18:4 (128-bit units) */
#define VTDP_IQ_INDEX_SHIFT	4
#define VTDP_IQ_INDEX_MASK	0x7fff0ULL

/* IQERCD_REG */
#define VTDP_IQERCD_IQEI(v)	((v) & 0xf)
#define VTDP_IQEI_DESC_TYPE	1	/* reserved/unsupported descriptor */
#define VTDP_IQEI_TAIL		2	/* tail beyond queue / misaligned */

/* Fault recording register, upper 64 bits */
#define VTDP_FRCD_HI_F		(1ULL << 63)	/* fault (RW1C) */
#define VTDP_FRCD_HI_T1		(1ULL << 62)	/* 1 = read, 0 = write */
#define VTDP_FRCD_HI_AT_SHIFT	60
#define VTDP_FRCD_HI_PV_SHIFT	40
#define VTDP_FRCD_HI_PV(h)	(((h) >> 40) & 0xfffff)
#define VTDP_FRCD_HI_FR_SHIFT	32
#define VTDP_FRCD_HI_FR(h)	(((h) >> 32) & 0xff)
#define VTDP_FRCD_HI_PP		(1ULL << 31)	/* PASID present */
#define VTDP_FRCD_HI_EXE	(1ULL << 30)
#define VTDP_FRCD_HI_PRIV	(1ULL << 29)
#define VTDP_FRCD_HI_SID(h)	((h) & 0xffff)
/* Fault recording register, lower 64 bits: faulting page address */
#define VTDP_FRCD_LO_FI_MASK	0xfffffffffffff000ULL

/* ---------------------------------------------------------------------- */
/* Fault reasons: legacy mode (RTADDR.TTM = 00), then scalable mode        */

#define VTDP_FR_ROOT_NOT_PRESENT	0x01
#define VTDP_FR_CTX_NOT_PRESENT		0x02
#define VTDP_FR_CTX_INVALID		0x03	/* bad TT or AW */
#define VTDP_FR_ADDR_BEYOND_AW		0x04
#define VTDP_FR_WRITE			0x05
#define VTDP_FR_READ			0x06
#define VTDP_FR_SS_ACCESS		0x07
#define VTDP_FR_ROOT_ACCESS		0x08
#define VTDP_FR_CTX_ACCESS		0x09
#define VTDP_FR_ROOT_RSVD		0x0a
#define VTDP_FR_CTX_RSVD		0x0b
#define VTDP_FR_SS_RSVD			0x0c

#define VTDP_FR_SM_RTA_INVALID		0x30	/* invalid root table address */
#define VTDP_FR_SM_ROOT_ACCESS		0x38	/* error reading root entry */
#define VTDP_FR_SM_ROOT_NOT_PRESENT	0x39
#define VTDP_FR_SM_ROOT_RSVD		0x3a
#define VTDP_FR_SM_CTX_ACCESS		0x40
#define VTDP_FR_SM_CTX_NOT_PRESENT	0x41
#define VTDP_FR_SM_CTX_RSVD		0x42
#define VTDP_FR_SM_CTX_INVALID		0x43
#define VTDP_FR_SM_PASID_TOO_LARGE	0x46	/* PASID beyond PDTS */
#define VTDP_FR_SM_PDIR_ACCESS		0x50
#define VTDP_FR_SM_PDIR_NOT_PRESENT	0x51
#define VTDP_FR_SM_PDIR_RSVD		0x52
#define VTDP_FR_SM_PTE_ACCESS		0x58	/* PASID table entry */
#define VTDP_FR_SM_PTE_NOT_PRESENT	0x59
#define VTDP_FR_SM_PTE_RSVD		0x5a
#define VTDP_FR_SM_PTE_INVALID		0x5b	/* bad PGTT / AW */
#define VTDP_FR_SM_PTE_SRE_CLEAR	0x5d	/* privileged request, SRE=0 */
#define VTDP_FR_SM_FS_ACCESS		0x70
#define VTDP_FR_SM_FS_NOT_PRESENT	0x71
#define VTDP_FR_SM_FS_RSVD		0x72
#define VTDP_FR_SM_SS_ACCESS		0x78
#define VTDP_FR_SM_SS_NOT_PRESENT	0x79	/* R = W = 0 */
#define VTDP_FR_SM_SS_RSVD		0x7a
#define VTDP_FR_SM_FS_NON_CANONICAL	0x80
#define VTDP_FR_SM_FS_USER		0x81	/* U/S = 0 for a user request */
#define VTDP_FR_SM_ADDR_BEYOND_AW	0x83
#define VTDP_FR_SM_WRITE		0x85	/* no write permission */
#define VTDP_FR_SM_READ			0x86	/* no read permission */
#define VTDP_FR_SM_INTERRUPT_ADDR	0x87	/* target in 0xfee00000-0xfeefffff */

/*
 * vtdp DMA sanitizer reports (the "sanitizer" property of vtdp-iommu), in a
 * range VT-d leaves unused.  Not faults: the request was served, from a
 * cached entry that no longer matches the tables in memory because the
 * guest changed them without the required invalidation.  They appear only
 * in the host fault log (monitor), never in a fault recording register.
 */
#define VTDP_FR_SAN_STALE_IOTLB		0xf0	/* cached translation stale */
#define VTDP_FR_SAN_STALE_CONTEXT	0xf1	/* cached context entry stale */
#define VTDP_FR_SAN_STALE_PASID		0xf2	/* cached PASID entry stale */
#define VTDP_FR_IS_SANITIZER(r)		(((r) & 0xf0) == 0xf0)

/*
 * Every fault reason with its name, as X(code, name): the one list from
 * which the model's monitor output, the driver's log and the guest tools
 * all take their names, so the three always agree.
 */
#define VTDP_FAULT_REASONS(X)						\
	X(VTDP_FR_ROOT_NOT_PRESENT, "root entry not present (legacy)")	\
	X(VTDP_FR_CTX_NOT_PRESENT, "context entry not present (legacy)") \
	X(VTDP_FR_CTX_INVALID, "context entry invalid (legacy)")	\
	X(VTDP_FR_ADDR_BEYOND_AW, "address beyond AW (legacy)")		\
	X(VTDP_FR_WRITE, "write to read-only (legacy)")			\
	X(VTDP_FR_READ, "read not permitted (legacy)")			\
	X(VTDP_FR_SS_ACCESS, "SS entry access error (legacy)")		\
	X(VTDP_FR_ROOT_ACCESS, "root entry access error (legacy)")	\
	X(VTDP_FR_CTX_ACCESS, "context entry access error (legacy)")	\
	X(VTDP_FR_ROOT_RSVD, "root entry reserved bits (legacy)")	\
	X(VTDP_FR_CTX_RSVD, "context entry reserved bits (legacy)")	\
	X(VTDP_FR_SS_RSVD, "SS entry reserved bits (legacy)")		\
	X(VTDP_FR_SM_RTA_INVALID, "invalid root table address")		\
	X(VTDP_FR_SM_ROOT_ACCESS, "root entry access error")		\
	X(VTDP_FR_SM_ROOT_NOT_PRESENT, "root entry not present")	\
	X(VTDP_FR_SM_ROOT_RSVD, "root entry reserved bits")		\
	X(VTDP_FR_SM_CTX_ACCESS, "context entry access error")		\
	X(VTDP_FR_SM_CTX_NOT_PRESENT, "context entry not present")	\
	X(VTDP_FR_SM_CTX_RSVD, "context entry reserved bits")		\
	X(VTDP_FR_SM_CTX_INVALID, "context entry invalid")		\
	X(VTDP_FR_SM_PASID_TOO_LARGE, "PASID beyond PASID dir size")	\
	X(VTDP_FR_SM_PDIR_ACCESS, "PASID dir access error")		\
	X(VTDP_FR_SM_PDIR_NOT_PRESENT, "PASID dir entry not present")	\
	X(VTDP_FR_SM_PDIR_RSVD, "PASID dir reserved bits")		\
	X(VTDP_FR_SM_PTE_ACCESS, "PASID entry access error")		\
	X(VTDP_FR_SM_PTE_NOT_PRESENT, "PASID entry not present")	\
	X(VTDP_FR_SM_PTE_RSVD, "PASID entry reserved bits")		\
	X(VTDP_FR_SM_PTE_INVALID, "PASID entry invalid")		\
	X(VTDP_FR_SM_PTE_SRE_CLEAR, "privileged request, SRE clear")	\
	X(VTDP_FR_SM_FS_ACCESS, "FS entry access error")		\
	X(VTDP_FR_SM_FS_NOT_PRESENT, "FS entry not present")		\
	X(VTDP_FR_SM_FS_RSVD, "FS entry reserved bits")			\
	X(VTDP_FR_SM_SS_ACCESS, "SS entry access error")		\
	X(VTDP_FR_SM_SS_NOT_PRESENT, "SS entry not present")		\
	X(VTDP_FR_SM_SS_RSVD, "SS entry reserved bits")			\
	X(VTDP_FR_SM_FS_NON_CANONICAL, "non-canonical address")		\
	X(VTDP_FR_SM_FS_USER, "user access to supervisor page")	\
	X(VTDP_FR_SM_ADDR_BEYOND_AW, "address beyond AW")		\
	X(VTDP_FR_SM_WRITE, "write to read-only")			\
	X(VTDP_FR_SM_READ, "read not permitted")			\
	X(VTDP_FR_SM_INTERRUPT_ADDR, "interrupt address range")		\
	X(VTDP_FR_SAN_STALE_IOTLB, "sanitizer: stale IOTLB entry used")	\
	X(VTDP_FR_SAN_STALE_CONTEXT, "sanitizer: stale context entry used") \
	X(VTDP_FR_SAN_STALE_PASID, "sanitizer: stale PASID entry used")

/* Interrupt address range: never translated as memory. */
#define VTDP_INTERRUPT_RANGE_START	0xfee00000ULL
#define VTDP_INTERRUPT_RANGE_END	0xfeefffffULL

/* ---------------------------------------------------------------------- */
/* In-memory translation structures (scalable mode)                        */

#define VTDP_PAGE_SHIFT		12
#define VTDP_PAGE_SIZE		(1ULL << VTDP_PAGE_SHIFT)
#define VTDP_ADDR_MASK		0x000ffffffffff000ULL	/* bits 51:12 */

/* Scalable-mode root entry: 128 bits, 256 per 4 KiB root table (per bus). */
struct vtdp_root_entry {
	uint64_t lo;	/* LP | LCTP: context table for devfn 0..127 */
	uint64_t hi;	/* UP | UCTP: context table for devfn 128..255 */
};
#define VTDP_ROOT_P		(1ULL << 0)
#define VTDP_ROOT_RSVD		0x0000000000000ffeULL	/* bits 11:1 */

/*
 * Scalable-mode context entry: 256 bits, 128 per 4 KiB table; devfn & 0x7f
 * indexes the lower (devfn < 128) or upper table.
 */
struct vtdp_context_entry {
	uint64_t val[4];
};
#define VTDP_CTX_P		(1ULL << 0)
#define VTDP_CTX_FPD		(1ULL << 1)	/* fault processing disable */
#define VTDP_CTX_DTE		(1ULL << 2)	/* device-TLB enable */
#define VTDP_CTX_PASIDE		(1ULL << 3)	/* PASID enable */
#define VTDP_CTX_PRE		(1ULL << 4)
#define VTDP_CTX_PDTS_SHIFT	9		/* dir has 2^(PDTS+7) entries */
#define VTDP_CTX_PDTS_MASK	(7ULL << 9)
#define VTDP_CTX_PDTS(v)	(((v) >> 9) & 7)
#define VTDP_CTX0_RSVD		0x00000000000001e0ULL	/* bits 8:5 */
#define VTDP_CTX1_RID_PASID(v)	((uint32_t)((v) & 0xfffff))
#define VTDP_CTX1_RID_PRIV	(1ULL << 20)
#define VTDP_CTX1_RSVD		0xffffffffffe00000ULL

/*
 * Legacy mode (RTADDR.TTM = 00): 128-bit root entries (only the low qword
 * is used: P, context table pointer) and 128-bit context entries, 256 per
 * 4 KiB table indexed by devfn; second-stage translation only, no PASIDs.
 */
#define VTDP_LROOT_RSVD		0xfff0000000000ffeULL	/* lo: 63:52, 11:1 */
#define VTDP_LCTX0_FPD		VTDP_CTX_FPD
#define VTDP_LCTX0_TT(v)	(((v) >> 2) & 3)
#define VTDP_LCTX_TT_SS		0	/* untranslated requests, second stage */
#define VTDP_LCTX_TT_DEVTLB	1	/* + device-TLB (ECAP.DT: unsupported) */
#define VTDP_LCTX_TT_PT		2	/* pass-through (ECAP.PT) */
#define VTDP_LCTX0_RSVD		0xfff0000000000ff0ULL	/* 63:52, 11:4 */
#define VTDP_LCTX1_AW(v)	((v) & 7)	/* VTDP_PE_AW_* encoding */
#define VTDP_LCTX1_DID(v)	((uint16_t)(((v) >> 8) & 0xffff))
#define VTDP_LCTX1_DID_SHIFT	8
#define VTDP_LCTX1_RSVD		0xffffffffff000080ULL	/* 63:24, 7 */

/* PASID directory entry: 64 bits, indexed by PASID[19:6]. */
#define VTDP_PDIR_P		(1ULL << 0)
#define VTDP_PDIR_FPD		(1ULL << 1)
#define VTDP_PDIR_RSVD		0x0000000000000ffcULL
#define VTDP_PASID_DIR_INDEX(p)	((p) >> 6)
#define VTDP_PASID_TBL_INDEX(p)	((p) & 0x3f)
#define VTDP_PASID_MAX_BITS	20
#define VTDP_PASID_RID_DEFAULT	0	/* RID_PASID used for untagged DMA */

/* PASID table entry: 512 bits, 64 per 4 KiB table. */
struct vtdp_pasid_entry {
	uint64_t val[8];
};
/* qword 0 */
#define VTDP_PE0_P		(1ULL << 0)
#define VTDP_PE0_FPD		(1ULL << 1)
#define VTDP_PE0_AW_SHIFT	2
#define VTDP_PE0_AW_MASK	(7ULL << 2)
#define VTDP_PE0_AW(v)		(((v) >> 2) & 7)
#define VTDP_PE_AW_39		1	/* 3-level second stage */
#define VTDP_PE_AW_48		2	/* 4-level */
#define VTDP_PE_AW_57		3	/* 5-level */
#define VTDP_PE0_SLEE		(1ULL << 5)
#define VTDP_PE0_PGTT_SHIFT	6
#define VTDP_PE0_PGTT_MASK	(7ULL << 6)
#define VTDP_PE0_PGTT(v)	(((v) >> 6) & 7)
#define VTDP_PGTT_FS		1	/* first stage only */
#define VTDP_PGTT_SS		2	/* second stage only */
#define VTDP_PGTT_NESTED	3
#define VTDP_PGTT_PT		4	/* pass-through */
#define VTDP_PE0_SLADE		(1ULL << 9)
#define VTDP_PE0_SSPTPTR_MASK	VTDP_ADDR_MASK
#define VTDP_PE0_RSVD		0xfff0000000000c00ULL	/* bits 63:52, 11:10 */
/*
 * Bits of qword 0 vtdp-iommu refuses (fault 0x5a) because the features
 * behind them are not implemented and not advertised: SLEE (ECAP.SLEE)
 * and SLADE (ECAP.SLADS).
 */
#define VTDP_PE0_UNSUPPORTED	(VTDP_PE0_SLEE | VTDP_PE0_SLADE)
/* qword 1 */
#define VTDP_PE1_DID(v)		((uint16_t)((v) & 0xffff))
#define VTDP_PE1_RSVD		0x00000000007f0000ULL	/* bits 22:16 */
/* qword 2 */
#define VTDP_PE2_SRE		(1ULL << 0)	/* supervisor requests enable */
#define VTDP_PE2_FLPM_SHIFT	2
#define VTDP_PE2_FLPM_MASK	(3ULL << 2)
#define VTDP_PE2_FLPM_4LVL	(0ULL << 2)
#define VTDP_PE2_FLPM_5LVL	(1ULL << 2)
#define VTDP_PE2_WPE		(1ULL << 4)
#define VTDP_PE2_NXE		(1ULL << 5)
#define VTDP_PE2_FLPTPTR_MASK	VTDP_ADDR_MASK
/* reserved bits 11:8, and ERE, SMEP, EAFE (ECAP.ERS/SMEPS/EAFS are 0) */
#define VTDP_PE2_RSVD		0x0000000000000fc2ULL

/* Second-stage paging entry (VT-d format) */
#define VTDP_SS_R		(1ULL << 0)
#define VTDP_SS_W		(1ULL << 1)
#define VTDP_SS_X		(1ULL << 2)
#define VTDP_SS_PS		(1ULL << 7)	/* page size (leaf at L2/L3) */
#define VTDP_SS_A		(1ULL << 8)
#define VTDP_SS_D		(1ULL << 9)
#define VTDP_SS_SNP		(1ULL << 11)
#define VTDP_SS_ADDR_MASK	VTDP_ADDR_MASK
/* Reserved bits checked by vtdp-iommu (bits 61:52 and, in non-leaf
 * entries, bit 7 at the top level). */
#define VTDP_SS_RSVD_HI		0x3ff0000000000000ULL

/* First-stage paging entry (x86-64 paging format) */
#define VTDP_FS_P		(1ULL << 0)
#define VTDP_FS_RW		(1ULL << 1)
#define VTDP_FS_US		(1ULL << 2)
#define VTDP_FS_A		(1ULL << 5)
#define VTDP_FS_D		(1ULL << 6)
#define VTDP_FS_PS		(1ULL << 7)
#define VTDP_FS_XD		(1ULL << 63)
#define VTDP_FS_ADDR_MASK	VTDP_ADDR_MASK

/* Page-table geometry: 9 bits per level, 512 entries per 4 KiB table. */
#define VTDP_LEVEL_BITS		9
#define VTDP_LEVEL_ENTRIES	512
#define VTDP_LEVEL_SHIFT(l)	(VTDP_PAGE_SHIFT + ((l) - 1) * VTDP_LEVEL_BITS)
#define VTDP_LEVEL_INDEX(a, l)	(((a) >> VTDP_LEVEL_SHIFT(l)) & 0x1ff)

/* ---------------------------------------------------------------------- */
/* Queued invalidation descriptors (128-bit; 256-bit when IQA.DW = 1)      */

struct vtdp_inv_desc {
	uint64_t lo;
	uint64_t hi;
	uint64_t ext[2];	/* 256-bit mode only */
};

#define VTDP_INV_TYPE(lo)	(((lo) & 0xf) | (((lo) >> 5) & 0x70))
#define VTDP_INV_TYPE_CC	0x1	/* context-cache */
#define VTDP_INV_TYPE_IOTLB	0x2
#define VTDP_INV_TYPE_DEVTLB	0x3
#define VTDP_INV_TYPE_IEC	0x4
#define VTDP_INV_TYPE_WAIT	0x5
#define VTDP_INV_TYPE_PIOTLB	0x6	/* PASID-based IOTLB */
#define VTDP_INV_TYPE_PC	0x7	/* PASID cache */
#define VTDP_INV_TYPE_PDEVTLB	0x8	/* PASID-based device-TLB */

/* context-cache invalidate */
#define VTDP_INV_CC_G_SHIFT	4
#define VTDP_INV_CC_GLOBAL	(1ULL << 4)
#define VTDP_INV_CC_DOMAIN	(2ULL << 4)
#define VTDP_INV_CC_DEVICE	(3ULL << 4)
#define VTDP_INV_CC_G(lo)	(((lo) >> 4) & 3)
#define VTDP_INV_CC_DID(lo)	(((lo) >> 16) & 0xffff)
#define VTDP_INV_CC_SID(lo)	(((lo) >> 32) & 0xffff)
#define VTDP_INV_CC_FM(lo)	(((lo) >> 48) & 3)

/* IOTLB invalidate */
#define VTDP_INV_IOTLB_GLOBAL	(1ULL << 4)
#define VTDP_INV_IOTLB_DOMAIN	(2ULL << 4)
#define VTDP_INV_IOTLB_PAGE	(3ULL << 4)
#define VTDP_INV_IOTLB_G(lo)	(((lo) >> 4) & 3)
#define VTDP_INV_IOTLB_DR	(1ULL << 7)
#define VTDP_INV_IOTLB_DW	(1ULL << 6)
#define VTDP_INV_IOTLB_DID(lo)	(((lo) >> 16) & 0xffff)
#define VTDP_INV_IOTLB_ADDR(hi)	((hi) & ~0xfffULL)	/* bits 127:76 */
#define VTDP_INV_IOTLB_IH	(1ULL << 6)	/* in hi */
#define VTDP_INV_IOTLB_AM(hi)	((hi) & 0x3f)

/* PASID-based IOTLB invalidate */
#define VTDP_INV_PIOTLB_ALL_PASID	(2ULL << 4)	/* all in PASID */
#define VTDP_INV_PIOTLB_PAGE		(3ULL << 4)	/* page(s) in PASID */
#define VTDP_INV_PIOTLB_G(lo)		(((lo) >> 4) & 3)
#define VTDP_INV_PIOTLB_DID(lo)		(((lo) >> 16) & 0xffff)
#define VTDP_INV_PIOTLB_PASID_SHIFT	32
#define VTDP_INV_PIOTLB_PASID(lo)	((uint32_t)(((lo) >> 32) & 0xfffff))

/* PASID-cache invalidate */
#define VTDP_INV_PC_DOMAIN	(0ULL << 4)	/* all PASIDs of a domain */
#define VTDP_INV_PC_PASID	(1ULL << 4)	/* one PASID of a domain */
#define VTDP_INV_PC_GLOBAL	(3ULL << 4)
#define VTDP_INV_PC_G(lo)	(((lo) >> 4) & 3)
#define VTDP_INV_PC_DID(lo)	(((lo) >> 16) & 0xffff)
#define VTDP_INV_PC_PASID_SHIFT	32
#define VTDP_INV_PC_PASID_OF(lo) ((uint32_t)(((lo) >> 32) & 0xfffff))

/* invalidation wait */
#define VTDP_INV_WAIT_IF	(1ULL << 4)	/* interrupt on completion */
#define VTDP_INV_WAIT_SW	(1ULL << 5)	/* status write */
#define VTDP_INV_WAIT_FN	(1ULL << 6)	/* fence */
#define VTDP_INV_WAIT_PD	(1ULL << 7)	/* page-request drain */
#define VTDP_INV_WAIT_SDATA_SHIFT 32
#define VTDP_INV_WAIT_SDATA(lo)	((uint32_t)((lo) >> 32))
#define VTDP_INV_WAIT_SADDR(hi)	((hi) & ~3ULL)

/* Domain ids: CAP.ND = 6 gives 16-bit ids; id 0 is reserved (VT-d CM). */
#define VTDP_DID_MAX		0xffff

#endif /* VTDP_IOMMU_HW_H */
