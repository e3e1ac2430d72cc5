# SPDX-License-Identifier: MIT
"""make bench's figures, drawn by gnuplot from the table's own columns:
build/bench/latency.png (latency per fault at one page: the plain-TCG
spread above, the icount medians and time halted below) and
build/bench/per_page.png (cost per page against cluster size, one panel
per backing).  tests/bench_selftest.py checks that every plotted value is
the table's."""

import os
import shutil
import subprocess

from bench_cells import CLUSTERS, MODES
from bench_report import MODE_NAMES

BACKING_NAMES = {"ram": "swapd's RAM store", "disk-dma": "swap partition, ata DMA",
                 "file-dma": "ext2 file, ata DMA", "disk-pio": "swap partition, ata PIO",
                 "file-pio": "ext2 file, ata PIO", "swapfile": "swap file, ata DMA"}


def served_rows(rows, cluster=None):
    """The rows whose mode served them (a `dma` row served as grant-map is
    the grant-map path again), optionally of one cluster size."""
    return [r for r in rows if r["mode"] == r["served"] and r.get("system", "ferry") == "ferry"
            and (cluster is None or int(r["cluster"]) == cluster)]


def figure_labels(runs):
    """=> (the run the latency spread comes from, the run the medians and
    the cost per page come from): spread needs plain TCG (icount has none),
    instructions need icount; with only one, both use it."""
    dist = next((k for k in runs if k != "icount"), "icount")
    return dist, "icount" if "icount" in runs else dist


def write_plot_data(runs, out_dir):
    """The figures' data files, the table's own columns: => {name: path}.
    latency.dat: spread per fault at cluster 1 (p10, p90, p99, median);
    medians.dat: median and halted per fault at cluster 1;
    per_page-BACKING.dat: per-page cost by cluster, one column per mode."""
    dist, main = figure_labels(runs)
    paths = {"latency": os.path.join(out_dir, "latency.dat"),
             "medians": os.path.join(out_dir, "medians.dat")}
    with open(paths["latency"], "w") as f:
        for i, r in enumerate(served_rows(runs[dist][1], 1)):
            f.write("%d %s/%s %s %s %s %s %s\n" % (i, r["backing"], r["mode"], r["p10"],
                                                     r["p10"], r["p99"], r["p90"],
                                                     r["median"]))
    with open(paths["medians"], "w") as f:
        f.write("label median halted\n")
        for r in served_rows(runs[main][1], 1):
            f.write("%s/%s %s %s\n" % (r["backing"], r["mode"], r["median"],
                                        r.get("halted_per_fault", "0")))
    rows = served_rows(runs[main][1])
    for backing in sorted({r["backing"] for r in rows}, key=backing_order):
        path = os.path.join(out_dir, "per_page-%s.dat" % backing)
        paths["per_page-" + backing] = path
        with open(path, "w") as f:
            f.write("cluster " + " ".join(MODE_NAMES[m] for m in MODES) + "\n")
            for cl in CLUSTERS:
                got = {r["mode"]: r["per_page"] for r in rows
                       if r["backing"] == backing and int(r["cluster"]) == cl}
                f.write("%d %s\n" % (cl, " ".join(got.get(m, "-") for m in MODES)))
    return paths


def backing_order(backing):
    order = list(BACKING_NAMES)
    return order.index(backing) if backing in order else len(order)


def plot(runs, out_dir):
    """Two PNGs from the table's own figures.  latency.png: the latency
    distribution per backing and mode from the plain-TCG run (p10-p90 box,
    p99 whisker, median bar; icount figures have no spread), and the icount
    medians per fault beside the mean time halted for the device.
    per_page.png: cost per page against cluster size, one line per fill
    mode, one panel per backing.  => gnuplot's complaint, or None."""
    if not shutil.which("gnuplot"):
        return "gnuplot not found: no PNG"
    dist, main = figure_labels(runs)
    paths = write_plot_data(runs, out_dir)
    unit = "instructions" if main == "icount" else "TSC cycles"
    n = len(served_rows(runs[dist][1], 1))
    script = """
set terminal pngcairo size 1200,900 noenhanced
set output '{png}'
set multiplot layout 2,1 title 'Ferry fault paths, one page per fault, by backing and fill mode'
set title 'latency per fault, {dist} (TSC cycles): box p10-p90, whisker to p99, bar median'
set ylabel 'cycles per fault'
set xrange [-0.6:{n}-0.4]
set style fill solid 0.4
set boxwidth 0.5
set xtics rotate by -30
set grid ytics
set logscale y
plot '{latency}' using 1:4:3:5:6:xticlabels(2) notitle with candlesticks whiskerbars, \\
     '' using 1:7:7:7:7 notitle with candlesticks lt -1
unset logscale y
unset xrange
set title "{main}: median {unit} per fault (the table's median) and mean time halted for the device (its halted)"
set ylabel '{unit} per fault'
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9 relative
set key outside
plot '{medians}' using 2:xtic(1) title 'median per fault', \\
     '' using 3 title 'mean halted per fault'
unset multiplot
""".format(png=os.path.join(out_dir, "latency.png"), dist=dist, main=main, unit=unit, n=n,
           latency=paths["latency"], medians=paths["medians"])
    panels = [k for k in paths if k.startswith("per_page-")]
    script += """
set output '{png}'
set multiplot layout {rows},2 title "{main}: cost per page against cluster size ({unit} per page read, the table's per-page: faults and the pages a cluster brought alike)"
set datafile missing '-'
set logscale x 2
set xrange [0.8:40]
set xtics (1, 8, 32) norotate
set yrange [0:*]
set grid ytics
set key inside top right
set style data linespoints
set xlabel 'pages per page-in (cluster)'
set ylabel '{unit} per page'
""".format(png=os.path.join(out_dir, "per_page.png"), rows=(len(panels) + 1) // 2,
           main=main, unit=unit)
    rows = served_rows(runs[main][1])
    for k in panels:
        backing = k[len("per_page-"):]
        # Only the modes measured there: swapd's RAM store serves no grant-DMA.
        cols = [str(2 + i) for i, m in enumerate(MODES)
                if any(r["backing"] == backing and r["mode"] == m for r in rows)]
        script += ('set title "%s (%s)"\nplot for [i in "%s"] \'%s\' using 1:int(i) '
                   'title columnheader(int(i)) lw 2 pt 7\n' % (
                       backing, BACKING_NAMES.get(backing, backing), " ".join(cols), paths[k]))
    script += "unset multiplot\n"
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    return p.stderr.strip() or None
