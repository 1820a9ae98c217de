/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the vtdp qtests.
 */
#ifndef VTDP_QTEST_H
#define VTDP_QTEST_H

#include "qobject/qdict.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci.h"

/* Wait (bounded) until the migration of @qts completed; fail if it failed. */
static inline void vtdp_wait_migration(QTestState *qts)
{
    for (int i = 0; i < 3000; i++) {
        QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
        QDict *ret = qdict_get_qdict(rsp, "return");
        g_autofree char *st = g_strdup(qdict_haskey(ret, "status") ?
                                       qdict_get_str(ret, "status") : "");

        qobject_unref(rsp);
        g_assert_cmpstr(st, !=, "failed");
        if (!strcmp(st, "completed")) {
            return;
        }
        g_usleep(10000);
    }
    g_assert_not_reached();
}

/*
 * PCIe extended configuration space: libqos reaches only the first 256
 * bytes (CF8/CFC), so the tests open q35's ECAM window themselves (the
 * firmware's job on a real boot) at VTDP_QTEST_ECAM, 256 MiB below 4 GiB.
 */
#define VTDP_QTEST_ECAM 0xb0000000ULL

static inline void vtdp_ecam_enable(QPCIBus *bus)
{
    QPCIDevice *mch = qpci_device_find(bus, 0);

    g_assert(mch);
    qpci_config_writel(mch, 0x64, 0);                       /* PCIEXBAR hi */
    qpci_config_writel(mch, 0x60, (uint32_t)VTDP_QTEST_ECAM | 1); /* on */
    g_free(mch);
}

/* Guest-physical address of config offset @off of function @sid. */
static inline uint64_t vtdp_ecam(uint16_t sid, uint16_t off)
{
    return VTDP_QTEST_ECAM + ((uint64_t)sid << 12) + off;
}

/* Offset of extended capability @id of function @sid, 0 if absent. */
static inline uint16_t vtdp_find_ext_cap(QTestState *qts, uint16_t sid,
                                         uint16_t id)
{
    uint16_t off = 0x100;

    for (int n = 0; n < 64 && off; n++) {
        uint32_t hdr = qtest_readl(qts, vtdp_ecam(sid, off));

        if (!hdr) {
            break;
        }
        if ((hdr & 0xffff) == id) {
            return off;
        }
        off = (hdr >> 20) & 0xffc;
    }
    return 0;
}

#endif /* VTDP_QTEST_H */
