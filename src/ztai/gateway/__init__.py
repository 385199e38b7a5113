"""The data plane: HTTP routes that translate their protocol into an Exchange and run the one
pipeline."""
