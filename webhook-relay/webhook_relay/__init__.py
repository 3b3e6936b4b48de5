"""webhook_relay."""
