"""The canonical model every capability speaks: principals, exchanges, findings, decisions."""
