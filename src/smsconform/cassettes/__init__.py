"""Cassettes: HTTP exchanges kept as vcrpy cassettes, and their offline re-check against the contracts.

``record`` runs the suite against a target and keeps every exchange with a dialect, credentials replaced by
placeholders before anything is written (``scrub``). ``verify`` re-reads cassettes (vcrpy's safe YAML
loader: a cassette received from someone else cannot run code) and checks each answer against today's
contracts: the HTTP status and media type the OpenAPI file documents, JSON bodies against its schema, text
bodies against their Lark grammar, and codes and texts against the catalog. ``documented`` builds
cassettes/documented/ from the exchanges the documents quote (contracts/examples/).
"""
