"""What an operator watches: per-service KPIs from /metrics and Kafka, and the end-of-demo report."""
