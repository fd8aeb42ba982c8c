#!/usr/bin/python3
"""bench/report.py — turns the samples bench/run collected into one markdown table.

Input: CSV lines `impl,rows,classes,threads,value` from bench_cross_entropy (impl humble, or
triad/copy with value in GB/s) and bench_torch.py (impl torch), value in seconds per iteration.
For every shape and thread count it prints the median time of each side, their ratio (also
against PyTorch's faster thread count), and how close humble comes to the memory-traffic bound:
reading the float32 logits twice and writing the gradient once, 3·N·C·4 bytes, at the median
triad bandwidth measured at 2 threads in the same run.
"""
import collections
import statistics
import sys

TARGET_SPEEDUP = 5.0  # over PyTorch, every shape, 2 threads
TARGET_BOUND = 3.0  # within this factor of the traffic bound, large shapes, 2 threads
LARGE = {(65536, 10), (4096, 1000), (512, 32000)}


def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def main(path):
    samples = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            impl, rows, classes, threads, value = line.strip().split(",")
            samples[(impl, int(rows), int(classes), int(threads))].append(float(value))

    def median(impl, rows, classes, threads):
        values = samples.get((impl, rows, classes, threads))
        return statistics.median(values) if values else None

    bandwidth = statistics.median(v for k, vs in samples.items() if k[0] == "triad" and k[3] == 2 for v in vs)
    copy = statistics.median(v for k, vs in samples.items() if k[0] == "copy" and k[3] == 2 for v in vs)
    shapes = sorted({k[1:3] for k in samples if k[0] == "humble"}, key=lambda s: s[0] * s[1])
    threads = sorted({k[3] for k in samples if k[0] == "humble"})

    print(f"Memory bandwidth, 2 threads (median): triad {bandwidth:.1f} GB/s, copy {copy:.1f} GB/s\n")
    print("| shape (N, C) | threads | humble median | torch median | torch / humble | "
          "torch best / humble | GB/s achieved | % of bandwidth bound |")
    print("|---|---|---|---|---|---|---|---|")
    speedup_met, bound_met = True, True
    for rows, classes in shapes:
        traffic = 3 * rows * classes * 4  # bytes: logits read twice, gradient written once
        bound = traffic / (bandwidth * 1e9)
        torch_times = [t for n in threads if (t := median("torch", rows, classes, n))]
        best = min(torch_times) if torch_times else float("nan")
        for n in threads:
            h, t = median("humble", rows, classes, n), median("torch", rows, classes, n)
            ratio = t / h if t else float("nan")
            share = bound / h
            print(f"| ({rows}, {classes}) | {n} | {fmt_time(h)} | {fmt_time(t) if t else '—'} | {ratio:.1f}× | "
                  f"{best / h:.1f}× | {traffic / h / 1e9:.1f} | {100 * share:.0f}% |")
            if n == 2:
                speedup_met &= best / h >= TARGET_SPEEDUP
                if (rows, classes) in LARGE:
                    bound_met &= share >= 1 / TARGET_BOUND
    counts = collections.Counter(k[0] for k, vs in samples.items() for _ in vs)
    print(f"\nSamples: {counts['humble']} humble, {counts['torch']} torch. At 2 threads: "
          f"≥ {TARGET_SPEEDUP:g}× PyTorch (its faster thread count) on every shape: "
          f"{'met' if speedup_met else 'NOT met'}; "
          f"within {TARGET_BOUND:g}× of the traffic bound (≥ {100 / TARGET_BOUND:.0f}%) on the large shapes: "
          f"{'met' if bound_met else 'NOT met'}.")


if __name__ == "__main__":
    main(sys.argv[1])
