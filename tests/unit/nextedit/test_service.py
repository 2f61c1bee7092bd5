"""Scheduling of predictions (after edits settle), cancellation, following, client requests."""

from __future__ import annotations

import asyncio

from qwen_lsp.documents import Document, DocumentStore
from qwen_lsp.model.request import Answer, GenerationRequest, StreamOutcome
from qwen_lsp.nextedit.predict import Prediction
from qwen_lsp.nextedit.service import NextEditConfig, NextEditService

TEXT = 'def describe(width, height):\n    a = width * height\n    print("width", width)\n'
RENAMED = 'def describe(w, height):\n    a = w * height\n    print("width", w)'


class Model:
    """Answers every request with ``RENAMED`` after ``delay_s``; records what it was asked."""

    def __init__(self, delay_s: float = 0.0, answer: str = RENAMED):
        self.delay_s, self.answer = delay_s, answer
        self.requests: list[GenerationRequest] = []
        self.cancelled = 0

    async def __call__(self, request: GenerationRequest) -> Answer:
        self.requests.append(request)
        try:
            await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return Answer(f"```python\n{self.answer}\n```", StreamOutcome(finish_reason="stop"))


def setup(model: Model, debounce_s: float = 0.05):
    store = DocumentStore()
    doc = store.open("file:///w/shapes.py", TEXT, 1, "python")
    updates: list[Prediction | None] = []
    config = NextEditConfig(enabled=True, debounce_s=debounce_s)
    service = NextEditService(
        store, model, lambda: config, lambda d: "shapes.py", lambda uri, p: updates.append(p)
    )
    return store, doc, service, updates


def type_at(store: DocumentStore, service: NextEditService, offset: int, text: str) -> None:
    doc = store.get("file:///w/shapes.py")
    for i, ch in enumerate(text):
        at = doc.position_at(offset + i)
        store.change(doc.uri, [{"range": {"start": at, "end": at}, "text": ch}], doc.version + 1)
        service.did_change(doc)


def delete(store: DocumentStore, service: NextEditService, start: int, end: int) -> None:
    doc = store.get("file:///w/shapes.py")
    rng = {"start": doc.position_at(start), "end": doc.position_at(end)}
    store.change(doc.uri, [{"range": rng, "text": ""}], doc.version + 1)
    service.did_change(doc)


def rename(store: DocumentStore, service: NextEditService) -> None:
    """The user replaces ``width`` in the signature by ``w``."""
    delete(store, service, 13, 18)
    type_at(store, service, 13, "w")


async def settled_prediction(
    store: DocumentStore, service: NextEditService, doc: Document
) -> Prediction:
    rename(store, service)
    await asyncio.sleep(0.2)
    prediction = service.current(doc)
    assert prediction is not None
    return prediction


async def test_a_burst_of_keys_makes_one_model_call_after_it_settles():
    model = Model()
    store, doc, service, updates = setup(model)
    rename(store, service)
    assert model.requests == []  # nothing while the keys come
    await asyncio.sleep(0.2)
    assert len(model.requests) == 1
    prediction = service.current(doc)
    assert prediction is not None and updates[-1] is prediction
    assert [doc.text[c.start : c.end] for c in prediction.changes] == ["width", "width"]


async def test_an_edit_cancels_the_prediction_in_flight():
    model = Model(delay_s=0.3)
    store, doc, service, _ = setup(model)
    delete(store, service, 13, 18)
    await asyncio.sleep(0.1)  # settled: the model is asked
    assert len(model.requests) == 1
    type_at(store, service, 13, "w")
    await asyncio.sleep(0.01)
    assert model.cancelled == 1 and service.stats["cancelled"] == 1
    await asyncio.sleep(0.5)
    assert len(model.requests) == 2 and service.current(doc) is not None


async def test_typing_along_the_prediction_makes_no_model_call():
    model = Model()
    store, doc, service, _ = setup(model)
    first = await settled_prediction(store, service, doc)
    at = doc.text.index("a = width") + 4
    delete(store, service, at, at + 5)
    type_at(store, service, at, "w")
    await asyncio.sleep(0.2)
    assert len(model.requests) == 1  # followed, not asked again
    kept = service.current(doc)
    assert kept is not None and kept.id == first.id and len(kept.changes) == 1
    assert service.stats["follow_kept"] == 2


async def test_a_prediction_is_only_current_for_its_text():
    model = Model()
    store, doc, service, _ = setup(model)
    await settled_prediction(store, service, doc)
    store.close(doc.uri)
    reopened = store.open(doc.uri, doc.text, doc.version, "python")  # a reload, same version
    assert service.current(reopened) is None


async def test_a_client_request_waits_for_the_prediction():
    model = Model(delay_s=0.05)
    store, doc, service, _ = setup(model, debounce_s=10)  # never settles by itself
    rename(store, service)
    prediction = await asyncio.wait_for(service.request(doc, 14), 2)
    assert prediction is not None and len(model.requests) == 1
    assert prediction.cursor == 14


async def test_a_rejected_edit_is_not_offered_again():
    model = Model()
    store, doc, service, updates = setup(model)
    prediction = await settled_prediction(store, service, doc)
    service.rejected(prediction.id)
    assert service.current(doc) is None and updates[-1] is None
    type_at(store, service, len(doc.text), "\n")
    await asyncio.sleep(0.2)
    assert len(model.requests) == 2 and service.current(doc) is None
    assert service.stats["rejected_before"] == 1


async def test_disabled_service_never_calls_the_model():
    model = Model()
    store, doc, service, _ = setup(model)
    service.config = lambda: NextEditConfig(enabled=False)
    delete(store, service, 13, 18)
    await asyncio.sleep(0.1)
    assert model.requests == [] and await service.request(doc, 13) is None
