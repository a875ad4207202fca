"""The smsconform emulator: a stateful fake of the six providers (server.py), and its in-process mocks.

``from smsconform.emulator import mock`` gives the mock factory (mock.py). Note that the name shadows the
submodule as an attribute of this package: import the module's other names with
``from smsconform.emulator.mock import EmulatorMock, emulator_mock_fixture``.
"""
from .mock import mock

__all__ = ["mock"]
