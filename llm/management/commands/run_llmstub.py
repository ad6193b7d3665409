"""Run the shipped OpenAI-compatible stub LLM server (llmstub) for the demo and by hand."""

import asyncio
import contextlib
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from helpdesk.config import get_config
from llmstub import StubLLMServer
from llmstub.options import add_server_arguments, server_from


class Command(BaseCommand):
    help = (
        "Serve llmstub, a local OpenAI-compatible LLM with deterministic streamed answers, "
        "usage, adjustable latency and injectable faults (POST /_stub/faults)."
    )
    # The stub serves HTTP on its own; it needs neither the database nor the URLconf.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_server_arguments(parser)
        parser.add_argument(
            "--configure",
            action="store_true",
            help="Point the llm configuration (base URL, API key, model) at this server.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            server = server_from(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self._serve(server, configure=options["configure"]))

    async def _serve(self, server: StubLLMServer, *, configure: bool) -> None:
        try:
            await server.start_async()
        except OSError as exc:
            raise CommandError(f"Cannot listen on {server.url}: {exc}") from exc
        # Scripts started with --port 0 read the port from this first line.
        self.stdout.write(f"llmstub listening on {server.base_url}")
        self.stdout.flush()
        if configure:
            self._configure(server)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop_async()

    def _configure(self, server: StubLLMServer) -> None:
        config = get_config()
        config.update(
            {
                "llm.base_url": server.base_url,
                "llm.api_key": server.state.config.api_key or "",
                "llm.model": server.state.config.model,
            }
        )
        overridden = [k for k in ("llm.base_url", "llm.model") if config.source(k) == "env"]
        if overridden:
            self.stderr.write(
                f"Environment variables override {', '.join(overridden)}: unset them to use "
                "the stub."
            )
        else:
            self.stdout.write(f"llm.base_url and llm.model now point at {server.base_url}")
