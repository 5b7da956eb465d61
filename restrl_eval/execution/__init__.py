"""Sandboxed execution of untrusted programs: one executor for evaluation, rewards and search."""
from restrl_eval.execution.executor import Executor, SandboxUnavailable
from restrl_eval.execution.ray_pool import RayExecutor as RayExecutor
from restrl_eval.execution.ray_pool import make_executor as make_executor
from restrl_eval.execution.sandbox import SandboxReport
from restrl_eval.execution.types import ExecResult, Job, Limits, Profile, Status, TestOutcome

__all__ = ["Executor", "SandboxUnavailable", "SandboxReport", "ExecResult", "Job", "Limits", "Profile",
           "Status", "TestOutcome"]
