"""Run the stub LLM server: ``python -m llmstub --port 8765 --token-delay-ms 25``."""

import argparse
import asyncio
import contextlib
import os

from llmstub.server import DEFAULT_MODEL, StubLLMServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llmstub", description=__doc__)
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
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = StubLLMServer(
        args.host,
        args.port,
        latency_ms=args.latency_ms,
        token_delay_ms=args.token_delay_ms,
        tokens=args.tokens,
        model=args.model,
        api_key=args.api_key,
    )
    await server.start_async()
    # Scripts that start us with --port 0 read the real port from this line.
    print(f"llmstub listening on {server.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop_async()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
