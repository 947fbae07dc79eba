"""The legal officers' integrity page: checkpoints and verification."""
