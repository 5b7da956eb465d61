"""evalplus parity tooling shared by the slow parity tests and benchmarks/bench_evaluate.py:
the generated corpus (``corpus``) and evalplus 0.3.1 itself run in its own venv (``reference``)."""
