"""A scripted OpenAI-compatible endpoint on 127.0.0.1 (``server.py``), with its own tests next to
it (``test_fake_openai.py``): what the end-to-end tests, editor tests and benchmarks talk to.

Run it alone with ``python -m tests.support.fake_openai --help``.
"""

from .server import FakeOpenAI, FakeOpenAIThread, RecordedRequest, Reply, Traffic

__all__ = ["FakeOpenAI", "FakeOpenAIThread", "RecordedRequest", "Reply", "Traffic"]
