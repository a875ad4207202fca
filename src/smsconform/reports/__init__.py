"""Certification reports: what a run of the conformance suite found, as JUnit XML, JSON and HTML.

The suite (tests/conformance) runs under pytest with the smsconform plugin; ``collect.Collector`` listens to
the run, ``results`` turns what it heard into one verdict per catalog rule, and ``junit``, ``json_report`` and
``html`` write that verdict for CI, for machines and for people. ``certify`` ties it together for the
``smsconform certify`` command. Every text that reaches a file passes ``redact.Redactor`` first.
"""
