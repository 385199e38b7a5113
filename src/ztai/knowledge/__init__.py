"""Knowledge: a document index with permissions and labels, and permission-trimmed retrieval."""
