"""Configuration: YAML plus environment overrides, validated once at the edge."""
