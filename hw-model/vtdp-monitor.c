/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtdp monitor commands: QMP query-vtdp, query-vtdp-faults and
 * vtdp-faults-clear (qapi/vtdp.json, added by qemu-patches/), and the HMP
 * commands "info vtdp", "info vtdp-faults" and "vtdp-faults-clear" built
 * on them, so that HMP and QMP always show the same data.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "qapi/qapi-commands-vtdp.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "hw/pci/pci_device.h"
#include "hw/vtdp/vtdp-iommu.h"
#include "hw/vtdp/vtdp-testdev.h"

typedef struct VtdpDevices {
    GPtrArray *iommus;
    GPtrArray *endpoints;
} VtdpDevices;

static int vtdp_collect(Object *obj, void *opaque)
{
    VtdpDevices *d = opaque;

    if (object_dynamic_cast(obj, TYPE_VTDP_IOMMU)) {
        g_ptr_array_add(d->iommus, obj);
    } else if (object_dynamic_cast(obj, TYPE_VTDP_TESTDEV)) {
        g_ptr_array_add(d->endpoints, obj);
    }
    return 0;
}

/* Every realized vtdp device, in QOM tree order. */
static void vtdp_find_devices(VtdpDevices *d)
{
    d->iommus = g_ptr_array_new();
    d->endpoints = g_ptr_array_new();
    object_child_foreach_recursive(object_get_root(), vtdp_collect, d);
}

static void vtdp_free_devices(VtdpDevices *d)
{
    g_ptr_array_free(d->iommus, true);
    g_ptr_array_free(d->endpoints, true);
}

static char *vtdp_device_id(Object *obj)
{
    DeviceState *dev = DEVICE(obj);

    return g_strdup(dev->id ? dev->id : object_get_typename(obj));
}

static uint16_t vtdp_device_sid(Object *obj)
{
    PCIDevice *pdev = PCI_DEVICE(obj);

    return PCI_BUILD_BDF(pci_dev_bus_num(pdev), pdev->devfn);
}

/* ---------------------------------------------------------------------- */
/* QMP                                                                     */

static VtdpFaultLog *vtdp_fault_log(VTDPIOMMUState *s, size_t max)
{
    VtdpFaultLog *log = g_new0(VtdpFaultLog, 1);
    VtdpFaultList **tail = &log->faults;
    g_autofree struct vtdp_fault_record *recs = NULL;
    size_t n = 0;

    log->id = vtdp_device_id(OBJECT(s));
    log->qom_path = object_get_canonical_path(OBJECT(s));
    log->sid = vtdp_device_sid(OBJECT(s));
    if (!s->core_ready) {
        return log;
    }

    qemu_rec_mutex_lock(&s->lock);
    max = MIN(max, s->core.cfg.fault_log_size);
    recs = g_new0(struct vtdp_fault_record, MAX(max, 1));
    n = vtdp_core_fault_log(&s->core, recs, max);
    log->recorded = s->core.stats.faults_recorded;
    log->suppressed = s->core.stats.faults_suppressed;
    log->dropped = s->core.stats.faults_dropped;
    qemu_rec_mutex_unlock(&s->lock);

    for (size_t i = 0; i < n; i++) {
        const struct vtdp_fault_record *r = &recs[i];
        VtdpFault *f = g_new0(VtdpFault, 1);

        f->index = r->index;
        f->time_ns = r->time_ns;
        f->sid = r->sid;
        f->has_pasid = r->pasid_valid;
        f->pasid = r->pasid;
        f->address = r->addr;
        f->write = r->write;
        f->privileged = r->priv;
        f->execute = r->exec;
        f->reason = r->reason;
        f->reason_name = g_strdup(vtdp_fault_reason_name(r->reason));
        f->suppressed = r->suppressed;
        f->dropped = r->dropped;
        QAPI_LIST_APPEND(tail, f);
    }
    return log;
}

VtdpFaultLogList *qmp_query_vtdp_faults(bool has_count, uint32_t count,
                                        Error **errp)
{
    VtdpFaultLogList *head = NULL, **tail = &head;
    VtdpDevices d;

    vtdp_find_devices(&d);
    for (guint i = 0; i < d.iommus->len; i++) {
        QAPI_LIST_APPEND(tail, vtdp_fault_log(VTDP_IOMMU(d.iommus->pdata[i]),
                                              has_count ? count : SIZE_MAX));
    }
    vtdp_free_devices(&d);
    return head;
}

void qmp_vtdp_faults_clear(const char *id, Error **errp)
{
    VtdpDevices d;
    bool found = false;

    vtdp_find_devices(&d);
    for (guint i = 0; i < d.iommus->len; i++) {
        VTDPIOMMUState *s = VTDP_IOMMU(d.iommus->pdata[i]);
        g_autofree char *dev_id = vtdp_device_id(OBJECT(s));

        if (id && strcmp(id, dev_id)) {
            continue;
        }
        found = true;
        if (s->core_ready) {
            qemu_rec_mutex_lock(&s->lock);
            vtdp_core_fault_log_clear(&s->core);
            qemu_rec_mutex_unlock(&s->lock);
        }
    }
    vtdp_free_devices(&d);
    if (!found) {
        error_setg(errp, id ? "no vtdp-iommu with id '%s'" : "no vtdp-iommu",
                   id);
    }
}

static void vtdp_add_address_space(uint16_t sid, bool has_pasid,
                                   uint32_t pasid, void *opaque)
{
    VtdpAddressSpaceList ***tail = opaque;
    VtdpAddressSpace *as = g_new0(VtdpAddressSpace, 1);

    as->sid = sid;
    as->has_pasid = has_pasid;
    as->pasid = pasid;
    QAPI_LIST_APPEND(*tail, as);
}

static VtdpIommuInfo *vtdp_iommu_info(VTDPIOMMUState *s)
{
    VtdpIommuInfo *info = g_new0(VtdpIommuInfo, 1);
    VtdpAddressSpaceList **as_tail = &info->address_spaces;
    struct vtdp_core_stats st;

    info->id = vtdp_device_id(OBJECT(s));
    info->qom_path = object_get_canonical_path(OBJECT(s));
    info->aw_bits = s->aw_bits;
    info->pasid_bits = s->pasid_bits;
    info->nfr = s->nfr;
    info->iotlb_size = s->iotlb_size;
    info->fault_log_size = s->fault_log_size;
    if (!s->core_ready) {
        return info;
    }

    qemu_rec_mutex_lock(&s->lock);
    info->translation_enabled = vtdp_core_translation_enabled(&s->core);
    info->root_table = s->core.rtaddr_active & VTDP_RTADDR_ADDR_MASK;
    st = s->core.stats;
    qemu_rec_mutex_unlock(&s->lock);
    vtdp_iommu_foreach_address_space(s, vtdp_add_address_space, &as_tail);

    info->translations = st.translations;
    info->iotlb_hits = st.iotlb_hits;
    info->iotlb_misses = st.iotlb_misses;
    info->iotlb_evictions = st.iotlb_evictions;
    info->context_cache_hits = st.ctx_hits;
    info->context_cache_misses = st.ctx_misses;
    info->pasid_cache_hits = st.pc_hits;
    info->pasid_cache_misses = st.pc_misses;
    info->faults_recorded = st.faults_recorded;
    info->faults_suppressed = st.faults_suppressed;
    info->faults_dropped = st.faults_dropped;
    info->inv_context = st.inv_context;
    info->inv_pasid_cache = st.inv_pasid_cache;
    info->inv_iotlb = st.inv_iotlb;
    info->inv_piotlb = st.inv_piotlb;
    info->inv_devtlb = st.inv_devtlb;
    info->inv_iec = st.inv_iec;
    info->inv_wait = st.inv_wait;
    info->inv_errors = st.inv_errors;
    info->sanitizer = s->sanitizer;
    info->sanitizer_reports = st.sanitizer_reports;
    return info;
}

VtdpInfo *qmp_query_vtdp(Error **errp)
{
    VtdpInfo *info = g_new0(VtdpInfo, 1);
    VtdpIommuInfoList **it = &info->iommus;
    VtdpEndpointInfoList **et = &info->endpoints;
    VtdpDevices d;

    vtdp_find_devices(&d);
    for (guint i = 0; i < d.iommus->len; i++) {
        QAPI_LIST_APPEND(it, vtdp_iommu_info(VTDP_IOMMU(d.iommus->pdata[i])));
    }
    for (guint i = 0; i < d.endpoints->len; i++) {
        Object *obj = d.endpoints->pdata[i];
        VtdpEndpointInfo *e = g_new0(VtdpEndpointInfo, 1);

        e->id = vtdp_device_id(obj);
        e->qom_path = object_get_canonical_path(obj);
        e->sid = vtdp_device_sid(obj);
        e->queues = object_property_get_uint(obj, "queues", &error_abort);
        e->descriptors = object_property_get_uint(obj, "descriptors",
                                                  &error_abort);
        e->bytes = object_property_get_uint(obj, "bytes", &error_abort);
        e->faults = object_property_get_uint(obj, "faults", &error_abort);
        QAPI_LIST_APPEND(et, e);
    }
    vtdp_free_devices(&d);
    return info;
}

/* ---------------------------------------------------------------------- */
/* HMP                                                                     */

static void hmp_print_sid(Monitor *mon, uint16_t sid)
{
    monitor_printf(mon, "%02x:%02x.%x", PCI_BUS_NUM(sid), PCI_SLOT(sid),
                   PCI_FUNC(sid));
}

void hmp_info_vtdp_faults(Monitor *mon, const QDict *qdict)
{
    int64_t count = qdict_get_try_int(qdict, "count", 0);
    g_autoptr(VtdpFaultLogList) logs = NULL;
    Error *err = NULL;

    /* count <= 0 or absent: the whole log */
    logs = qmp_query_vtdp_faults(count > 0, MIN(count, UINT32_MAX), &err);
    if (hmp_handle_error(mon, err)) {
        return;
    }
    if (!logs) {
        monitor_printf(mon, "No vtdp-iommu device\n");
        return;
    }
    for (VtdpFaultLogList *l = logs; l; l = l->next) {
        VtdpFaultLog *log = l->value;

        monitor_printf(mon, "%s (", log->id);
        hmp_print_sid(mon, log->sid);
        monitor_printf(mon, "):\n");
        monitor_printf(mon, "  %8s %18s %-7s %-7s %-18s %-5s %-28s %s\n",
                       "index", "time_ns", "sid", "pasid", "address", "dir",
                       "reason", "flags");
        if (!log->faults) {
            monitor_printf(mon, "  no faults\n");
        }
        for (VtdpFaultList *fl = log->faults; fl; fl = fl->next) {
            VtdpFault *f = fl->value;
            g_autofree char *pasid = f->has_pasid ?
                g_strdup_printf("0x%05x", f->pasid) : g_strdup("-");
            g_autofree char *reason =
                g_strdup_printf("0x%02x %s", f->reason, f->reason_name);
            g_autofree char *flags =
                g_strdup_printf("%s%s%s%s", f->privileged ? " priv" : "",
                                f->execute ? " exec" : "",
                                f->suppressed ? " suppressed" : "",
                                f->dropped ? " dropped" : "");

            monitor_printf(mon, "  %8" PRIu64 " %18" PRIu64 " ", f->index,
                           f->time_ns);
            hmp_print_sid(mon, f->sid);
            monitor_printf(mon, " %-7s 0x%016" PRIx64 " %-5s %-*s%s\n",
                           pasid, f->address, f->write ? "write" : "read",
                           flags[0] ? 28 : 0, reason, flags);
        }
        monitor_printf(mon, "  recorded %" PRIu64 ", suppressed %" PRIu64
                       ", dropped %" PRIu64 "\n", log->recorded,
                       log->suppressed, log->dropped);
    }
}

void hmp_vtdp_faults_clear(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_vtdp_faults_clear(qdict_get_try_str(qdict, "id"), &err);
    hmp_handle_error(mon, err);
}

void hmp_info_vtdp(Monitor *mon, const QDict *qdict)
{
    g_autoptr(VtdpInfo) info = NULL;
    Error *err = NULL;

    info = qmp_query_vtdp(&err);
    if (hmp_handle_error(mon, err)) {
        return;
    }
    if (!info->iommus && !info->endpoints) {
        monitor_printf(mon, "No vtdp device\n");
        return;
    }
    for (VtdpIommuInfoList *l = info->iommus; l; l = l->next) {
        VtdpIommuInfo *i = l->value;

        monitor_printf(mon, "%s (%s): vtdp-iommu\n", i->id, i->qom_path);
        monitor_printf(mon, "  aw-bits %u, pasid-bits %u, nfr %u, "
                       "iotlb-size %u, fault-log-size %u\n", i->aw_bits,
                       i->pasid_bits, i->nfr, i->iotlb_size,
                       i->fault_log_size);
        monitor_printf(mon, "  translation %s, root table 0x%" PRIx64 "\n",
                       i->translation_enabled ? "enabled" : "disabled",
                       i->root_table);
        monitor_printf(mon, "  address spaces:");
        if (!i->address_spaces) {
            monitor_printf(mon, " none");
        }
        for (VtdpAddressSpaceList *a = i->address_spaces; a; a = a->next) {
            monitor_printf(mon, " ");
            hmp_print_sid(mon, a->value->sid);
            if (a->value->has_pasid) {
                monitor_printf(mon, "/pasid 0x%x", a->value->pasid);
            }
        }
        monitor_printf(mon, "\n");
        monitor_printf(mon, "  translations %" PRIu64 "; iotlb hits %" PRIu64
                       " misses %" PRIu64 " evictions %" PRIu64
                       "; context cache hits %" PRIu64 " misses %" PRIu64
                       "; pasid cache hits %" PRIu64 " misses %" PRIu64 "\n",
                       i->translations, i->iotlb_hits, i->iotlb_misses,
                       i->iotlb_evictions, i->context_cache_hits,
                       i->context_cache_misses, i->pasid_cache_hits,
                       i->pasid_cache_misses);
        monitor_printf(mon, "  invalidations: context %" PRIu64
                       " pasid-cache %" PRIu64 " iotlb %" PRIu64
                       " pasid-iotlb %" PRIu64 " dev-tlb %" PRIu64
                       " iec %" PRIu64 " wait %" PRIu64 " errors %" PRIu64
                       "\n", i->inv_context, i->inv_pasid_cache,
                       i->inv_iotlb, i->inv_piotlb, i->inv_devtlb, i->inv_iec,
                       i->inv_wait, i->inv_errors);
        monitor_printf(mon, "  faults: recorded %" PRIu64 ", suppressed %"
                       PRIu64 ", dropped %" PRIu64 "\n", i->faults_recorded,
                       i->faults_suppressed, i->faults_dropped);
        if (i->sanitizer) {
            monitor_printf(mon, "  DMA sanitizer: on, %" PRIu64
                           " stale-cache report(s)\n", i->sanitizer_reports);
        }
    }
    for (VtdpEndpointInfoList *l = info->endpoints; l; l = l->next) {
        VtdpEndpointInfo *e = l->value;

        monitor_printf(mon, "%s (", e->id);
        hmp_print_sid(mon, e->sid);
        monitor_printf(mon, "): vtdp-testdev, %u queue(s)\n", e->queues);
        monitor_printf(mon, "  descriptors %" PRIu64 ", bytes %" PRIu64
                       ", faults %" PRIu64 "\n", e->descriptors, e->bytes,
                       e->faults);
    }
}
