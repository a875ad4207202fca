"""The smsconform pytest plugin: options, fixtures and markers of the conformance suite."""
