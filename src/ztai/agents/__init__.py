"""Agents and tools: tool-definition pinning, taint, held calls awaiting approval, budgets."""
