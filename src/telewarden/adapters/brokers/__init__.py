"""Message brokers the live loop runs on beyond one machine (NATS JetStream)."""
