"""Translation of the OpenAI wire protocol to and from Exchanges."""
