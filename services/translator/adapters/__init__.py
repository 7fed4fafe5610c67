"""One module per source system; each exposes ``ROUTES`` (see ``services.translator.registry``)."""
