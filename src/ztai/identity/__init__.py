"""Verify explicitly: every request names a principal, proven by a credential."""
