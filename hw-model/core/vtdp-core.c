// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtdp translation core: register file, scalable-mode walks, faults,
 * queued invalidation and translation caches of vtdp-iommu.
 *
 * Sections:
 *   1. caches (IOTLB, context cache, PASID cache) and their invalidation
 *   2. fault recording (VT-d "Primary Fault Logging") and the host fault log
 *   3. table walks (root -> context -> PASID dir -> PASID entry -> paging)
 *   4. queued and register-based invalidation
 *   5. register file
 *   6. init / reset / destroy
 *
 * Documented deviations from VT-d are marked "Deviation:".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtdp-core.h"

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Largest address mask accepted by page-selective invalidation (CAP.MAMV). */
#define VTDP_MAMV		18
#define VTDP_FAULT_LOG_MAX	(1U << 20)
#define VTDP_CTX_CACHE_SIZE	64
#define VTDP_PC_CACHE_MAX	(1U << 16)
#define IDX_NONE		UINT32_MAX
/*
 * Input-address bits an IOTLB tag keeps: the widest walk translates 57
 * bits; the sign-extension above them (canonical first-stage addresses)
 * carries no information.
 */
#define VTDP_IOTLB_TAG_MASK	((1ULL << 57) - 1)

/* ====================================================================== */
/* 1. Caches                                                               */

/*
 * IOTLB entry: one leaf translation.  Tagged by the source id as well as
 * (DID, PASID) so that two devices wrongly sharing a DID with different
 * tables cannot see each other's translations; invalidations select by
 * DID/PASID/address and therefore cover every source id.
 */
struct vtdp_iotlb_entry {
	bool valid;
	bool first_stage;
	bool r, w, us, xd, dirty;	/* effective permissions, FS D set */
	bool wp_exempt;			/* FS, WPE=0: supervisor may write */
	uint8_t level;			/* 1 = 4K, 2 = 2M, 3 = 1G */
	uint16_t did;
	uint16_t sid;
	uint32_t pasid;
	uint64_t in_page;		/* input address >> leaf shift */
	uint64_t out_base;		/* output address of the leaf page */
	bool san_reported;		/* sanitizer: found stale, reported */
	uint32_t hnext;			/* hash chain */
	uint32_t lru_prev, lru_next;	/* LRU list, head = most recent */
};

struct vtdp_ctx_cache_entry {
	bool valid;
	bool san_reported;	/* sanitizer: found stale, reported */
	uint16_t sid;
	struct vtdp_context_entry ce;
};

struct vtdp_pc_cache_entry {
	bool valid;
	bool san_reported;	/* sanitizer: found stale, reported */
	bool dir_fpd;		/* FPD of the PASID directory entry */
	uint16_t sid;
	uint32_t pasid;
	uint32_t hnext;		/* hash chain, or free list */
	struct vtdp_pasid_entry pe;
};

struct vtdp_cache {
	uint32_t nbuckets;		/* power of two */
	uint32_t *bucket;
	uint32_t lru_head, lru_tail;
	uint32_t free_head;		/* free list threaded through hnext */
	struct vtdp_ctx_cache_entry ctx[VTDP_CTX_CACHE_SIZE];
	uint32_t ctx_clock;
	/*
	 * PASID cache: cfg.pasid_cache_size entries, hashed by (source id,
	 * PASID) so that a lookup, which every PASID-tagged translation
	 * makes, costs the same with 4 or 4096 PASIDs in use.
	 */
	struct vtdp_pc_cache_entry *pc;
	uint32_t pc_nbuckets;		/* power of two */
	uint32_t *pc_bucket;
	uint32_t pc_free;		/* free list threaded through hnext */
	uint32_t pc_clock;		/* next victim when none is free */
};

static struct vtdp_cache *cache_of(struct vtdp_core *c)
{
	return c->cache_priv;
}

/*
 * The bucket of a translation depends on its domain, page and level only,
 * not on the requester or PASID: a page-selective invalidation names a
 * domain and addresses, so it finds every copy of a page by probing
 * (iotlb_inv_probe()).  Requesters sharing a domain and an address share
 * a chain; lookups compare every field.
 */
static uint32_t iotlb_hash(const struct vtdp_cache *k, uint16_t did,
			   uint64_t in_page, uint8_t level)
{
	uint64_t h = in_page * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)did << 40) ^ ((uint64_t)level << 60);
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h & (k->nbuckets - 1);
}

static void lru_unlink(struct vtdp_core *c, uint32_t i)
{
	struct vtdp_cache *k = cache_of(c);
	struct vtdp_iotlb_entry *e = &c->iotlb[i];

	if (e->lru_prev != IDX_NONE)
		c->iotlb[e->lru_prev].lru_next = e->lru_next;
	else
		k->lru_head = e->lru_next;
	if (e->lru_next != IDX_NONE)
		c->iotlb[e->lru_next].lru_prev = e->lru_prev;
	else
		k->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = IDX_NONE;
}

static void lru_push_front(struct vtdp_core *c, uint32_t i)
{
	struct vtdp_cache *k = cache_of(c);
	struct vtdp_iotlb_entry *e = &c->iotlb[i];

	e->lru_prev = IDX_NONE;
	e->lru_next = k->lru_head;
	if (k->lru_head != IDX_NONE)
		c->iotlb[k->lru_head].lru_prev = i;
	k->lru_head = i;
	if (k->lru_tail == IDX_NONE)
		k->lru_tail = i;
}

/* Remove entry @i from its hash chain and the LRU list; put it on the
 * free list. */
static void iotlb_remove(struct vtdp_core *c, uint32_t i)
{
	struct vtdp_cache *k = cache_of(c);
	struct vtdp_iotlb_entry *e = &c->iotlb[i];
	uint32_t b = iotlb_hash(k, e->did, e->in_page, e->level);
	uint32_t *p = &k->bucket[b];

	while (*p != IDX_NONE && *p != i)
		p = &c->iotlb[*p].hnext;
	if (*p == i)
		*p = e->hnext;
	lru_unlink(c, i);
	e->valid = false;
	e->hnext = k->free_head;
	k->free_head = i;
}

static void iotlb_flush_all(struct vtdp_core *c)
{
	struct vtdp_cache *k = cache_of(c);
	uint32_t i;

	if (!k || !c->iotlb)
		return;
	for (i = 0; i < k->nbuckets; i++)
		k->bucket[i] = IDX_NONE;
	k->lru_head = k->lru_tail = IDX_NONE;
	k->free_head = IDX_NONE;
	for (i = c->cfg.iotlb_size; i-- > 0;) {
		c->iotlb[i].valid = false;
		c->iotlb[i].lru_prev = c->iotlb[i].lru_next = IDX_NONE;
		c->iotlb[i].hnext = k->free_head;
		k->free_head = i;
	}
}

static struct vtdp_iotlb_entry *iotlb_lookup(struct vtdp_core *c,
					     uint16_t did, uint32_t pasid,
					     uint16_t sid, uint64_t addr)
{
	struct vtdp_cache *k = cache_of(c);
	uint8_t level;

	if (!c->iotlb)
		return NULL;
	for (level = 1; level <= 3; level++) {
		uint64_t page = (addr & VTDP_IOTLB_TAG_MASK) >>
				VTDP_LEVEL_SHIFT(level);
		uint32_t i = k->bucket[iotlb_hash(k, did, page, level)];

		for (; i != IDX_NONE; i = c->iotlb[i].hnext) {
			struct vtdp_iotlb_entry *e = &c->iotlb[i];

			if (e->did == did && e->pasid == pasid &&
			    e->sid == sid && e->level == level &&
			    e->in_page == page) {
				lru_unlink(c, i);
				lru_push_front(c, i);
				return e;
			}
		}
	}
	return NULL;
}

static void iotlb_insert(struct vtdp_core *c, const struct vtdp_iotlb_entry *n)
{
	struct vtdp_cache *k = cache_of(c);
	struct vtdp_iotlb_entry *e;
	uint32_t i, b;

	if (!c->iotlb)
		return;
	/* Replace an older copy of the same translation (e.g. D now set). */
	for (i = k->bucket[iotlb_hash(k, n->did, n->in_page, n->level)];
	     i != IDX_NONE; i = c->iotlb[i].hnext) {
		e = &c->iotlb[i];
		if (e->did == n->did && e->pasid == n->pasid &&
		    e->sid == n->sid && e->level == n->level &&
		    e->in_page == n->in_page) {
			iotlb_remove(c, i);
			break;
		}
	}
	if (k->free_head == IDX_NONE) {
		/* Per-entry eviction of the least recently used translation. */
		iotlb_remove(c, k->lru_tail);
		c->stats.iotlb_evictions++;
	}
	i = k->free_head;
	e = &c->iotlb[i];
	k->free_head = e->hnext;
	*e = *n;
	e->valid = true;
	b = iotlb_hash(k, e->did, e->in_page, e->level);
	e->hnext = k->bucket[b];
	k->bucket[b] = i;
	lru_push_front(c, i);
}

enum iotlb_scope {
	IOTLB_ALL,
	IOTLB_DID,		/* all PASIDs of a domain */
	IOTLB_DID_PAGES,	/* address range in a domain */
	IOTLB_DID_PASID,	/* one PASID of a domain */
	IOTLB_DID_PASID_PAGES,
};

/*
 * Page-selective invalidation by probing the buckets of every page (and
 * large page) of [@lo, @hi] in @did (only @pasid's if @one_pasid).
 * Returns false, having done nothing, when the range needs more probes
 * than a quarter of the IOTLB's entries: a probe costs a few slot visits
 * of a scan, and a guest's unmap of up to a few MiB must not cost a pass
 * over every entry.
 */
static bool iotlb_inv_probe(struct vtdp_core *c, uint16_t did,
			    bool one_pasid, uint32_t pasid, uint64_t lo,
			    uint64_t hi)
{
	struct vtdp_cache *k = cache_of(c);
	uint64_t probes = 0, page;
	uint32_t i, next;
	uint8_t level;

	for (level = 1; level <= 3; level++)
		probes += ((hi >> VTDP_LEVEL_SHIFT(level)) -
			   (lo >> VTDP_LEVEL_SHIFT(level))) + 1;
	if (probes > c->cfg.iotlb_size / 4)
		return false;
	for (level = 1; level <= 3; level++) {
		for (page = lo >> VTDP_LEVEL_SHIFT(level);
		     page <= hi >> VTDP_LEVEL_SHIFT(level); page++) {
			for (i = k->bucket[iotlb_hash(k, did, page, level)];
			     i != IDX_NONE; i = next) {
				struct vtdp_iotlb_entry *e = &c->iotlb[i];

				next = e->hnext;
				if (e->did == did && e->level == level &&
				    e->in_page == page &&
				    (!one_pasid || e->pasid == pasid))
					iotlb_remove(c, i);
			}
		}
	}
	return true;
}

/* Invalidate exactly the entries in @scope; [@lo, @hi] is the byte range
 * for the page-selective forms. */
static void iotlb_invalidate(struct vtdp_core *c, enum iotlb_scope scope,
			     uint16_t did, uint32_t pasid, uint64_t lo,
			     uint64_t hi)
{
	uint32_t i;

	if (!c->iotlb)
		return;
	if (scope == IOTLB_ALL) {
		iotlb_flush_all(c);
		return;
	}
	if ((scope == IOTLB_DID_PAGES || scope == IOTLB_DID_PASID_PAGES) &&
	    iotlb_inv_probe(c, did, scope == IOTLB_DID_PASID_PAGES, pasid,
			    lo, hi))
		return;
	for (i = 0; i < c->cfg.iotlb_size; i++) {
		struct vtdp_iotlb_entry *e = &c->iotlb[i];
		uint64_t start, end;

		if (!e->valid || e->did != did)
			continue;
		if ((scope == IOTLB_DID_PASID ||
		     scope == IOTLB_DID_PASID_PAGES) && e->pasid != pasid)
			continue;
		if (scope == IOTLB_DID_PAGES ||
		    scope == IOTLB_DID_PASID_PAGES) {
			start = e->in_page << VTDP_LEVEL_SHIFT(e->level);
			end = start + (1ULL << VTDP_LEVEL_SHIFT(e->level)) - 1;
			if (end < lo || start > hi)
				continue;
		}
		iotlb_remove(c, i);
	}
}

/* Byte range covered by a page-selective invalidation of 2^am pages. */
static void am_range(uint64_t addr, unsigned int am, uint64_t *lo,
		     uint64_t *hi)
{
	uint64_t size;

	if (am > 45)
		am = 45;
	size = 1ULL << (VTDP_PAGE_SHIFT + am);
	/* IOTLB tags hold 57-bit input addresses (see translate_paging) */
	*lo = addr & VTDP_IOTLB_TAG_MASK & ~(size - 1);
	*hi = *lo + size - 1;
}

static struct vtdp_ctx_cache_entry *ctx_cache_lookup(struct vtdp_core *c,
						     uint16_t sid)
{
	struct vtdp_cache *k = cache_of(c);
	unsigned int i;

	for (i = 0; i < VTDP_CTX_CACHE_SIZE; i++)
		if (k->ctx[i].valid && k->ctx[i].sid == sid)
			return &k->ctx[i];
	return NULL;
}

static void ctx_cache_insert(struct vtdp_core *c, uint16_t sid,
			     const struct vtdp_context_entry *ce)
{
	struct vtdp_cache *k = cache_of(c);
	unsigned int i, slot = VTDP_CTX_CACHE_SIZE;

	for (i = 0; i < VTDP_CTX_CACHE_SIZE; i++) {
		if (!k->ctx[i].valid) {
			slot = i;
			break;
		}
	}
	if (slot == VTDP_CTX_CACHE_SIZE) {
		/* full: evict one entry round-robin */
		slot = k->ctx_clock++ % VTDP_CTX_CACHE_SIZE;
	}
	k->ctx[slot].valid = true;
	k->ctx[slot].san_reported = false;
	k->ctx[slot].sid = sid;
	k->ctx[slot].ce = *ce;
}

/*
 * Context-cache invalidation.  Deviation: scalable-mode context entries
 * carry no domain id, so a domain-selective invalidation cannot be scoped
 * and removes every cached context entry (a superset, which VT-d allows).
 * Device-selective honours the function mask FM (0..3: ignore 0..3 low
 * devfn bits).
 */
static void ctx_cache_invalidate(struct vtdp_core *c, unsigned int gran,
				 uint16_t sid, unsigned int fm)
{
	struct vtdp_cache *k = cache_of(c);
	/* FM 1/2/3 masks function-number bits 2, 2:1, 2:0 */
	static const uint16_t fm_ignore[4] = { 0, 0x4, 0x6, 0x7 };
	uint16_t mask = (uint16_t)~fm_ignore[fm & 3];
	unsigned int i;

	for (i = 0; i < VTDP_CTX_CACHE_SIZE; i++) {
		if (gran == 3 && (k->ctx[i].sid & mask) != (sid & mask))
			continue;
		k->ctx[i].valid = false;
	}
	c->stats.inv_context++;
}

static uint32_t pc_hash(const struct vtdp_cache *k, uint16_t sid,
			uint32_t pasid)
{
	uint64_t h = ((uint64_t)sid << 32 | pasid) * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(h >> 32) & (k->pc_nbuckets - 1);
}

static void pc_cache_flush(struct vtdp_core *c)
{
	struct vtdp_cache *k = cache_of(c);
	uint32_t i;

	if (!k || !k->pc_bucket)
		return;
	for (i = 0; i < k->pc_nbuckets; i++)
		k->pc_bucket[i] = IDX_NONE;
	k->pc_free = IDX_NONE;
	for (i = c->cfg.pasid_cache_size; i-- > 0;) {
		k->pc[i].valid = false;
		k->pc[i].hnext = k->pc_free;
		k->pc_free = i;
	}
	k->pc_clock = 0;
}

static struct vtdp_pc_cache_entry *pc_cache_lookup(struct vtdp_core *c,
						   uint16_t sid, uint32_t pasid)
{
	struct vtdp_cache *k = cache_of(c);
	uint32_t i;

	if (!c->cfg.pasid_cache_size)
		return NULL;
	for (i = k->pc_bucket[pc_hash(k, sid, pasid)]; i != IDX_NONE;
	     i = k->pc[i].hnext)
		if (k->pc[i].sid == sid && k->pc[i].pasid == pasid)
			return &k->pc[i];
	return NULL;
}

/* Take entry @i off its hash chain and put it on the free list. */
static void pc_cache_remove(struct vtdp_core *c, uint32_t i)
{
	struct vtdp_cache *k = cache_of(c);
	struct vtdp_pc_cache_entry *e = &k->pc[i];
	uint32_t *p = &k->pc_bucket[pc_hash(k, e->sid, e->pasid)];

	while (*p != IDX_NONE && *p != i)
		p = &k->pc[*p].hnext;
	if (*p == i)
		*p = e->hnext;
	e->valid = false;
	e->hnext = k->pc_free;
	k->pc_free = i;
}

static void pc_cache_insert(struct vtdp_core *c, uint16_t sid, uint32_t pasid,
			    const struct vtdp_pasid_entry *pe, bool dir_fpd)
{
	struct vtdp_cache *k = cache_of(c);
	struct vtdp_pc_cache_entry *e;
	uint32_t i, b;

	if (!c->cfg.pasid_cache_size)
		return;
	if (k->pc_free == IDX_NONE) {
		/* full: evict round robin, as before the cache was hashed */
		pc_cache_remove(c, k->pc_clock);
		k->pc_clock = (k->pc_clock + 1) % c->cfg.pasid_cache_size;
	}
	i = k->pc_free;
	e = &k->pc[i];
	k->pc_free = e->hnext;
	e->valid = true;
	e->san_reported = false;
	e->sid = sid;
	e->pasid = pasid;
	e->pe = *pe;
	e->dir_fpd = dir_fpd;
	b = pc_hash(k, sid, pasid);
	e->hnext = k->pc_bucket[b];
	k->pc_bucket[b] = i;
}

/* PASID-cache invalidation: gran is VTDP_INV_PC_G(): 0 domain, 1 PASID,
 * 3 global. */
static void pc_cache_invalidate(struct vtdp_core *c, unsigned int gran,
				uint16_t did, uint32_t pasid)
{
	struct vtdp_cache *k = cache_of(c);
	uint32_t i;

	for (i = 0; i < c->cfg.pasid_cache_size; i++) {
		struct vtdp_pc_cache_entry *e = &k->pc[i];

		if (!e->valid)
			continue;
		if (gran != 3 && VTDP_PE1_DID(e->pe.val[1]) != did)
			continue;
		if (gran == 1 && e->pasid != pasid)
			continue;
		pc_cache_remove(c, i);
	}
	c->stats.inv_pasid_cache++;
}

static void caches_flush_all(struct vtdp_core *c)
{
	struct vtdp_cache *k = cache_of(c);

	iotlb_flush_all(c);
	memset(k->ctx, 0, sizeof(k->ctx));
	pc_cache_flush(c);
}

/* ====================================================================== */
/* 2. Faults                                                               */

const char *vtdp_fault_reason_name(uint8_t reason)
{
	switch (reason) {
	case 0: return "no fault";
#define VTDP_REASON_CASE(code, name) case code: return name;
	VTDP_FAULT_REASONS(VTDP_REASON_CASE)
#undef VTDP_REASON_CASE
	default: return "unknown fault reason";
	}
}

static bool frcd_any_pending(const struct vtdp_core *c)
{
	unsigned int i;

	for (i = 0; i < c->cfg.nfr; i++)
		if (c->frcd[i][1] & VTDP_FRCD_HI_F)
			return true;
	return false;
}

/* FSTS as read: PPF and FRI are derived from the recording registers. */
static uint32_t fsts_value(const struct vtdp_core *c)
{
	uint32_t v = c->fsts & VTDP_FSTS_RW1C;
	unsigned int n;

	/* Records are filled circularly from frcd_next, so the oldest pending
	 * one is the first with F set at or after frcd_next. */
	for (n = 0; n < c->cfg.nfr; n++) {
		unsigned int i = (c->frcd_next + n) % c->cfg.nfr;

		if (c->frcd[i][1] & VTDP_FRCD_HI_F) {
			v |= VTDP_FSTS_PPF | (i << VTDP_FSTS_FRI_SHIFT);
			break;
		}
	}
	return v;
}

/* VT-d "Fault Event Interrupt": send, or hold as IP while masked. */
static void fault_event(struct vtdp_core *c)
{
	if (c->fectl & VTDP_FECTL_IM) {
		c->fectl |= VTDP_FECTL_IP;
	} else {
		c->fectl &= ~VTDP_FECTL_IP;
		c->ops->raise_irq(c->opaque, VTDP_IOMMU_VEC_FAULT);
	}
}

static void fault_log_append(struct vtdp_core *c, const struct vtdp_request *r,
			     uint8_t reason, bool suppressed, bool dropped)
{
	struct vtdp_fault_record *f =
		&c->log[c->log_total % c->cfg.fault_log_size];

	memset(f, 0, sizeof(*f));
	f->index = c->log_total++;
	f->time_ns = c->ops->clock_ns ? c->ops->clock_ns(c->opaque) : 0;
	f->sid = r->sid;
	f->pasid_valid = r->pasid_valid;
	f->pasid = r->pasid_valid ? r->pasid : 0;
	f->addr = r->addr;
	f->write = r->write;
	f->priv = r->priv;
	f->exec = r->exec;
	f->reason = reason;
	f->suppressed = suppressed;
	f->dropped = dropped;
	if (c->ops->fault)
		c->ops->fault(c->opaque, f);
}

/* Record a translation fault (VT-d "Primary Fault Logging"); returns
 * @reason for the caller to pass on. */
static int report_fault(struct vtdp_core *c, const struct vtdp_request *r,
			uint8_t reason, bool fpd)
{
	uint64_t hi;
	bool ppf_before;

	if (fpd) {
		c->stats.faults_suppressed++;
		fault_log_append(c, r, reason, true, false);
		return reason;
	}
	if ((c->fsts & VTDP_FSTS_PFO) ||
	    (c->frcd[c->frcd_next][1] & VTDP_FRCD_HI_F)) {
		bool pfo_before = c->fsts & VTDP_FSTS_PFO;

		c->fsts |= VTDP_FSTS_PFO;
		c->stats.faults_dropped++;
		fault_log_append(c, r, reason, false, true);
		if (!pfo_before)
			fault_event(c);
		return reason;
	}
	ppf_before = frcd_any_pending(c);
	hi = VTDP_FRCD_HI_F | ((uint64_t)reason << VTDP_FRCD_HI_FR_SHIFT) |
	     r->sid;
	if (!r->write)
		hi |= VTDP_FRCD_HI_T1;
	if (r->pasid_valid)
		hi |= VTDP_FRCD_HI_PP |
		      ((uint64_t)(r->pasid & 0xfffff) << VTDP_FRCD_HI_PV_SHIFT);
	if (r->priv)
		hi |= VTDP_FRCD_HI_PRIV;
	if (r->exec)
		hi |= VTDP_FRCD_HI_EXE;
	c->frcd[c->frcd_next][0] = r->addr & VTDP_FRCD_LO_FI_MASK;
	c->frcd[c->frcd_next][1] = hi;
	c->frcd_next = (c->frcd_next + 1) % c->cfg.nfr;
	c->stats.faults_recorded++;
	fault_log_append(c, r, reason, false, false);
	if (!ppf_before)
		fault_event(c);
	return reason;
}

size_t vtdp_core_fault_log(const struct vtdp_core *c,
			   struct vtdp_fault_record *out, size_t max)
{
	uint64_t avail = min_u64(c->log_total - c->log_clear_base,
			     (uint64_t)c->cfg.fault_log_size);
	size_t n;

	for (n = 0; n < max && n < avail; n++)
		out[n] = c->log[(c->log_total - 1 - n) % c->cfg.fault_log_size];
	return n;
}

void vtdp_core_fault_log_clear(struct vtdp_core *c)
{
	/* Keep the running index: records after a clear still number on. */
	c->log_clear_base = c->log_total;
}

/* ====================================================================== */
/* 3. Table walks                                                          */

/* What a walk learnt before it failed or succeeded. */
struct walk {
	const struct vtdp_request *req;
	bool fpd;		/* FPD seen in an entry reached so far */
	bool priv;
	uint32_t pasid;		/* effective PASID (RID_PASID if untagged) */
	struct vtdp_context_entry ce;
	struct vtdp_pasid_entry pe;
	bool dir_fpd;		/* FPD of the PASID directory entry */
	bool probe;		/* sanitizer re-walk: no side effects */
};

static int dma_read(struct vtdp_core *c, uint64_t addr, void *buf,
		    uint32_t len)
{
	return c->ops->dma_read(c->opaque, addr, buf, len);
}

static void san_check_context(struct vtdp_core *c, struct walk *w,
			      struct vtdp_ctx_cache_entry *cached);
static void san_check_pasid(struct vtdp_core *c, struct walk *w,
			    struct vtdp_pc_cache_entry *cached);

/* Root entry and scalable-mode context entry from memory (VT-d 9.4, 9.5). */
static int fetch_context(struct vtdp_core *c, struct walk *w)
{
	uint16_t sid = w->req->sid;
	uint8_t devfn = sid & 0xff;
	struct vtdp_root_entry re;
	uint64_t rp, ce_addr;

	if (!(c->gsts & VTDP_GSTS_RTPS) ||
	    (c->rtaddr_active & VTDP_RTADDR_TTM_MASK) != VTDP_RTADDR_TTM_SM)
		return VTDP_FR_SM_RTA_INVALID;
	if (dma_read(c, (c->rtaddr_active & VTDP_RTADDR_ADDR_MASK) +
		     (uint64_t)(sid >> 8) * sizeof(re), &re, sizeof(re)))
		return VTDP_FR_SM_ROOT_ACCESS;
	rp = devfn < 128 ? re.lo : re.hi;
	if (!(rp & VTDP_ROOT_P))
		return VTDP_FR_SM_ROOT_NOT_PRESENT;
	if (rp & (VTDP_ROOT_RSVD | ~(VTDP_ADDR_MASK | 0xfffULL)))
		return VTDP_FR_SM_ROOT_RSVD;
	ce_addr = (rp & VTDP_ADDR_MASK) + (uint64_t)(devfn & 0x7f) * 32;
	if (dma_read(c, ce_addr, &w->ce, sizeof(w->ce)))
		return VTDP_FR_SM_CTX_ACCESS;
	w->fpd = w->ce.val[0] & VTDP_CTX_FPD;
	if (!(w->ce.val[0] & VTDP_CTX_P))
		return VTDP_FR_SM_CTX_NOT_PRESENT;
	if ((w->ce.val[0] & (VTDP_CTX0_RSVD | ~(VTDP_ADDR_MASK | 0xfffULL))) ||
	    (w->ce.val[1] & VTDP_CTX1_RSVD) || w->ce.val[2] || w->ce.val[3])
		return VTDP_FR_SM_CTX_RSVD;
	return 0;
}

/* The context entry of the request, through the context cache. */
static int walk_context(struct vtdp_core *c, struct walk *w)
{
	struct vtdp_ctx_cache_entry *cached;
	int ret;

	cached = ctx_cache_lookup(c, w->req->sid);
	if (cached) {
		c->stats.ctx_hits++;
		w->ce = cached->ce;
		w->fpd = w->ce.val[0] & VTDP_CTX_FPD;
		if (c->cfg.sanitize)
			san_check_context(c, w, cached);
		return 0;
	}
	c->stats.ctx_misses++;
	ret = fetch_context(c, w);
	/* Caching Mode 0: only present, well-formed entries are cached. */
	if (!ret)
		ctx_cache_insert(c, w->req->sid, &w->ce);
	return ret;
}

static int fetch_pasid(struct vtdp_core *c, struct walk *w);

/* PASID directory and PASID table entry (VT-d 9.5, 9.6), through the
 * PASID cache. */
static int walk_pasid(struct vtdp_core *c, struct walk *w)
{
	const struct vtdp_request *r = w->req;
	struct vtdp_pc_cache_entry *cached;
	uint32_t dir_idx;
	int ret;

	if (r->pasid_valid) {
		/* Deviation: VT-d has no dedicated reason for a PASID-tagged
		 * request to a context with PASIDE=0; report CTX_INVALID. */
		if (!(w->ce.val[0] & VTDP_CTX_PASIDE) || !c->cfg.pasid_bits)
			return VTDP_FR_SM_CTX_INVALID;
		if (r->pasid >> c->cfg.pasid_bits)
			return VTDP_FR_SM_PASID_TOO_LARGE;
		w->pasid = r->pasid;
		w->priv = r->priv;
	} else {
		w->pasid = VTDP_CTX1_RID_PASID(w->ce.val[1]);
		w->priv = r->priv || (w->ce.val[1] & VTDP_CTX1_RID_PRIV);
	}
	dir_idx = VTDP_PASID_DIR_INDEX(w->pasid);
	if (dir_idx >= (1U << (VTDP_CTX_PDTS(w->ce.val[0]) + 7)))
		return VTDP_FR_SM_PASID_TOO_LARGE;

	cached = pc_cache_lookup(c, r->sid, w->pasid);
	if (cached) {
		c->stats.pc_hits++;
		w->pe = cached->pe;
		w->dir_fpd = cached->dir_fpd;
		w->fpd |= cached->dir_fpd || (w->pe.val[0] & VTDP_PE0_FPD);
		if (c->cfg.sanitize)
			san_check_pasid(c, w, cached);
		return 0;
	}
	c->stats.pc_misses++;
	ret = fetch_pasid(c, w);
	if (!ret)
		pc_cache_insert(c, r->sid, w->pasid, &w->pe, w->dir_fpd);
	return ret;
}

/* PASID directory and table entry of w->pasid from memory. */
static int fetch_pasid(struct vtdp_core *c, struct walk *w)
{
	uint32_t dir_idx = VTDP_PASID_DIR_INDEX(w->pasid);
	uint64_t pdir;

	if (dma_read(c, (w->ce.val[0] & VTDP_ADDR_MASK) + dir_idx * 8ULL,
		     &pdir, sizeof(pdir)))
		return VTDP_FR_SM_PDIR_ACCESS;
	w->dir_fpd = pdir & VTDP_PDIR_FPD;
	w->fpd |= w->dir_fpd;
	if (!(pdir & VTDP_PDIR_P))
		return VTDP_FR_SM_PDIR_NOT_PRESENT;
	if (pdir & (VTDP_PDIR_RSVD | ~(VTDP_ADDR_MASK | 0xfffULL)))
		return VTDP_FR_SM_PDIR_RSVD;
	if (dma_read(c, (pdir & VTDP_ADDR_MASK) +
		     VTDP_PASID_TBL_INDEX(w->pasid) * sizeof(w->pe),
		     &w->pe, sizeof(w->pe)))
		return VTDP_FR_SM_PTE_ACCESS;
	w->fpd |= w->pe.val[0] & VTDP_PE0_FPD;
	if (!(w->pe.val[0] & VTDP_PE0_P))
		return VTDP_FR_SM_PTE_NOT_PRESENT;
	if ((w->pe.val[0] & (VTDP_PE0_RSVD | VTDP_PE0_UNSUPPORTED)) ||
	    (w->pe.val[1] & VTDP_PE1_RSVD) || (w->pe.val[2] & VTDP_PE2_RSVD) ||
	    w->pe.val[3] || w->pe.val[4] || w->pe.val[5] || w->pe.val[6] ||
	    w->pe.val[7])
		return VTDP_FR_SM_PTE_RSVD;
	return 0;
}

/* Output-address bits the configured address width does not reach. */
static uint64_t oa_rsvd_mask(const struct vtdp_core *c)
{
	return VTDP_ADDR_MASK & ~((1ULL << c->cfg.aw_bits) - 1);
}

/* Second-stage walk (VT-d 9.8): @levels 3..5 from the PASID entry AW. */
static int walk_ss(struct vtdp_core *c, struct walk *w, unsigned int levels,
		   struct vtdp_iotlb_entry *out)
{
	const struct vtdp_request *r = w->req;
	uint64_t table = w->pe.val[0] & VTDP_PE0_SSPTPTR_MASK;
	bool rd = true, wr = true;
	unsigned int level;
	uint64_t e = 0;

	/* the input address was checked by check_input_addr() */
	for (level = levels; level >= 1; level--) {
		uint64_t shift = VTDP_LEVEL_SHIFT(level);

		if (dma_read(c, table + VTDP_LEVEL_INDEX(r->addr, level) * 8,
			     &e, sizeof(e)))
			return VTDP_FR_SM_SS_ACCESS;
		if (!(e & (VTDP_SS_R | VTDP_SS_W)))
			return VTDP_FR_SM_SS_NOT_PRESENT;
		if (e & (VTDP_SS_RSVD_HI | oa_rsvd_mask(c)))
			return VTDP_FR_SM_SS_RSVD;
		/* effective permissions are the AND over all levels */
		rd &= !!(e & VTDP_SS_R);
		wr &= !!(e & VTDP_SS_W);
		if (level == 1 || ((e & VTDP_SS_PS) && level <= 3)) {
			if (e & VTDP_SS_ADDR_MASK & ((1ULL << shift) - 1))
				return VTDP_FR_SM_SS_RSVD; /* unaligned large page */
			if (r->write && !wr)
				return VTDP_FR_SM_WRITE;
			if (!r->write && !rd)
				return VTDP_FR_SM_READ;
			out->level = level;
			out->out_base = e & VTDP_SS_ADDR_MASK;
			out->r = rd;
			out->w = wr;
			out->us = true;
			return 0;
		}
		if (e & VTDP_SS_PS)
			return VTDP_FR_SM_SS_RSVD;	/* PS at level 4/5 */
		table = e & VTDP_SS_ADDR_MASK;
	}
	return VTDP_FR_SM_SS_RSVD;	/* not reached: level 1 is a leaf */
}

/*
 * First-stage walk (VT-d 9.7, x86-64 paging).  Accessed flags are set on
 * every entry walked and Dirty on the leaf of a write, after all checks
 * passed, so a faulting request leaves memory untouched.
 */
static int walk_fs(struct vtdp_core *c, struct walk *w, unsigned int levels,
		   struct vtdp_iotlb_entry *out)
{
	const struct vtdp_request *r = w->req;
	uint64_t table = w->pe.val[2] & VTDP_PE2_FLPTPTR_MASK;
	uint64_t ent_addr[5], ent[5];
	bool rw = true, us = true, xd = false;
	bool nxe = w->pe.val[2] & VTDP_PE2_NXE;
	bool wpe = w->pe.val[2] & VTDP_PE2_WPE;
	unsigned int level, n = 0, i;
	uint64_t e;

	/* the input address was checked by check_input_addr() */
	for (level = levels; level >= 1; level--) {
		bool leaf;

		ent_addr[n] = table + VTDP_LEVEL_INDEX(r->addr, level) * 8;
		if (dma_read(c, ent_addr[n], &e, sizeof(e)))
			return VTDP_FR_SM_FS_ACCESS;
		ent[n++] = e;
		if (!(e & VTDP_FS_P))
			return VTDP_FR_SM_FS_NOT_PRESENT;
		if ((e & oa_rsvd_mask(c)) || ((e & VTDP_FS_XD) && !nxe) ||
		    ((e & VTDP_FS_PS) && level >= 4))
			return VTDP_FR_SM_FS_RSVD;
		rw &= !!(e & VTDP_FS_RW);
		us &= !!(e & VTDP_FS_US);
		xd |= !!(e & VTDP_FS_XD);
		leaf = level == 1 || (e & VTDP_FS_PS);
		if (!leaf) {
			table = e & VTDP_FS_ADDR_MASK;
			continue;
		}
		/* large-page address bits below the page size (PAT at bit 12
		 * excepted) are reserved */
		if (level > 1 && (e & VTDP_FS_ADDR_MASK &
				  ((1ULL << VTDP_LEVEL_SHIFT(level)) - 1) &
				  ~(1ULL << 12)))
			return VTDP_FR_SM_FS_RSVD;
		if (!w->priv && !us)
			return VTDP_FR_SM_FS_USER;
		/* Supervisor writes ignore R/W unless WPE (x86 CR0.WP). */
		if (r->write && !rw && !(w->priv && !wpe))
			return VTDP_FR_SM_WRITE;
		/* Deviation: VT-d has no fault reason of its own for an
		 * execute request to an XD page here; READ is reported. */
		if (r->exec && nxe && xd)
			return VTDP_FR_SM_READ;
		for (i = 0; i < n && !w->probe; i++) {
			uint64_t nv = ent[i] | VTDP_FS_A;

			if (i == n - 1 && r->write)
				nv |= VTDP_FS_D;
			if (nv != ent[i] &&
			    c->ops->dma_write(c->opaque, ent_addr[i], &nv,
					      sizeof(nv)))
				return VTDP_FR_SM_FS_ACCESS;
		}
		out->level = level;
		out->out_base = e & VTDP_FS_ADDR_MASK &
				~((1ULL << VTDP_LEVEL_SHIFT(level)) - 1);
		out->r = true;
		out->w = rw;
		out->wp_exempt = !wpe;
		out->us = us;
		out->xd = nxe && xd;
		out->dirty = r->write || (e & VTDP_FS_D);
		out->first_stage = true;
		return 0;
	}
	return VTDP_FR_SM_FS_RSVD;
}

/* ---------------------------------------------------------------------- */
/* DMA sanitizer                                                           */

/*
 * With cfg.sanitize, every request served from a cached context entry,
 * PASID entry or IOTLB entry is checked against what a walk of the tables
 * in memory would give now.  A difference means the guest changed a
 * structure the hardware may have cached without the invalidation VT-d
 * requires (6.5): real hardware silently keeps using the stale copy, and
 * so does the model -- the request is still served from the cache -- but
 * the use is reported in the host fault log under a reason of its own.
 * A cached entry is reported once; it is never put in a guest-visible
 * fault recording register.
 */
static void san_report(struct vtdp_core *c, const struct vtdp_request *r,
		       uint8_t reason)
{
	c->stats.sanitizer_reports++;
	fault_log_append(c, r, reason, false, false);
}

static int fetch_legacy_context(struct vtdp_core *c, struct walk *w);

static void san_check_context(struct vtdp_core *c, struct walk *w,
			      struct vtdp_ctx_cache_entry *cached)
{
	struct walk fresh = { .req = w->req, .probe = true };
	bool legacy = (c->rtaddr_active & VTDP_RTADDR_TTM_MASK) ==
		      VTDP_RTADDR_TTM_LEGACY;
	int ret;

	if (cached->san_reported)
		return;
	ret = legacy ? fetch_legacy_context(c, &fresh) : fetch_context(c, &fresh);
	if (!ret && !memcmp(&fresh.ce, &cached->ce, sizeof(fresh.ce)))
		return;
	cached->san_reported = true;
	san_report(c, w->req, VTDP_FR_SAN_STALE_CONTEXT);
}

static void san_check_pasid(struct vtdp_core *c, struct walk *w,
			    struct vtdp_pc_cache_entry *cached)
{
	struct walk fresh = *w;
	int ret;

	if (cached->san_reported)
		return;
	fresh.probe = true;
	ret = fetch_pasid(c, &fresh);
	if (!ret && fresh.dir_fpd == cached->dir_fpd &&
	    !memcmp(&fresh.pe, &cached->pe, sizeof(fresh.pe)))
		return;
	cached->san_reported = true;
	san_report(c, w->req, VTDP_FR_SAN_STALE_PASID);
}

static uint64_t entry_paddr(const struct vtdp_iotlb_entry *e, uint64_t addr)
{
	return e->out_base | (addr & ((1ULL << VTDP_LEVEL_SHIFT(e->level)) - 1));
}

/* @hit is about to serve w->req: would the tables give the same now? */
static void san_check_iotlb(struct vtdp_core *c, struct walk *w,
			    unsigned int levels, bool first_stage,
			    struct vtdp_iotlb_entry *hit)
{
	struct walk fresh = *w;
	struct vtdp_iotlb_entry n;
	int ret;

	if (hit->san_reported)
		return;
	memset(&n, 0, sizeof(n));
	fresh.probe = true;
	ret = first_stage ? walk_fs(c, &fresh, levels, &n) :
			    walk_ss(c, &fresh, levels, &n);
	if (!ret && entry_paddr(&n, w->req->addr) == entry_paddr(hit, w->req->addr))
		return;
	hit->san_reported = true;
	san_report(c, w->req, VTDP_FR_SAN_STALE_IOTLB);
}

/* May a cached translation serve @r?  If not, walk again: the walk either
 * refreshes the entry (D bit) or reports the fault from current tables. */
static bool entry_writable(const struct vtdp_iotlb_entry *e, bool priv)
{
	return e->w || (priv && e->wp_exempt);
}

static bool iotlb_entry_serves(const struct vtdp_iotlb_entry *e,
			       const struct vtdp_request *r, bool priv)
{
	if (r->write && (!entry_writable(e, priv) ||
			 (e->first_stage && !e->dirty)))
		return false;
	if (!r->write && !e->r)
		return false;
	if (e->first_stage && !priv && !e->us)
		return false;
	if (r->exec && e->xd)
		return false;
	return true;
}

static void fill_result(const struct vtdp_iotlb_entry *e,
			const struct vtdp_request *r, bool priv,
			struct vtdp_translation *t)
{
	uint64_t size = 1ULL << VTDP_LEVEL_SHIFT(e->level);

	t->paddr = e->out_base | (r->addr & (size - 1));
	t->page_mask = ~(size - 1);
	t->read = e->r;
	/* A first-stage page whose D bit is not yet set is only granted
	 * for writes once a write walked it. */
	t->write = entry_writable(e, priv) && (!e->first_stage || e->dirty);
}

/*
 * Input-address checks of a walk (beyond the second stage's reach,
 * non-canonical for the first stage), made before the IOTLB is consulted:
 * IOTLB tags keep only 57 input-address bits, so an address with a bit
 * above 56 set would otherwise be served by the cached translation of the
 * address it aliases instead of faulting.
 */
static int check_input_addr(const struct vtdp_request *r, bool first_stage,
			    unsigned int levels)
{
	if (first_stage) {
		unsigned int va_bits = levels == 5 ? 57 : 48;
		int64_t sx = (int64_t)(r->addr << (64 - va_bits)) >>
			     (64 - va_bits);

		return (uint64_t)sx != r->addr ? VTDP_FR_SM_FS_NON_CANONICAL : 0;
	}
	return r->addr >> VTDP_LEVEL_SHIFT(levels + 1) ?
	       VTDP_FR_SM_ADDR_BEYOND_AW : 0;
}

bool vtdp_core_translation_enabled(const struct vtdp_core *c)
{
	return c->gsts & VTDP_GSTS_TES;
}

static int translate_paging(struct vtdp_core *c, struct walk *w,
			    struct vtdp_translation *t)
{
	const struct vtdp_request *r = w->req;
	uint64_t pe0 = w->pe.val[0], pe2 = w->pe.val[2];
	uint16_t did = VTDP_PE1_DID(w->pe.val[1]);
	struct vtdp_iotlb_entry *hit, n;
	unsigned int levels;
	int ret;

	if (w->priv && !(pe2 & VTDP_PE2_SRE))
		return VTDP_FR_SM_PTE_SRE_CLEAR;

	switch (VTDP_PE0_PGTT(pe0)) {
	case VTDP_PGTT_PT:
		if (!c->cfg.pass_through)
			return VTDP_FR_SM_PTE_INVALID;
		if (r->addr >> c->cfg.aw_bits)
			return VTDP_FR_SM_ADDR_BEYOND_AW;
		t->paddr = r->addr;
		t->page_mask = ~(VTDP_PAGE_SIZE - 1);
		t->read = t->write = true;
		return 0;
	case VTDP_PGTT_SS:
		if (!c->cfg.second_stage)
			return VTDP_FR_SM_PTE_INVALID;
		if (pe0 & VTDP_PE0_SSPTPTR_MASK & oa_rsvd_mask(c))
			return VTDP_FR_SM_PTE_RSVD;
		switch (VTDP_PE0_AW(pe0)) {
		case VTDP_PE_AW_39: levels = 3; break;
		case VTDP_PE_AW_48: levels = 4; break;
		case VTDP_PE_AW_57: levels = 5; break;
		default: return VTDP_FR_SM_PTE_INVALID;
		}
		if (VTDP_LEVEL_SHIFT(levels + 1) > c->cfg.aw_bits)
			return VTDP_FR_SM_PTE_INVALID;
		break;
	case VTDP_PGTT_FS:
		if (!c->cfg.first_stage)
			return VTDP_FR_SM_PTE_INVALID;
		if (pe2 & VTDP_PE2_FLPTPTR_MASK & oa_rsvd_mask(c))
			return VTDP_FR_SM_PTE_RSVD;
		if ((pe2 & VTDP_PE2_FLPM_MASK) == VTDP_PE2_FLPM_4LVL)
			levels = 4;
		else if ((pe2 & VTDP_PE2_FLPM_MASK) == VTDP_PE2_FLPM_5LVL &&
			 c->cfg.aw_bits >= 57)
			levels = 5;
		else
			return VTDP_FR_SM_PTE_INVALID;
		break;
	default:
		/* Nested translation is not implemented (ECAP.NEST = 0). */
		return VTDP_FR_SM_PTE_INVALID;
	}

	ret = check_input_addr(r, VTDP_PE0_PGTT(pe0) == VTDP_PGTT_FS, levels);
	if (ret)
		return ret;
	hit = iotlb_lookup(c, did, w->pasid, r->sid, r->addr);
	if (hit && iotlb_entry_serves(hit, r, w->priv)) {
		c->stats.iotlb_hits++;
		if (c->cfg.sanitize)
			san_check_iotlb(c, w, levels,
					VTDP_PE0_PGTT(pe0) == VTDP_PGTT_FS, hit);
		fill_result(hit, r, w->priv, t);
		return 0;
	}
	c->stats.iotlb_misses++;
	memset(&n, 0, sizeof(n));
	if (VTDP_PE0_PGTT(pe0) == VTDP_PGTT_SS)
		ret = walk_ss(c, w, levels, &n);
	else
		ret = walk_fs(c, w, levels, &n);
	if (ret)
		return ret;
	n.did = did;
	n.pasid = w->pasid;
	n.sid = r->sid;
	n.in_page = (r->addr & VTDP_IOTLB_TAG_MASK) >>
		    VTDP_LEVEL_SHIFT(n.level);
	iotlb_insert(c, &n);
	fill_result(&n, r, w->priv, t);
	return 0;
}

/*
 * IOTLB tag for legacy-mode translations: beyond 20 bits, so that no
 * PASID-based invalidation can match them (VT-d: those only concern
 * scalable-mode entries).
 */
#define VTDP_LEGACY_PASID_TAG	(1U << VTDP_PASID_MAX_BITS)

/* Scalable-mode second-stage fault reasons as legacy mode reports them. */
static int legacy_reason(int sm, bool write)
{
	switch (sm) {
	case VTDP_FR_SM_SS_ACCESS: return VTDP_FR_SS_ACCESS;
	case VTDP_FR_SM_SS_RSVD: return VTDP_FR_SS_RSVD;
	case VTDP_FR_SM_ADDR_BEYOND_AW: return VTDP_FR_ADDR_BEYOND_AW;
	case VTDP_FR_SM_WRITE: return VTDP_FR_WRITE;
	case VTDP_FR_SM_READ: return VTDP_FR_READ;
	/* legacy mode has no "not present": R = W = 0 denies the access */
	case VTDP_FR_SM_SS_NOT_PRESENT:
		return write ? VTDP_FR_WRITE : VTDP_FR_READ;
	}
	return sm;
}

/*
 * Legacy mode (VT-d 3.4.2, 9.1-9.3): 128-bit root and context entries,
 * translation type second stage or pass-through, the domain id and the
 * second-stage table in the context entry.
 */
/* Legacy root and context entry from memory. */
static int fetch_legacy_context(struct vtdp_core *c, struct walk *w)
{
	uint16_t sid = w->req->sid;
	uint64_t re[2];

	if (dma_read(c, (c->rtaddr_active & VTDP_RTADDR_ADDR_MASK) +
		     (uint64_t)(sid >> 8) * 16, re, sizeof(re)))
		return VTDP_FR_ROOT_ACCESS;
	if (!(re[0] & VTDP_ROOT_P))
		return VTDP_FR_ROOT_NOT_PRESENT;
	if ((re[0] & VTDP_LROOT_RSVD) || re[1])
		return VTDP_FR_ROOT_RSVD;
	memset(&w->ce, 0, sizeof(w->ce));
	if (dma_read(c, (re[0] & VTDP_ADDR_MASK) + (sid & 0xff) * 16ULL,
		     w->ce.val, 16))
		return VTDP_FR_CTX_ACCESS;
	w->fpd = w->ce.val[0] & VTDP_LCTX0_FPD;
	if (!(w->ce.val[0] & VTDP_CTX_P))
		return VTDP_FR_CTX_NOT_PRESENT;
	if ((w->ce.val[0] & VTDP_LCTX0_RSVD) ||
	    (w->ce.val[1] & VTDP_LCTX1_RSVD))
		return VTDP_FR_CTX_RSVD;
	return 0;
}

static int translate_legacy(struct vtdp_core *c, struct walk *w,
			    struct vtdp_translation *t)
{
	const struct vtdp_request *r = w->req;
	uint16_t sid = r->sid;
	struct vtdp_ctx_cache_entry *cached;
	struct vtdp_iotlb_entry *hit, n;
	uint64_t c0, c1;
	unsigned int levels;
	uint16_t did;
	int ret;

	cached = ctx_cache_lookup(c, sid);
	if (cached) {
		c->stats.ctx_hits++;
		w->ce = cached->ce;
		if (c->cfg.sanitize)
			san_check_context(c, w, cached);
	} else {
		c->stats.ctx_misses++;
		ret = fetch_legacy_context(c, w);
		if (ret)
			return ret;
		ctx_cache_insert(c, sid, &w->ce);
	}
	c0 = w->ce.val[0];
	c1 = w->ce.val[1];
	w->fpd = c0 & VTDP_LCTX0_FPD;
	/* Deviation: legacy mode takes no requests with PASID; VT-d has
	 * no reason code for them, 0x3 is reported. */
	if (r->pasid_valid)
		return VTDP_FR_CTX_INVALID;

	switch (VTDP_LCTX0_TT(c0)) {
	case VTDP_LCTX_TT_PT:
		if (!c->cfg.pass_through)
			return VTDP_FR_CTX_INVALID;
		if (r->addr >> c->cfg.aw_bits)
			return VTDP_FR_ADDR_BEYOND_AW;
		t->paddr = r->addr;
		t->page_mask = ~(VTDP_PAGE_SIZE - 1);
		t->read = t->write = true;
		return 0;
	case VTDP_LCTX_TT_SS:
		break;
	default:	/* device-TLB (ECAP.DT = 0) or reserved */
		return VTDP_FR_CTX_INVALID;
	}
	switch (VTDP_LCTX1_AW(c1)) {
	case VTDP_PE_AW_39: levels = 3; break;
	case VTDP_PE_AW_48: levels = 4; break;
	case VTDP_PE_AW_57: levels = 5; break;
	default: return VTDP_FR_CTX_INVALID;
	}
	if (!c->cfg.second_stage ||
	    VTDP_LEVEL_SHIFT(levels + 1) > c->cfg.aw_bits)
		return VTDP_FR_CTX_INVALID;
	if (c0 & VTDP_ADDR_MASK & oa_rsvd_mask(c))
		return VTDP_FR_CTX_RSVD;

	ret = check_input_addr(r, false, levels);
	if (ret)
		return legacy_reason(ret, r->write);
	did = VTDP_LCTX1_DID(c1);
	/* the second-stage walk takes its table from the PASID entry slot */
	memset(&w->pe, 0, sizeof(w->pe));
	w->pe.val[0] = c0 & VTDP_PE0_SSPTPTR_MASK;
	hit = iotlb_lookup(c, did, VTDP_LEGACY_PASID_TAG, sid, r->addr);
	if (hit && iotlb_entry_serves(hit, r, false)) {
		c->stats.iotlb_hits++;
		if (c->cfg.sanitize)
			san_check_iotlb(c, w, levels, false, hit);
		fill_result(hit, r, false, t);
		return 0;
	}
	c->stats.iotlb_misses++;
	memset(&n, 0, sizeof(n));
	ret = walk_ss(c, w, levels, &n);
	if (ret)
		return legacy_reason(ret, r->write);
	n.did = did;
	n.pasid = VTDP_LEGACY_PASID_TAG;
	n.sid = sid;
	n.in_page = (r->addr & VTDP_IOTLB_TAG_MASK) >>
		    VTDP_LEVEL_SHIFT(n.level);
	iotlb_insert(c, &n);
	fill_result(&n, r, false, t);
	return 0;
}

int vtdp_core_translate(struct vtdp_core *c, const struct vtdp_request *req,
			struct vtdp_translation *t)
{
	struct walk w;
	int ret;

	c->stats.translations++;
	memset(t, 0, sizeof(*t));
	if (!(c->gsts & VTDP_GSTS_TES)) {
		t->paddr = req->addr;
		t->page_mask = ~(VTDP_PAGE_SIZE - 1);
		t->read = t->write = true;
		return 0;
	}
	memset(&w, 0, sizeof(w));
	w.req = req;
	/* Deviation: VT-d treats untagged writes to this range as interrupt
	 * requests; vtdp-iommu has no interrupt remapping and refuses all. */
	if (req->addr >= VTDP_INTERRUPT_RANGE_START &&
	    req->addr <= VTDP_INTERRUPT_RANGE_END)
		return report_fault(c, req, VTDP_FR_SM_INTERRUPT_ADDR, false);
	if ((c->gsts & VTDP_GSTS_RTPS) &&
	    (c->rtaddr_active & VTDP_RTADDR_TTM_MASK) ==
	    VTDP_RTADDR_TTM_LEGACY) {
		ret = translate_legacy(c, &w, t);
	} else {
		ret = walk_context(c, &w);
		if (!ret)
			ret = walk_pasid(c, &w);
		if (!ret)
			ret = translate_paging(c, &w, t);
	}
	if (ret) {
		memset(t, 0, sizeof(*t));
		return report_fault(c, req, (uint8_t)ret, w.fpd);
	}
	return 0;
}

/* ====================================================================== */
/* 4. Invalidation                                                         */

static void inv_iotlb(struct vtdp_core *c, unsigned int gran, uint16_t did,
		      uint64_t addr, unsigned int am)
{
	uint64_t lo, hi;

	switch (gran) {
	case 1:
		iotlb_invalidate(c, IOTLB_ALL, 0, 0, 0, 0);
		break;
	case 2:
		iotlb_invalidate(c, IOTLB_DID, did, 0, 0, 0);
		break;
	case 3:
		am_range(addr, am, &lo, &hi);
		iotlb_invalidate(c, IOTLB_DID_PAGES, did, 0, lo, hi);
		break;
	}
	c->stats.inv_iotlb++;
}

static void iq_error(struct vtdp_core *c, unsigned int iqei)
{
	bool was = c->fsts & VTDP_FSTS_IQE;

	c->fsts |= VTDP_FSTS_IQE;
	c->iqercd = iqei;
	c->stats.inv_errors++;
	if (!was)
		fault_event(c);
}

static void inv_wait_complete(struct vtdp_core *c)
{
	if (c->ics & VTDP_ICS_IWC)
		return;		/* still pending: no new event (VT-d 6.5.2.10) */
	c->ics |= VTDP_ICS_IWC;
	if (c->iectl & VTDP_IECTL_IM) {
		c->iectl |= VTDP_IECTL_IP;
	} else {
		c->iectl &= ~VTDP_IECTL_IP;
		c->ops->raise_irq(c->opaque, VTDP_IOMMU_VEC_INV);
	}
}

/* Execute one descriptor; returns false if it is invalid. */
static bool inv_desc(struct vtdp_core *c, const struct vtdp_inv_desc *d,
		     bool dw)
{
	uint64_t lo = d->lo, hi = d->hi;
	uint64_t rlo, rhi;

	/* The upper half of a 256-bit descriptor is reserved for every
	 * type vtdp-iommu implements. */
	if (dw && (d->ext[0] || d->ext[1]))
		return false;
	switch (VTDP_INV_TYPE(lo)) {
	case VTDP_INV_TYPE_CC:
		if ((lo & 0xfffc00000000f1c0ULL) || hi || !VTDP_INV_CC_G(lo))
			return false;
		ctx_cache_invalidate(c, VTDP_INV_CC_G(lo), VTDP_INV_CC_SID(lo),
				     VTDP_INV_CC_FM(lo));
		return true;
	case VTDP_INV_TYPE_IOTLB:
		if ((lo & 0xffffffff0000f100ULL) || (hi & 0xf80) ||
		    !VTDP_INV_IOTLB_G(lo) || VTDP_INV_IOTLB_AM(hi) > VTDP_MAMV)
			return false;
		inv_iotlb(c, VTDP_INV_IOTLB_G(lo), VTDP_INV_IOTLB_DID(lo),
			  VTDP_INV_IOTLB_ADDR(hi), VTDP_INV_IOTLB_AM(hi));
		return true;
	case VTDP_INV_TYPE_PIOTLB:
		rlo = 0xfff000000000f1c0ULL;
		rhi = 0xf80;
		if ((lo & rlo) || (hi & rhi) || VTDP_INV_PIOTLB_G(lo) < 2 ||
		    VTDP_INV_IOTLB_AM(hi) > VTDP_MAMV)
			return false;
		if ((lo & (3ULL << 4)) == VTDP_INV_PIOTLB_ALL_PASID) {
			iotlb_invalidate(c, IOTLB_DID_PASID,
					 VTDP_INV_PIOTLB_DID(lo),
					 VTDP_INV_PIOTLB_PASID(lo), 0, 0);
		} else {
			uint64_t a, b;

			am_range(VTDP_INV_IOTLB_ADDR(hi),
				 VTDP_INV_IOTLB_AM(hi), &a, &b);
			iotlb_invalidate(c, IOTLB_DID_PASID_PAGES,
					 VTDP_INV_PIOTLB_DID(lo),
					 VTDP_INV_PIOTLB_PASID(lo), a, b);
		}
		c->stats.inv_piotlb++;
		return true;
	case VTDP_INV_TYPE_PC:
		if ((lo & 0xfff000000000f1c0ULL) || hi ||
		    VTDP_INV_PC_G(lo) == 2)
			return false;
		pc_cache_invalidate(c, VTDP_INV_PC_G(lo), VTDP_INV_PC_DID(lo),
				    VTDP_INV_PC_PASID_OF(lo));
		return true;
	case VTDP_INV_TYPE_DEVTLB:
	case VTDP_INV_TYPE_PDEVTLB:
		/* no device-TLBs behind vtdp-iommu (ECAP.DT = 0): nothing to do */
		c->stats.inv_devtlb++;
		return true;
	case VTDP_INV_TYPE_IEC:
		/* no interrupt remapping: accepted as a no-op */
		c->stats.inv_iec++;
		return true;
	case VTDP_INV_TYPE_WAIT:
		if ((lo & 0xfffff100ULL) || (hi & 3))
			return false;
		c->stats.inv_wait++;
		if (lo & VTDP_INV_WAIT_SW) {
			uint32_t data = VTDP_INV_WAIT_SDATA(lo);

			/* Deviation: a failed status write is not reported
			 * (VT-d has no fault reason for it either). */
			c->ops->dma_write(c->opaque, VTDP_INV_WAIT_SADDR(hi),
					  &data, sizeof(data));
		}
		if (lo & VTDP_INV_WAIT_IF)
			inv_wait_complete(c);
		/* FN: descriptors are processed in order, fencing is implicit. */
		return true;
	default:
		return false;
	}
}

static void inv_observe(struct vtdp_core *c, unsigned int src, uint64_t lo,
			uint64_t hi, bool ok)
{
	if (c->ops->invalidation)
		c->ops->invalidation(c->opaque, src, lo, hi, ok);
}

/* Process descriptors from IQH to IQT (VT-d 6.5.2). */
static void iq_process(struct vtdp_core *c)
{
	bool dw = c->iqa & VTDP_IQA_DW;
	/* queue length in 128-bit slots */
	uint64_t slots = (1ULL << VTDP_IQA_QS(c->iqa)) * (VTDP_PAGE_SIZE / 16);
	uint64_t head = (c->iqh & VTDP_IQ_INDEX_MASK) >> VTDP_IQ_INDEX_SHIFT;
	uint64_t tail = (c->iqt & VTDP_IQ_INDEX_MASK) >> VTDP_IQ_INDEX_SHIFT;
	uint64_t base = c->iqa & VTDP_IQA_ADDR_MASK;
	unsigned int step = dw ? 2 : 1;
	uint64_t budget;

	if (!(c->gsts & VTDP_GSTS_QIES) || (c->fsts & VTDP_FSTS_IQE))
		return;
	if (tail >= slots || (dw && (tail & 1))) {
		iq_error(c, VTDP_IQEI_TAIL);
		return;
	}
	if (head >= slots)
		head = 0;	/* QS shrunk under a running queue */
	if (dw && (head & 1)) {
		/*
		 * IQA.DW was set under a running queue whose head lies
		 * between two 256-bit slots: no descriptor starts there, and
		 * half-slot steps would never meet the (even) tail.  Report
		 * the misaligned queue pointers like a misaligned tail.
		 */
		iq_error(c, VTDP_IQEI_TAIL);
		return;
	}
	/* each slot can be visited at most once per IQT write */
	for (budget = slots / step; head != tail && budget; budget--) {
		struct vtdp_inv_desc d;

		bool ok;

		memset(&d, 0, sizeof(d));
		ok = !dma_read(c, base + head * 16, &d, dw ? 32 : 16) &&
		     inv_desc(c, &d, dw);
		inv_observe(c, VTDP_INV_SRC_QUEUE, d.lo, d.hi, ok);
		if (!ok) {
			c->iqh = head << VTDP_IQ_INDEX_SHIFT;
			iq_error(c, VTDP_IQEI_DESC_TYPE);
			return;
		}
		head = (head + step) % slots;
	}
	c->iqh = head << VTDP_IQ_INDEX_SHIFT;
}

/* CCMD_REG write with ICC set (VT-d 10.4.7). */
static void ccmd_execute(struct vtdp_core *c)
{
	uint64_t v = c->ccmd;
	unsigned int gran = (v & VTDP_CCMD_CIRG_MASK) >> VTDP_CCMD_CIRG_SHIFT;

	if (gran)
		ctx_cache_invalidate(c, gran, VTDP_CCMD_SID(v),
				     (v >> 32) & 3);
	inv_observe(c, VTDP_INV_SRC_CCMD, v, 0, gran != 0);
	/* actual granularity = requested; ICC self-clears */
	c->ccmd = (v & ~(VTDP_CCMD_ICC | (3ULL << VTDP_CCMD_CAIG_SHIFT))) |
		  ((uint64_t)gran << VTDP_CCMD_CAIG_SHIFT);
}

/* IOTLB_REG write with IVT set (VT-d 10.4.8). */
static void iotlb_reg_execute(struct vtdp_core *c)
{
	uint64_t v = c->iotlb_reg;
	unsigned int gran = (v & VTDP_IOTLB_IIRG_MASK) >> VTDP_IOTLB_IIRG_SHIFT;

	if (gran)
		inv_iotlb(c, gran, VTDP_IOTLB_DID(v), c->iva & VTDP_IVA_ADDR_MASK,
			  (unsigned int)min_u64(VTDP_IVA_AM(c->iva), VTDP_MAMV));
	inv_observe(c, VTDP_INV_SRC_IOTLB_REG, v, c->iva, gran != 0);
	c->iotlb_reg = (v & ~(VTDP_IOTLB_IVT | (3ULL << VTDP_IOTLB_IAIG_SHIFT))) |
		       ((uint64_t)gran << VTDP_IOTLB_IAIG_SHIFT);
}

/* ====================================================================== */
/* 5. Register file                                                        */

static bool frcd_offset(const struct vtdp_core *c, uint64_t off)
{
	return off >= VTDP_REG_FRCD_BASE &&
	       off < VTDP_REG_FRCD_BASE + (uint64_t)c->cfg.nfr * VTDP_FRCD_SIZE;
}

/* Is the aligned qword at @off one 64-bit register (vs. two 32-bit)? */
static bool is_reg64(const struct vtdp_core *c, uint64_t off)
{
	switch (off) {
	case VTDP_REG_CAP: case VTDP_REG_ECAP: case VTDP_REG_RTADDR:
	case VTDP_REG_CCMD: case VTDP_REG_IQH: case VTDP_REG_IQT:
	case VTDP_REG_IQA: case VTDP_REG_IQERCD: case VTDP_REG_IVA:
	case VTDP_REG_IOTLB: case VTDP_REG_EXT_FAULTS_RECORDED:
	case VTDP_REG_EXT_FAULTS_SUPPRESSED: case VTDP_REG_EXT_FAULTS_DROPPED:
		return true;
	}
	return frcd_offset(c, off);
}

/* Value of the aligned qword at @off; 32-bit registers in their halves. */
static uint64_t reg_read_qword(struct vtdp_core *c, uint64_t off)
{
	if (frcd_offset(c, off)) {
		uint64_t i = (off - VTDP_REG_FRCD_BASE) / VTDP_FRCD_SIZE;

		return c->frcd[i][(off & 8) ? 1 : 0];
	}
	switch (off) {
	case VTDP_REG_VER: return VTDP_VERSION;
	case VTDP_REG_CAP: return c->cap;
	case VTDP_REG_ECAP: return c->ecap;
	case VTDP_REG_GCMD: return (uint64_t)c->gsts << 32; /* GCMD reads 0 */
	case VTDP_REG_RTADDR: return c->rtaddr;
	case VTDP_REG_CCMD: return c->ccmd;
	case 0x30: return (uint64_t)fsts_value(c) << 32;
	case VTDP_REG_FECTL: return c->fectl;	/* FEDATA reads 0 (MSI-X) */
	case VTDP_REG_IQH: return c->iqh;
	case VTDP_REG_IQT: return c->iqt;
	case VTDP_REG_IQA: return c->iqa;
	case 0x98: return (uint64_t)c->ics << 32;
	case VTDP_REG_IECTL: return c->iectl;
	case VTDP_REG_IQERCD: return c->iqercd;
	case VTDP_REG_IVA: return c->iva;
	case VTDP_REG_IOTLB: return c->iotlb_reg;
	case VTDP_REG_EXT_FAULTS_RECORDED: return c->stats.faults_recorded;
	case VTDP_REG_EXT_FAULTS_SUPPRESSED: return c->stats.faults_suppressed;
	case VTDP_REG_EXT_FAULTS_DROPPED: return c->stats.faults_dropped;
	}
	return 0;
}

uint64_t vtdp_core_mmio_read(struct vtdp_core *c, uint64_t offset,
			     unsigned int size)
{
	uint64_t q;

	if ((size != 4 && size != 8) || (offset & (size - 1)) ||
	    offset >= VTDP_IOMMU_REG_SIZE)
		return 0;
	q = reg_read_qword(c, offset & ~7ULL);
	if (size == 8)
		return q;
	return (offset & 4) ? q >> 32 : q & 0xffffffffULL;
}

static void write_gcmd(struct vtdp_core *c, uint32_t v)
{
	if (v & VTDP_GCMD_SRTP) {
		c->rtaddr_active = c->rtaddr;
		c->gsts |= VTDP_GSTS_RTPS;
		/* Cached entries may belong to the other translation mode
		 * (legacy vs scalable); software invalidates after SRTP
		 * anyway, so dropping everything here is never visible. */
		caches_flush_all(c);
	}
	if (v & VTDP_GCMD_TE)
		c->gsts |= VTDP_GSTS_TES;
	else
		c->gsts &= ~VTDP_GSTS_TES;
	if ((v & VTDP_GCMD_QIE) && !(c->gsts & VTDP_GSTS_QIES)) {
		c->gsts |= VTDP_GSTS_QIES;
	} else if (!(v & VTDP_GCMD_QIE) && (c->gsts & VTDP_GSTS_QIES)) {
		/* VT-d 10.4.4: disabling QI resets the queue head */
		c->gsts &= ~VTDP_GSTS_QIES;
		c->iqh = 0;
	}
}

static void write_event_ctl(struct vtdp_core *c, uint32_t *ctl, uint32_t v,
			    unsigned int vector)
{
	*ctl = (*ctl & ~VTDP_FECTL_IM) | (v & VTDP_FECTL_IM);
	if (!(*ctl & VTDP_FECTL_IM) && (*ctl & VTDP_FECTL_IP)) {
		*ctl &= ~VTDP_FECTL_IP;
		c->ops->raise_irq(c->opaque, vector);
	}
}

static void write_dword(struct vtdp_core *c, uint64_t off, uint32_t v)
{
	switch (off) {
	case VTDP_REG_GCMD:
		write_gcmd(c, v);
		break;
	case VTDP_REG_FSTS:
		c->fsts &= ~(v & VTDP_FSTS_RW1C);
		/* VT-d 10.4.10: IP clears once no fault status is pending */
		if (!(fsts_value(c) & (VTDP_FSTS_RW1C | VTDP_FSTS_PPF)))
			c->fectl &= ~VTDP_FECTL_IP;
		break;
	case VTDP_REG_FECTL:
		write_event_ctl(c, &c->fectl, v, VTDP_IOMMU_VEC_FAULT);
		break;
	case VTDP_REG_ICS:
		if (v & VTDP_ICS_IWC) {
			c->ics &= ~VTDP_ICS_IWC;
			c->iectl &= ~VTDP_IECTL_IP;
		}
		break;
	case VTDP_REG_IECTL:
		write_event_ctl(c, &c->iectl, v, VTDP_IOMMU_VEC_INV);
		break;
	}
}

/* Write of the bytes selected by @mask of the 64-bit register at @off. */
static void write_qword(struct vtdp_core *c, uint64_t off, uint64_t v,
			uint64_t mask)
{
	bool hi = mask >> 32;

	if (frcd_offset(c, off)) {
		uint64_t i = (off - VTDP_REG_FRCD_BASE) / VTDP_FRCD_SIZE;

		/* only F (bit 127) is writable, as RW1C */
		if ((off & 8) && hi && (v & VTDP_FRCD_HI_F & mask)) {
			c->frcd[i][1] &= ~VTDP_FRCD_HI_F;
			if (!(fsts_value(c) &
			      (VTDP_FSTS_RW1C | VTDP_FSTS_PPF)))
				c->fectl &= ~VTDP_FECTL_IP;
		}
		return;
	}
#define MERGE(reg) ((reg) = ((reg) & ~mask) | (v & mask))
	switch (off) {
	case VTDP_REG_RTADDR:
		MERGE(c->rtaddr);
		c->rtaddr &= VTDP_RTADDR_ADDR_MASK | VTDP_RTADDR_TTM_MASK;
		break;
	case VTDP_REG_CCMD:
		MERGE(c->ccmd);
		if (hi && (c->ccmd & VTDP_CCMD_ICC))
			ccmd_execute(c);
		break;
	case VTDP_REG_IQT:
		MERGE(c->iqt);
		c->iqt &= VTDP_IQ_INDEX_MASK;
		iq_process(c);
		break;
	case VTDP_REG_IQA:
		MERGE(c->iqa);
		c->iqa &= VTDP_IQA_ADDR_MASK | VTDP_IQA_DW | 7;
		break;
	case VTDP_REG_IVA:
		MERGE(c->iva);
		break;
	case VTDP_REG_IOTLB:
		MERGE(c->iotlb_reg);
		if (hi && (c->iotlb_reg & VTDP_IOTLB_IVT))
			iotlb_reg_execute(c);
		break;
	}
#undef MERGE
}

void vtdp_core_mmio_write(struct vtdp_core *c, uint64_t offset, uint64_t val,
			  unsigned int size)
{
	uint64_t q = offset & ~7ULL;

	if ((size != 4 && size != 8) || (offset & (size - 1)) ||
	    offset >= VTDP_IOMMU_REG_SIZE)
		return;
	if (is_reg64(c, q)) {
		if (size == 8)
			write_qword(c, q, val, ~0ULL);
		else if (offset & 4)
			write_qword(c, q, val << 32, 0xffffffff00000000ULL);
		else
			write_qword(c, q, val & 0xffffffffULL, 0xffffffffULL);
		return;
	}
	if (size == 8) {
		write_dword(c, q, (uint32_t)val);
		write_dword(c, q + 4, (uint32_t)(val >> 32));
	} else {
		write_dword(c, offset, (uint32_t)val);
	}
}

/* ====================================================================== */
/* 6. Init / reset                                                         */

static void compute_caps(struct vtdp_core *c)
{
	const struct vtdp_core_config *cfg = &c->cfg;
	uint64_t cap, ecap;

	cap = VTDP_CAP_ND_16BIT | VTDP_CAP_SAGAW_39 | VTDP_CAP_SAGAW_48 |
	      ((uint64_t)(cfg->aw_bits - 1) << VTDP_CAP_MGAW_SHIFT) |
	      ((uint64_t)(VTDP_REG_FRCD_BASE / 16) << VTDP_CAP_FRO_SHIFT) |
	      ((uint64_t)(cfg->nfr - 1) << VTDP_CAP_NFR_SHIFT) |
	      VTDP_CAP_PSI | ((uint64_t)VTDP_MAMV << VTDP_CAP_MAMV_SHIFT) |
	      VTDP_CAP_DRD | VTDP_CAP_DWD;
	if (cfg->aw_bits >= 57)
		cap |= VTDP_CAP_SAGAW_57;
	if (cfg->second_stage)
		cap |= VTDP_CAP_SLLPS_2M | VTDP_CAP_SLLPS_1G;
	if (cfg->first_stage) {
		cap |= VTDP_CAP_FL1GP;
		if (cfg->aw_bits >= 57)
			cap |= VTDP_CAP_FL5LP;
	}
	ecap = VTDP_ECAP_C | VTDP_ECAP_QI | VTDP_ECAP_SMTS | VTDP_ECAP_SRS |
	       ((uint64_t)(VTDP_REG_IVA / 16) << VTDP_ECAP_IRO_SHIFT);
	if (cfg->pasid_bits)
		ecap |= VTDP_ECAP_PASID |
			((uint64_t)(cfg->pasid_bits - 1) << VTDP_ECAP_PSS_SHIFT);
	if (cfg->second_stage)
		ecap |= VTDP_ECAP_SLTS;
	if (cfg->first_stage)
		ecap |= VTDP_ECAP_FLTS;
	if (cfg->pass_through)
		ecap |= VTDP_ECAP_PT;
	c->cap = cap;
	c->ecap = ecap;
}

static int check_config(const struct vtdp_core_config *cfg, char *err,
			size_t err_size)
{
	const char *why = NULL;

	if (cfg->aw_bits != 48 && cfg->aw_bits != 57)
		why = "aw-bits must be 48 or 57";
	else if (cfg->pasid_bits > VTDP_PASID_MAX_BITS)
		why = "pasid-bits must be 0..20";
	else if (cfg->nfr < 1 || cfg->nfr > VTDP_FRCD_MAX)
		why = "nfr (fault recording registers) must be 1..256";
	else if (cfg->fault_log_size < 1 ||
		 cfg->fault_log_size > VTDP_FAULT_LOG_MAX)
		why = "fault-log-size must be 1..1048576";
	else if (cfg->iotlb_size > VTDP_FAULT_LOG_MAX)
		why = "iotlb-size must be 0..1048576";
	else if (cfg->pasid_cache_size > VTDP_PC_CACHE_MAX)
		why = "pasid-cache-size must be 0..65536";
	else if (!cfg->first_stage && !cfg->second_stage)
		why = "first-stage or second-stage translation must be enabled";
	if (!why)
		return 0;
	if (err && err_size)
		snprintf(err, err_size, "vtdp: %s", why);
	return -1;
}

int vtdp_core_init(struct vtdp_core *c, const struct vtdp_core_config *cfg,
		   const struct vtdp_core_ops *ops, void *opaque,
		   char *err, size_t err_size)
{
	struct vtdp_cache *k;
	uint32_t nb = 1;

	memset(c, 0, sizeof(*c));
	if (check_config(cfg, err, err_size))
		return -1;
	if (!ops || !ops->dma_read || !ops->dma_write || !ops->raise_irq) {
		if (err && err_size)
			snprintf(err, err_size, "vtdp: missing core callbacks");
		return -1;
	}
	c->cfg = *cfg;
	c->ops = ops;
	c->opaque = opaque;
	c->log = calloc(cfg->fault_log_size, sizeof(*c->log));
	k = calloc(1, sizeof(*k));
	while (nb < cfg->iotlb_size)
		nb <<= 1;
	if (k) {
		k->nbuckets = nb;
		k->bucket = calloc(nb, sizeof(*k->bucket));
		for (nb = 1; nb < cfg->pasid_cache_size; nb <<= 1)
			;
		k->pc_nbuckets = nb;
		k->pc_bucket = calloc(nb, sizeof(*k->pc_bucket));
		k->pc = calloc(cfg->pasid_cache_size ? cfg->pasid_cache_size : 1,
			       sizeof(*k->pc));
	}
	if (cfg->iotlb_size)
		c->iotlb = calloc(cfg->iotlb_size, sizeof(*c->iotlb));
	c->cache_priv = k;
	if (!c->log || !k || !k->bucket || !k->pc_bucket || !k->pc ||
	    (cfg->iotlb_size && !c->iotlb)) {
		vtdp_core_destroy(c);
		if (err && err_size)
			snprintf(err, err_size, "vtdp: out of memory");
		return -1;
	}
	compute_caps(c);
	vtdp_core_reset(c);
	return 0;
}

void vtdp_core_destroy(struct vtdp_core *c)
{
	struct vtdp_cache *k = c->cache_priv;

	if (k) {
		free(k->bucket);
		free(k->pc_bucket);
		free(k->pc);
	}
	free(k);
	free(c->iotlb);
	free(c->log);
	c->cache_priv = NULL;
	c->iotlb = NULL;
	c->log = NULL;
}

void vtdp_core_post_load(struct vtdp_core *c)
{
	c->rtaddr &= VTDP_RTADDR_ADDR_MASK | VTDP_RTADDR_TTM_MASK;
	c->rtaddr_active &= VTDP_RTADDR_ADDR_MASK | VTDP_RTADDR_TTM_MASK;
	c->iqh &= VTDP_IQ_INDEX_MASK;
	c->iqt &= VTDP_IQ_INDEX_MASK;
	c->iqa &= VTDP_IQA_ADDR_MASK | VTDP_IQA_DW | 7;
	c->frcd_next %= c->cfg.nfr;
	if (c->log_clear_base > c->log_total)
		c->log_clear_base = c->log_total;
	/* records beyond NFR are not registers: keep them clear */
	memset(&c->frcd[c->cfg.nfr], 0,
	       (VTDP_FRCD_MAX - c->cfg.nfr) * sizeof(c->frcd[0]));
	caches_flush_all(c);
}

void vtdp_core_reset(struct vtdp_core *c)
{
	c->gsts = 0;
	c->rtaddr = c->rtaddr_active = 0;
	c->ccmd = 0;
	c->fsts = 0;
	c->fectl = VTDP_FECTL_IM;	/* VT-d: IM is set at reset */
	c->iqh = c->iqt = c->iqa = 0;
	c->ics = 0;
	c->iectl = VTDP_IECTL_IM;
	c->iqercd = 0;
	c->iva = c->iotlb_reg = 0;
	memset(c->frcd, 0, sizeof(c->frcd));
	c->frcd_next = 0;
	caches_flush_all(c);
}
