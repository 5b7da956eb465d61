"""restrl_eval: sandboxed evaluation of decoding strategies for code LLMs (ReST-RL)."""
import os as _os

# torch's OpenMP threads busy-wait by default; on a small shared CPU they starve each other
# (measured: smollm2 fell from ~13 to ~2 tok/s). Set before torch is imported anywhere.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
