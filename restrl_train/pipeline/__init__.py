"""``restrl-train pipeline``: the ReST-RL recipe end to end, stage by stage, resumable.

Modules: ``config`` (the settings dataclasses), ``profiles`` (reading a shipped profile or a
file), ``stages`` (each stage's commands), ``runner`` (fingerprints, skip or resume, times),
``analysis`` and ``report`` (the report directory), ``cli`` (the click command). Shipped
profiles live in ``configs/``.
"""
from restrl_train.pipeline.config import PipelineConfig
from restrl_train.pipeline.profiles import ProfileError, load_profile, shipped_profiles
from restrl_train.pipeline.runner import StageError, StageResult, run_pipeline

__all__ = ["PipelineConfig", "ProfileError", "StageError", "StageResult", "load_profile", "run_pipeline",
           "shipped_profiles"]
