"""ztai: a self-hosted Zero Trust gateway and control plane for AI."""

__version__ = "0.1.0"
