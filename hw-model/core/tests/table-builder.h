/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fake guest memory and VT-d scalable-mode table builders for host tests
 * and fuzzers of the vtdp core.
 *
 * Guest "physical" memory is one buffer mapped at TB_MEM_BASE; DMA outside
 * it fails, so address 0 and the interrupt range are never backed.  Pages
 * come from a bump allocator and are zeroed.  Every builder returns the
 * guest-physical address of what it built (0 on exhaustion).
 */
#ifndef VTDP_TABLE_BUILDER_H
#define VTDP_TABLE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtdp/iommu-hw.h"

#define TB_MEM_BASE	0x100000ULL	/* 1 MiB: keeps GPA 0 unbacked */

struct tb_mem {
	uint8_t *buf;
	uint64_t base;
	uint64_t size;
	uint64_t next;		/* bump allocator offset */
	bool fail_writes;	/* make every dma_write fail */
	unsigned long reads, writes;
};

int tb_mem_init(struct tb_mem *m, uint64_t size);
void tb_mem_free(struct tb_mem *m);
/* Zeroed 4 KiB-aligned allocation of @pages pages; 0 when exhausted. */
uint64_t tb_alloc_pages(struct tb_mem *m, unsigned int pages);
uint64_t tb_alloc_page(struct tb_mem *m);
/* Host pointer for [gpa, gpa+len) or NULL if not backed. */
void *tb_ptr(struct tb_mem *m, uint64_t gpa, uint64_t len);
uint64_t tb_read64(struct tb_mem *m, uint64_t gpa);
void tb_write64(struct tb_mem *m, uint64_t gpa, uint64_t val);
uint32_t tb_read32(struct tb_mem *m, uint64_t gpa);

/* Callbacks with the signatures of struct vtdp_core_ops (opaque = tb_mem). */
int tb_dma_read(void *opaque, uint64_t addr, void *buf, uint32_t len);
int tb_dma_write(void *opaque, uint64_t addr, const void *buf, uint32_t len);

/* Root table (4 KiB, 256 scalable-mode root entries). */
uint64_t tb_root_table(struct tb_mem *m);

/*
 * Install a scalable-mode context entry for @sid, creating the lower or
 * upper context table of the bus if the root entry is not present.
 * @lo = qword 0 (P, FPD, PASIDE, PDTS, PASID dir pointer), @hi = qword 1
 * (RID_PASID, RID_PRIV).  Returns the GPA of the context entry.
 */
uint64_t tb_set_context(struct tb_mem *m, uint64_t root, uint16_t sid,
			uint64_t lo, uint64_t hi);
/* Convenience: present, PASID enabled, PDTS 7 (full 20 bits), FPD as given. */
uint64_t tb_context_sm(struct tb_mem *m, uint64_t root, uint16_t sid,
		       uint64_t pasid_dir, uint32_t rid_pasid, bool fpd);

/* PASID directory: 2^14 entries (128 KiB), covers 20-bit PASIDs. */
uint64_t tb_pasid_dir(struct tb_mem *m);
/*
 * Install @pe for @pasid, creating the PASID table (and a present
 * directory entry) if needed.  Returns the GPA of the PASID table entry.
 */
uint64_t tb_set_pasid_entry(struct tb_mem *m, uint64_t pasid_dir,
			    uint32_t pasid, const struct vtdp_pasid_entry *pe);
/* PASID entry templates. */
struct vtdp_pasid_entry tb_pe_ss(uint16_t did, uint64_t sspt,
				 unsigned int levels);
struct vtdp_pasid_entry tb_pe_fs(uint16_t did, uint64_t flpt,
				 unsigned int levels, bool sre);
struct vtdp_pasid_entry tb_pe_pt(uint16_t did);

/* Empty page table (either stage): one zeroed page. */
uint64_t tb_pt_new(struct tb_mem *m);
/*
 * Map @iova -> @pa in the @levels-level table at @root with a leaf at
 * @leaf_level (1 = 4K, 2 = 2M, 3 = 1G) carrying @leaf_flags (VTDP_SS_* or
 * VTDP_FS_*, PS added automatically for large leaves).  Missing
 * intermediate tables are created with @dir_flags.  Returns the GPA of the
 * leaf entry, 0 on failure (exhaustion or a leaf in the way).
 */
uint64_t tb_map(struct tb_mem *m, uint64_t root, unsigned int levels,
		uint64_t iova, uint64_t pa, unsigned int leaf_level,
		uint64_t leaf_flags, uint64_t dir_flags, bool first_stage);
#define TB_SS_DIR	(VTDP_SS_R | VTDP_SS_W)
#define TB_FS_DIR	(VTDP_FS_P | VTDP_FS_RW | VTDP_FS_US)
/* GPA of the entry for @iova at @level (walking present entries), or 0. */
uint64_t tb_entry_addr(struct tb_mem *m, uint64_t root, unsigned int levels,
		       uint64_t iova, unsigned int level, bool first_stage);

/* Queued invalidation helpers: 128-bit descriptors. */
struct vtdp_inv_desc tb_inv_wait(bool sw, bool intr, uint64_t saddr,
				 uint32_t sdata);

#endif /* VTDP_TABLE_BUILDER_H */
