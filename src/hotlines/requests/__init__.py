"""Request records: the canonical schema, loaders, validation with quarantine, survival analysis."""
