"""A webhook receiver for the tests: a real HTTP server in its own process, started and killed by the tests.

    python -m tests.cloud.webhook_receiver --port 8123 --log requests.jsonl [--fail-first 2] [--status 503]

Every POST is appended to the log as one JSON line {"path", "headers", "body"} (headers lower-cased, the
body as text), then answered 204, or `--status` for the first `--fail-first` requests.
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Receiver(ThreadingHTTPServer):
    def __init__(self, port: int, log: Path, fail_first: int, status: int) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.log, self.fail_first, self.status = log, fail_first, status
        self.lock = threading.Lock()
        self.seen = 0


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record: dict[str, Any] = {
            "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": body.decode("utf-8"),
        }
        with self.server.lock:
            self.server.seen += 1
            failing = self.server.seen <= self.server.fail_first
            with self.server.log.open("a", encoding="utf-8") as handle:
                handle.write(
                    json.dumps({**record, "answered": self.server.status if failing else 204}) + "\n"
                )
        self.send_response(self.server.status if failing else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status", type=int, default=503)
    args = parser.parse_args()
    server = Receiver(args.port, args.log, args.fail_first, args.status)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
