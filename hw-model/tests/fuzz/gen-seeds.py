#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed inputs of QEMU's generic-fuzz for vtdp (scripts/fuzz --qemu).

generic-fuzz (QEMU tests/qtest/fuzz/generic_fuzz.c) reads an input as
operations separated by "FUZZ": an opcode byte (taken modulo 10), then the
operation's operands.  MMIO operands name a region by its index among the
fuzzable regions in address order, which with QEMU_FUZZ_ARGS and
QEMU_FUZZ_OBJECTS as scripts/fuzz sets them is:

  0 vtdp-iommu registers (BAR 0)     3 vtdp-testdev registers (BAR 0)
  1 vtdp-iommu MSI-X table           4 vtdp-testdev MSI-X table
  2 vtdp-iommu MSI-X PBA             5 vtdp-testdev MSI-X PBA


Every DMA read of guest RAM (the IOMMU's table walks and invalidation
queue, the testdev's ring and buffers) is filled from the current DMA
pattern, so the seeds set patterns that look like present table entries
and descriptors, and then drive both devices the way a driver would:
scalable and legacy mode translation, queued invalidation, testdev
descriptors through the IOMMU.  The fuzzer mutates from there.

usage: gen-seeds.py DIR
"""
import os
import struct
import sys


SEP = b"FUZZ"
OP_READ, OP_WRITE, OP_PCI_WRITE, OP_DMA_PATTERN, OP_CLEAR_DMA, OP_CLOCK = \
    2, 3, 5, 7, 8, 9
SIZES = {1: 0, 2: 1, 4: 2, 8: 3}
IOMMU, TESTDEV = 0, 3

# vtdp-iommu registers (hw-model/include/vtdp/iommu-hw.h)
GCMD, RTADDR, CCMD, FSTS, FECTL = 0x18, 0x20, 0x28, 0x34, 0x38
IQT, IQA, IECTL, IVA, IOTLB = 0x88, 0x90, 0xa0, 0x100, 0x108
GCMD_TE, GCMD_SRTP, GCMD_QIE = 1 << 31, 1 << 30, 1 << 26
TTM_SM = 1 << 10
# vtdp-testdev registers (hw-model/include/vtdp/testdev-hw.h)
TD_CTRL = 0x00c


def td_q(q, r):
    return 0x100 + q * 0x40 + r


QRING_BASE, QRING_SIZE, QCTRL, QPASID, QTAIL = 0x00, 0x08, 0x0c, 0x10, 0x1c
QCTRL_ENABLE, QCTRL_PASID_EN = 1, 2


def write(region, off, val, size=4):
    return bytes([OP_WRITE]) + struct.pack("<BBxxIQ", SIZES[size], region,
                                           off, val)


def read(region, off, size=4):
    return bytes([OP_READ]) + struct.pack("<BBxxI", SIZES[size], region, off)


def dma_pattern(data, index=0, stride=0):
    return bytes([OP_DMA_PATTERN, index, stride]) + data


def clock():
    return bytes([OP_CLOCK])


def seed(*ops):
    return SEP.join(ops)


def q64(*vals):
    return b"".join(struct.pack("<Q", v) for v in vals)


# generic-fuzz fills each DMA read of RAM from the next pattern in turn
# (from the pattern's start), so a list of patterns in the order of the
# reads builds a table walk: the testdev's ring fetch, untagged, walks
# root entry (16 bytes), context entry (32), PASID directory entry (8) and
# PASID entry (64) for RID_PASID, then the paging levels (8 each), then
# reads the descriptor (64).
ROOT = q64(0x100001, 0)                         # P, context table
CTX = q64(0x100001 | (7 << 9), 0, 0, 0)         # P, PDTS 7, RID_PASID 0
PDIR = q64(0x100001)                            # P, PASID table
PE_PT = q64(1 | (4 << 6), 1, 0, 0, 0, 0, 0, 0)  # P, pass-through, DID 1
PE_SS = q64(0x100000 | 1 | (2 << 2) | (2 << 6), 2, 0, 0, 0, 0, 0, 0)
SS_TABLE = q64(0x100003)                        # R, W, next table
SS_LEAF = q64(0x200003)                         # R, W, the ring page
LROOT = q64(0x100001, 0)                        # legacy root entry
LCTX = q64(0x100001 | (2 << 2), 2 | (3 << 8))   # P, pass-through, DID 3
# testdev descriptor: WRITE_IMM of 8 bytes to 0x2000, interrupt
DESC = struct.pack("<BBHIQQQQ", 5, 1, 0, 8, 0, 0x2000, 0x1122334455667788, 0)


def patterns(*pats):
    return [dma_pattern(p) for p in pats]


def translation_on(rtaddr):
    return [write(IOMMU, RTADDR, rtaddr, 8),
            write(IOMMU, GCMD, GCMD_SRTP),
            write(IOMMU, GCMD, GCMD_TE)]


def td_run(q, tail, qctrl=QCTRL_ENABLE, pasid=0):
    return [write(TESTDEV, td_q(q, QRING_BASE), 0x200000, 8),
            write(TESTDEV, td_q(q, QRING_SIZE), 4),
            write(TESTDEV, td_q(q, QPASID), pasid),
            write(TESTDEV, td_q(q, QCTRL), qctrl),
            write(TESTDEV, td_q(q, QTAIL), tail),
            clock()]


SEEDS = {
    # scalable mode, RID_PASID pass-through: the descriptor completes
    "sm-pt-testdev": seed(
        *patterns(ROOT, CTX, PDIR, PE_PT, DESC),
        *translation_on(0x100000 | TTM_SM),
        *td_run(0, 1),
        read(IOMMU, FSTS)),
    # scalable mode, RID_PASID second stage 4-level: the ring fetch walks
    # four levels, the data write walks them again (its own IOVA)
    "sm-ss-testdev": seed(
        *patterns(ROOT, CTX, PDIR, PE_SS, SS_TABLE, SS_TABLE, SS_TABLE,
                  SS_LEAF, DESC, SS_TABLE, SS_TABLE, SS_TABLE, SS_LEAF),
        *translation_on(0x100000 | TTM_SM),
        *td_run(0, 1),
        read(IOMMU, FSTS),
        read(IOMMU, 0x200, 8),
        read(IOMMU, 0x208, 8)),
    # legacy mode, pass-through; then PASID-tagged requests (legacy mode
    # has none: fault), and a testdev reset
    "legacy-pasid": seed(
        *patterns(LROOT, LCTX, DESC),
        *translation_on(0x100000),
        *td_run(1, 1, QCTRL_ENABLE | QCTRL_PASID_EN, 7),
        write(TESTDEV, TD_CTRL, 1)),
    # queued invalidation: wait descriptors with status write and
    # interrupt; register-based context and IOTLB invalidation
    "qi-wait": seed(
        dma_pattern(q64(0x5 | (1 << 4) | (1 << 5) | (0x1234 << 32), 0x3000)),
        write(IOMMU, FECTL, 0),
        write(IOMMU, IECTL, 0),
        write(IOMMU, IQA, 0x300000, 8),
        write(IOMMU, GCMD, GCMD_QIE),
        write(IOMMU, IQT, 0x40, 8),
        write(IOMMU, CCMD, (1 << 63) | (1 << 61), 8),
        write(IOMMU, IVA, 0x1000, 8),
        write(IOMMU, IOTLB, (1 << 63) | (3 << 60), 8)),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[-1])
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
