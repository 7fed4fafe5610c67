"""The local development stack: real Kafka (KRaft), a Confluent-API schema registry and Jaeger."""
