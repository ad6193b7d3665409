"""Local OpenAI-compatible LLM server for tests, the demo and benchmarks."""

from llmstub.server import DEFAULT_MODEL, FAULTS, StubConfig, StubLLMServer

__all__ = ["DEFAULT_MODEL", "FAULTS", "StubConfig", "StubLLMServer"]
