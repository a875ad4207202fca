"""The emulator's domain core: accounts, credits, messages, the clock and the callback outbox.

Nothing here knows a wire format. Operations raise :class:`Refused` with a semantic reason key, which each
dialect turns into its own documented code through the catalog.
"""
from .refusal import Refused
from .service import Core

__all__ = ["Core", "Refused"]
