"""Risk-adaptive protection (the control plane, never on the request path): learn each
principal's normal AI use from its own audit stream, raise a risk level when behaviour turns
risky, publish it for Cedar's ``context.risk_level``, and alert analysts with the evidence."""
