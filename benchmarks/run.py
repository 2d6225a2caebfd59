#!/usr/bin/env python3
"""Runs `report bench` and the numpy baseline side by side, in one go, and prints the ratios.

    python3 benchmarks/run.py                 # full run (about 5 minutes on 2 cores)
    python3 benchmarks/run.py --quick         # smaller sizes, a smoke test (ratios are noisier)
    python3 benchmarks/run.py --out BENCH.md  # also write the Markdown report to a file

Steps: (1) `report bench --format json` measures the Swift side (machine peaks, loss kernels,
trainer, sweep, scaling, command wall times); (2) `report bench --export-environment` writes
the default, the mid-size and the large tabular problems with Swift's own training of them; (3)
`benchmarks/baseline.py` times numpy's loss kernels on the same kind of random pairs and
numpy's trainer on the exported data, and checks that its metrics and parameters agree with
Swift's; (4) the ratios are printed as Markdown. Build first: the native build
`swift build -c release --product report -Xswiftc -Xcc -Xswiftc -march=native --scratch-path
.build-native` (benchmarks/run.sh builds it and the default, portable one).
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import statistics
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd, check=True):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=check, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def fmt(x, digits=1):
    return "-" if x is None else f"{x:.{digits}f}"


def agreement(row):
    """The agreement cell of a trainer row: at rtol 1e-6, or only within numpy's own one-ulp
    perturbation envelope, over the compared steps (cut at the predictability horizon)."""
    if not row["agrees"]:
        verdict = "DISAGREES"
    elif row.get("agrees_at_rtol", True):
        verdict = "agrees (rtol 1e-6)"
    else:
        verdict = "agrees within 10x numpy's one-ulp spread"
    horizon = row.get("predictability_horizon")
    cut = f", horizon: step {horizon}" if horizon is not None else ""
    return f"{verdict} over {row['compared_steps']} steps{cut} ({row['worst_relative_difference']:.1e})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", default=os.path.join(ROOT, ".build-native", "release", "report"),
                    help="the report binary (default: the native build that benchmarks/run.sh makes in .build-native)")
    ap.add_argument("--portable-report", help="a second report binary, the default build (`swift build -c release`: baseline "
                    "x86-64, no AVX): its kernels and trainer are timed too, and `report all` is compared byte for byte")
    ap.add_argument("--pairs", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--default-steps", type=int, default=200_000)
    ap.add_argument("--mid-steps", type=int, default=20_000)
    ap.add_argument("--process-steps", type=int, default=60_000,
                    help="steps of the whole-process timing of `report train` on the mid-size problem (default 60000)")
    ap.add_argument("--large-steps", type=int, default=40)
    ap.add_argument("--large-prompts", type=int, default=10_000)
    ap.add_argument("--skip-all", action="store_true", help="do not time `report all`")
    ap.add_argument("--quick", action="store_true", help="10^6 pairs, 2000/10 steps, 1000 large prompts, 1 repeat")
    ap.add_argument("--out", help="also write the Markdown report here")
    ap.add_argument("--json-out", help="also write both sides' raw results (JSON) here")
    ap.add_argument("--compare-until", type=int, default=2000,
                    help="compare the trainers' metrics up to this step (default 2000; see BENCHMARKS.md, Agreement)")
    args = ap.parse_args()
    if args.quick:
        args.pairs, args.default_steps, args.large_steps, args.large_prompts, args.repeats = 1_000_000, 2000, 10, 1000, 1
        args.mid_steps, args.process_steps = 2000, 6000
    if not os.path.exists(args.report):
        sys.exit(f"{args.report} not found: run benchmarks/run.sh, or build it with `swift build -c release --product report "
                 f"-Xswiftc -Xcc -Xswiftc -march=native --scratch-path .build-native`")
    baseline = [sys.executable, os.path.join(HERE, "baseline.py")]
    sizes = ["--pairs", str(args.pairs), "--repeats", str(args.repeats), "--default-steps", str(args.default_steps),
             "--mid-steps", str(args.mid_steps), "--large-steps", str(args.large_steps), "--large-prompts", str(args.large_prompts)]
    swift_cmd = [args.report, "bench", "--format", "json"] + sizes + (["--skip-all"] if args.skip_all else [])
    numpy_kernels_cmd = baseline + ["kernels", "--pairs", str(args.pairs), "--repeats", str(args.repeats), "--json"]

    # 1. Swift (and the portable build, if given).
    swift = run_json(swift_cmd)
    portable = None
    identical = None
    if args.portable_report:
        portable = run_json([args.portable_report, "bench", "--format", "json", "--sections", "kernels,trainer"] + sizes)
        with tempfile.TemporaryDirectory(prefix="all-") as tmp:
            outs = []
            for binary, name in ((args.report, "native"), (args.portable_report, "portable")):
                out = os.path.join(tmp, name)
                print(f"+ {binary} all --out {out}", file=sys.stderr, flush=True)
                subprocess.run([binary, "all", "--out", out, "--quiet"], check=True, stdout=subprocess.DEVNULL)
                outs.append(out)
            identical = subprocess.run(["diff", "-r", "-q"] + outs, stdout=subprocess.PIPE, text=True)
            identical = (identical.returncode == 0, identical.stdout.strip())
    # 2-3. numpy kernels, then exports and numpy training on them.
    numpy_kernels = run_json(numpy_kernels_cmd)
    trainer_rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for problem, steps in (("default", args.default_steps), ("mid", args.mid_steps), ("large", args.large_steps)):
            for loss in ("sigmoid", "spo"):
                folder = os.path.join(tmp, f"{problem}-{loss}")
                export = [args.report, "bench", "--export-environment", folder, "--export-problem", problem,
                          "--export-loss", loss, "--export-steps", str(steps), "--export-log-every", "20",
                          "--large-prompts", str(args.large_prompts)]
                print("+ " + " ".join(export), file=sys.stderr, flush=True)
                subprocess.run(export, check=True)
                # Adam agreement: rtol 1e-6, or within 10x numpy's own one-ulp perturbation spread,
                # up to the predictability horizon; see BENCHMARKS.md ("Agreement").
                row = run_json(baseline + ["train", folder, "--repeats", str(args.repeats), "--json", "--rtol", "1e-6",
                                           "--compare-until", str(args.compare_until), "--perturbation-envelope"], check=False)
                trainer_rows.append(row)
    # 3b. The whole process on the mid-size problem, as a user runs it (start-up, environment,
    # training, metrics every 20 steps, the JSON summary), against numpy's training loop alone.
    process_cmd = [args.report, "train", "--losses", "sigmoid", "--steps", str(args.process_steps), "--prompts", "200",
                   "--responses", "16", "--pairs-per-prompt", "12", "--format", "json", "--quiet"]
    print("+ " + " ".join(process_cmd), file=sys.stderr, flush=True)
    walls = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        subprocess.run(process_cmd, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
    process_seconds = statistics.median(walls)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dict(swift=swift, swift_portable=portable, numpy_kernels=numpy_kernels, numpy_trainer=trainer_rows), f, indent=2)

    # 4. Report.
    m = swift["machine"]
    lines = []
    w = lines.append
    w("# Benchmarks: Swift (`report bench`) against numpy (`benchmarks/baseline.py`)\n")
    w(f"- machine: {m['cpu']}, {m['processors']} online processors; Python {platform.python_version()}, numpy {numpy_kernels['numpy']}")
    w(f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    w(f"- commands: `python3 benchmarks/run.py {' '.join(sys.argv[1:])}`, which ran")
    w(f"  `{' '.join(['report'] + swift_cmd[1:])}` and `{' '.join(['python3', 'benchmarks/baseline.py'] + numpy_kernels_cmd[2:])}`")
    w("  and, per problem and loss, `report bench --export-environment DIR ...` then `baseline.py train DIR`")
    w(f"- every figure is the median of {args.repeats} run(s); ratios are Swift / numpy throughput measured in this one run\n")

    w(f"## Loss kernels: loss + gradient on {args.pairs:,} random pairs, single thread (million pairs/s)\n")
    pk = {r["loss"]: r for r in (portable or {}).get("kernels", [])}
    if portable:
        w("*Swift batch*: the native build (`-Xswiftc -Xcc -Xswiftc -march=native`, here AVX-512); *portable*: the "
          "default build of the same code (Package.swift sets no flags: baseline x86-64, SSE2), which gives the same bits.\n")
    heads = ["loss", "Swift batch", "Swift per-pair API"] + (["portable batch"] if portable else []) + \
        ["numpy", "Swift batch / numpy"] + (["portable / numpy"] if portable else []) + ["target >= 3x"]
    w("| " + " | ".join(heads) + " |")
    w("| :--- | " + " | ".join("---:" for _ in heads[1:-1]) + " | :---: |")
    npk = {r["loss"]: r for r in numpy_kernels["kernels"]}
    met_k = 0
    for k in swift["kernels"]:
        n = npk.get(k["loss"])
        pr = pk.get(k["loss"])
        ratio = k["batch_rate"] / n["rate"] if n else None
        ok = ratio is not None and ratio >= 3
        met_k += ok
        cells = [k["loss"], fmt(k["batch_rate"] / 1e6), fmt(k["per_pair_rate"] / 1e6)]
        if portable:
            cells.append(fmt(pr["batch_rate"] / 1e6) if pr else "-")
        cells += [fmt(n["rate"] / 1e6) if n else "-", fmt(ratio, 2)]
        if portable:
            cells.append(fmt(pr["batch_rate"] / n["rate"], 2) if pr and n else "-")
        cells.append("yes" if ok else "NO")
        w("| " + " | ".join(cells) + " |")
    w(f"\n{met_k} of {len(swift['kernels'])} losses reach 3x.\n")

    w("## Trainer: full-batch Adam, pair-updates per second (million)\n")
    w("Swift on one thread and on all cores (the same bits; the default problem is below the size at which a training "
      "splits, so both columns run the same serial code and differ by noise); numpy on one thread (its ufuncs are single-threaded).\n")
    w("| problem | P x K, n | loss | steps | Swift 1 thread | Swift all cores | numpy | ratio 1 thread | ratio all cores | target >= 30x | agreement (worst rel. diff.) |")
    w("| :--- | :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :--- |")
    for row in trainer_rows:
        sw = [t for t in swift["trainer"] if t["problem"] == row["problem"] and t["loss"] == row["loss"]]
        one = next((t for t in sw if t["threads"] == 1), None)
        allc = max(sw, key=lambda t: t["threads"]) if sw else None
        r1 = one["rate"] / row["rate"] if one else None
        ra = allc["rate"] / row["rate"] if allc else None
        best = max(x for x in (r1, ra) if x is not None)
        w(f"| {row['problem']} | {row['P']} x {row['K']}, {row['n']} | {row['loss']} | {row['steps']} | {fmt(one['rate'] / 1e6 if one else None)} | "
          f"{fmt(allc['rate'] / 1e6 if allc else None)} ({allc['threads'] if allc else '-'}) | {fmt(row['rate'] / 1e6, 2)} | {fmt(r1)} | {fmt(ra)} | "
          f"{'yes' if best >= 30 else 'NO'} | {agreement(row)}; final regret {row['swift_final_regret']:.6g} vs {row['final_regret']:.6g} |")
    w("")
    mid_np = next((r for r in trainer_rows if r["problem"] == "mid" and r["loss"] == "sigmoid"), None)
    process_rate = 200 * 12 * args.process_steps / process_seconds
    w("Whole process: `" + " ".join(["report"] + process_cmd[1:]) + f"` took {process_seconds:.2f} s (median), "
      f"{fmt(process_rate / 1e6)} M pair-updates/s including start-up, the environment and the metrics"
      + (f"; {fmt(process_rate / mid_np['rate'])}x numpy's training loop alone ({fmt(mid_np['rate'] / 1e6, 2)} M/s)." if mid_np else ".") + "\n")
    if portable:
        w("Portable (default) build, one thread, against numpy:\n")
        w("| problem | loss | portable (M/s) | numpy (M/s) | ratio |")
        w("| :--- | :--- | ---: | ---: | ---: |")
        for row in trainer_rows:
            pt = next((t for t in portable.get("trainer", []) if t["problem"] == row["problem"] and t["loss"] == row["loss"]
                       and t["threads"] == 1), None)
            if pt:
                w(f"| {row['problem']} | {row['loss']} | {fmt(pt['rate'] / 1e6)} | {fmt(row['rate'] / 1e6, 2)} | {fmt(pt['rate'] / row['rate'])} |")
        w("")
    if identical is not None:
        same, detail = identical
        w("## Native and portable builds give the same bytes\n")
        w(f"`report all --out DIR` from the two binaries: {'byte-identical output trees' if same else 'DIFFERENT: ' + detail}.\n")

    if swift.get("kernels") or swift.get("trainer"):
        w("## Roofline: measured throughput over the operation-count model (single thread)\n")
        w("*model*: max(compute, memory) time per item (perfect overlap); *no overlap*: compute + memory.\n")
        w("| item | op count | model (M/s) | no overlap (M/s) | measured (M/s) | measured / model | measured / no overlap |")
        w("| :--- | :--- | ---: | ---: | ---: | ---: | ---: |")
        def serial(x):
            return x.get("model_rate_no_overlap")
        for k in swift["kernels"]:
            if k.get("model_rate"):
                w(f"| kernel {k['loss']} | {k['op_count']} | {fmt(k['model_rate'] / 1e6)} | {fmt(serial(k) / 1e6 if serial(k) else None)} | "
                  f"{fmt(k['batch_rate'] / 1e6)} | {fmt(k['batch_rate'] / k['model_rate'], 2)} | {fmt(k['batch_rate'] / serial(k) if serial(k) else None, 2)} |")
        for t in swift["trainer"]:
            if t.get("model_rate"):
                w(f"| trainer {t['problem']} {t['loss']} | {t['op_count']} | {fmt(t['model_rate'] / 1e6)} | {fmt(serial(t) / 1e6 if serial(t) else None)} | "
                  f"{fmt(t['rate'] / 1e6)} | {fmt(t['rate'] / t['model_rate'], 2)} | {fmt(t['rate'] / serial(t) if serial(t) else None, 2)} |")
        ceiling = [(t, next((r for r in trainer_rows if r["problem"] == t["problem"] and r["loss"] == t["loss"]), None))
                   for t in swift["trainer"] if t.get("model_rate")]
        if any(row for _, row in ceiling):
            w("\nThe largest ratio to numpy the counted roofline allows (the model's rate on one thread, times the "
              "cores for all cores, over numpy's measured rate at that size), with exp, division, square root and "
              "additions and multiplications at the automatically vectorised (4-lane) peaks and at the explicit 8-lane "
              "peaks (the scalar scatter-add at its own measured rate in both), and the measured one-thread rate over "
              "the 8-lane model:\n")
            w("| problem | loss | numpy (M/s) | ceiling 1 thread, 4 lanes | 8 lanes | ceiling all cores, 4 lanes | 8 lanes | measured 1 thread / all cores | measured / 8-lane model, 1 thread |")
            w("| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            cores = max((t["threads"] for t in swift["trainer"]), default=1)
            for t, row in ceiling:
                if not row:
                    continue
                sw = [u for u in swift["trainer"] if u["problem"] == t["problem"] and u["loss"] == t["loss"]]
                allc = max(sw, key=lambda u: u["threads"])
                m4, m8 = t["model_rate"], t.get("model_rate_8_lanes") or t["model_rate"]
                w(f"| {t['problem']} | {t['loss']} | {fmt(row['rate'] / 1e6, 2)} | {fmt(m4 / row['rate'])} | {fmt(m8 / row['rate'])} | "
                  f"{fmt(cores * m4 / row['rate'])} | {fmt(cores * m8 / row['rate'])} | {fmt(t['rate'] / row['rate'])} / {fmt(allc['rate'] / row['rate'])} | "
                  f"{fmt(t['rate'] / m8, 2)} |")
        w("\nPeaks: " + "; ".join(f"{p['name']} {p['rate'] / (1e9 if p['unit'] == 'B/s' else 1e6):.1f} {'G' if p['unit'] == 'B/s' else 'M'}{p['unit']}" for p in swift["peaks"]) + "\n")

    if swift.get("sweep"):
        base = next((s for s in swift["sweep"] if s["workers"] == 1), swift["sweep"][0])
        w(f"## Sweep: {base['runs']} independent trainings of {base.get('steps', '?')} steps in parallel (default problem)\n")
        w("| workers | runs | time (s) | M pair-updates/s | speed-up | target >= 1.8x on 2 cores |")
        w("| ---: | ---: | ---: | ---: | ---: | :---: |")
        for s in swift["sweep"]:
            sp = s["rate"] / base["rate"]
            w(f"| {s['workers']} | {s['runs']} | {s['seconds']:.3f} | {fmt(s['rate'] / 1e6)} | {sp:.2f} | {'-' if s['workers'] == 1 else ('yes' if sp >= 1.8 else 'NO')} |")
        w("")

    if swift.get("scaling"):
        w("## Scaling: single-thread DPO training time\n")
        w("| study | P | K | n | P*K | steps | time (s) | ns per pair-update |")
        w("| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in swift["scaling"]:
            per = r["seconds"] / (r["P"] * r["n"] * r["steps"]) * 1e9
            w(f"| {r['study']} | {r['P']} | {r['K']} | {r['n']} | {r['P'] * r['K']} | {r['steps']} | {r['seconds']:.4f} | {per:.2f} |")
        w("\n| study | exponent of time in | fitted exponent | standard error |")
        w("| :--- | :--- | ---: | ---: |")
        for f in swift["scaling_fits"]:
            w(f"| {f['study']} | {f['variable']} | {f['exponent']:.3f} | {f['standard_error']:.3f} |")
        w("")

    if swift.get("commands"):
        w("## Commands: wall time\n")
        w("| command | seconds | exit status |")
        w("| :--- | ---: | ---: |")
        for c in swift["commands"]:
            w(f"| `{c['command']}` | {c['seconds']:.3f} | {c['status']} |")
        w("")

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0 if all(r["agrees"] for r in trainer_rows) and (identical is None or identical[0]) else 1


if __name__ == "__main__":
    sys.exit(main())
