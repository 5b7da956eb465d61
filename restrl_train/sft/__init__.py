"""Supervised fine-tuning (``restrl-train sft``) and the tiny ``mini`` policy built with it.

``SFTConfig`` + ``train_sft`` are the library API; ``restrl_train.sft.cli`` the command;
``restrl_train.sft.policy.mini_policy_dir`` trains-or-reuses the cached ``mini-policy``.
torch and transformers are imported only when training runs.
"""
from restrl_train.sft.config import SFTConfig
from restrl_train.sft.records import Record, SFTDataError, load_records
from restrl_train.sft.trainer import SFTError, SFTResult, train_sft

__all__ = ["Record", "SFTConfig", "SFTDataError", "SFTError", "SFTResult", "load_records", "train_sft"]
