#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""scripts/bench-report.py DIR - tables and plots of a scripts/bench run.

Reads DIR/results.txt (the raw output scripts/bench collected), writes
DIR/results.md (tables, every figure also as a ratio to no IOMMU, the
targets of issue 8 met or missed) and DIR/*.png (gnuplot).  Exit status
non-zero if a case that ran produced no numbers, or a number that cannot be
(zero or negative throughput or latency): the check scripts/test's bench
smoke test relies on.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

CORE_RE = re.compile(r"^(\S+)\s+([\d.]+) ns\s+(\d+) iterations\s+iotlb hit rate ([\d.]+)")
CONFIG_ORDER = ["none", "vtdp-pt", "vtdp", "vtdp-2m", "vtdp-s1", "vtdp-dma-lazy", "vtdp-dma-strict",
                "intel-lazy", "intel-strict"]
CONFIG_DESC = {
    "none": "no IOMMU (DMA API, direct)",
    "vtdp-pt": "vtdp-iommu, V3 PassThrough domain",
    "vtdp": "vtdp-iommu, V3 Translate (second stage), 4 KiB mappings "
            "(dma: buffers in 4 KiB pages; maplat: 4 KiB leaves, one 2 MiB leaf at 2 MiB)",
    "vtdp-2m": "vtdp-iommu, V3 Translate (second stage), 2 MiB mappings",
    "vtdp-s1": "vtdp-iommu, PASID-tagged DMA through a TranslateS1 domain "
               "(first stage), 2 MiB mappings",
    "vtdp-dma-lazy": "vtdp-iommu under the Linux IOMMU core (vtdp.iommu_core=1), DMA API, "
                     "lazy invalidation",
    "vtdp-dma-strict": "vtdp-iommu under the Linux IOMMU core, DMA API, strict invalidation",
    "intel-lazy": "intel-iommu, DMA API, lazy invalidation",
    "intel-strict": "intel-iommu, DMA API, strict invalidation",
}


# What each vtdp configuration's DMA must have run on: (IOMMU page size,
# domain type, every descriptor PASID-tagged).  A run that got something
# else measured another configuration.
DMA_EXPECT = {
    "vtdp": (4096, "translate", False),
    "vtdp-2m": (2097152, "translate", False),
    "vtdp-s1": (2097152, "translate-s1", True),
}
# The DMA API on vtdp and on intel-iommu: the driver must have run in
# dma-api mode (vtdp-stress "mode", vtdp-maplat "maplat"), not V3.
DMA_API = {"vtdp-dma-lazy", "vtdp-dma-strict", "intel-lazy", "intel-strict", "none"}
# Issue 10: the DMA API on vtdp against the DMA API on intel-iommu.
DMA_API_PAIRS = (("vtdp-dma-lazy", "intel-lazy"), ("vtdp-dma-strict", "intel-strict"))


def kib(n):
    return f"{n // 1048576} MiB" if n >= 1048576 else f"{n // 1024} KiB"


def ratio(x, base):
    return f" ({x / base:.2f}x)" if base else ""


def main():
    out = Path(sys.argv[1])
    lines = (out / "results.txt").read_text(errors="replace").splitlines()
    sections = {m.group(1) for l in lines if (m := re.match(r"^## (\w+):", l))}
    core, dma, lat, hit, scale = {}, {}, {}, {}, {}
    scale_unavailable = False
    rounds, verdict = {}, {}
    bad = []
    section = None
    for line in lines:
        if line.startswith("## "):
            section = line.split(":")[0][3:]
            continue
        m = CORE_RE.match(line)
        if section == "core" and m:
            core[m.group(1)] = (float(m.group(2)), int(m.group(3)), float(m.group(4)))
            continue
        name, _, rest = line.partition(" ")
        # Several rounds: every one must be sane; the best one is kept.
        if rest.startswith('{"seconds"'):
            r = json.loads(rest)
            k = (name, r["min_len"])
            rounds[("dma",) + k] = rounds.get(("dma",) + k, 0) + 1
            if r["mb_per_s"] <= 0 or r["ops_per_s"] <= 0 or not r["ok"]:
                bad.append(f"dma {k}: {r['mb_per_s']} MB/s, ok {r['ok']}")
            want = DMA_EXPECT.get(name)
            got = (r.get("iommu_page_size"), r.get("domain_type"), r.get("pasid_only"))
            if want and got != want:
                bad.append(f"dma {k}: IOMMU pages, domain type, PASID-only {got}, not {want}")
            if name in DMA_API and r.get("mode") != "dma-api":
                bad.append(f"dma {k}: mode {r.get('mode')}, not dma-api")
            if k not in dma or r["mb_per_s"] > dma[k]["mb_per_s"]:
                dma[k] = r
        elif rest.startswith('{"maplat"'):
            r = json.loads(rest)
            k = (name, r["size"])
            rounds[("maplat",) + k] = rounds.get(("maplat",) + k, 0) + 1
            if not 0 < r["p50_ns"] <= r["p99_ns"] or r["mean_ns"] <= 0:
                bad.append(f"maplat {k}: mean {r['mean_ns']} p50 {r['p50_ns']} p99 {r['p99_ns']}")
            if name in DMA_API and r["maplat"] != "dma-api":
                bad.append(f"maplat {k}: {r['maplat']}, not dma-api")
            # V3 Translate: one 2 MiB leaf for the 2 MiB huge page, 4 KiB below
            if name == "vtdp":
                leaf = 2097152 if r["size"] >= 2097152 else 4096
                if r.get("iommu_page_size") != leaf:
                    bad.append(f"maplat {k}: IOMMU pages of {r.get('iommu_page_size')}, not {leaf}")
            if k not in lat or r["p50_ns"] < lat[k]["p50_ns"]:
                lat[k] = r
        elif name == "hitrate-verdict":
            prof, _, v = rest.partition(" ")
            verdict[prof] = v
        elif name == "hitrate":
            prof, _, js = rest.partition(" ")
            hit[prof] = json.loads(js)
        elif name == "scaling":
            f = rest.split(" ", 2)
            if f[0] == "unavailable":
                scale_unavailable = True
            elif len(f) == 3:
                scale[(f[0], int(f[1]))] = json.loads(f[2])

    nrounds = {c: max((n for k, n in rounds.items() if k[0] == c), default=1)
               for c in ("dma", "maplat")}
    if "core" in sections and not core:
        bad.append("core: no results")
    if "dma" in sections and not dma:
        bad.append("dma: no results")
    if "maplat" in sections and not lat:
        bad.append("maplat: no results")
    if "hitrate" in sections and not hit:
        bad.append("hitrate: no results")
    if "scaling" in sections and not scale:
        bad.append("scaling: no results")
    for k, r in scale.items():
        if r["mb_per_s"] <= 0 or not r["ok"]:
            bad.append(f"scaling {k}: {r['mb_per_s']} MB/s, ok {r['ok']}")
        if k[0].startswith("pasids") and (r["pasids"] != k[1] or not r.get("pasid_only")):
            bad.append(f"scaling {k}: {r['pasids']} PASIDs, PASID-only {r.get('pasid_only')}")
        if k[0] == "queues" and r["queues"] != k[1]:
            bad.append(f"scaling {k}: {r['queues']} queues")
    for k, (ns, it, _) in core.items():
        if ns <= 0 or it <= 0:
            bad.append(f"core {k}: {ns} ns, {it} iterations")

    md = ["# vtdp benchmark results", ""]
    md += ["    " + l for l in lines[1:10] if l.strip()]
    configs = [c for c in CONFIG_ORDER if any(k[0] == c for k in list(dma) + list(lat))]
    configs += sorted({k[0] for k in list(dma) + list(lat)} - set(configs))
    if configs:
        md += ["", "Configurations (one guest boot each, same QEMU, kernel and endpoint):", ""]
        md += [f"* `{c}`: {CONFIG_DESC.get(c, c)}" for c in configs]

    if core:
        md += ["", "## Host: translation core (bench-vtdp-core)", "",
               "| core case | ns per translation | iterations | IOTLB hit rate |",
               "| --- | ---: | ---: | ---: |"]
        md += [f"| {k} | {ns:.1f} | {it} | {hr:.4f} |" for k, (ns, it, hr) in core.items()]

    sizes = sorted({k[1] for k in dma})
    if dma:
        md += ["", "## DMA throughput, one guest thread", "",
               "Buffers in 2 MiB huge pages, but for `vtdp` (4 KiB pages, so 4 KiB "
               "mappings).  MB/s (ratio to no IOMMU) and descriptors per second; best "
               f"of {nrounds['dma']} round(s).", "",
               "| configuration | " + " | ".join(f"{kib(s)} MB/s | {kib(s)} desc/s" for s in sizes) + " |",
               "| --- |" + " ---: | ---: |" * len(sizes)]
        for c in configs:
            cells = []
            for s in sizes:
                r, base = dma.get((c, s)), dma.get(("none", s))
                if not r:
                    cells += ["-", "-"]
                    continue
                cells += [f"{r['mb_per_s']:.1f}{ratio(r['mb_per_s'], base and base['mb_per_s'])}",
                          f"{r['ops_per_s']:.0f}{ratio(r['ops_per_s'], base and base['ops_per_s'])}"]
            md.append(f"| {c} | " + " | ".join(cells) + " |")

    lsizes = sorted({k[1] for k in lat})
    if lat:
        md += ["", "## Map+unmap latency, in the guest kernel (MAP_BENCH)", "",
               "V3 MapLogicalRangeEx + UnmapLogicalRange (`vtdp`), MapIdentityRangeEx + "
               "UnmapIdentityRangeEx (`vtdp-pt`), dma_map_sgtable + dma_unmap_sgtable "
               "(`none`, `vtdp-dma-*`, `intel-*`), of one buffer in a 2 MiB huge page (V3: "
               "described as one contiguous range; 4 KiB leaves, one 2 MiB leaf at 2 MiB).  "
               "Mean, p50 and "
               "p99 in ns; the mean also as a ratio to no IOMMU.  Of "
               f"{nrounds['maplat']} round(s), the one with the lowest p50.", "",
               "| configuration | " + " | ".join(f"{kib(s)} mean / p50 / p99" for s in lsizes) + " |",
               "| --- |" + " ---: |" * len(lsizes)]
        for c in configs:
            cells = []
            for s in lsizes:
                r, base = lat.get((c, s)), lat.get(("none", s))
                cells.append("-" if not r else
                             f"{r['mean_ns']:.0f}{ratio(r['mean_ns'], base and base['mean_ns'])}"
                             f" / {r['p50_ns']} / {r['p99_ns']}")
            md.append(f"| {c} | " + " | ".join(cells) + " |")
        md += ["", "Map and unmap alone (mean ns):", "",
               "| configuration | " + " | ".join(f"{kib(s)} map / unmap" for s in lsizes) + " |",
               "| --- |" + " ---: |" * len(lsizes)]
        for c in configs:
            md.append(f"| {c} | " + " | ".join(
                "-" if not (r := lat.get((c, s))) else
                f"{r['map_mean_ns']:.0f} / {r['unmap_mean_ns']:.0f}" for s in lsizes) + " |")

    if hit:
        md += ["", "## IOTLB hit rate during the stress profiles (query-vtdp before and after the runs)", "",
               "| profile | translations | IOTLB hits | misses | evictions | hit rate | stress verdict |",
               "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for p, info in hit.items():
            # the runs' share of the counters, which run from boot
            q = dict(info["after"]["iommus"][0])
            for key in ("translations", "iotlb-hits", "iotlb-misses", "iotlb-evictions"):
                q[key] -= info["before"]["iommus"][0][key]
            h, m = q["iotlb-hits"], q["iotlb-misses"]
            rate = f"{h / (h + m):.4f}" if h + m else "-"
            if not h + m:
                bad.append(f"hitrate {p}: no translations")
            md.append(f"| {p} | {q['translations']} | {h} | {m} | {q['iotlb-evictions']} | {rate} | "
                      f"{verdict.get(p, '-')} (stress-{p}.out) |")

    groups = []
    for (g, _) in scale:
        if g not in groups:
            groups.append(g)
    if scale:
        md += ["", "## Scaling on vtdp-iommu (2 vCPUs)", ""]
        if scale_unavailable:
            bad.append("scaling: vtdp-stress without --queues/--pasids")
        md += ["MB/s (ratio to the first row of its group; ratio to no IOMMU, one "
               "thread, 1 vCPU, same transfer size, when measured) and descriptors per second.", "",
               "| varied | n | transfer | MB/s | desc/s | threads | queues | PASIDs |",
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for g in groups:
            rows = sorted((n, r) for (gg, n), r in scale.items() if gg == g)
            first = rows[0][1]["mb_per_s"]
            for n, r in rows:
                base = dma.get(("none", r["min_len"]))
                none = f"; {r['mb_per_s'] / base['mb_per_s']:.2f}x none" if base else ""
                md.append(f"| {g} | {n} | {kib(r['min_len'])} | {r['mb_per_s']:.1f} "
                          f"({r['mb_per_s'] / first:.2f}x{none}) | {r['ops_per_s']:.0f} | "
                          f"{r.get('threads', '-')} | {r.get('queues', 1)} | {r.get('pasids', 0)} |")

    # Issue 10: the same DMA API, on vtdp and on intel-iommu.
    cmp = []
    for v, i in DMA_API_PAIRS:
        for s in sizes:
            a, b = dma.get((v, s)), dma.get((i, s))
            if a and b:
                cmp.append(f"| {v} / {i} | throughput, {kib(s)} | {a['mb_per_s']:.1f} / "
                           f"{b['mb_per_s']:.1f} MB/s | {a['mb_per_s'] / b['mb_per_s']:.3f}x |")
        for s in lsizes:
            a, b = lat.get((v, s)), lat.get((i, s))
            if a and b:
                cmp.append(f"| {v} / {i} | map+unmap p50, {kib(s)} | {a['p50_ns']} / "
                           f"{b['p50_ns']} ns | {a['p50_ns'] / b['p50_ns']:.3f}x |")
    if cmp:
        md += ["", "## The Linux DMA API on vtdp against the DMA API on intel-iommu", "",
               "`vtdp.ko` under the Linux IOMMU core against the guest's intel-iommu driver, "
               "the same invalidation mode, the same endpoint and driver (dma-api mode).  "
               "Ratio vtdp / intel-iommu: above 1 is better for throughput, worse for latency.", "",
               "| configurations | figure | vtdp / intel-iommu | ratio |",
               "| --- | --- | ---: | ---: |"] + cmp

    # The targets of issue 8: results, not tests.
    tg = []

    def verdict(ok):
        return "met" if ok else "**missed**"
    for c, mappings, goal in (("vtdp", "4 KiB", 0.8), ("vtdp-2m", "2 MiB", 0.95)):
        if (c, 65536) in dma and ("none", 65536) in dma:
            x = dma[(c, 65536)]["mb_per_s"] / dma[("none", 65536)]["mb_per_s"]
            tg.append(f"| vtdp Translate, {mappings} mappings, 64 KiB: >= {goal}x no IOMMU "
                      f"| {x:.3f}x | {verdict(x >= goal)} |")
    for s in sizes:
        for v in ("vtdp", "vtdp-2m"):
            for c in ("intel-lazy", "intel-strict"):
                a, i = dma.get((v, s)), dma.get((c, s))
                if a and i:
                    x = a["mb_per_s"] / i["mb_per_s"]
                    tg.append(f"| {v} >= {c}, {kib(s)} | {x:.3f}x | {verdict(x >= 1)} |")
    for s in lsizes:
        v = lat.get(("vtdp", s))
        for c in ("intel-lazy", "intel-strict"):
            i = lat.get((c, s))
            if v and i:
                tg.append(f"| V3 map+unmap <= DMA API on {c}, {kib(s)} (p50) | "
                          f"{v['p50_ns']} vs {i['p50_ns']} ns | {verdict(v['p50_ns'] <= i['p50_ns'])} |")
    if "iotlb-hit" in core:
        ns = core["iotlb-hit"][0]
        tg.append(f"| <= 30 ns per IOTLB-hit translation (host) | {ns:.1f} ns | {verdict(ns <= 30)} |")
    md += ["", "## Targets of issue 8 (results, not tests)", "",
           "| target | measured | |", "| --- | ---: | --- |"] + tg

    plots = []
    if dma:
        with open(out / "dma.dat", "w") as f:
            f.write("# size " + " ".join(f"{c}_MBps {c}_ratio" for c in configs) + "\n")
            for s in sizes:
                base = dma.get(("none", s))
                row = [str(s)]
                for c in configs:
                    r = dma.get((c, s))
                    row += [f"{r['mb_per_s']:.3f}" if r else "NaN",
                            f"{r['mb_per_s'] / base['mb_per_s']:.4f}" if r and base else "NaN"]
                f.write(" ".join(row) + "\n")
        plots.append(("dma-throughput.png", "DMA throughput, one guest thread", "MB/s",
                      "dma.dat", [(c, 2 + 2 * i) for i, c in enumerate(configs)], True))
        plots.append(("dma-ratio.png", "DMA throughput relative to no IOMMU", "ratio to none",
                      "dma.dat", [(c, 3 + 2 * i) for i, c in enumerate(configs)], False))
    if lat:
        with open(out / "maplat.dat", "w") as f:
            f.write("# size " + " ".join(f"{c}_mean {c}_p50 {c}_p99" for c in configs) + "\n")
            for s in lsizes:
                row = [str(s)]
                for c in configs:
                    r = lat.get((c, s))
                    row += [f"{r['mean_ns']:.0f}", str(r["p50_ns"]), str(r["p99_ns"])] if r else ["NaN"] * 3
                f.write(" ".join(row) + "\n")
        plots.append(("maplat.png", "map+unmap latency in the guest kernel (p50)", "ns",
                      "maplat.dat", [(c, 3 + 3 * i) for i, c in enumerate(configs)], True))
    multi = [g for g in groups if sum(1 for (gg, _) in scale if gg == g) > 1]
    if multi:
        ns = sorted({n for (g, n) in scale if g in multi})
        with open(out / "scaling.dat", "w") as f:
            f.write("# n " + " ".join(f"{g}_MBps" for g in multi) + "\n")
            for n in ns:
                f.write(f"{n} " + " ".join(
                    f"{scale[(g, n)]['mb_per_s']:.3f}" if (g, n) in scale else "NaN"
                    for g in multi) + "\n")
        plots.append(("scaling.png", "vtdp throughput against threads, queues, PASIDs",
                      "MB/s", "scaling.dat", [(g, 2 + i) for i, g in enumerate(multi)], False))
    for png, title, ylabel, dat, series, logy in plots:
        xs = {"dma.dat": sizes, "maplat.dat": lsizes}.get(dat)
        gp = [
            "set terminal png size 900,560",
            f"set output '{out / png}'",
            f"set title '{title}'",
            "set logscale x 2",
            ("set xtics (" + ", ".join(f"'{kib(x)}' {x}" for x in xs) + ")") if xs else
            "set xtics (" + ", ".join(f"'{n}' {n}" for n in ns) + ")",
            f"set xlabel '{'transfer / mapping size' if xs else 'queues (one thread each), or PASIDs'}'",
            f"set ylabel '{ylabel}'",
            "set key outside right",
            "set grid",
        ]
        if logy:
            gp.append("set logscale y")
        gp.append("plot " + ", ".join(
            f"'{out / dat}' using 1:{col} with linespoints title '{c}'" for c, col in series))
        r = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", text=True,
                           capture_output=True)
        if r.returncode or not (out / png).exists() or (out / png).stat().st_size == 0:
            bad.append(f"gnuplot {png}: {r.stderr.strip()}")
        else:
            md += ["", f"![{title}]({png})"]

    (out / "results.md").write_text("\n".join(md) + "\n")
    for b in bad:
        print(f"bench-report: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
