"""The BigCodeBench sandbox driver as standalone text parts, joined by ``driver_source``.

The parts are never imported in the sandbox; see bigcodebench/README.md for what each does.
"""
PARTS = ("sandbox/stdio.py", "bigcodebench/driver/env.py", "bigcodebench/driver/guards.py",
         "bigcodebench/driver/runner.py", "bigcodebench/driver/supervisor.py")
