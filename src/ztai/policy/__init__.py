"""Least privilege: Cedar policies decide every action, default deny."""
