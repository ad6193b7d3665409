"""Local OpenAI-compatible LLM server for tests, the demo and benchmarks."""

from llmstub.server import StubLLMServer
from llmstub.state import DEFAULT_MODEL, FAULTS, StubConfig

__all__ = ["DEFAULT_MODEL", "FAULTS", "StubConfig", "StubLLMServer"]
