#!/usr/bin/env python3
"""Per-pair sequence log-probs of a policy and a reference model, for `report losses`.

Writes one JSON object per preference pair, with TRL's column names:
  chosen_logps, rejected_logps            sum over the completion's tokens of log pi(token | prompt, prefix)
  ref_chosen_logps, ref_rejected_logps    the same under the reference model
  chosen_length, rejected_length          completion token counts (EOS included, as TRL appends it)
  score_chosen, score_rejected            copied when the dataset has them (UltraFeedback's names)
  plus any `id`/`prompt_id` field of the input.

This is what TRL's DPOTrainer computes in its concatenated forward pass (prompt and completion
concatenated, logits shifted by one, log_softmax, gather the completion's tokens, sum over
the completion mask), without the trainer itself: transformers and torch only.

Input: a JSON Lines file in TRL's standard preference format, one object per line with
`prompt`, `chosen`, `rejected` strings (and optionally `score_chosen`, `score_rejected`).

    python Tools/trl_logps.py --model path/to/policy --ref-model path/to/sft \
        --dataset pairs.jsonl --output logps.jsonl
    report losses --input logps.jsonl --beta 0.1 --losses sigmoid,spo

`--tiny-random-model` builds a 2-layer GPT-2 with random weights and a byte-level tokenizer
instead of loading one (no download), for checking the pipeline end to end.

Requires: torch, transformers (not needed by the toolkit or its CI).
"""
import argparse
import json
import sys

import torch


class ByteTokenizer:
    """Bytes as tokens (ids 0-255), EOS = 256: a tokenizer that needs no files."""
    eos_token_id = 256
    vocab_size = 257

    def encode(self, text, add_special_tokens=False):
        return list(text.encode("utf-8"))


def tiny_random_model(seed):
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=ByteTokenizer.vocab_size, n_positions=1024, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=ByteTokenizer.eos_token_id, eos_token_id=ByteTokenizer.eos_token_id)
    return GPT2LMHeadModel(config)


def load(name):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    return AutoModelForCausalLM.from_pretrained(name), AutoTokenizer.from_pretrained(name)


@torch.no_grad()
def sequence_logp(model, prompt_ids, completion_ids):
    """Sum of log pi(completion token | prompt, earlier completion tokens), in float64."""
    ids = torch.tensor([prompt_ids + completion_ids])
    logits = model(input_ids=ids).logits[0, :-1].to(torch.float64)  # position t predicts token t+1
    logps = torch.log_softmax(logits, dim=-1)
    targets = ids[0, 1:]
    token_logps = logps.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return float(token_logps[len(prompt_ids) - 1:].sum())  # the completion's tokens only


def completion_ids(tokenizer, text, add_eos):
    ids = tokenizer.encode(text, add_special_tokens=False)
    if add_eos and tokenizer.eos_token_id is not None:
        ids = ids + [tokenizer.eos_token_id]
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="policy model (a path or a name transformers can load)")
    ap.add_argument("--ref-model", help="reference model (default: the policy itself, as TRL does before training)")
    ap.add_argument("--tiny-random-model", action="store_true",
                    help="random 2-layer GPT-2 policy and reference (seeds 0 and 1) with a byte tokenizer")
    ap.add_argument("--dataset", required=True, help="JSON Lines with prompt, chosen, rejected")
    ap.add_argument("--output", required=True, help="JSON Lines to write ('-' for standard output)")
    ap.add_argument("--no-eos", action="store_true", help="do not append EOS to the completions")
    args = ap.parse_args()

    if args.tiny_random_model:
        tokenizer = ByteTokenizer()
        policy, reference = tiny_random_model(0), tiny_random_model(1)
    elif args.model:
        policy, tokenizer = load(args.model)
        reference = load(args.ref_model)[0] if args.ref_model else policy
    else:
        ap.error("give --model or --tiny-random-model")
    policy.eval()
    reference.eval()

    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    count = 0
    with open(args.dataset, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            pair = json.loads(line)
            missing = [k for k in ("prompt", "chosen", "rejected") if not isinstance(pair.get(k), str)]
            if missing:
                sys.exit(f"{args.dataset}: line {line_number}: missing string field(s) {', '.join(missing)}")
            prompt = tokenizer.encode(pair["prompt"], add_special_tokens=False)
            if not prompt:
                sys.exit(f"{args.dataset}: line {line_number}: the prompt is empty after tokenisation")
            chosen = completion_ids(tokenizer, pair["chosen"], not args.no_eos)
            rejected = completion_ids(tokenizer, pair["rejected"], not args.no_eos)
            row = {k: pair[k] for k in ("id", "prompt_id") if k in pair}
            row.update({
                "chosen_logps": sequence_logp(policy, prompt, chosen),
                "rejected_logps": sequence_logp(policy, prompt, rejected),
                "ref_chosen_logps": sequence_logp(reference, prompt, chosen),
                "ref_rejected_logps": sequence_logp(reference, prompt, rejected),
                "chosen_length": len(chosen),
                "rejected_length": len(rejected),
            })
            for k in ("score_chosen", "score_rejected"):
                if k in pair:
                    row[k] = pair[k]
            out.write(json.dumps(row) + "\n")
            count += 1
    if out is not sys.stdout:
        out.close()
    print(f"wrote {count} pairs to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
