"""Each emulator dialect against a real ccxt object of its venue, and against the venue
JSON the ccxt repository records."""
