"""The model client's time limits never swallow a cancellation (cancel-previous relies on it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from qwen_lsp.model.deadline import within as _within
from qwen_lsp.model.errors import ModelError


async def cancel_as_result_arrives(wait: Callable[[asyncio.Future[str]], Awaitable[str]]) -> str:
    """Resolve the awaited future and cancel the waiting task in the same loop turn."""
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(wait(future))
    await asyncio.sleep(0)  # the task now waits on the future
    future.set_result("data: {...}")
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    return "swallowed"


async def test_a_cancel_that_lands_with_the_next_line_is_kept() -> None:
    assert await cancel_as_result_arrives(lambda f: _within(f, 10, "slow")) == "cancelled"


async def test_asyncio_wait_for_loses_it_which_is_why_it_is_not_used() -> None:
    # Documents the Python < 3.12 behaviour that let cancelled streams run to their end.
    outcome = await cancel_as_result_arrives(lambda f: asyncio.wait_for(f, 10))
    assert outcome in ("swallowed", "cancelled")  # "cancelled" from Python 3.12 on


async def test_time_limit_becomes_a_timeout_error() -> None:
    with pytest.raises(ModelError) as caught:
        await _within(asyncio.sleep(5), 0.01, "the answer took longer than endpoint.timeout_s")
    assert caught.value.kind == "timeout"
    assert "endpoint.timeout_s" in caught.value.detail
