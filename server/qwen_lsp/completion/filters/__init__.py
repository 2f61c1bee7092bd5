"""Post-processing filters for completions; the pipeline and its order live in
``qwen_lsp.completion.postprocess``."""
