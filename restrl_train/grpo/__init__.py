"""ReST-GRPO, GRPO and DAPO policy training on TRL's GRPOTrainer with restrl's sandbox reward.

Modules: ``reward`` (exec_score, the batched Judge, the async TRL reward), ``builder``
(the ReST-GRPO data builder), ``sampler`` (n samples per problem, judged), ``config``
(settings and presets), ``trainer`` (one TRL round), ``rounds`` (resumable sample -> build
-> train), ``plots``, ``adapters`` (verl / OpenRLHF), ``cli``. Nothing heavy is imported here.
"""
