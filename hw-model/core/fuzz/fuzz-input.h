/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Input format of fuzz-vtdp-core, shared by the fuzzer (decoder) and the
 * seed generator (encoder).  Missing bytes read as 0, so every byte string
 * is a valid input.
 *
 *   header: 3 bytes
 *     h0  bit 0 aw_bits 57 (else 48); bits 2:1 pasid_bits {20, 8, 0, 5};
 *         bit 3 no first stage; bit 4 no second stage (if both are off,
 *         second stage stays on); bit 5 no pass-through
 *     h1  bits 2:0 nfr - 1; bits 7:3 fault_log_size - 1
 *     h2  bits 1:0 iotlb_size {64, 0, 1, 16}
 *         bit 2 sanitize (DMA sanitizer on)
 *         bits 4:3 pasid_cache_size {256, 0, 1, 4}
 *   then operations, each an op byte (taken modulo FZ_OP_COUNT) and its
 *   arguments, little endian:
 *     MEM_RAW    page:1 idx:2 val:8         qword idx of page := val
 *     MEM_PTR    page:1 idx:2 tgt:1 low:2   := address of page tgt | low 12
 *     MMIO_WRITE sel:1 [off:2] size:1 mode:1 val   (see fuzz-vtdp-core.c)
 *     MMIO_READ  off:2 size:1
 *     SET_ROOT   page:1 ttm:1               RTADDR, then GCMD SRTP|TE(|QIE)
 *     SET_IQ     page:1 qsdw:1              IQA, then GCMD QIE
 *     QI_RAW     lo:8 hi:8                  one descriptor at IQT, IQT += 1
 *     QI_DESC    kind:1 did:2 x:4 page:1 am:1   a well-formed descriptor
 *     XLATE      sid:2 flags:1 pasid:3 addr:8
 *     CLEAR      -                          clear FRCD F, FSTS, ICS
 *     SYNC       -                          GCMD SRTP: all caches dropped
 *     MISC       what:1                     reset / log clear / post_load
 */
#ifndef VTDP_FUZZ_INPUT_H
#define VTDP_FUZZ_INPUT_H

#define FZ_MEM_PAGES	128		/* guest memory at TB_MEM_BASE */
#define FZ_MAX_OPS	2048		/* per input: bounded time per input */
#define FZ_MAX_READS	(1UL << 20)	/* guest reads per input, likewise */

enum fz_op {
	FZ_MEM_RAW,
	FZ_MEM_PTR,
	FZ_MMIO_WRITE,
	FZ_MMIO_READ,
	FZ_SET_ROOT,
	FZ_SET_IQ,
	FZ_QI_RAW,
	FZ_QI_DESC,
	FZ_XLATE,
	FZ_CLEAR,
	FZ_SYNC,
	FZ_MISC,
	FZ_OP_COUNT
};

/* XLATE flags */
#define FZ_X_PV		0x01	/* PASID-tagged */
#define FZ_X_WRITE	0x02
#define FZ_X_PRIV	0x04
#define FZ_X_EXEC	0x08

/* QI_DESC kind: bits 2:0 descriptor type - 1, bits 5:4 granularity,
 * bit 6 SW, bit 7 IF (wait) / DR|DW (IOTLB) */
#define FZ_QK_TYPE(k)	(((k) & 7) + 1)
#define FZ_QK_G(k)	(((k) >> 4) & 3)

/* MISC what */
#define FZ_MISC_RESET		0
#define FZ_MISC_LOG_CLEAR	1
#define FZ_MISC_POST_LOAD	2

#endif /* VTDP_FUZZ_INPUT_H */
