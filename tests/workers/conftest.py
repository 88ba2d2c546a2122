"""The workers tests' fixtures: ``postgres_url``, an empty schema on the test PostgreSQL."""

from autoinformer.testing.postgres_fixture import postgres_url

__all__ = ["postgres_url"]
