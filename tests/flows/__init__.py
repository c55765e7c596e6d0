"""Tests of inspector.flows."""
