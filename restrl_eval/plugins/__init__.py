"""Adapters that plug restrl into other harnesses (lm-evaluation-harness: ``plugins.lm_eval``).

Each adapter is an optional extra: importing this package costs nothing; importing an
adapter needs that harness installed.
"""
