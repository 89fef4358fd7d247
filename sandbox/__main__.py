"""`python -m sandbox --port 5055 --webhook-url http://127.0.0.1:5000/webhooks/payments/sandbox`"""
from __future__ import annotations

import argparse
import logging
import os

from werkzeug.serving import make_server

from sandbox.app import Sandbox, create_sandbox_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox",
                                     description="Sandbox payments provider (loopback only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--webhook-url", default=os.environ.get("SANDBOX_WEBHOOK_URL",
                                                                "http://127.0.0.1:5000/webhooks/payments/sandbox"))
    parser.add_argument("--secret", default=os.environ.get("PAYMENTS_WEBHOOK_SECRET", "sandbox-webhook-secret"))
    parser.add_argument("--api-key", default=os.environ.get("PAYMENTS_SANDBOX_API_KEY", "sandbox-key"))
    parser.add_argument("--settle-after", type=float, default=0.5, help="seconds until a payout is paid")
    parser.add_argument("--webhook-concurrency", type=int, default=4)
    parser.add_argument("--webhook-batch", type=int, default=1,
                        help="up to this many events per webhook delivery (above 1: {\"events\": [...]})")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the sandbox listens on loopback only")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s sandbox %(levelname)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sandbox = Sandbox(api_key=args.api_key, webhook_url=args.webhook_url or None, webhook_secret=args.secret,
                      settle_after=args.settle_after, webhook_concurrency=args.webhook_concurrency,
                      webhook_batch=args.webhook_batch)
    server = make_server(args.host, args.port, create_sandbox_app(sandbox), threaded=True)
    print(f"sandbox provider on http://{args.host}:{args.port} (webhooks to {args.webhook_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
