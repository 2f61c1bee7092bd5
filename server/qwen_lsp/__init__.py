"""qwen-lsp: Qwen-Coder completions and code actions over LSP."""

__version__ = "0.1.0"
