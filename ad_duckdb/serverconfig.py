"""``ad-duckdb serve``'s configuration (``ServerConfig``: the file served, the address, the password, the files
attached beside it, the clients at once) and whether an address is this machine's own (``is_loopback``: only there
may the server listen without a password)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from . import attachfiles
from .servecmd import MAX_CONNECTIONS


@dataclass
class ServerConfig:
    database: str
    host: str = "127.0.0.1"
    port: int = 5433
    password: str | None = None
    read_write: bool = False
    snapshot: bool = False
    wait: float = 0.0  # seconds to retry while another process holds the file (ad-duckdb --wait)
    # other DuckDB files served beside it, read-only (--attach), checked already (attachfiles.check)
    attach: tuple[attachfiles.Attached, ...] = ()
    max_connections: int = MAX_CONNECTIONS  # clients at once, from their startup packet to their session's end


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
