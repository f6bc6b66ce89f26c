"""Integration tests of rxnats.jetstream against a JetStream-enabled nats-server."""
