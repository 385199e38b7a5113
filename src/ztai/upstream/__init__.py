"""Model providers behind one interface: OpenAI-compatible HTTP upstreams and the demo simulator."""
