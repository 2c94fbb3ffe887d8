"""paygate core layer: models, state machine, signing, provider adapters, storage, events."""
