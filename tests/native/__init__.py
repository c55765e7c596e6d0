"""Tests of the compiled hot path against its pure-Python twin."""
