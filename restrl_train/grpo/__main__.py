"""``python -m restrl_train.grpo ...`` = ``restrl-train grpo ...``; the form ``accelerate
launch -m restrl_train.grpo`` needs (one process per GPU, DeepSpeed configs in configs/)."""
from restrl_train.grpo.cli import grpo

if __name__ == "__main__":
    grpo(prog_name="python -m restrl_train.grpo")
