"""Delivery: outbox, channel settings, Web Push subscriptions, delivery proof, broadcasts."""
