"""The ``ztai`` command line."""
