"""What the Pustaka services share: event catalog and envelope, bus, outbox/inbox, auth, config."""
