"""Where alerts go besides the admin API: a webhook and syslog (RFC 5424)."""
