"""Threat protection (the prompt shield): de-obfuscation, heuristic and trained detectors of
prompt injection and jailbreaks, output-side exfiltration checks and system-prompt canaries."""
