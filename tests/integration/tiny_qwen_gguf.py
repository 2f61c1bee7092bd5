"""Write a tiny random-weight Qwen2-architecture GGUF with the real Qwen2.5 tokenizer.

The vocabulary (tokens, BPE merges, pre-tokenizer) comes from ``ggml-vocab-qwen2.gguf``, which
llama.cpp ships for its tokenizer tests and llama-cpp-python's sdist carries
(``.ci/llamacpp-setup.sh`` extracts it). That file predates Qwen2.5, so ids 151646-151664 are
placeholders there; they get their Qwen2.5 names here, the FIM tokens at 151659-151664 included,
as control tokens. The weights are random: the model answers junk, but a real server runs it with
a real tokenizer, real streaming and a real KV (prefix) cache, in seconds and ~80 MB.

    python -m tests.integration.tiny_qwen_gguf OUT.gguf [VOCAB.gguf]
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np

VOCAB_NAME = "ggml-vocab-qwen2.gguf"
ENDOFTEXT_ID = 151643

FIM_TOKENS: dict[int, str] = {
    151659: "<|fim_prefix|>",
    151660: "<|fim_middle|>",
    151661: "<|fim_suffix|>",
    151662: "<|fim_pad|>",
    151663: "<|repo_name|>",
    151664: "<|file_sep|>",
}

# Qwen2.5's added tokens (tokenizer_config.json of the Qwen2.5 / Qwen2.5-Coder models).
QWEN25_ADDED_TOKENS: dict[int, str] = {
    151646: "<|object_ref_start|>",
    151647: "<|object_ref_end|>",
    151648: "<|box_start|>",
    151649: "<|box_end|>",
    151650: "<|quad_start|>",
    151651: "<|quad_end|>",
    151652: "<|vision_start|>",
    151653: "<|vision_end|>",
    151654: "<|vision_pad|>",
    151655: "<|image_pad|>",
    151656: "<|video_pad|>",
    151657: "<tool_call>",
    151658: "</tool_call>",
    **FIM_TOKENS,
}

FIM_ID_KEYS: dict[str, str] = {
    gguf.Keys.Tokenizer.FIM_PRE_ID: "<|fim_prefix|>",
    gguf.Keys.Tokenizer.FIM_SUF_ID: "<|fim_suffix|>",
    gguf.Keys.Tokenizer.FIM_MID_ID: "<|fim_middle|>",
    gguf.Keys.Tokenizer.FIM_PAD_ID: "<|fim_pad|>",
    gguf.Keys.Tokenizer.FIM_REP_ID: "<|repo_name|>",
    gguf.Keys.Tokenizer.FIM_SEP_ID: "<|file_sep|>",
}


@dataclass(frozen=True)
class TinyConfig:
    """Big enough that a 2k-token prompt costs visible time (so prefix caching shows)."""

    n_embd: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 768
    context_length: int = 32768
    seed: int = 1234
    # Vocabulary entry (byte-level BPE spelling) that the output layer is steered to, so every
    # generation is that token repeated: never an early stop or newline, a known length. None
    # keeps pure random logits (junk from the whole vocabulary).
    steer_token: str | None = None


@dataclass(frozen=True)
class Vocab:
    tokens: list[str]
    token_types: list[int]
    merges: list[str]
    pre: str
    chat_template: str


def find_vocab(repo_root: Path | None = None) -> Path | None:
    """The vocab GGUF where the setup script caches it (or ``QWEN_LSP_QWEN_VOCAB``)."""
    root = repo_root or Path(__file__).resolve().parents[2]
    candidates = [
        os.environ.get("QWEN_LSP_QWEN_VOCAB", ""),
        str(Path(os.environ.get("QWEN_LSP_CACHE", root / ".cache")) / "llamacpp" / VOCAB_NAME),
        str(root / ".cache" / "llamacpp" / VOCAB_NAME),
        str(
            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
            / "qwen-lsp"
            / "llamacpp"
            / VOCAB_NAME
        ),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


# GGUF value types (the spec's gguf_type enum) and the struct format of the fixed-size ones.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}
_SCALARS |= {11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class _KVReader:
    """Reads the key/value section of a GGUF file.

    gguf.GGUFReader builds a numpy view per array element, which takes ~30 s for the 300k
    strings of a vocabulary; plain struct reads take well under a second.
    """

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def _unpack(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def _string(self) -> str:
        size = self._unpack("<Q")
        self.pos += size
        return self.data[self.pos - size : self.pos].decode("utf-8")

    def _value(self, kind: int) -> Any:
        if kind == _STRING:
            return self._string()
        if kind == _ARRAY:
            item_kind, count = self._unpack("<I"), self._unpack("<Q")
            return [self._value(item_kind) for _ in range(count)]
        return self._unpack(_SCALARS[kind])

    def read(self) -> dict[str, Any]:
        if self.data[:4] != b"GGUF":
            raise ValueError("not a GGUF file")
        self.pos = 8  # magic + version
        _tensor_count, kv_count = self._unpack("<Q"), self._unpack("<Q")
        out: dict[str, Any] = {}
        for _ in range(kv_count):
            key = self._string()
            out[key] = self._value(self._unpack("<I"))
        return out


def read_vocab(path: Path) -> Vocab:
    """Tokens, types and merges of a vocab-only GGUF, with the Qwen2.5 added tokens filled in."""
    kv = _KVReader(path.read_bytes()).read()
    tokens = list(kv[gguf.Keys.Tokenizer.LIST])
    token_types = list(kv[gguf.Keys.Tokenizer.TOKEN_TYPE])
    for token_id, text in QWEN25_ADDED_TOKENS.items():
        tokens[token_id] = text
        token_types[token_id] = int(gguf.TokenType.CONTROL)
    return Vocab(
        tokens=tokens,
        token_types=token_types,
        merges=list(kv[gguf.Keys.Tokenizer.MERGES]),
        pre=kv.get(gguf.Keys.Tokenizer.PRE) or "qwen2",
        chat_template=kv.get(gguf.Keys.Tokenizer.CHAT_TEMPLATE, ""),
    )


def _add_hparams(writer: gguf.GGUFWriter, config: TinyConfig) -> None:
    writer.add_name("tiny-qwen2-random")
    writer.add_context_length(config.context_length)
    writer.add_embedding_length(config.n_embd)
    writer.add_block_count(config.n_layer)
    writer.add_feed_forward_length(config.n_ff)
    writer.add_head_count(config.n_head)
    writer.add_head_count_kv(config.n_head_kv)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)


def _add_tokenizer(writer: gguf.GGUFWriter, vocab: Vocab) -> None:
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.token_types)
    writer.add_token_merges(vocab.merges)
    writer.add_bos_token_id(ENDOFTEXT_ID)
    writer.add_eos_token_id(ENDOFTEXT_ID)
    writer.add_pad_token_id(ENDOFTEXT_ID)
    writer.add_add_bos_token(False)  # Qwen prompts start without a BOS token
    ids = {text: token_id for token_id, text in FIM_TOKENS.items()}
    for key, text in FIM_ID_KEYS.items():
        writer.add_uint32(key, ids[text])
    if vocab.chat_template:
        writer.add_chat_template(vocab.chat_template)


def _tensors(
    config: TinyConfig, n_vocab: int, steer_id: int | None = None
) -> dict[str, np.ndarray]:
    """Qwen2 tensors in GGUF naming; numpy shapes are (out, in). Without steering the output
    layer shares token_embd (tied, as in the small Qwen2.5 models)."""
    rng = np.random.default_rng(config.seed)
    head_dim = config.n_embd // config.n_head
    kv = config.n_head_kv * head_dim

    def matrix(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)

    def vector(size: int, value: float = 0.0) -> np.ndarray:
        return np.full(size, value, dtype=np.float32)

    tensors = {
        "token_embd.weight": matrix(n_vocab, config.n_embd),
        "output_norm.weight": vector(config.n_embd, 1.0),
    }
    if steer_id is not None:
        # Every input carries a constant component in dimension 0 that survives to the final
        # norm; only the steered token's output row reads it, so that token always wins.
        tensors["token_embd.weight"][:, 0] = 1.0
        output = matrix(n_vocab, config.n_embd)
        output[:, 0] = 0.0
        output[steer_id, 0] = 1.0
        tensors["output.weight"] = output
    for i in range(config.n_layer):
        tensors |= {
            f"blk.{i}.attn_norm.weight": vector(config.n_embd, 1.0),
            f"blk.{i}.attn_q.weight": matrix(config.n_embd, config.n_embd),
            f"blk.{i}.attn_q.bias": vector(config.n_embd),
            f"blk.{i}.attn_k.weight": matrix(kv, config.n_embd),
            f"blk.{i}.attn_k.bias": vector(kv),
            f"blk.{i}.attn_v.weight": matrix(kv, config.n_embd),
            f"blk.{i}.attn_v.bias": vector(kv),
            f"blk.{i}.attn_output.weight": matrix(config.n_embd, config.n_embd),
            f"blk.{i}.ffn_norm.weight": vector(config.n_embd, 1.0),
            f"blk.{i}.ffn_gate.weight": matrix(config.n_ff, config.n_embd),
            f"blk.{i}.ffn_up.weight": matrix(config.n_ff, config.n_embd),
            f"blk.{i}.ffn_down.weight": matrix(config.n_embd, config.n_ff),
        }
    return tensors


def write_tiny_qwen(vocab_path: Path, out_path: Path, config: TinyConfig | None = None) -> Path:
    """Write the model to ``out_path`` and return it."""
    config = config or TinyConfig()
    vocab = read_vocab(vocab_path)
    writer = gguf.GGUFWriter(str(out_path), "qwen2")
    _add_hparams(writer, config)
    _add_tokenizer(writer, vocab)
    steer_id = vocab.tokens.index(config.steer_token) if config.steer_token else None
    for name, data in _tensors(config, len(vocab.tokens), steer_id).items():
        writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    vocab = Path(argv[1]) if len(argv) == 2 else find_vocab()
    if vocab is None:
        print(f"no {VOCAB_NAME} found: run .ci/llamacpp-setup.sh", file=sys.stderr)
        return 1
    print(write_tiny_qwen(vocab, Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
