"""wave_sandbox: a local stand-in for Wave's public GraphQL API (seeded books, OAuth, webhooks, faults)."""
