"""Data-centric protection: find sensitive data in every segment, label it, apply DLP."""
