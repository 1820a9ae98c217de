/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtest for vtdp-testdev without an IOMMU: the descriptor ring and the
 * buffers live at fixed guest-physical addresses in RAM (no guest code
 * runs under qtest, so nothing else uses them).
 *
 * Queues run in their own threads, concurrently with the test: every wait
 * for the device is bounded by time (TD_WAIT_US), never by a number of
 * polls, and holds under load.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "../../include/vtdp/testdev-hw.h"
#include "standard-headers/linux/pci_regs.h"
#include "vtdp-qtest.h"

#define TD_DEVFN        QPCI_DEVFN(4, 0)
#define RING_GPA        0x100000ULL
#define SRC_GPA         0x200000ULL
#define DST_GPA         0x400000ULL
#define RAM_END         0x8000000ULL    /* -m 128M */
#define BAD_GPA         0xfff0000000000000ULL
#define RING_ENTRIES    16
#define TD_ID           "td0"
#define TD_WAIT_US      (120 * G_USEC_PER_SEC)

typedef struct TD {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    uint32_t tail[VTDP_TD_MAX_QUEUES];
    uint32_t size[VTDP_TD_MAX_QUEUES];
} TD;

typedef struct Desc {
    uint8_t opcode;
    uint8_t flags;
    uint32_t len;
    uint64_t src, dst, pattern;
} Desc;

typedef struct Compl {
    uint32_t status;
    uint32_t fault_info;
    uint64_t result;
    uint64_t fault_addr;
} Compl;

static uint64_t ring_gpa(uint32_t q)
{
    return RING_GPA + q * VTDP_TD_MAX_RING_ENTRIES * VTDP_TD_DESC_SIZE / 8;
}

static uint32_t rd(TD *t, uint32_t off)
{
    return qpci_io_readl(t->dev, t->bar, off);
}

static void wr(TD *t, uint32_t off, uint32_t v)
{
    qpci_io_writel(t->dev, t->bar, off, v);
}

/* (Re)start queue @q on a fresh ring of @entries. */
static void td_queue_setup(TD *t, uint32_t q, uint32_t entries, uint32_t ctrl)
{
    wr(t, VTDP_TD_QREG(q, VTDP_TD_QCTRL), 0);
    qpci_io_writeq(t->dev, t->bar, VTDP_TD_QREG(q, VTDP_TD_QRING_BASE),
                   ring_gpa(q));
    wr(t, VTDP_TD_QREG(q, VTDP_TD_QRING_SIZE), entries);
    wr(t, VTDP_TD_QREG(q, VTDP_TD_QCTRL), ctrl | VTDP_TD_QCTRL_ENABLE);
    t->tail[q] = 0;
    t->size[q] = entries;
}

/*
 * q35 with one vtdp-testdev (@props: extra device properties) + @extra;
 * no queue is touched (an incoming migration brings them).
 */
static TD *td_start_args(const char *props, const char *extra)
{
    TD *t = g_new0(TD, 1);

    t->qts = qtest_initf("-M q35 -m 128M -nodefaults "
                         "-device vtdp-testdev,id=" TD_ID ",addr=04.0%s%s %s",
                         props ? "," : "", props ? props : "",
                         extra ? extra : "");
    t->bus = qpci_new_pc(t->qts, NULL);
    t->dev = qpci_device_find(t->bus, TD_DEVFN);
    g_assert(t->dev);
    qpci_device_enable(t->dev);
    t->bar = qpci_iomap(t->dev, VTDP_TESTDEV_REG_BAR, NULL);
    return t;
}

/* The default device with queue 0 on a ring of RING_ENTRIES. */
static TD *td_start(void)
{
    TD *t = td_start_args(NULL, NULL);

    td_queue_setup(t, 0, RING_ENTRIES, 0);
    return t;
}

static void td_stop(TD *t)
{
    g_free(t->dev);
    qpci_free_pc(t->bus);
    qtest_quit(t->qts);
    g_free(t);
}

/* Write a descriptor at the queue's tail slot and return its address. */
static uint64_t td_put(TD *t, uint32_t q, const Desc *d)
{
    uint64_t a = ring_gpa(q) + t->tail[q] * VTDP_TD_DESC_SIZE;
    uint8_t b[VTDP_TD_DESC_SIZE] = { 0 };

    b[0] = d->opcode;
    b[1] = d->flags;
    stl_le_p(b + 4, d->len);
    stq_le_p(b + 8, d->src);
    stq_le_p(b + 16, d->dst);
    stq_le_p(b + 24, d->pattern);
    stq_le_p(b + 32, 0xc00c1e);
    qtest_memwrite(t->qts, a, b, sizeof(b));
    t->tail[q] = (t->tail[q] + 1) % t->size[q];
    return a;
}

static gint64 td_deadline(void)
{
    return g_get_monotonic_time() + TD_WAIT_US;
}

static bool td_before(gint64 deadline)
{
    return g_get_monotonic_time() < deadline;
}

static void td_wait_head(TD *t, uint32_t q, uint32_t head)
{
    gint64 end = td_deadline();

    while (rd(t, VTDP_TD_QREG(q, VTDP_TD_QHEAD)) != head && td_before(end)) {
        ;
    }
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(q, VTDP_TD_QHEAD)), ==, head);
}

static uint64_t td_stat_desc(TD *t)
{
    return qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_DESC);
}

/* Wait until STAT_DESC reached @n; return it. */
static uint64_t td_wait_stat_desc(TD *t, uint64_t n)
{
    gint64 end = td_deadline();

    while (td_stat_desc(t) < n && td_before(end)) {
        ;
    }
    if (td_stat_desc(t) < n) {
        for (uint32_t q = 0; q < 8; q++) {
            g_test_message("q%u: QCTRL 0x%x QSTATUS 0x%x QHEAD %u QTAIL %u", q,
                           rd(t, VTDP_TD_QREG(q, VTDP_TD_QCTRL)),
                           rd(t, VTDP_TD_QREG(q, VTDP_TD_QSTATUS)),
                           rd(t, VTDP_TD_QREG(q, VTDP_TD_QHEAD)),
                           rd(t, VTDP_TD_QREG(q, VTDP_TD_QTAIL)));
        }
    }
    g_assert_cmpuint(td_stat_desc(t), >=, n);
    return td_stat_desc(t);
}

static uint64_t td_qom_uint(TD *t, const char *prop)
{
    QDict *rsp = qtest_qmp(t->qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': '/machine/peripheral/" TD_ID "', "
                           "'property': %s } }", prop);
    uint64_t v;

    g_assert(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return v;
}

static Compl td_read_compl(TD *t, uint64_t a)
{
    uint8_t b[VTDP_TD_DESC_SIZE];
    Compl c;

    qtest_memread(t->qts, a, b, sizeof(b));
    g_assert_cmphex(ldq_le_p(b + 32), ==, 0xc00c1e);   /* cookie kept */
    c.status = ldl_le_p(b + 40);
    c.fault_info = ldl_le_p(b + 44);
    c.result = ldq_le_p(b + 48);
    c.fault_addr = ldq_le_p(b + 56);
    return c;
}

/* Submit one descriptor on queue 0 and wait for its completion. */
static Compl td_run(TD *t, const Desc *d)
{
    uint64_t a = td_put(t, 0, d);

    wr(t, VTDP_TD_QREG(0, VTDP_TD_QTAIL), t->tail[0]);
    td_wait_head(t, 0, t->tail[0]);
    return td_read_compl(t, a);
}

static void fill_pattern(TD *t, uint64_t gpa, size_t len, uint8_t seed)
{
    g_autofree uint8_t *b = g_malloc(len);

    for (size_t i = 0; i < len; i++) {
        b[i] = seed + i * 7 + (i >> 8);
    }
    qtest_memwrite(t->qts, gpa, b, len);
}

static void test_regs(void)
{
    TD *t = td_start();

    g_assert_cmphex(rd(t, VTDP_TD_REG_ID), ==, VTDP_TD_ID_MAGIC);
    g_assert_cmpuint(rd(t, VTDP_TD_REG_VERSION), ==, VTDP_TD_VERSION);
    g_assert_cmpuint(VTDP_TD_CAPS_NQUEUES(rd(t, VTDP_TD_REG_CAPS)), ==, 8);
    g_assert_true(rd(t, VTDP_TD_REG_CAPS) & VTDP_TD_CAPS_PASID);
    g_assert_cmpuint(VTDP_TD_CAPS_PASID_BITS(rd(t, VTDP_TD_REG_CAPS)), ==, 20);
    /* hostile sizes read 0; queues beyond CAPS read 0 */
    g_assert_cmpuint(qpci_io_readb(t->dev, t->bar, VTDP_TD_REG_ID), ==, 0);
    g_assert_cmpuint(qpci_io_readw(t->dev, t->bar, VTDP_TD_REG_ID), ==, 0);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(9, VTDP_TD_QRING_SIZE)), ==, 0);
    /* 64-bit RING_BASE readable as a whole and in halves */
    g_assert_cmphex(qpci_io_readq(t->dev, t->bar,
                                  VTDP_TD_QREG(0, VTDP_TD_QRING_BASE)),
                    ==, ring_gpa(0));
    /* PASID_EN is stored; QPASID is 20 bits wide (pasid-bits=20) */
    wr(t, VTDP_TD_QREG(1, VTDP_TD_QCTRL),
       VTDP_TD_QCTRL_PASID_EN | VTDP_TD_QCTRL_PRIV);
    g_assert_cmphex(rd(t, VTDP_TD_QREG(1, VTDP_TD_QCTRL)), ==,
                    VTDP_TD_QCTRL_PASID_EN | VTDP_TD_QCTRL_PRIV);
    wr(t, VTDP_TD_QREG(1, VTDP_TD_QPASID), 0xffffffff);
    g_assert_cmphex(rd(t, VTDP_TD_QREG(1, VTDP_TD_QPASID)), ==, 0xfffff);
    td_stop(t);
}

static void test_copy(void)
{
    static const struct { uint32_t so, dof, len; } cases[] = {
        { 0, 0, 1 }, { 3, 5, 10007 }, { 4095, 1, 4098 }, { 0, 0, 65536 },
        { 7, 4093, 200001 },
    };
    TD *t = td_start();

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t len = cases[i].len;
        uint64_t src = SRC_GPA + cases[i].so, dst = DST_GPA + cases[i].dof;
        g_autofree uint8_t *a = g_malloc(len);
        g_autofree uint8_t *b = g_malloc(len + 2);
        Desc d = { .opcode = VTDP_TD_OP_COPY, .len = len,
                   .src = src, .dst = dst };
        Compl c;

        fill_pattern(t, src, len, i);
        qtest_memset(t->qts, dst - 1, 0xee, len + 2);
        c = td_run(t, &d);
        g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
        qtest_memread(t->qts, src, a, len);
        qtest_memread(t->qts, dst - 1, b, len + 2);
        g_assert(memcmp(a, b + 1, len) == 0);
        g_assert_cmphex(b[0], ==, 0xee);
        g_assert_cmphex(b[len + 1], ==, 0xee);
    }
    td_stop(t);
}

static void test_fill(void)
{
    static const uint32_t lens[] = { 1, 7, 8, 13, 4097, 70001 };
    const uint64_t pat = 0x8877665544332211ULL;
    TD *t = td_start();

    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        uint32_t len = lens[i];
        uint64_t dst = DST_GPA + 3 + i;
        g_autofree uint8_t *b = g_malloc(len + 2);
        Desc d = { .opcode = VTDP_TD_OP_FILL, .len = len, .dst = dst,
                   .pattern = pat };
        Compl c;

        qtest_memset(t->qts, dst - 1, 0xee, len + 2);
        c = td_run(t, &d);
        g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
        qtest_memread(t->qts, dst - 1, b, len + 2);
        for (uint32_t j = 0; j < len; j++) {
            g_assert_cmphex(b[j + 1], ==, (uint8_t)(pat >> ((j % 8) * 8)));
        }
        g_assert_cmphex(b[0], ==, 0xee);
        g_assert_cmphex(b[len + 1], ==, 0xee);
    }
    td_stop(t);
}

static void test_crc32c(void)
{
    TD *t = td_start();
    Desc d = { .opcode = VTDP_TD_OP_CRC32C, .len = 9, .src = SRC_GPA + 1 };
    Compl c;

    qtest_memwrite(t->qts, SRC_GPA + 1, "123456789", 9);
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    g_assert_cmphex(c.result, ==, 0xe3069283);

    /* 32 zero bytes: RFC 3720 B.4 test vector, across a chunk boundary */
    qtest_memset(t->qts, SRC_GPA + 4096 - 16, 0, 32);
    d.src = SRC_GPA + 4096 - 16;
    d.len = 32;
    c = td_run(t, &d);
    g_assert_cmphex(c.result, ==, 0x8a9136aa);
    td_stop(t);
}

static void test_compare(void)
{
    TD *t = td_start();
    uint32_t len = 100000;
    Desc d = { .opcode = VTDP_TD_OP_COMPARE, .len = len,
               .src = SRC_GPA + 1, .dst = DST_GPA + 2 };
    uint8_t x = 0x5a;
    Compl c;

    fill_pattern(t, SRC_GPA + 1, len, 9);
    fill_pattern(t, DST_GPA + 2, len, 9);
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    g_assert_cmpuint(c.result, ==, len);

    qtest_memread(t->qts, DST_GPA + 2 + 70000, &x, 1);
    x ^= 0xff;
    qtest_memwrite(t->qts, DST_GPA + 2 + 70000, &x, 1);
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_MISMATCH);
    g_assert_cmpuint(c.result, ==, 70000);
    td_stop(t);
}

static void test_write_imm_nop_errors(void)
{
    TD *t = td_start();
    uint8_t b[5];
    Desc d = { .opcode = VTDP_TD_OP_WRITE_IMM, .len = 3, .dst = DST_GPA + 4095,
               .pattern = 0x0102030405060708ULL };
    Compl c;

    qtest_memset(t->qts, DST_GPA + 4094, 0xee, 5);
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    qtest_memread(t->qts, DST_GPA + 4094, b, 5);
    g_assert_cmphex(b[0], ==, 0xee);
    g_assert_cmphex(b[1], ==, 0x08);
    g_assert_cmphex(b[2], ==, 0x07);
    g_assert_cmphex(b[3], ==, 0x06);
    g_assert_cmphex(b[4], ==, 0xee);

    d.len = 9;
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_BAD_LEN);

    d = (Desc) { .opcode = VTDP_TD_OP_NOP };
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);

    d = (Desc) { .opcode = VTDP_TD_OP_COPY, .len = 0 };
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_BAD_LEN);
    d.len = VTDP_TD_MAX_LEN + 1;
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_BAD_LEN);

    d = (Desc) { .opcode = 0x77, .len = 8 };
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_BAD_OPCODE);

    g_assert_cmpuint(qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_DESC),
                     ==, 6);
    g_assert_cmpuint(qpci_io_readq(t->dev, t->bar,
                                   VTDP_TD_QREG(0, VTDP_TD_QCOMPLETED)), ==, 6);
    g_assert_cmpuint(qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_BYTES),
                     ==, 3);
    td_stop(t);
}

static void test_dma_fault(void)
{
    TD *t = td_start();
    uint8_t b[2];
    /* the write crosses from the last RAM page into nothing */
    Desc d = { .opcode = VTDP_TD_OP_FILL, .len = 200,
               .dst = RAM_END - 100, .pattern = 0x4242424242424242ULL };
    Compl c;

    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_DMA_FAULT);
    g_assert_cmphex(c.fault_addr, ==, RAM_END);
    g_assert_true(c.fault_info & VTDP_TD_FI_WRITE);
    g_assert_cmphex(VTDP_TD_FI_MEMTX(c.fault_info), !=, 0);
    qtest_memread(t->qts, RAM_END - 2, b, 2);
    g_assert_cmphex(b[1], ==, 0x42);    /* the part before the fault ran */

    /* read fault: nothing written to dst */
    qtest_memset(t->qts, DST_GPA, 0xee, 2);
    d = (Desc) { .opcode = VTDP_TD_OP_COPY, .len = 64, .src = BAD_GPA + 8,
                 .dst = DST_GPA };
    c = td_run(t, &d);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_DMA_FAULT);
    g_assert_cmphex(c.fault_addr, ==, BAD_GPA + 8);
    g_assert_false(c.fault_info & VTDP_TD_FI_WRITE);
    qtest_memread(t->qts, DST_GPA, b, 2);
    g_assert_cmphex(b[0], ==, 0xee);
    g_assert_cmpuint(qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_FAULTS),
                     ==, 2);
    td_stop(t);
}

static void test_halt_on_error(void)
{
    TD *t = td_start();
    Desc bad = { .opcode = VTDP_TD_OP_CRC32C, .len = 4, .src = BAD_GPA };
    Desc good = { .opcode = VTDP_TD_OP_NOP };
    uint64_t a1, a2;
    uint8_t st[4];

    td_queue_setup(t, 2, 8, VTDP_TD_QCTRL_HALT_ON_ERROR);
    a1 = td_put(t, 2, &bad);
    a2 = td_put(t, 2, &good);
    qtest_memset(t->qts, a2 + 40, 0, 4);
    wr(t, VTDP_TD_QREG(2, VTDP_TD_QTAIL), t->tail[2]);
    td_wait_head(t, 2, 1);
    for (int i = 0; i < 100; i++) {
        g_assert_cmpuint(rd(t, VTDP_TD_QREG(2, VTDP_TD_QHEAD)), ==, 1);
    }
    g_assert_cmphex(rd(t, VTDP_TD_QREG(2, VTDP_TD_QSTATUS)), ==,
                    VTDP_TD_QSTATUS_HALTED);
    g_assert_cmphex(td_read_compl(t, a1).status, ==,
                    VTDP_TD_ST_DONE | VTDP_TD_ST_DMA_FAULT);
    qtest_memread(t->qts, a2 + 40, st, 4);
    g_assert_cmphex(ldl_le_p(st), ==, 0);

    /* disabling clears HALTED and rewinds the indices */
    wr(t, VTDP_TD_QREG(2, VTDP_TD_QCTRL), 0);
    g_assert_cmphex(rd(t, VTDP_TD_QREG(2, VTDP_TD_QSTATUS)), ==, 0);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(2, VTDP_TD_QHEAD)), ==, 0);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(2, VTDP_TD_QTAIL)), ==, 0);

    /* ring not readable: RING_FAULT | HALTED */
    qpci_io_writeq(t->dev, t->bar, VTDP_TD_QREG(3, VTDP_TD_QRING_BASE),
                   BAD_GPA);
    wr(t, VTDP_TD_QREG(3, VTDP_TD_QRING_SIZE), 4);
    wr(t, VTDP_TD_QREG(3, VTDP_TD_QCTRL), VTDP_TD_QCTRL_ENABLE);
    wr(t, VTDP_TD_QREG(3, VTDP_TD_QTAIL), 1);
    for (gint64 end = td_deadline();
         !rd(t, VTDP_TD_QREG(3, VTDP_TD_QSTATUS)) && td_before(end);) {
        /* wait for the worker */
    }
    g_assert_cmphex(rd(t, VTDP_TD_QREG(3, VTDP_TD_QSTATUS)), ==,
                    VTDP_TD_QSTATUS_HALTED | VTDP_TD_QSTATUS_RING_FAULT);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(3, VTDP_TD_QHEAD)), ==, 0);
    td_stop(t);
}

static void test_bad_config(void)
{
    TD *t = td_start();

    wr(t, VTDP_TD_QREG(4, VTDP_TD_QRING_SIZE), 3);
    wr(t, VTDP_TD_QREG(4, VTDP_TD_QCTRL), VTDP_TD_QCTRL_ENABLE);
    g_assert_cmphex(rd(t, VTDP_TD_QREG(4, VTDP_TD_QSTATUS)), ==,
                    VTDP_TD_QSTATUS_BAD_CONFIG);
    wr(t, VTDP_TD_QREG(4, VTDP_TD_QTAIL), 1);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(4, VTDP_TD_QHEAD)), ==, 0);
    /* size 8192 too large */
    wr(t, VTDP_TD_QREG(5, VTDP_TD_QRING_SIZE), 8192);
    wr(t, VTDP_TD_QREG(5, VTDP_TD_QCTRL), VTDP_TD_QCTRL_ENABLE);
    g_assert_cmphex(rd(t, VTDP_TD_QREG(5, VTDP_TD_QSTATUS)), ==,
                    VTDP_TD_QSTATUS_BAD_CONFIG);
    td_stop(t);
}

static void test_wrap(void)
{
    TD *t = td_start();

    td_queue_setup(t, 1, 4, 0);
    for (uint32_t i = 0; i < 11; i++) {
        Desc d = { .opcode = VTDP_TD_OP_WRITE_IMM, .len = 4,
                   .dst = DST_GPA + i * 4, .pattern = 0xabc00000 + i };
        uint64_t a = td_put(t, 1, &d);

        wr(t, VTDP_TD_QREG(1, VTDP_TD_QTAIL), t->tail[1]);
        td_wait_head(t, 1, t->tail[1]);
        g_assert_cmphex(td_read_compl(t, a).status, ==,
                        VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
        g_assert_cmphex(qtest_readl(t->qts, DST_GPA + i * 4), ==,
                        0xabc00000 + i);
    }
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(1, VTDP_TD_QHEAD)), ==, 11 % 4);
    g_assert_cmpuint(qpci_io_readq(t->dev, t->bar,
                                   VTDP_TD_QREG(1, VTDP_TD_QCOMPLETED)),
                     ==, 11);
    td_stop(t);
}

static void test_reset_midqueue(void)
{
    /* 255 x 4 MiB fills: far more than run before the reset arrives */
    const uint32_t n = 255;
    TD *t = td_start();
    uint64_t done;

    td_queue_setup(t, 0, n + 1, 0);
    for (uint32_t i = 0; i < n; i++) {
        Desc d = { .opcode = VTDP_TD_OP_FILL, .len = 4 << 20,
                   .dst = 0x1000000 + ((i % 16) << 22), .pattern = i };
        td_put(t, 0, &d);
    }
    wr(t, VTDP_TD_QREG(0, VTDP_TD_QTAIL), t->tail[0]);
    td_wait_stat_desc(t, 1);
    wr(t, VTDP_TD_REG_CTRL, VTDP_TD_CTRL_RESET);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(0, VTDP_TD_QCTRL)), ==, 0);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(0, VTDP_TD_QHEAD)), ==, 0);
    g_assert_cmpuint(rd(t, VTDP_TD_QREG(0, VTDP_TD_QTAIL)), ==, 0);
    done = qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_DESC);
    g_assert_cmpuint(done, >=, 1);
    g_assert_cmpuint(done, <, n);
    for (int i = 0; i < 100; i++) {
        g_assert_cmpuint(qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_DESC),
                         ==, done);
    }
    /* the queue works again after re-enabling */
    td_queue_setup(t, 0, RING_ENTRIES, 0);
    {
        Desc d = { .opcode = VTDP_TD_OP_NOP };
        g_assert_cmphex(td_run(t, &d).status, ==,
                        VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    }
    td_stop(t);
}

/* 7 descriptors on each of 8 queues, all doorbells rung together. */
static void multi_queue_run(TD *t)
{
    int q;

    for (q = 0; q < 8; q++) {
        td_queue_setup(t, q, 8, 0);
        for (int i = 0; i < 7; i++) {
            Desc d = { .opcode = VTDP_TD_OP_WRITE_IMM, .len = 1,
                       .dst = DST_GPA + q * 8 + i, .pattern = q * 16 + i };
            td_put(t, q, &d);
        }
    }
    for (q = 0; q < 8; q++) {
        wr(t, VTDP_TD_QREG(q, VTDP_TD_QTAIL), 7);
    }
    for (q = 0; q < 8; q++) {
        td_wait_head(t, q, 7);
        for (int i = 0; i < 7; i++) {
            g_assert_cmphex(qtest_readb(t->qts, DST_GPA + q * 8 + i), ==,
                            q * 16 + i);
        }
    }
    g_assert_cmpuint(qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_DESC),
                     ==, 56);
}

static void test_multi_queue(void)
{
    TD *t = td_start();

    multi_queue_run(t);
    td_stop(t);
}

/*
 * worker-threads=off: the queues run from a main-loop bottom half, one
 * descriptor at a time (never two queues busy at once), with the same
 * results; a stopped VM still sees no DMA.
 */
static void test_no_worker_threads(void)
{
    TD *t = td_start_args("worker-threads=off", NULL);
    Desc d = { .opcode = VTDP_TD_OP_WRITE_IMM, .len = 8, .dst = DST_GPA + 512,
               .pattern = 0x5a5a5a5a5a5a5a5aULL };

    multi_queue_run(t);
    g_assert_cmpuint(td_qom_uint(t, "peak-active-queues"), ==, 1);
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'stop' }");
    td_queue_setup(t, 0, 4, 0);
    td_put(t, 0, &d);
    wr(t, VTDP_TD_QREG(0, VTDP_TD_QTAIL), t->tail[0]);
    g_usleep(100 * 1000);
    g_assert_cmphex(qtest_readq(t->qts, DST_GPA + 512), ==, 0);
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'cont' }");
    td_wait_head(t, 0, 1);
    g_assert_cmphex(qtest_readq(t->qts, DST_GPA + 512), ==, d.pattern);
    td_stop(t);
}

/* max-len bounds the descriptor length; anything longer is BAD_LEN. */
static void test_max_len(void)
{
    TD *t = td_start_args("max-len=4096", NULL);
    Desc ok = { .opcode = VTDP_TD_OP_FILL, .len = 4096, .dst = DST_GPA,
                .pattern = 0x1111111111111111ULL };
    Desc big = { .opcode = VTDP_TD_OP_FILL, .len = 4097, .dst = DST_GPA,
                 .pattern = 0x2222222222222222ULL };
    Compl c;

    td_queue_setup(t, 0, RING_ENTRIES, 0);
    c = td_run(t, &ok);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    c = td_run(t, &big);
    g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_BAD_LEN);
    g_assert_cmphex(qtest_readq(t->qts, DST_GPA), ==, ok.pattern);
    td_stop(t);
}

static void test_msix(void)
{
    TD *t = td_start();
    Desc irq = { .opcode = VTDP_TD_OP_NOP, .flags = VTDP_TD_DF_IRQ };
    Desc quiet = { .opcode = VTDP_TD_OP_NOP };

    /* vectors come out of reset masked: a notify sets the PBA bit */
    qpci_msix_enable(t->dev);
    g_assert_cmpuint(qpci_msix_table_size(t->dev), ==, 8);
    g_assert_true(qpci_msix_masked(t->dev, 3));
    td_run(t, &quiet);
    g_assert_false(qpci_msix_pending(t->dev, 0));
    td_queue_setup(t, 3, 4, 0);
    td_put(t, 3, &irq);
    wr(t, VTDP_TD_QREG(3, VTDP_TD_QTAIL), t->tail[3]);
    td_wait_head(t, 3, 1);
    g_assert_true(qpci_msix_pending(t->dev, 3));
    g_assert_false(qpci_msix_pending(t->dev, 0));
    qpci_msix_disable(t->dev);
    td_stop(t);
}

/*
 * ATS is advertised (after PASID) and accepted harmlessly: enabling it
 * changes nothing about how the device's requests are served.
 */
static void test_ats(void)
{
    TD *t = td_start();
    uint16_t ats, pasid;
    Desc d = { .opcode = VTDP_TD_OP_WRITE_IMM, .len = 8, .dst = DST_GPA,
               .pattern = 0xa75a75 };

    vtdp_ecam_enable(t->bus);
    pasid = vtdp_find_ext_cap(t->qts, TD_DEVFN, PCI_EXT_CAP_ID_PASID);
    ats = vtdp_find_ext_cap(t->qts, TD_DEVFN, PCI_EXT_CAP_ID_ATS);
    g_assert_cmphex(pasid, ==, 0x100);
    g_assert_cmphex(ats, ==, 0x100 + PCI_EXT_CAP_PASID_SIZEOF);
    qtest_writew(t->qts, vtdp_ecam(TD_DEVFN, ats + PCI_ATS_CTRL),
                 PCI_ATS_CTRL_ENABLE);
    g_assert_cmphex(qtest_readw(t->qts, vtdp_ecam(TD_DEVFN, ats + PCI_ATS_CTRL))
                    & PCI_ATS_CTRL_ENABLE, ==, PCI_ATS_CTRL_ENABLE);
    g_assert_cmphex(td_run(t, &d).status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    g_assert_cmphex(qtest_readq(t->qts, DST_GPA), ==, 0xa75a75);
    td_stop(t);

    /* Without PASID, ATS is the first extended capability; ats=off: none */
    t = td_start_args("pasid-bits=0", NULL);
    vtdp_ecam_enable(t->bus);
    g_assert_cmphex(vtdp_find_ext_cap(t->qts, TD_DEVFN, PCI_EXT_CAP_ID_PASID),
                    ==, 0);
    g_assert_cmphex(vtdp_find_ext_cap(t->qts, TD_DEVFN, PCI_EXT_CAP_ID_ATS),
                    ==, 0x100);
    td_stop(t);
    t = td_start_args("ats=off", NULL);
    vtdp_ecam_enable(t->bus);
    g_assert_cmphex(vtdp_find_ext_cap(t->qts, TD_DEVFN, PCI_EXT_CAP_ID_ATS),
                    ==, 0);
    g_assert_cmphex(vtdp_find_ext_cap(t->qts, TD_DEVFN, PCI_EXT_CAP_ID_PASID),
                    ==, 0x100);
    td_stop(t);
}

/*
 * Migrate with descriptors in flight: every queue full of 4 MiB fills,
 * the VM stopped part way (a stopped VM sees no DMA), saved, loaded into a
 * new QEMU and continued there.  Every descriptor completes exactly once:
 * the migrated counter ends at the number submitted and every completion
 * slot says OK.
 */
static void test_migration_inflight(void)
{
    g_autofree char *file = g_strdup_printf("%s/vtdp-td-mig-%d.bin",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    const uint32_t per_q = 63;
    uint32_t nq;
    uint64_t total, done, head_sum;
    TD *t = td_start();
    TD *d;

    nq = VTDP_TD_CAPS_NQUEUES(rd(t, VTDP_TD_REG_CAPS));
    g_assert_cmpuint(nq, ==, 8);        /* the default "queues" */
    total = (uint64_t)per_q * nq;

    for (uint32_t q = 0; q < nq; q++) {
        td_queue_setup(t, q, per_q + 1, 0);
        for (uint32_t i = 0; i < per_q; i++) {
            Desc desc = { .opcode = VTDP_TD_OP_FILL, .len = 4 << 20,
                          .dst = 0x1000000 + ((i % 4) << 22),
                          .pattern = q * 100 + i };
            td_put(t, q, &desc);
        }
    }
    for (uint32_t q = 0; q < nq; q++) {
        wr(t, VTDP_TD_QREG(q, VTDP_TD_QTAIL), t->tail[q]);
    }
    td_wait_stat_desc(t, 1);
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'stop' }");
    done = td_stat_desc(t);
    g_assert_cmpuint(done, >=, 1);
    g_assert_cmpuint(done, <, total);       /* really in flight */
    /* Stopped: no progress at all */
    g_usleep(50 * 1000);
    g_assert_cmpuint(td_stat_desc(t), ==, done);

    qtest_qmp_assert_success(t->qts, "{ 'execute': 'migrate', 'arguments':"
                             " { 'uri': %s } }", uri);
    vtdp_wait_migration(t->qts);
    td_stop(t);

    d = td_start_args(NULL, incoming);
    vtdp_wait_migration(d->qts);
    unlink(file);
    g_assert_cmpuint(td_stat_desc(d), ==, done);
    qtest_qmp_assert_success(d->qts, "{ 'execute': 'cont' }");
    g_assert_cmpuint(td_wait_stat_desc(d, total), ==, total);
    head_sum = 0;
    for (uint32_t q = 0; q < nq; q++) {
        head_sum += rd(d, VTDP_TD_QREG(q, VTDP_TD_QHEAD));
        for (uint32_t i = 0; i < per_q; i++) {
            uint64_t slot = ring_gpa(q) + i * VTDP_TD_DESC_SIZE;

            g_assert_cmphex(qtest_readl(d->qts, slot + 40), ==,
                            VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
        }
    }
    g_assert_cmpuint(head_sum, ==, total);
    /* Nothing ran twice: the counter stays where it is */
    g_usleep(50 * 1000);
    g_assert_cmpuint(td_stat_desc(d), ==, total);
    td_stop(d);
}

/*
 * Queues run in parallel: each of the 8 queues gets chains of a 16 MiB
 * fill of a shared scratch region (long enough that the host scheduler
 * preempts a worker in the middle of it, so that queues overlap even when
 * the host gives QEMU one CPU at a time) and 1 MiB descriptors that only
 * give the expected results in ring order (fill, copy, compare equal,
 * refill, compare different).  The device must have had at least two
 * queues executing a descriptor at the same instant
 * ("peak-active-queues").  A device that serves its queues from one
 * thread never gets past 1.
 */
static void test_parallel_queues(void)
{
    const uint32_t nq = 8, chains = 3, len = 1 << 20;
    const uint32_t per_q = chains * 6;
    const uint64_t scratch = 0x3000000;
    TD *t = td_start();
    uint64_t peak;

    for (uint32_t q = 0; q < nq; q++) {
        uint64_t x = 0x1000000 + q * (2 << 20), y = x + len;
        uint64_t p1 = 0x0101010101010101ULL * (q + 1);

        td_queue_setup(t, q, 32, 0);
        for (uint32_t c = 0; c < chains; c++) {
            Desc d[6] = {
                { .opcode = VTDP_TD_OP_FILL, .len = VTDP_TD_MAX_LEN,
                  .dst = scratch, .pattern = q },
                { .opcode = VTDP_TD_OP_FILL, .len = len, .dst = x,
                  .pattern = p1 + c },
                { .opcode = VTDP_TD_OP_COPY, .len = len, .src = x, .dst = y },
                { .opcode = VTDP_TD_OP_COMPARE, .len = len, .src = x,
                  .dst = y },
                { .opcode = VTDP_TD_OP_FILL, .len = len, .dst = x,
                  .pattern = ~(p1 + c) },
                { .opcode = VTDP_TD_OP_COMPARE, .len = len, .src = x,
                  .dst = y },
            };

            for (int i = 0; i < 6; i++) {
                td_put(t, q, &d[i]);
            }
        }
    }
    /*
     * Ring every doorbell while the VM is stopped, so that all queues get
     * their work at the same instant (cont), however the host schedules
     * this test between doorbells.
     */
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'stop' }");
    for (uint32_t q = 0; q < nq; q++) {
        wr(t, VTDP_TD_QREG(q, VTDP_TD_QTAIL), t->tail[q]);
    }
    g_assert_cmpuint(td_stat_desc(t), ==, 0);
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'cont' }");
    for (uint32_t q = 0; q < nq; q++) {
        td_wait_head(t, q, per_q);
        for (uint32_t i = 0; i < per_q; i++) {
            Compl c = td_read_compl(t, ring_gpa(q) + i * VTDP_TD_DESC_SIZE);

            switch (i % 6) {
            case 3:
                g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
                g_assert_cmpuint(c.result, ==, len);
                break;
            case 5:
                g_assert_cmphex(c.status, ==,
                                VTDP_TD_ST_DONE | VTDP_TD_ST_MISMATCH);
                g_assert_cmpuint(c.result, ==, 0);
                break;
            default:
                g_assert_cmphex(c.status, ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
            }
        }
        g_assert_cmphex(qtest_readq(t->qts, 0x1000000 + q * (2 << 20) + len),
                        ==, 0x0101010101010101ULL * (q + 1) + chains - 1);
    }
    g_assert_cmpuint(td_stat_desc(t), ==, nq * per_q);
    g_assert_cmpuint(qpci_io_readq(t->dev, t->bar, VTDP_TD_REG_STAT_BYTES),
                     ==, (uint64_t)nq * chains * (VTDP_TD_MAX_LEN + 5 * len));
    peak = td_qom_uint(t, "peak-active-queues");
    g_test_message("peak-active-queues %" PRIu64, peak);
    g_assert_cmpuint(peak, >=, 2);
    g_assert_cmpuint(peak, <=, nq);
    td_stop(t);
}

/*
 * Queue @q's completions: slots [0, n) done OK, the rest never touched.
 * Returns n.
 */
static uint32_t td_check_done_prefix(TD *t, uint32_t q, uint32_t slots)
{
    uint32_t n = 0;

    while (n < slots &&
           qtest_readl(t->qts, ring_gpa(q) + n * VTDP_TD_DESC_SIZE + 40)) {
        g_assert_cmphex(qtest_readl(t->qts, ring_gpa(q) +
                                    n * VTDP_TD_DESC_SIZE + 40),
                        ==, VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
        n++;
    }
    for (uint32_t i = n; i < slots; i++) {
        g_assert_cmphex(qtest_readl(t->qts, ring_gpa(q) +
                                    i * VTDP_TD_DESC_SIZE + 40), ==, 0);
    }
    return n;
}

/*
 * Stop busy queues, again and again: all 8 queues loaded with 16 MiB
 * fills of one region, then, once they are under way, every queue
 * disabled, or CTRL.RESET, or a system reset.  Each must return with no
 * descriptor half done and no DMA after it: the completions are a prefix
 * of each ring, they match the counters exactly, and nothing moves
 * afterwards, neither completions nor counters nor a marker written over
 * the region (byte 7 of every page: the fills write 0 there).  The device
 * works again after each round, and QEMU quits with all queues busy.
 */
static void test_quiesce_busy(void)
{
    const uint32_t nq = 8, per_q = 63, rounds = 9, len = VTDP_TD_MAX_LEN;
    const uint64_t region = 0x1000000;
    TD *t = td_start();
    uint64_t base = 0;

    for (uint32_t r = 0; r < rounds; r++) {
        uint32_t how = r % 3;
        uint32_t n[8];
        uint64_t stat, done = 0;

        for (uint32_t q = 0; q < nq; q++) {
            td_queue_setup(t, q, per_q + 1, 0);
            for (uint32_t i = 0; i < per_q; i++) {
                Desc d = { .opcode = VTDP_TD_OP_FILL, .len = len,
                           .dst = region,
                           .pattern = r * 1000 + q * 100 + i };
                td_put(t, q, &d);
            }
        }
        for (uint32_t q = 0; q < nq; q++) {
            wr(t, VTDP_TD_QREG(q, VTDP_TD_QTAIL), t->tail[q]);
        }
        td_wait_stat_desc(t, base + nq);

        if (how == 0) {
            for (uint32_t q = 0; q < nq; q++) {
                wr(t, VTDP_TD_QREG(q, VTDP_TD_QCTRL), 0);
                g_assert_cmphex(rd(t, VTDP_TD_QREG(q, VTDP_TD_QSTATUS)),
                                ==, 0);
                g_assert_cmpuint(rd(t, VTDP_TD_QREG(q, VTDP_TD_QHEAD)), ==, 0);
                g_assert_cmpuint(rd(t, VTDP_TD_QREG(q, VTDP_TD_QTAIL)), ==, 0);
            }
        } else if (how == 1) {
            wr(t, VTDP_TD_REG_CTRL, VTDP_TD_CTRL_RESET);
        } else {
            qtest_qmp_assert_success(t->qts,
                                     "{ 'execute': 'system_reset' }");
            qtest_qmp_eventwait(t->qts, "RESET");
            /* the reset cleared the command register and the BARs */
            qpci_device_enable(t->dev);
            t->bar = qpci_iomap(t->dev, VTDP_TESTDEV_REG_BAR, NULL);
        }

        qtest_memset(t->qts, region, 0x5a, len);
        stat = td_stat_desc(t);
        for (uint32_t q = 0; q < nq; q++) {
            uint64_t c = qpci_io_readq(t->dev, t->bar,
                                       VTDP_TD_QREG(q, VTDP_TD_QCOMPLETED));

            n[q] = td_check_done_prefix(t, q, per_q);
            g_assert_cmpuint(rd(t, VTDP_TD_QREG(q, VTDP_TD_QCTRL)), ==, 0);
            /* disabling keeps QCOMPLETED; CTRL.RESET and reset clear it */
            g_assert_cmpuint(c, ==, how == 0 ? n[q] : 0);
            done += n[q];
        }
        g_assert_cmpuint(done, >=, nq);
        g_assert_cmpuint(done, <, (uint64_t)nq * per_q);
        /* the global counter: kept by CTRL.RESET, cleared by a reset */
        g_assert_cmpuint(stat, ==, how == 2 ? 0 : base + done);

        /* nothing moves any more */
        g_usleep(50 * 1000);
        g_assert_cmpuint(td_stat_desc(t), ==, stat);
        for (uint64_t a = region + 7; a < region + len; a += 4096) {
            g_assert_cmphex(qtest_readb(t->qts, a), ==, 0x5a);
        }
        for (uint32_t q = 0; q < nq; q++) {
            g_assert_cmpuint(td_check_done_prefix(t, q, per_q), ==, n[q]);
        }
        base = stat;
    }

    /* and the device works */
    td_queue_setup(t, 0, RING_ENTRIES, 0);
    {
        Desc d = { .opcode = VTDP_TD_OP_NOP };
        g_assert_cmphex(td_run(t, &d).status, ==,
                        VTDP_TD_ST_DONE | VTDP_TD_ST_OK);
    }
    g_assert_cmpuint(td_stat_desc(t), ==, base + 1);

    /*
     * QEMU quits cleanly with every queue busy (libqtest fails the test
     * if it dies from a signal or exits with an error).
     */
    for (uint32_t q = 0; q < nq; q++) {
        td_queue_setup(t, q, per_q + 1, 0);
        for (uint32_t i = 0; i < per_q; i++) {
            Desc d = { .opcode = VTDP_TD_OP_FILL, .len = len, .dst = region };
            td_put(t, q, &d);
        }
        wr(t, VTDP_TD_QREG(q, VTDP_TD_QTAIL), t->tail[q]);
    }
    td_wait_stat_desc(t, base + 1 + nq);
    td_stop(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vtdp-testdev/regs", test_regs);
    qtest_add_func("/vtdp-testdev/copy", test_copy);
    qtest_add_func("/vtdp-testdev/fill", test_fill);
    qtest_add_func("/vtdp-testdev/crc32c", test_crc32c);
    qtest_add_func("/vtdp-testdev/compare", test_compare);
    qtest_add_func("/vtdp-testdev/write-imm-nop-errors",
                   test_write_imm_nop_errors);
    qtest_add_func("/vtdp-testdev/dma-fault", test_dma_fault);
    qtest_add_func("/vtdp-testdev/halt-on-error", test_halt_on_error);
    qtest_add_func("/vtdp-testdev/bad-config", test_bad_config);
    qtest_add_func("/vtdp-testdev/wrap", test_wrap);
    qtest_add_func("/vtdp-testdev/reset-midqueue", test_reset_midqueue);
    qtest_add_func("/vtdp-testdev/multi-queue", test_multi_queue);
    qtest_add_func("/vtdp-testdev/no-worker-threads", test_no_worker_threads);
    qtest_add_func("/vtdp-testdev/max-len", test_max_len);
    qtest_add_func("/vtdp-testdev/parallel-queues", test_parallel_queues);
    qtest_add_func("/vtdp-testdev/quiesce-busy", test_quiesce_busy);
    qtest_add_func("/vtdp-testdev/msix", test_msix);
    qtest_add_func("/vtdp-testdev/ats", test_ats);
    qtest_add_func("/vtdp-testdev/migration-inflight",
                   test_migration_inflight);
    return g_test_run();
}
