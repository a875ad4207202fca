"""The defect catalogue: non-conformant variants of the emulator, so the conformance suite can be checked.

Each module registers the defects of one interface (``@defect(...)`` in registry.py); ``plugin.py`` applies
one by name in a pytest run of the suite; ``runner.py`` runs and judges them (tests/project/test_self_check.py
and scripts/detection-rate). Importing this package imports nothing of the emulator: the dialect modules are
loaded by ``registry.load_all()``.
"""
