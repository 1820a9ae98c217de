/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp translation core: the QEMU-independent part of vtdp-iommu.
 *
 * The core owns everything the guest can observe of the IOMMU except the PCI
 * function itself: the register file, the scalable-mode table walks, the
 * permission checks, the translation caches, queued invalidation, the fault
 * recording registers and the host-side fault log.  It touches guest memory
 * and raises interrupts only through the callbacks in struct vtdp_core_ops,
 * so it builds and runs in host unit tests and fuzzers without QEMU.
 *
 * The core is not thread safe: the caller serialises all calls on one
 * struct vtdp_core (the QEMU glue holds a mutex).  Callbacks are invoked
 * with that serialisation still in force.
 */
#ifndef VTDP_CORE_H
#define VTDP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtdp/iommu-hw.h"

struct vtdp_fault_record;

/* Callbacks into the embedding (QEMU glue or a test harness). */
struct vtdp_core_ops {
	/* Read/write guest physical memory; return 0 on success, -1 on error. */
	int (*dma_read)(void *opaque, uint64_t addr, void *buf, uint32_t len);
	int (*dma_write)(void *opaque, uint64_t addr, const void *buf,
			 uint32_t len);
	/* Send MSI-X vector VTDP_IOMMU_VEC_* */
	void (*raise_irq)(void *opaque, unsigned int vector);
	/* Monotonic time for the fault log. */
	uint64_t (*clock_ns)(void *opaque);
	/*
	 * Optional observers, for tracing.  @invalidation: one invalidation
	 * request from @src (VTDP_INV_SRC_*) was executed (@ok) or refused;
	 * @lo/@hi are the descriptor's first two qwords, or the command
	 * register and IVA.  @fault: a translation fault was recorded,
	 * suppressed (FPD) or dropped (overflow), as the fault log keeps it.
	 */
	void (*invalidation)(void *opaque, unsigned int src, uint64_t lo,
			     uint64_t hi, bool ok);
	void (*fault)(void *opaque, const struct vtdp_fault_record *f);
};

#define VTDP_INV_SRC_QUEUE	0	/* queued invalidation descriptor */
#define VTDP_INV_SRC_CCMD	1	/* context command register */
#define VTDP_INV_SRC_IOTLB_REG	2	/* IOTLB invalidate register */

/* Configuration, fixed at realize time; validated by vtdp_core_init(). */
struct vtdp_core_config {
	uint8_t aw_bits;	/* input address width: 48 or 57 */
	uint8_t pasid_bits;	/* 0..20; 0 = no PASID support */
	uint16_t nfr;		/* fault recording registers, 1..256 */
	uint32_t fault_log_size;	/* host-side fault log entries, >= 1 */
	uint32_t iotlb_size;	/* IOTLB entries, 0 disables the IOTLB */
	uint32_t pasid_cache_size;	/* PASID-cache entries, 0 disables it */
	bool first_stage;	/* ECAP.FLTS */
	bool second_stage;	/* ECAP.SLTS */
	bool pass_through;	/* ECAP.PT */
	/*
	 * DMA sanitizer: check every use of a cached context entry, PASID
	 * entry or translation against the tables in memory and report a
	 * stale one (VTDP_FR_SAN_*) in the fault log.  Costs a table walk
	 * per cache hit; off by default.
	 */
	bool sanitize;
};

#define VTDP_CORE_DEFAULT_CONFIG {		\
	.aw_bits = 48,				\
	.pasid_bits = 20,			\
	.nfr = 8,				\
	.fault_log_size = 1024,			\
	.iotlb_size = 4096,			\
	.pasid_cache_size = 256,		\
	.first_stage = true,			\
	.second_stage = true,			\
	.pass_through = true,			\
}

/* A DMA request presented for translation. */
struct vtdp_request {
	uint16_t sid;		/* requester id: bus << 8 | devfn */
	bool pasid_valid;	/* request carries a PASID prefix */
	uint32_t pasid;
	uint64_t addr;		/* input (IO virtual) address */
	bool write;		/* write request, else read */
	bool priv;		/* privileged (supervisor) request */
	bool exec;		/* execute request */
};

/* Result of a successful translation. */
struct vtdp_translation {
	uint64_t paddr;		/* output address of req->addr */
	uint64_t page_mask;	/* ~(size of the translated page - 1) */
	bool read;		/* permissions granted for the whole page */
	bool write;
};

/* One entry of the host-side fault log (what the monitor shows). */
struct vtdp_fault_record {
	uint64_t index;		/* running number since reset, from 0 */
	uint64_t time_ns;	/* ops->clock_ns() when recorded */
	uint16_t sid;
	bool pasid_valid;
	uint32_t pasid;
	uint64_t addr;		/* faulting input address (not page aligned) */
	bool write;
	bool priv;
	bool exec;
	uint8_t reason;		/* VTDP_FR_* (VTDP_FR_SAN_*: sanitizer) */
	bool suppressed;	/* FPD was set: not in a fault recording register */
	bool dropped;		/* no free fault recording register (PFO) */
};

struct vtdp_core_stats {
	uint64_t translations;
	uint64_t iotlb_hits;
	uint64_t iotlb_misses;
	uint64_t iotlb_evictions;
	uint64_t ctx_hits;		/* context cache */
	uint64_t ctx_misses;
	uint64_t pc_hits;		/* PASID(-entry) cache */
	uint64_t pc_misses;
	uint64_t faults_recorded;	/* in a fault recording register */
	uint64_t faults_suppressed;	/* FPD */
	uint64_t faults_dropped;	/* overflow */
	uint64_t inv_context;
	uint64_t inv_pasid_cache;
	uint64_t inv_iotlb;
	uint64_t inv_piotlb;
	uint64_t inv_devtlb;
	uint64_t inv_wait;
	uint64_t inv_errors;
	uint64_t inv_iec;	/* interrupt entry cache (accepted, no-op) */
	uint64_t sanitizer_reports;	/* VTDP_FR_SAN_* log records */
};

struct vtdp_iotlb_entry;

/*
 * Device state.  Fields are public so that the QEMU glue can describe them
 * in its VMState; everything else should use the functions below.
 */
struct vtdp_core {
	struct vtdp_core_config cfg;
	const struct vtdp_core_ops *ops;
	void *opaque;

	/* guest-visible registers */
	uint64_t cap, ecap;
	uint32_t gsts;
	uint64_t rtaddr;	/* as written */
	uint64_t rtaddr_active;	/* latched by GCMD.SRTP */
	uint64_t ccmd;
	uint32_t fsts;
	uint32_t fectl;
	uint64_t iqh, iqt, iqa;
	uint32_t ics;
	uint32_t iectl;
	uint64_t iqercd;
	uint64_t iva, iotlb_reg;
	uint64_t frcd[VTDP_FRCD_MAX][2];	/* [i][0] = low, [i][1] = high */
	uint32_t frcd_next;			/* next record to fill */

	/* host-side fault log: ring of cfg.fault_log_size */
	struct vtdp_fault_record *log;
	uint64_t log_total;		/* records ever appended */
	uint64_t log_clear_base;	/* log_total at the last clear */

	struct vtdp_core_stats stats;

	/* translation caches (private to vtdp-core.c) */
	struct vtdp_iotlb_entry *iotlb;
	void *cache_priv;
};

/*
 * Validate @cfg and initialise @c.  Returns 0, or -1 with a human-readable
 * reason in @err (at least 128 bytes) for an impossible configuration.
 */
int vtdp_core_init(struct vtdp_core *c, const struct vtdp_core_config *cfg,
		   const struct vtdp_core_ops *ops, void *opaque,
		   char *err, size_t err_size);
void vtdp_core_destroy(struct vtdp_core *c);

/* Power-on / system reset: registers to their reset values, caches empty.
 * The fault log and statistics survive reset (they belong to the host). */
void vtdp_core_reset(struct vtdp_core *c);

/*
 * The guest-visible registers, counters and fault log of @c were just
 * overwritten from a migration stream: bring values the stream could make
 * inconsistent back into range and drop the translation caches (the
 * hardware may drop cached entries at any time, so an empty cache is
 * always correct).
 */
void vtdp_core_post_load(struct vtdp_core *c);

/* Register file accesses at @offset into BAR 0; @size is 4 or 8.
 * Out-of-range, misaligned or odd-sized accesses read 0 / are ignored. */
uint64_t vtdp_core_mmio_read(struct vtdp_core *c, uint64_t offset,
			     unsigned int size);
void vtdp_core_mmio_write(struct vtdp_core *c, uint64_t offset, uint64_t val,
			  unsigned int size);

/* GSTS.TES: when false, DMA is not translated (identity, all access). */
bool vtdp_core_translation_enabled(const struct vtdp_core *c);

/*
 * Translate @req.  Returns 0 and fills @t, or returns the VT-d fault reason
 * (VTDP_FR_*, always > 0) after recording the fault (fault recording
 * register, fault event interrupt, fault log) as the hardware would.
 */
int vtdp_core_translate(struct vtdp_core *c, const struct vtdp_request *req,
			struct vtdp_translation *t);

/* Copy up to @max newest fault log records, newest first; returns count. */
size_t vtdp_core_fault_log(const struct vtdp_core *c,
			   struct vtdp_fault_record *out, size_t max);
void vtdp_core_fault_log_clear(struct vtdp_core *c);

/* Short name of a VT-d fault reason ("SS not present", ...), never NULL. */
const char *vtdp_fault_reason_name(uint8_t reason);

#endif /* VTDP_CORE_H */
