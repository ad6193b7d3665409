"""The server's command-line options, shared by `python -m llmstub` and `manage.py run_llmstub`."""

import argparse
import os
from collections.abc import Mapping
from typing import Any

from llmstub.server import StubLLMServer
from llmstub.state import DEFAULT_MODEL


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="time to first token")
    parser.add_argument("--token-delay-ms", type=float, default=0.0, help="gap between tokens")
    parser.add_argument("--tokens", type=int, default=16, help="tokens per answer")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument(
        "--api-key",
        default=os.environ.get("LLMSTUB_API_KEY"),
        help="require 'Authorization: Bearer KEY' (default: $LLMSTUB_API_KEY, else no check)",
    )


def server_from(options: Mapping[str, Any]) -> StubLLMServer:
    """A server for parsed options (raises ValueError on bad numbers)."""
    return StubLLMServer(
        options["host"],
        options["port"],
        latency_ms=options["latency_ms"],
        token_delay_ms=options["token_delay_ms"],
        tokens=options["tokens"],
        model=options["model"],
        api_key=options["api_key"],
    )
