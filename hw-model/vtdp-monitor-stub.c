/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vtdp monitor commands when the vtdp devices are not built in. */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-vtdp.h"

VtdpFaultLogList *qmp_query_vtdp_faults(bool has_count, uint32_t count,
                                        Error **errp)
{
    error_setg(errp, "this QEMU has no vtdp devices");
    return NULL;
}

void qmp_vtdp_faults_clear(const char *id, Error **errp)
{
    error_setg(errp, "this QEMU has no vtdp devices");
}

VtdpInfo *qmp_query_vtdp(Error **errp)
{
    error_setg(errp, "this QEMU has no vtdp devices");
    return NULL;
}
