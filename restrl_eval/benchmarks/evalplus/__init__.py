"""HumanEval(+) and MBPP(+) with evalplus 0.3.1 verdicts (see README.md in this folder)."""
