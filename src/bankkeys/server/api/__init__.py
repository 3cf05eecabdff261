"""The client API (JSON, ``/api/v1``)."""
