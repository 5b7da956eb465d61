"""The run engine: the run loop (``runner``), the resumable run store (``store``),
judging of given samples (``evaluate``) and budget sweeps (``sweep``).

Why a package of its own: the CLI only parses options and prints; everything a run does
lives here, so Python users, the CLI and the trainers share one engine.
"""
