/* SPDX-License-Identifier: GPL-2.0-or-later WITH Linux-syscall-note */
/*
 * vtdp_testdev.ko user interface: /dev/vtdp-testdev<N>, one per endpoint.
 *
 * Every ioctl needs CAP_SYS_ADMIN.  The size of each argument structure is
 * encoded in the ioctl number, so a caller built against another layout gets
 * -ENOTTY.  Reserved/padding fields must be zero (else -EINVAL), and so must
 * the out-only fields of the structures added with the PASID ioctls.
 *
 * Return convention: 0 when the request reached the interface it asked for
 * (the V3 call or the device) -- the outcome is then in the structure's
 * status field (a V3 status, NTSTATUS-valued, for MAP/UNMAP; the device's
 * completion status for SUBMIT).  A negative errno only for argument or
 * transport failures (-EINVAL, -EFAULT, -ENOMEM, -ENOENT, -ETIMEDOUT, ...).
 *
 * Mappings and PASID sub-devices made through a file descriptor belong to
 * it: they are unmapped (pages unpinned), detached and deleted when it is
 * closed.
 *
 * ioctl magic: 0xDA ('V'TDP "DMA"), numbers 0x00..0x0f.
 */
#ifndef _UAPI_VTDP_TESTDEV_H
#define _UAPI_VTDP_TESTDEV_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VTDP_TESTDEV_UAPI_VERSION	1

#define VTDP_TD_IOC_MAGIC		0xDA

/* vtdp_td_info.mode */
#define VTDP_TD_MODE_V3			1	/* client of vtdp.ko's V3 interface */
#define VTDP_TD_MODE_DMA_API		2	/* plain Linux DMA API */

/* vtdp_td_info.flags */
#define VTDP_TD_INFO_FAULT_REPORTING	(1U << 0)	/* V3 fault handler registered */
/*
 * V3 PassThrough domain (module parameter domain=passthrough): device
 * addresses are physical, MAP ignores the requested iova and needs a
 * physically contiguous buffer (as dma-api mode without an IOMMU).
 */
#define VTDP_TD_INFO_PASSTHROUGH	(1U << 1)

struct vtdp_td_info {
	__u32 version;		/* out: VTDP_TESTDEV_UAPI_VERSION */
	__u32 mode;		/* out: VTDP_TD_MODE_* */
	__u32 bdf;		/* out: segment << 16 | bus << 8 | devfn */
	__u32 nqueues;		/* out: queues the driver runs (SUBMIT's queue) */
	__u32 caps;		/* out: the device's CAPS register */
	__u32 pasid_width;	/* out: bits, 0 = no PASID */
	__u32 hw_version;	/* out: the device's VERSION register */
	__u32 flags;		/* out: VTDP_TD_INFO_* */
	__u64 iova_limit;	/* out: MAP iovas must stay below (driver's ring region) */
};

/* vtdp_td_map.perms (same values as V3_ACCESS_*) */
#define VTDP_TD_MAP_READ		1	/* device may read the buffer */
#define VTDP_TD_MAP_WRITE		2	/* device may write the buffer */

struct vtdp_td_map {
	__u64 user_addr;	/* in: page aligned */
	__u64 length;		/* in: bytes, non-zero multiple of 4 KiB */
	__u64 iova;		/* in: page aligned, iova + length <= iova_limit; out: iova */
	__u32 perms;		/* in: VTDP_TD_MAP_* (non-zero) */
	__s32 status;		/* out: V3 status of MapLogicalRangeEx */
};

struct vtdp_td_unmap {
	__u64 iova;		/* in: iova of a mapping made through this fd */
	__s32 status;		/* out: V3 status of UnmapLogicalRange */
	__u32 pad;		/* must be 0 */
};

struct vtdp_td_submit {
	__u32 opcode;		/* in: VTDP_TD_OP_* (0..255; the device judges it) */
	__u32 flags;		/* in: must be 0 (reserved) */
	__u32 len;		/* in: bytes */
	__u32 queue;		/* in: < vtdp_td_info.nqueues */
	__u64 src;		/* in: device address read from */
	__u64 dst;		/* in: device address written to */
	__u64 pattern;		/* in: FILL / WRITE_IMM value */
	__u32 status;		/* out: completion status word (VTDP_TD_ST_*, DONE set) */
	__u32 fault_info;	/* out: VTDP_TD_FI_* */
	__u64 result;		/* out: CRC32C, COMPARE offset */
	__u64 fault_addr;	/* out: device address that failed */
};

/* One fault as delivered by vtdp.ko's V3 fault handler. */
struct vtdp_td_fault {
	__u64 seq;		/* 1-based number of the fault since the driver bound */
	__u64 address;		/* faulting input (logical) address */
	__u32 source_id;	/* bus << 8 | devfn */
	__u32 pasid;
	__u32 pasid_valid;
	__u32 write;		/* 1: write access */
	__u32 reason;		/* VT-d fault reason (VTDP_FR_*) */
	__u32 fault_type;	/* V3 fault type (TranslationFault = 6, ...) */
	__u32 v3_flags;		/* V3_FAULT_FLAG_* as reported */
	__u32 is_stage1;
};

struct vtdp_td_faults {
	__u32 max;		/* in: entries room at faults_ptr */
	__u32 count;		/* out: entries written, oldest first (newest last) */
	__u64 total_faults;	/* out: faults received since the driver bound */
	__u64 faults_ptr;	/* in: user pointer to struct vtdp_td_fault[max] */
};

#define VTDP_TD_FAULT_RING		256	/* faults the driver keeps */

/*
 * MAP_BENCH: the latency of mapping for DMA, measured in the kernel so that
 * no pinning or syscall cost is counted.  The buffer is pinned once; then
 * @iterations times: map it (V3 mode: MapLogicalRangeEx at @iova, or
 * MapIdentityRangeEx on a PassThrough domain; dma-api mode:
 * dma_map_sgtable), then unmap it (UnmapLogicalRange / UnmapIdentityRangeEx
 * / dma_unmap_sgtable), each call timed with ktime_get_ns().  One sample
 * per cycle is written to @samples_ptr, in order.  Other users of the
 * device wait for the run (it holds the submission lock).
 */
struct vtdp_td_bench_sample {
	__u32 map_ns;
	__u32 unmap_ns;
};

#define VTDP_TD_BENCH_MAX_ITER		65536
/* iterations x pages per map: bounds one call's work (and its lock hold) */
#define VTDP_TD_BENCH_MAX_PAGES		(1U << 22)

struct vtdp_td_map_bench {
	__u64 user_addr;	/* in: page aligned */
	__u64 length;		/* in: bytes, non-zero multiple of 4 KiB, as MAP */
	__u64 iova;		/* in: V3 Translate: as MAP; else ignored */
	__u64 samples_ptr;	/* in: user pointer to struct vtdp_td_bench_sample[iterations] */
	__u32 iterations;	/* in: 1..VTDP_TD_BENCH_MAX_ITER, and
				 * iterations * length / 4 KiB <= VTDP_TD_BENCH_MAX_PAGES */
	__u32 perms;		/* in: VTDP_TD_MAP_* (non-zero) */
	__s32 status;		/* out: V3 status of the first failed call, else 0 */
	__u32 done;		/* out: cycles completed (samples written) */
};

#define VTDP_TD_IOC_INFO	_IOR(VTDP_TD_IOC_MAGIC, 0x00, struct vtdp_td_info)
#define VTDP_TD_IOC_MAP		_IOWR(VTDP_TD_IOC_MAGIC, 0x01, struct vtdp_td_map)
#define VTDP_TD_IOC_UNMAP	_IOWR(VTDP_TD_IOC_MAGIC, 0x02, struct vtdp_td_unmap)
#define VTDP_TD_IOC_SUBMIT	_IOWR(VTDP_TD_IOC_MAGIC, 0x03, struct vtdp_td_submit)
#define VTDP_TD_IOC_FAULTS	_IOWR(VTDP_TD_IOC_MAGIC, 0x04, struct vtdp_td_faults)
/* 0x08..0x09: benchmarks (0x09 reserved) */
#define VTDP_TD_IOC_MAP_BENCH	_IOWR(VTDP_TD_IOC_MAGIC, 0x08, struct vtdp_td_map_bench)

/*
 * PASID sub-devices, per-queue submission and domain types
 * (ioctls 0x05..0x07 and 0x0a..0x0e).
 *
 * A sub-device is a V3 PASID device (CreatePasidDevice) of the endpoint
 * with a domain of its own, named by a handle (>= 1) that is valid in the
 * file that made it; handle 0 names the endpoint's RID device and its
 * domain (which also holds the driver's rings).  SUBMIT_EX with a
 * sub-device's handle programs the queue to tag the descriptor's data
 * requests with the sub-device's PASID.  Submissions on different queues
 * run concurrently; on one queue they are serialised.
 */

/* Domain types: the V3 IOMMU_DMA_DOMAIN_TYPE values the driver accepts. */
#define VTDP_TD_DOMAIN_TRANSLATE	0	/* second-stage tables */
#define VTDP_TD_DOMAIN_TRANSLATE_S1	3	/* first-stage tables */
#define VTDP_TD_DOMAIN_QUERY		0xffffffff	/* RID_DOMAIN: change nothing */

struct vtdp_td_pasid_create {
	__u32 domain_type;	/* in: VTDP_TD_DOMAIN_TRANSLATE or _S1 */
	__u32 flags;		/* in: must be 0 */
	__u32 handle;		/* out: the sub-device (>= 1) */
	__u32 pasid;		/* out: the PASID the IOMMU assigned it */
	__s32 status;		/* out: V3 status of the first call that failed */
	__u32 pad;		/* must be 0 */
};

/* PASID_ATTACH (to its own domain), PASID_DETACH, PASID_DESTROY */
struct vtdp_td_pasid_op {
	__u32 handle;		/* in: a sub-device made through this fd */
	__s32 status;		/* out: V3 status */
};

struct vtdp_td_map_ex {
	__u64 user_addr;	/* in: page aligned */
	__u64 length;		/* in: bytes, non-zero multiple of 4 KiB */
	__u64 iova;		/* in: page aligned, iova + length <= iova_limit */
	__u32 perms;		/* in: VTDP_TD_MAP_* (non-zero) */
	__u32 handle;		/* in: 0 = the RID domain, else a sub-device's */
	__s32 status;		/* out: V3 status of MapLogicalRangeEx */
	__u32 page_size;	/* out: largest IOMMU page (leaf) mapping it:
				 * 4 KiB, 2 MiB or 1 GiB; in dma-api mode 0
				 * but behind vtdp.ko's IOMMU-core domains */
	__u64 phys_contig;	/* out: largest naturally aligned, physically
				 * contiguous run of the buffer (bytes) */
};

struct vtdp_td_unmap_ex {
	__u64 iova;		/* in: iova of a mapping made through this fd */
	__u32 handle;		/* in: the domain it is in (0 = RID) */
	__s32 status;		/* out: V3 status of UnmapLogicalRange */
};

struct vtdp_td_submit_ex {
	struct vtdp_td_submit desc;	/* as for SUBMIT (queue: any) */
	__u32 handle;		/* in: 0 = untagged, else tag with its PASID */
	__u32 pasid;		/* out: the PASID the requests carried */
};

struct vtdp_td_rid_domain {
	__u32 domain_type;	/* in: VTDP_TD_DOMAIN_* or _QUERY; out: current */
	__u32 available;	/* out: QueryAvailableDomainTypes bits (1 << type) */
	__s32 status;		/* out: V3 status of the first call that failed */
	__u32 pad;		/* must be 0 */
};

#define VTDP_TD_IOC_PASID_CREATE _IOWR(VTDP_TD_IOC_MAGIC, 0x05, struct vtdp_td_pasid_create)
#define VTDP_TD_IOC_PASID_ATTACH _IOWR(VTDP_TD_IOC_MAGIC, 0x06, struct vtdp_td_pasid_op)
#define VTDP_TD_IOC_PASID_DETACH _IOWR(VTDP_TD_IOC_MAGIC, 0x07, struct vtdp_td_pasid_op)
#define VTDP_TD_IOC_PASID_DESTROY _IOWR(VTDP_TD_IOC_MAGIC, 0x0a, struct vtdp_td_pasid_op)
#define VTDP_TD_IOC_MAP_EX	_IOWR(VTDP_TD_IOC_MAGIC, 0x0b, struct vtdp_td_map_ex)
#define VTDP_TD_IOC_UNMAP_EX	_IOWR(VTDP_TD_IOC_MAGIC, 0x0c, struct vtdp_td_unmap_ex)
#define VTDP_TD_IOC_SUBMIT_EX	_IOWR(VTDP_TD_IOC_MAGIC, 0x0d, struct vtdp_td_submit_ex)
#define VTDP_TD_IOC_RID_DOMAIN	_IOWR(VTDP_TD_IOC_MAGIC, 0x0e, struct vtdp_td_rid_domain)

#endif /* _UAPI_VTDP_TESTDEV_H */
