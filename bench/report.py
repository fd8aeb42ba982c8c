#!/usr/bin/python3
"""bench/report.py — turns what bench/run collected into the markdown tables of docs/benchmarks.md.

Input: the samples folder of bench/run:
  conditions.txt  key=value lines: date, CPU, OpenBLAS kernels, rounds, load averages, …
  train.csv       `impl,<model>_<what>,threads,value` from bench_train, bench_train_torch.py and
                  bench_libtorch: what is train (seconds per epoch), infer (seconds per pass over the
                  test set), accuracy (after training) or rss (peak resident MB of the process);
  conv.csv        `way,layer,threads,seconds` from bench_conv_layouts;
  sched.csv       `category,percent` per round: perf's cpu-clock samples of humble's MLP epoch, by
                  where they fell (bench/run pipes `perf report` through `report.py --sched-samples`);
  loss.csv        `impl,rows,classes,threads,value` from bench_cross_entropy, bench_torch.py and
                  bench_libtorch --loss (seconds per forward + backward; triad/copy in GB/s).
Training and inference: median and min–max of every side, the ratios of the medians, and the
targets (humble ≤ 0.5× PyTorch for the MLP's training and both inferences, ≤ 0.6× libtorch for the
MLP, ≤ 0.7× PyTorch for the CNN's training). The loss: medians per shape and thread count, the
ratios, and how close humble comes to the memory-traffic bound: reading the float32 logits twice and
writing the gradient once, 3·N·C·4 bytes, at the median triad bandwidth measured at 2 threads.
"""
import collections
import os
import statistics
import sys

SIDES = ("humble", "torch", "libtorch")
NAMES = {"humble": "humble", "torch": "PyTorch", "libtorch": "libtorch"}
TARGETS = {  # (model, what): (side, humble / side at most)
    ("mlp", "train"): [("torch", 0.5), ("libtorch", 0.6)],
    ("cnn", "train"): [("torch", 0.7)],
    ("mlp", "infer"): [("torch", 0.5)],
    ("cnn", "infer"): [("torch", 0.5)],
}
LOSS_TARGET_SPEEDUP = 5.0  # over PyTorch, every shape, 2 threads
LOSS_TARGET_BOUND = 3.0  # within this factor of the traffic bound, large shapes, 2 threads
LOSS_LARGE = {(65536, 10), (4096, 1000), (512, 32000)}


def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def read_conditions(folder):
    conditions = {}
    with open(os.path.join(folder, "conditions.txt")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            conditions[key] = value
    return conditions


def training_tables(path):
    samples = collections.defaultdict(list)  # (impl, model, what, threads): values
    with open(path) as f:
        for line in f:
            impl, job, threads, value = line.strip().split(",")
            model, what = job.split("_")
            samples[(impl, model, what, int(threads))].append(float(value))
    if not samples:
        return
    models = [m for m in ("mlp", "cnn") if any(k[1] == m for k in samples)]
    names = {"mlp": "MLP 784-512-256-10", "cnn": "LeNet CNN"}

    def cell(values):
        return f"{fmt_time(statistics.median(values))} ({fmt_time(min(values))}–{fmt_time(max(values))}, {len(values)})"

    print("| job | threads | humble | PyTorch | libtorch | humble / PyTorch | humble / libtorch | target |")
    print("|---|---|---|---|---|---|---|---|")
    for model in models:
        for what, label in (("train", "training epoch"), ("infer", "inference, 10,000 images")):
            for threads in (2, 1):
                medians, cells = {}, []
                for side in SIDES:
                    values = samples.get((side, model, what, threads))
                    cells.append(cell(values) if values else "—")
                    if values:
                        medians[side] = statistics.median(values)
                if "humble" not in medians:
                    continue
                ratios = [f"{medians['humble'] / medians[s]:.2f}×" if s in medians else "—" for s in ("torch", "libtorch")]
                target = []
                for side, limit in TARGETS.get((model, what), []) if threads == 2 else []:
                    if side in medians:
                        met = medians["humble"] / medians[side] <= limit
                        target.append(f"≤ {limit:g}× {NAMES[side]}: {'met' if met else 'NOT met'}")
                print(f"| {names[model]}, {label} | {threads} | {' | '.join(cells)} | {' | '.join(ratios)} | "
                      f"{'; '.join(target)} |")
    print("\nMedian (min–max, samples). Accuracy on the test set after training (median over the rounds' seeds) "
          "and peak resident memory of each process (median), at 2 threads:\n")
    print("| model | humble | PyTorch | libtorch |")
    print("|---|---|---|---|")
    for model in models:
        for what, label in (("accuracy", "test accuracy"), ("rss", "peak RSS")):
            cells = []
            for side in SIDES:
                values = samples.get((side, model, what, 2))
                if not values:
                    cells.append("—")
                elif what == "rss":
                    cells.append(f"{statistics.median(values):.0f} MB")
                else:
                    cells.append(f"{statistics.median(values):.4f}" +
                                 (f" ({min(values):.4f}–{max(values):.4f})" if len(values) > 1 else ""))
            print(f"| {names[model]}, {label} | {' | '.join(cells)} |")
    kernel_rows = [("humble", "best kernels for the CPU"),
                   ("humble-unrecognised", "an unrecognised CPU (OpenBLAS would pick Prescott): restarted on the best"),
                   ("humble-generic", "generic Prescott kernels forced (what such a CPU got before)")]
    best = samples.get(("humble", "mlp", "train", 2))
    if best and samples.get(("humble-unrecognised", "mlp", "train", 2)):
        print("\nKernel selection, the MLP's training epoch at 2 threads:\n")
        print("| OpenBLAS kernels | seconds per epoch | / best kernels |")
        print("|---|---|---|")
        for impl, label in kernel_rows:
            values = samples.get((impl, "mlp", "train", 2))
            if values:
                print(f"| {label} | {cell(values)} | {statistics.median(values) / statistics.median(best):.2f}× |")
    print()


def conv_table(path):
    samples = collections.defaultdict(list)
    if not os.path.exists(path):
        return
    with open(path) as f:
        for line in f:
            way, layer, threads, seconds = line.strip().split(",")
            samples[(layer, int(threads), way)].append(float(seconds))
    if not samples:
        return
    ways = ("nchw-tiles", "nchw-batch", "nhwc-tiles")
    print("conv2d forward + backward at batch 128 (bench_conv_layouts; median over rounds):\n")
    print("| layer | threads | humble's tiles (NCHW) | one GEMM over the batch (NCHW) | tiles, channels-last |")
    print("|---|---|---|---|---|")
    for layer, threads in sorted({k[:2] for k in samples}):
        base = statistics.median(samples[(layer, threads, "nchw-tiles")])
        cells = [f"{fmt_time(statistics.median(samples[(layer, threads, w)]))} "
                 f"({statistics.median(samples[(layer, threads, w)]) / base:.2f}×)" for w in ways]
        print(f"| {layer} | {threads} | {' | '.join(cells)} |")
    print()


# perf report lines: "  12.34%  libopenblasp-r0.3.21.so  [.] sgemm_kernel_COOPERLAKE"
SCHEDULER = ("schedule", "finish_task_switch", "sched_yield", "pick_next", "switch_to", "switch_mm", "yield_task",
             "update_curr", "dequeue_task", "enqueue_task", "__x64_sys_sched_yield", "do_sched_yield")


def sched_samples(lines):
    shares = collections.Counter()
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or not parts[0].endswith("%"):
            continue
        percent, dso, symbol = float(parts[0][:-1]), parts[1], " ".join(parts[3:])
        if "openblas" in dso:
            category = "OpenBLAS (GEMM kernels and packing)"
        elif any(s in symbol for s in SCHEDULER):
            category = "kernel scheduler and sched_yield"
        elif "tbb" in dso:
            category = "oneTBB (its workers finding work or waiting)"
        elif dso.startswith("[kernel") or dso == "[unknown]":
            category = "other kernel time (page faults, system calls)"
        else:
            category = "humble and the rest of the program"
        shares[category] += percent
    for category, percent in shares.items():
        print(f"{category},{percent:.3f}")


def sched_table(path):
    if not os.path.exists(path):
        return
    shares = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            category, percent = line.strip().rsplit(",", 1)
            shares[category].append(float(percent))
    if not shares:
        return
    print("Where the CPU time of humble's MLP training (2 threads) goes, by perf's cpu-clock samples "
          "(median share over the rounds):\n")
    print("| | share of samples |")
    print("|---|---|")
    for category, values in sorted(shares.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"| {category} | {statistics.median(values):.1f} % |")
    print()


def loss_table(path):
    samples = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            impl, rows, classes, threads, value = line.strip().split(",")
            samples[(impl, int(rows), int(classes), int(threads))].append(float(value))
    if not samples:
        return

    def median(impl, rows, classes, threads):
        values = samples.get((impl, rows, classes, threads))
        return statistics.median(values) if values else None

    bandwidth = statistics.median(v for k, vs in samples.items() if k[0] == "triad" and k[3] == 2 for v in vs)
    copy = statistics.median(v for k, vs in samples.items() if k[0] == "copy" and k[3] == 2 for v in vs)
    shapes = sorted({k[1:3] for k in samples if k[0] == "humble"}, key=lambda s: s[0] * s[1])
    threads = sorted({k[3] for k in samples if k[0] == "humble"})
    print(f"Memory bandwidth, 2 threads (median): triad {bandwidth:.1f} GB/s, copy {copy:.1f} GB/s\n")
    print("| shape (N, C) | threads | humble | PyTorch | libtorch | PyTorch / humble | PyTorch best / humble | "
          "libtorch / humble | GB/s achieved | % of bandwidth bound |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    speedup_met, bound_met = True, True
    for rows, classes in shapes:
        traffic = 3 * rows * classes * 4  # bytes: logits read twice, gradient written once
        bound = traffic / (bandwidth * 1e9)
        torch_times = [t for n in threads if (t := median("torch", rows, classes, n))]
        best = min(torch_times) if torch_times else float("nan")
        for n in threads:
            h = median("humble", rows, classes, n)
            t, lt = median("torch", rows, classes, n), median("libtorch", rows, classes, n)
            share = bound / h
            print(f"| ({rows}, {classes}) | {n} | {fmt_time(h)} | {fmt_time(t) if t else '—'} | "
                  f"{fmt_time(lt) if lt else '—'} | {t / h if t else float('nan'):.1f}× | {best / h:.1f}× | "
                  f"{lt / h if lt else float('nan'):.1f}× | {traffic / h / 1e9:.1f} | {100 * share:.0f}% |")
            if n == 2:
                speedup_met &= best / h >= LOSS_TARGET_SPEEDUP
                if (rows, classes) in LOSS_LARGE:
                    bound_met &= share >= 1 / LOSS_TARGET_BOUND
    counts = collections.Counter(k[0] for k, vs in samples.items() for _ in vs)
    print(f"\nSamples: {counts['humble']} humble, {counts['torch']} PyTorch, {counts['libtorch']} libtorch. "
          f"At 2 threads: ≥ {LOSS_TARGET_SPEEDUP:g}× PyTorch (its faster thread count) on every shape: "
          f"{'met' if speedup_met else 'NOT met'}; within {LOSS_TARGET_BOUND:g}× of the traffic bound "
          f"(≥ {100 / LOSS_TARGET_BOUND:.0f}%) on the large shapes: {'met' if bound_met else 'NOT met'}.")


def main(folder):
    c = read_conditions(folder)
    print(f"Machine: {c['cpu']} (family/model {c['family_model']}), {c['nproc']} CPUs; OpenBLAS kernels "
          f"{c['kernels']} for every side{' (OPENBLAS_CORETYPE=' + c['coretype'] + ' set by the caller)' if c['coretype'] else ''}; "
          f"malloc {c['malloc']}. {c['date']}, {c['rounds']} rounds of {c['epochs']} training epochs per side "
          f"and job; load average (1, 5, 15 min) {c['load_start']} at the start, {c.get('load_end', '?')} at the end.\n")
    training_tables(os.path.join(folder, "train.csv"))
    conv_table(os.path.join(folder, "conv.csv"))
    sched_table(os.path.join(folder, "sched.csv"))
    loss_table(os.path.join(folder, "loss.csv"))


if __name__ == "__main__":
    if sys.argv[1] == "--sched-samples":
        sched_samples(sys.stdin)
    else:
        main(sys.argv[1])
