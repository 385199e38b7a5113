"""The test e-mail server over stdio, for ztai to launch as a subprocess."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.mcpgw.servers import MailState, mail_server

if __name__ == "__main__":
    mail_server(MailState()).run("stdio")
