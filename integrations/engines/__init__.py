"""Framework-free engines of the integration layer: schema snapshots and their diff (drift),
webhook signing and posting."""
