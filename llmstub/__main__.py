"""Run the stub LLM server: ``python -m llmstub --port 8765 --token-delay-ms 25``."""

import argparse
import asyncio
import contextlib

from llmstub.options import add_server_arguments, server_from


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llmstub", description=__doc__)
    add_server_arguments(parser)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = server_from(vars(args))
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
