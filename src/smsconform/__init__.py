"""smsconform: contract-driven conformance suite and emulator for Brazilian SMS-gateway APIs."""

__version__ = "0.1.0"
