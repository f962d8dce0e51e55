"""Per-op lowering of `tile` ops (on physical buffers) to `plena` instruction sequences."""
