"""BigCodeBench with bigcodebench 0.2.5 verdicts, unforgeable by default (see README.md in this folder)."""
