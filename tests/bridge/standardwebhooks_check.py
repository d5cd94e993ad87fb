"""The Standard Webhooks reference implementation (PyPI `standardwebhooks`) judging Ponte's
signatures, for tests/bridge/standardwebhooks.rs. Reads one JSON request on stdin, writes
one JSON answer on stdout.

  {"mode": "verify", "secrets": [...], "headers": {...}, "body_b64": "..."}
      -> {"verified": [true|false per secret]}
  {"mode": "sign", "secret": "whsec_...", "msg_id": "...", "timestamp": unix seconds,
   "payload_b64": "..."}
      -> {"signature": "v1,..."}
"""

import base64
import json
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verify(request):
    body = base64.b64decode(request["body_b64"])
    verified = []
    for secret in request["secrets"]:
        try:
            Webhook(secret).verify(body, request["headers"])
            verified.append(True)
        except WebhookVerificationError:
            verified.append(False)
    return {"verified": verified}


def sign(request):
    timestamp = datetime.fromtimestamp(request["timestamp"], tz=timezone.utc)
    payload = base64.b64decode(request["payload_b64"])
    signature = Webhook(request["secret"]).sign(request["msg_id"], timestamp, payload)
    return {"signature": signature}


def main():
    request = json.load(sys.stdin)
    modes = {"verify": verify, "sign": sign}
    json.dump(modes[request["mode"]](request), sys.stdout)


if __name__ == "__main__":
    main()
