"""Tests for Open Music Box."""
