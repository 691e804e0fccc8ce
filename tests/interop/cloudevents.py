"""What both interop clients share: the command line, CloudEvents in binary and structured
mode as tidings reads and writes them, and the one JSON line a client prints.

An event is given on stdin as a structured-mode CloudEvents JSON document, e.g.

    {"specversion": "1.0", "id": "0193a7e2-...", "type": "orders.placed", "source": "shop",
     "time": "2026-11-21T18:00:00.123Z", "subject": "42", "version": 2,
     "data": {"order_id": 42, "sku": "apple", "qty": 3}}

`id`, `correlationid` and `causationid` must be UUIDs: tidings keeps them as such. `data` is
JSON, as tidings' payloads are.
"""

import argparse
import json
import sys

JSON = "application/json"
STRUCTURED = "application/cloudevents+json"



def command_line(description, connection):
    """Parses `{connection options} publish|read ...`; `connection(parser)` adds the broker's."""
    parser = argparse.ArgumentParser(description=description)
    connection(parser)
    parser.add_argument(
        "--namespace", required=True, help="the tidings namespace (the URL's ?namespace=)"
    )
    modes = parser.add_subparsers(dest="command", required=True)
    publish = modes.add_parser("publish", help="publish the CloudEvent given on stdin")
    publish.add_argument("--mode", choices=("binary", "structured"), default="binary")
    publish.add_argument(
        "--body",
        help="send this text as the message body instead of the event's data (binary) or "
        "document (structured): for what a consumer does with a broken payload",
    )
    read = modes.add_parser("read", help="print `ready`, then the next event tidings publishes")
    read.add_argument("--type", required=True, help="the event name, e.g. orders.placed")
    read.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default 10)")
    return parser.parse_args()


def event_from_stdin():
    try:
        event = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        fail(f"stdin is not a CloudEvents JSON document: {error}")
    missing = [name for name in ("id", "type", "source") if name not in event]
    if missing:
        fail(f"the event on stdin lacks {', '.join(missing)}")
    event.setdefault("specversion", "1.0")
    return event


def compact(value):
    return json.dumps(value, separators=(",", ":")).encode()


def encode(event, mode, prefix, body=None):
    """The message of `event`: `(headers, content type, body)`; `body`, if given, replaces
    its payload (binary) or document (structured).

    Binary mode: every attribute (extensions such as `version` and `correlationid` included) is
    a text header `{prefix}{name}`, the content type travels in the transport's own field and
    the JSON data is the body. Structured mode: no headers, the whole document is the body."""
    if mode == "structured":
        return {}, STRUCTURED, body.encode() if body is not None else compact(event)
    headers = {
        f"{prefix}{name}": str(value)
        for name, value in event.items()
        if name not in ("data", "datacontenttype") and value is not None
    }
    payload = body.encode() if body is not None else compact(event.get("data"))
    return headers, event.get("datacontenttype", JSON), payload


def message(body):
    """The body of a message tidings published: JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"the message body is not JSON ({error}): {body!r}")


def ready():
    """Tells the caller the subscription stands: what is published from now on is read."""
    print("ready", flush=True)


def emit(record):
    print(json.dumps(record, sort_keys=True), flush=True)


def fail(problem):
    print(f"error: {problem}", file=sys.stderr, flush=True)
    sys.exit(1)
