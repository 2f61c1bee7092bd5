"""``qwen-lsp`` command line: the server (stdio by default, or TCP), ``doctor`` and ``version``."""

from __future__ import annotations

import argparse
import gc
import logging
import sys

from . import __version__


def setup_logging(level: str) -> None:
    # stderr only: on the stdio transport stdout carries the protocol.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("qwen_lsp").setLevel(level.upper())


def parse_host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qwen-lsp", description="Qwen-Coder language server")
    parser.add_argument("--version", action="version", version=f"qwen-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="serve on stdin/stdout (default)")
    parser.add_argument(
        "--tcp", type=parse_host_port, metavar="HOST:PORT", help="serve on a TCP socket"
    )
    parser.add_argument("--log-level", default=None, choices=["error", "warning", "info", "debug"])
    sub = parser.add_subparsers(dest="command")
    doctor = sub.add_parser(
        "doctor", help="check the endpoint and settings, send one real FIM request"
    )
    doctor.add_argument("--base-url", help="override endpoint.base_url")
    doctor.add_argument("--model", help="override endpoint.model")
    doctor.add_argument("--json", action="store_true", help="print the checks as one JSON object")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .settings import load_base_settings

    settings, problems = load_base_settings()
    setup_logging(args.log_level or settings.log_level)
    if args.command == "doctor":
        from .doctor import run_doctor

        return run_doctor(
            settings, problems, base_url=args.base_url, model=args.model, as_json=args.json
        )
    # Importing pygls and lsprotocol creates hundreds of thousands of objects that live as long
    # as the process; the cyclic collector would traverse them over and over while they are
    # made. Collect nothing until they exist, then freeze them: later collections (while
    # typing) skip them too.
    gc.disable()
    from .server import build_server

    server = build_server(settings, problems)
    gc.freeze()
    gc.enable()
    if args.tcp:
        host, port = args.tcp
        server.start_tcp(host, port)
    else:
        server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
