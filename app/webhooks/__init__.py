"""Webhooks: subscriptions, an outbox of events written with the change, signed deliveries."""
