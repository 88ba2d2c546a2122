"""Tests of the campaign policies (autoinformer.policy)."""
