"""The baseline: a bare confluent-kafka consume -> produce loop, no deserialization, no transform.

Environment: KAFKA_BOOTSTRAP_SERVERS, RAW_INPUT_TOPIC, RAW_OUTPUT_TOPIC, RAW_GROUP. Commits the
consumed offsets (at-least-once) every 10,000 records and every second; stops on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def main() -> None:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    source, target = os.environ["RAW_INPUT_TOPIC"], os.environ["RAW_OUTPUT_TOPIC"]
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": os.environ["RAW_GROUP"],
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    consumer.subscribe([source])
    offsets: dict[int, int] = {}
    pending = 0
    last_commit = time.monotonic()
    while not stopping:
        for message in consumer.consume(1000, timeout=0.05):
            if message.error():
                continue
            while True:
                try:
                    producer.produce(target, message.value(), key=message.key(), headers=message.headers())
                    break
                except BufferError:
                    producer.poll(0.01)
            offsets[message.partition()] = message.offset() + 1
            pending += 1
        producer.poll(0)
        if offsets and (pending >= 10_000 or time.monotonic() - last_commit > 1.0):
            producer.flush()
            consumer.commit(
                offsets=[TopicPartition(source, p, o) for p, o in offsets.items()], asynchronous=False
            )
            offsets.clear()
            pending = 0
            last_commit = time.monotonic()
    consumer.close()
    producer.flush()


if __name__ == "__main__":
    main()
