"""The smallest pygls language server: the start-up yardstick for ``bench_startup``.

It pays what every pygls server pays (the interpreter, ``lsprotocol.types``, pygls) and nothing
else, so qwen-lsp's start-up is compared with it in the same run, as a ratio.
"""

from pygls.lsp.server import LanguageServer

if __name__ == "__main__":
    LanguageServer("bare-pygls", "0").start_io()
