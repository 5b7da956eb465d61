#!/usr/bin/env bash
# The CI regression gate (.ci/run runs it after the tests): greedy decoding with a tiny
# random Qwen2 model built by restrl_eval/testing/tiny_models.py (weights seeded, so the
# same on every machine) on the first 20 HumanEval+ tasks, judged in the sandbox, then
# `restrl-eval check --strict` against the committed baseline entry: a pass@1 drop, or
# any task whose program, verdict or status changed, fails (decoding or judging changed).
# The tiny model passes nothing, so a judge that wrongly fails everything would go unseen
# there: a second check judges SmolLM2-135M's shipped greedy HumanEval+ answers (7 pass)
# and compares them with their committed entry (McNemar: losing all 7 has p = 1/128).
# One torch thread: the figures are deterministic on a CPU machine with torch 2.13.0.
# After an intended change to decoding or judging: bash results/ci_gate.sh --update
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=ci-tiny-greedy-humaneval+
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
python -c "import torch, sys; torch.set_num_threads(1); from restrl_eval.testing import build_tiny_lm; \
build_tiny_lm(sys.argv[1])" "$work/lm" >/dev/null 2>&1
restrl-eval run --strategy greedy --bench humaneval+ --model "$work/lm" --limit 20 --max-tokens 48 --seed 0 \
    --threads 1 --workers 2 --no-progress --out "$work/run" >/dev/null
if [ "${1:-}" = "--update" ]; then
    restrl-eval leaderboard results --add "$work/run" --name "$NAME" --model "tiny-qwen2 (build_tiny_lm seed 0)" \
        --made-by "bash results/ci_gate.sh --update: restrl-eval run --strategy greedy --bench humaneval+ --limit 20 --max-tokens 48 --seed 0 --threads 1 with a tiny random model (restrl_eval.testing.build_tiny_lm, seed 0)" \
        --note "Random weights: pass@1 is 0 by construction; the entry pins every task's program and status for the CI gate." \
        --readme results/README.md >/dev/null
else
    restrl-eval check --strict --baseline "results/$NAME.json" "$work/run"
    samples=$(find tests -name 'smollm2-135m-greedy-humaneval+.jsonl' | head -n 1)
    restrl-eval evaluate --bench humaneval+ --samples "$samples" --out "$work/he" --workers 2 --no-progress >/dev/null
    restrl-eval check --baseline results/smollm2-135m-greedy-humaneval+.json "$work/he"
fi
