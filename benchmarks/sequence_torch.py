#!/usr/bin/env python3
"""The PyTorch baseline of the sequence-level simulation (`report train --policy markov`),
written the way a researcher would write it: a (P*S, V) logits table, `log_softmax`, a
gather along each response's path, the DPO sigmoid loss, autograd and `torch.optim.Adam`,
on one CPU thread. It is the comparison point for the sequence problem of `report bench`
(see BENCHMARKS.md) and an independent check of the toolkit's first training steps.

Input: a folder written by `report train --policy markov ... --out DIR`:

  transitions.csv  prompt,position,previous,token,logp_reference,reward,proxy_reward,logp_optimal
                   one row per state (prompt, position, previous) and next token; previous is
                   -1 at position 0. Only the first five columns are read.
  pairs.csv        prompt,chosen,rejected,target_gap: the training pairs, chosen and rejected as
                   T space-separated tokens (0..V-1); target_gap is the gap the reward-aware
                   losses receive (unused here: DPO reads the labels only).
  metrics.csv      (optional, for --compare) the toolkit's per-step metrics.

The policy starts at pi_ref (its logits are the reference log-probabilities) and takes
full-batch Adam steps (b1 0.9, b2 0.999, eps 1e-8, as the toolkit's) on the mean over pairs of
-log sigmoid(beta h), h = (log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - log pi_ref(y_l)).
Every prompt has the same number of pairs, so the mean over pairs weighs prompts equally.

Usage:

  python3 benchmarks/sequence_torch.py DIR --beta 0.1 --lr 0.05 --steps 100 --log-every 1 \\
      [--dtype float64|float32] [--compare DIR/metrics.csv] [--loss sigmoid] [--csv FILE]

Prints, per logged step, the mean log pi(y_w) and log pi(y_l) over the pairs (and with
--compare the largest relative difference from the toolkit's `mean_logp_chosen` /
`mean_logp_rejected` of the same loss over those steps), then the pair-updates per second of
the training loop (pairs x steps / seconds, metrics excluded; also per second of the thread's
CPU time, which a loaded machine does not inflate) and the whole process's time.

Needs torch (benchmarks/requirements-torch.txt). Not run in CI.
"""
import argparse
import csv
import os
import sys
import time

PROCESS_START = time.perf_counter()

import torch  # noqa: E402  (timed as part of the process)


def read_transitions(path):
    """The reference log-probabilities as a (P*S, V) tensor, placed by (prompt, position,
    previous, token) with the toolkit's state index: x S at position 0,
    x S + 1 + (t - 1) V + previous after it, S = 1 + (T - 1) V."""
    cols = [[], [], [], [], []]
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        want = ["prompt", "position", "previous", "token", "logp_reference"]
        if header[:5] != want:
            sys.exit(f"{path}: expected the columns {','.join(want)},... got {','.join(header)}")
        for line, r in enumerate(reader, start=2):
            try:
                for k in range(4):
                    cols[k].append(int(r[k]))
                cols[4].append(float(r[4]))
            except (ValueError, IndexError):
                sys.exit(f"{path}, row {line}: not prompt,position,previous,token,logp_reference")
    x, t, p, a = (torch.tensor(c, dtype=torch.long) for c in cols[:4])
    prompts, length, vocab = int(x.max()) + 1, int(t.max()) + 1, int(a.max()) + 1
    states = 1 + (length - 1) * vocab
    s = x * states + torch.where(t == 0, torch.zeros_like(t), 1 + (t - 1) * vocab + p)
    if len(cols[4]) != prompts * states * vocab:
        sys.exit(f"{path}: {len(cols[4])} rows, expected P(1+(T-1)V)V = {prompts * states * vocab}")
    table = torch.full((prompts * states * vocab,), float("nan"), dtype=torch.float64)
    table[s * vocab + a] = torch.tensor(cols[4], dtype=torch.float64)
    if torch.isnan(table).any():
        sys.exit(f"{path}: some (state, token) rows are missing")
    return table.view(prompts * states, vocab), prompts, length, vocab, states


def read_pairs(path, length, vocab, states):
    """The state and token index of every position of each chosen and rejected response:
    (N, T) long tensors."""
    sw, tw, sl, tl = [], [], [], []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for line, r in enumerate(reader, start=2):
            try:
                x = int(r["prompt"])
                w = [int(a) for a in r["chosen"].split()]
                l = [int(a) for a in r["rejected"].split()]
            except (ValueError, KeyError, AttributeError):
                sys.exit(f"{path}, row {line}: expected prompt,chosen,rejected,... with space-separated tokens")
            if len(w) != length or len(l) != length:
                sys.exit(f"{path}, row {line}: a response needs {length} tokens")
            for y, ss, tt in ((w, sw, tw), (l, sl, tl)):
                ss.append([x * states + (0 if t == 0 else 1 + (t - 1) * vocab + y[t - 1]) for t in range(length)])
                tt.append(y)
    as_long = lambda v: torch.tensor(v, dtype=torch.long)
    return as_long(sw), as_long(tw), as_long(sl), as_long(tl)


def sequence_logp(logp, states, tokens):
    """log pi(y|x) = sum_t log pi(y_t | s_t), gathered along each path: (N,)."""
    return logp[states, tokens].sum(dim=-1)


def read_toolkit_metrics(path, loss):
    """{step: (mean_logp_chosen, mean_logp_rejected)} of `loss` from the toolkit's metrics.csv."""
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r.get("loss") == loss:
                out[int(r["step"])] = (float(r["mean_logp_chosen"]), float(r["mean_logp_rejected"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--log-every", type=int, default=1)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--compare", help="the toolkit's metrics.csv of the same run")
    ap.add_argument("--loss", default="sigmoid", help="the toolkit's loss name to compare with (DPO: sigmoid)")
    ap.add_argument("--csv", help="also write step,mean_logp_chosen,mean_logp_rejected here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32

    ref_table, prompts, length, vocab, states = read_transitions(os.path.join(args.dir, "transitions.csv"))
    sw, tw, sl, tl = read_pairs(os.path.join(args.dir, "pairs.csv"), length, vocab, states)
    n_pairs = sw.shape[0]
    ref_table = ref_table.to(dtype)
    ref_w = sequence_logp(ref_table, sw, tw)
    ref_l = sequence_logp(ref_table, sl, tl)

    logits = ref_table.clone().requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    beta = args.beta

    log = []

    def record(step):
        with torch.no_grad():
            logp = torch.log_softmax(logits, dim=-1)
            log.append((step, sequence_logp(logp, sw, tw).mean().item(), sequence_logp(logp, sl, tl).mean().item()))

    train_seconds = 0.0
    train_cpu = 0.0
    record(0)
    for step in range(1, args.steps + 1):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logp = torch.log_softmax(logits, dim=-1)
        h = (sequence_logp(logp, sw, tw) - ref_w) - (sequence_logp(logp, sl, tl) - ref_l)
        loss = -torch.nn.functional.logsigmoid(beta * h).mean()
        loss.backward()
        opt.step()
        train_seconds += time.perf_counter() - t0
        train_cpu += time.thread_time() - c0
        if step % args.log_every == 0 or step == args.steps:
            record(step)

    print(f"# PyTorch {torch.__version__}, 1 thread, {args.dtype}: P={prompts}, V={vocab}, T={length}, "
          f"{n_pairs} pairs, beta={beta}, lr={args.lr}, {args.steps} steps")
    print("step,mean_logp_chosen,mean_logp_rejected")
    for step, w, l in log:
        print(f"{step},{w!r},{l!r}")
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as fh:
            fh.write("step,mean_logp_chosen,mean_logp_rejected\n")
            fh.writelines(f"{s},{w!r},{l!r}\n" for s, w, l in log)
    if args.compare:
        theirs = read_toolkit_metrics(args.compare, args.loss)
        common = [(s, w, l) for s, w, l in log if s in theirs]
        if not common:
            sys.exit(f"{args.compare}: no logged step of loss {args.loss} in common")
        rel = max(max(abs(w - theirs[s][0]) / max(abs(theirs[s][0]), 1e-300),
                      abs(l - theirs[s][1]) / max(abs(theirs[s][1]), 1e-300)) for s, w, l in common)
        print(f"agreement with the toolkit over steps {common[0][0]}..{common[-1][0]} ({len(common)} logged steps): "
              f"largest relative difference of the mean log-probabilities {rel:.3g}")
    rate = n_pairs * args.steps / train_seconds if train_seconds > 0 else float("nan")
    print(f"training loop: {train_seconds:.4g} s, {rate:.4g} pair-updates/s")
    cpu_rate = n_pairs * args.steps / train_cpu if train_cpu > 0 else float("nan")
    print(f"training loop, this thread's CPU time: {train_cpu:.4g} s, {cpu_rate:.4g} pair-updates per CPU second")
    print(f"whole process: {time.perf_counter() - PROCESS_START:.4g} s")


if __name__ == "__main__":
    main()
