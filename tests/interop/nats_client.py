"""A non-Rust client of tidings on NATS JetStream (nats-py): publishes one CloudEvent that a
tidings subscriber receives, or reads one event a tidings bus published.

    python nats_client.py --namespace shop publish [--mode binary|structured] < event.json
    python nats_client.py --namespace shop read --type orders.placed

`publish` prints {"transport": {"subject", "stream"}} once JetStream stored the event; `read`
prints `ready` once subscribed, then {"transport", "headers", "content_type", "data"}.
"""

import asyncio

import nats
from nats.js.api import DeliverPolicy

import cloudevents
import tidings_names as names

# CloudEvents NATS binding: attribute headers `ce-{name}`, the content type in `content-type`.
PREFIX = "ce-"
CONTENT_TYPE = "content-type"


def connection(parser):
    parser.add_argument("--server", default="nats://127.0.0.1:4222")


async def connect(args):
    try:
        return await nats.connect(
            args.server,
            connect_timeout=5,
            allow_reconnect=False,
            max_reconnect_attempts=1,  # also bounds the first connect's attempts
            error_cb=quiet,  # failures are reported once, below, not as tracebacks
        )
    except Exception as error:  # nats-py raises several kinds; all mean the same here
        cloudevents.fail(f"cannot connect to NATS at {args.server}: {error!r}")


async def quiet(_error):
    pass


async def publish(args, client):
    event = cloudevents.event_from_stdin()
    headers, content_type, body = cloudevents.encode(event, args.mode, PREFIX, args.body)
    headers[CONTENT_TYPE] = content_type
    # As tidings does: a publish retried after a lost acknowledgement is stored once.
    headers["Nats-Msg-Id"] = event["id"]
    subject = names.nats_subject(args.namespace, event["type"], event.get("subject"))
    stream = names.nats_stream(args.namespace)
    try:
        # `stream=` makes the server refuse the publish unless that stream stores it.
        ack = await client.jetstream().publish(subject, body, headers=headers, stream=stream)
    except Exception as error:
        cloudevents.fail(
            f"JetStream did not store {subject} in {stream} ({error!r}); is a tidings bus with "
            f"namespace {args.namespace} running (it declares the stream)?"
        )
    cloudevents.emit({"transport": {"subject": subject, "stream": ack.stream}})


async def read(args, client):
    stream = names.nats_stream(args.namespace)
    where = names.nats_filter(args.namespace, args.type)
    try:
        # An ordered consumer of its own, from now on: tidings' consumers are not disturbed.
        subscription = await client.jetstream().subscribe(
            where, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
        )
    except Exception as error:
        cloudevents.fail(f"cannot read {where} from stream {stream}: {error!r}")
    cloudevents.ready()
    try:
        message = await subscription.next_msg(timeout=args.timeout)
    except nats.errors.TimeoutError:
        cloudevents.fail(f"no event on {where} within {args.timeout}s")
    headers = dict(message.headers or {})
    cloudevents.emit(
        {
            "transport": {"subject": message.subject, "stream": message.metadata.stream},
            "headers": headers,
            "content_type": headers.get(CONTENT_TYPE),
            "data": cloudevents.message(message.data),
        }
    )


async def main():
    args = cloudevents.command_line(__doc__.splitlines()[0], connection)
    client = await connect(args)
    try:
        await (publish if args.command == "publish" else read)(args, client)
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
