"""``restrl-eval serve``: put a local model behind an OpenAI-compatible HTTP API.

Why: the ``openai`` policy backend (built for vLLM fleets and providers) is then usable
and testable with nothing but a local checkpoint, and a single CPU box can serve one
model to several runs. The bound address is printed on the first line of stdout, so a
script can start the server with ``--port 0`` and read where it listens.
"""
from __future__ import annotations

import signal
import sys

import click

from restrl_eval.backends.base import BackendError


@click.command()
@click.option("--model", "model_spec", required=True,
              help="Checkpoint directory, .gguf file, or alias (smollm2-135m).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind; 0 picks a free one.")
@click.option("--served-name", default=None, help="Model id clients ask for (default: --model).")
@click.option("--dtype", default="auto", show_default=True, help="auto, float32, bfloat16 or float16.")
@click.option("--device", default=None, help="cpu or cuda (default: cuda if available).")
@click.option("--max-batch-size", type=click.IntRange(1), default=None,
              help="Rows per generate call (default 16 on CPU, 64 on GPU).")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="torch CPU threads (default: torch's choice).")
@click.option("--batch-window-ms", type=click.FloatRange(0), default=10.0, show_default=True,
              help="How long to gather concurrent requests into one batch.")
@click.option("--api-key", envvar="RESTRL_SERVE_API_KEY", default=None,
              help="Require this bearer key (env RESTRL_SERVE_API_KEY).")
def serve(model_spec: str, host: str, port: int, served_name: str | None, dtype: str,
          device: str | None, max_batch_size: int | None, threads: int | None, batch_window_ms: float,
          api_key: str | None) -> None:
    """Serve a local model on /v1/models, /v1/completions and /v1/chat/completions."""
    try:
        from restrl_eval.backends.server import PolicyServer
        from restrl_eval.backends.transformers_backend import TransformersPolicy

        policy = TransformersPolicy.load(model_spec, dtype=dtype, device=device,
                                         max_batch_size=max_batch_size, threads=threads)
        server = PolicyServer(policy, host=host, port=port, served_name=served_name,
                              batch_window_s=batch_window_ms / 1000.0, api_key=api_key)
    except BackendError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # port in use, bad address
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"restrl-eval serve: {server.served_name} on {server.url}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("restrl-eval serve: stopped", err=True)
