"""Webhook delivery: the dispatcher that sends the outbox's events (see core/webhooks.py)."""
