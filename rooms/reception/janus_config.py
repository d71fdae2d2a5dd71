"""A minimal Janus configuration directory, written by Renkei so the media server runs in its shape.

Janus (Debian package `janus`) reads libconfig files (.jcfg) from a folder.
Renkei writes only what it needs: the core with its API and admin secrets,
the HTTP transport bound to one address (127.0.0.1 unless told) on one port,
the VideoRoom plugin. Every other plugin, transport, event handler and logger
is disabled so startup is fast and nothing else listens. ICE can be limited to
some interfaces and uses no STUN server: Renkei hands out TURN for physicians
behind firewalls. Janus 1.1 never offers a loopback candidate (src/ice.c skips
loopback interfaces before it reads ice_enforce_list), so the tests and the
media benchmark run it in a network namespace of their own (bench/netns.py),
HTTP on the namespace's veth address and ICE enforced on that veth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

LIB_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")
KEEP = {"plugins": "libjanus_videoroom.so", "transports": "libjanus_http.so"}


def _quote(value: str) -> str:
    """A libconfig string: JSON's escaping is the same for what we write."""
    return json.dumps(value)


def browser_token_secret(api_secret: str) -> str:
    """Janus's token_auth_secret, derived from the API secret: browsers get tokens signed with it, never the secret."""
    return hmac.new(api_secret.encode(), b"janus-browser-tokens", hashlib.sha256).hexdigest()


def browser_token(api_secret: str, expires_at: float, plugin: str = "janus.plugin.videoroom") -> str:
    """A Janus signed token (token_auth_secret): lets a browser use one plugin until ``expires_at`` (epoch s).

    The API secret stays with Renkei: a browser holding this token can only open sessions on the VideoRoom
    plugin, and the room's own allowed list still decides which table it may enter.
    """
    data = f"{int(expires_at)},janus,{plugin}"
    signature = hmac.new(browser_token_secret(api_secret).encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(signature).decode()}"


def _disabled(kind: str, lib_dir: Path) -> str:
    """Every library of that kind in the package but the one Renkei keeps (none kept for events/loggers)."""
    folder = lib_dir / kind
    names = sorted(p.name for p in folder.glob("*.so")) if folder.is_dir() else []
    return ",".join(n for n in names if n != KEEP.get(kind))


def write_config(directory: Path, *, port: int, api_secret: str, admin_secret: str,
                 ice_enforce_list: str = "", nat_1_1: str = "", rtp_port_range: str = "",
                 http_ip: str = "127.0.0.1", lib_dir: Path = LIB_DIR,
                 debug_level: int = 3) -> Path:
    """Write janus.jcfg and the two configs it loads into directory; return the core file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    nat = ["\tnice_debug = false", "\tfull_trickle = true"]
    if ice_enforce_list:
        nat.append(f"\tice_enforce_list = {_quote(ice_enforce_list)}")
    if nat_1_1:
        nat.append(f"\tnat_1_1_mapping = {_quote(nat_1_1)}")
    # Without a range Janus picks media ports from the whole ephemeral range: production sets one to open.
    media = f"\trtp_port_range = {_quote(rtp_port_range)}" if rtp_port_range else ""
    core = f"""general: {{
\tconfigs_folder = {_quote(str(directory))}
\tplugins_folder = {_quote(str(lib_dir / "plugins"))}
\ttransports_folder = {_quote(str(lib_dir / "transports"))}
\tevents_folder = {_quote(str(lib_dir / "events"))}
\tloggers_folder = {_quote(str(lib_dir / "loggers"))}
\tdebug_level = {debug_level}
\tapi_secret = {_quote(api_secret)}
\tadmin_secret = {_quote(admin_secret)}
\ttoken_auth = true
\ttoken_auth_secret = {_quote(browser_token_secret(api_secret))}
\tsession_timeout = 60
}}
media: {{
{media}
}}
nat: {{
{chr(10).join(nat)}
}}
plugins: {{
\tdisable = {_quote(_disabled("plugins", lib_dir))}
}}
transports: {{
\tdisable = {_quote(_disabled("transports", lib_dir))}
}}
events: {{
\tbroadcast = false
\tdisable = {_quote(_disabled("events", lib_dir))}
}}
loggers: {{
\tdisable = {_quote(_disabled("loggers", lib_dir))}
}}
"""
    http = f"""general: {{
\tjson = "compact"
\tbase_path = "/janus"
\thttp = true
\tport = {port}
\tip = {_quote(http_ip)}
\thttps = false
}}
admin: {{
\tadmin_base_path = "/admin"
\tadmin_http = false
}}
cors: {{
}}
"""
    # No static rooms: Renkei creates one per table, with a secret, when the reception opens.
    videoroom = """general: {
\tstring_ids = false
\tlock_rtp_forward = true
}
"""
    (directory / "janus.jcfg").write_text(core)
    (directory / "janus.transport.http.jcfg").write_text(http)
    (directory / "janus.plugin.videoroom.jcfg").write_text(videoroom)
    return directory / "janus.jcfg"
