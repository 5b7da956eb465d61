"""APPS with the hendrycks/apps metric, fixed or reference-compatible (see README.md in this folder)."""
