"""Benign variants of the emulator: each makes a choice the documents leave open differently, and must be CERTIFIED."""
