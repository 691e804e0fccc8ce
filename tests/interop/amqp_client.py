"""A non-Rust client of tidings on RabbitMQ (pika): publishes one CloudEvent that a tidings
subscriber receives, or reads one event a tidings bus published.

    python amqp_client.py --namespace shop publish [--mode binary|structured] < event.json
    python amqp_client.py --namespace shop read --type orders.placed

`publish` prints {"transport": {"exchange"}} once the broker confirmed it stored the event in
every bound queue; `read` prints `ready` once its queue is bound, then
{"transport", "properties", "headers", "content_type", "data"}.
"""

import pika
import pika.exceptions

import cloudevents
import tidings_names as names

# Attribute headers `cloudEvents:{name}` (the CloudEvents AMQP binding's prefix); the content
# type travels as the message's content-type property.
PREFIX = "cloudEvents:"


def connection(parser):
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")


def connect(args):
    parameters = pika.URLParameters(args.url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    try:
        return pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as error:
        cloudevents.fail(f"cannot connect to RabbitMQ at {args.url}: {error!r}")


def publish(args, connection):
    event = cloudevents.event_from_stdin()
    headers, content_type, body = cloudevents.encode(event, args.mode, PREFIX, args.body)
    exchange = names.amqp_exchange(args.namespace, event["type"])
    properties = pika.BasicProperties(
        content_type=content_type,
        headers=headers,  # text values travel as AMQP long strings, which tidings reads
        message_id=event["id"],
        delivery_mode=pika.DeliveryMode.Persistent,
    )
    channel = connection.channel()
    channel.confirm_delivery()
    try:
        # Mandatory: a publish no queue takes is an error here, not silently dropped.
        channel.basic_publish(
            exchange,
            names.amqp_routing_key(event.get("subject")),
            body,
            properties,
            mandatory=True,
        )
    except pika.exceptions.UnroutableError:
        cloudevents.fail(f"no queue is bound to {exchange}: start the tidings subscribers first")
    except pika.exceptions.ChannelClosedByBroker as error:
        cloudevents.fail(f"cannot publish to {exchange} (is a tidings bus declaring it?): {error}")
    cloudevents.emit({"transport": {"exchange": exchange}})


def read(args, connection):
    exchange = names.amqp_exchange(args.namespace, args.type)
    declare_if_missing(connection, exchange)
    channel = connection.channel()
    # A queue of this reader's own, gone when it disconnects.
    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
    for key in names.AMQP_BINDING_KEYS:
        channel.queue_bind(queue, exchange, routing_key=key)
    cloudevents.ready()
    for method, properties, body in channel.consume(
        queue, auto_ack=True, inactivity_timeout=args.timeout
    ):
        if method is None:
            cloudevents.fail(f"no event on {exchange} within {args.timeout}s")
        cloudevents.emit(
            {
                "transport": {"exchange": method.exchange},
                "properties": {
                    "message_id": properties.message_id,
                    "delivery_mode": properties.delivery_mode,
                },
                "headers": {
                    name: text(value) for name, value in (properties.headers or {}).items()
                },
                "content_type": properties.content_type,
                "data": cloudevents.message(body),
            }
        )
        return


def declare_if_missing(connection, exchange):
    """Leaves an exchange a tidings bus declared as it is; declares it, of the kind tidings
    uses, only if none has yet, so that a reader may start first."""
    try:
        connection.channel().exchange_declare(exchange, passive=True)
    except pika.exceptions.ChannelClosedByBroker:  # 404: not there (the channel is closed)
        channel = connection.channel()
        channel.exchange_declare(exchange, exchange_type=names.AMQP_EXCHANGE_KIND, durable=True)


def text(value):
    return value.decode() if isinstance(value, bytes) else value


def main():
    args = cloudevents.command_line(__doc__.splitlines()[0], connection)
    client = connect(args)
    try:
        (publish if args.command == "publish" else read)(args, client)
    finally:
        if client.is_open:
            client.close()


if __name__ == "__main__":
    main()
