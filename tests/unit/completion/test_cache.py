from qwen_lsp.completion.cache import CompletionCache


def test_typing_through_returns_the_rest():
    cache = CompletionCache()
    cache.put("u", "def f():\n    ret", "\n", "urn x + 1")
    hit = cache.get("u", "def f():\n    return", "\n")
    assert hit is not None and hit.text == " x + 1" and hit.typed == "urn"


def test_diverging_typing_misses():
    cache = CompletionCache()
    cache.put("u", "x = ", "\n", "compute(1)")
    assert cache.get("u", "x = z", "\n") is None


def test_changed_suffix_misses():
    cache = CompletionCache()
    cache.put("u", "x = ", "\ny = 2\n", "compute(1)")
    assert cache.get("u", "x = comp", "\ny = 3\n") is None


def test_changed_text_before_misses():
    cache = CompletionCache()
    cache.put("u", "a = 1\nx = ", "\n", "compute(1)")
    assert cache.get("u", "a = 2\nx = c", "\n") is None


def test_fully_typed_completion_is_not_served_again():
    cache = CompletionCache()
    cache.put("u", "x = ", "\n", "f()")
    assert cache.get("u", "x = f()", "\n") is None


def test_documents_do_not_share_entries():
    cache = CompletionCache()
    cache.put("a", "x = ", "\n", "f()")
    assert cache.get("b", "x = f", "\n") is None
