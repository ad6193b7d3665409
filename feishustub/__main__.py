"""Run the Feishu stub: ``python -m feishustub --port 8766 --app cli_demo:secret``."""

import argparse
import asyncio
import contextlib

from feishustub.server import FeishuStub


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="feishustub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--app", action="append", default=[], help="app_id:app_secret (repeatable)")
    parser.add_argument("--table", default="", help="app_token:table_id:rows of a sample table")
    parser.add_argument("--no-limits", action="store_true", help="do not enforce rate limits")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    stub = FeishuStub(args.host, args.port, enforce_limits=not args.no_limits)
    for pair in args.app:
        app_id, _, secret = pair.partition(":")
        stub.state.add_app(app_id, secret)
    if args.table:
        app_token, table_id, rows = args.table.split(":")
        stub.state.fill_table(app_token, table_id, int(rows))
    await stub.start_async()
    # Scripts that start us with --port 0 read the real port from this line.
    print(f"feishustub listening on {stub.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await stub.stop_async()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
