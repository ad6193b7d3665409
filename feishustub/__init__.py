"""A local Feishu (Lark) open platform for tests, the demo and benchmarks (no Django)."""

from feishustub.server import FeishuStub, post_event

__all__ = ["FeishuStub", "post_event"]
