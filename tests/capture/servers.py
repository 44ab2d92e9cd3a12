"""Real test servers for capture: Dovecot (IMAP, IMAPS, STARTTLS) and Radicale (CalDAV) on 127.0.0.1.

Used by tests/capture/conftest.py and by bench/capture.py. Dovecot runs from a config written into a fresh
folder (master as the current user, children as ``nobody`` when that user is root), on free ephemeral ports,
with a trustme CA for TLS; any user name logs in with :data:`PASSWORD` (also accepted as an XOAUTH2 token:
Dovecot 2.3 checks the token against the passdb), and each test uses its own user so mailboxes never collide.
Login penalties are off so a test of a wrong password does not slow the next login.

Radicale runs from a virtualenv of its own (it must never share crmsync's environment), created once and
cached under ``~/.cache/crmsync-tests`` (or ``$CRMSYNC_RADICALE_VENV_DIR``).
"""

from __future__ import annotations

import fcntl
import grp
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

PASSWORD = "s3cret-imap-pw"
RADICALE_USER = "alice"
RADICALE_PASSWORD = "s3cret-dav-pw"
RADICALE_SPEC = "radicale>=3.2,<4"


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (the server binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Return once something accepts connections on ``port``; raise if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


def _run_as() -> tuple[str, str]:
    if os.geteuid() == 0:
        return "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


@dataclass
class Dovecot:
    """A running Dovecot: ports, CA file, mail root, and the process."""

    root: Path
    port: int
    tls_port: int
    ca_file: Path
    process: subprocess.Popen[bytes]
    user: str
    group: str

    def maildir(self, login: str) -> Path:
        """Where ``login``'s Maildir lives (created on first login or by :meth:`seed_maildir`)."""
        return self.root / "mail" / login / "Maildir"

    def stop(self) -> None:
        """Terminate the master and remove the folder."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)

    def chown_tree(self, path: Path) -> None:
        """Give ``path`` and everything under it to the user the mail processes run as."""
        uid, gid = pwd.getpwnam(self.user).pw_uid, grp.getgrnam(self.group).gr_gid
        for dirpath, dirnames, filenames in os.walk(path):
            os.chown(dirpath, uid, gid)
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), uid, gid)


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/certs/server-chain.pem
ssl_key = <{root}/certs/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
mail_location = maildir:{root}/mail/%u/Maildir
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  chroot =
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
"""


def start_dovecot() -> Dovecot:
    """Start a Dovecot with plain (+STARTTLS) and IMAPS listeners; raise RuntimeError if it cannot."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        raise FileNotFoundError("dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="crmsync-dovecot-"))
    root.chmod(0o755)
    user, group = _run_as()
    certs = root / "certs"
    certs.mkdir()
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.private_key_pem.write_to_path(str(certs / "server.key"))
    server.private_key_and_cert_chain_pem.write_to_path(str(certs / "server-chain.pem"))
    ca.cert_pem.write_to_path(str(certs / "ca.pem"))
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    port, tls_port = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(root=root, user=user, group=group, port=port, tls_port=tls_port, password=PASSWORD)
    )
    dovecot = Dovecot(root, port, tls_port, certs / "ca.pem", None, user, group)  # type: ignore[arg-type]
    dovecot.chown_tree(root / "mail")
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dovecot.process = process
    try:
        wait_for_port(port, process)
        wait_for_port(tls_port, process)
    except RuntimeError:
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        dovecot.stop()
        raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
    return dovecot


def seed_maildir(dovecot: Dovecot, login: str, folder: str, messages: list[bytes]) -> None:
    """Write ``messages`` straight into a Maildir folder (``INBOX`` or a subfolder) owned by the mail user."""
    base = dovecot.maildir(login)
    target = base if folder == "INBOX" else base / f".{folder}"
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    for index, raw in enumerate(messages):
        (target / "new" / f"{stamp}.M{index}P{os.getpid()}.crmsync").write_bytes(raw)
    dovecot.chown_tree(dovecot.root / "mail" / login)


# ---------------------------------------------------------------- Radicale


def radicale_python(cache: Path | None = None) -> Path:
    """The python of a cached virtualenv with Radicale installed (created on first use, under a file lock)."""
    base = cache or Path(os.environ.get("CRMSYNC_RADICALE_VENV_DIR", Path.home() / ".cache" / "crmsync-tests"))
    base.mkdir(parents=True, exist_ok=True)
    venv = base / "radicale-venv"
    python = venv / "bin" / "python"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = venv / ".ready"
        if not ready.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", RADICALE_SPEC],
                check=True,
                capture_output=True,
                timeout=300,
            )
            ready.touch()
    return python


@dataclass
class Radicale:
    """A running Radicale with htpasswd auth (user :data:`RADICALE_USER`)."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        """Terminate the server and remove its storage."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def start_radicale(python: Path) -> Radicale:
    """Start Radicale on a free port with plain htpasswd auth and no auth delay."""
    root = Path(tempfile.mkdtemp(prefix="crmsync-radicale-"))
    (root / "users").write_text(f"{RADICALE_USER}:{RADICALE_PASSWORD}\n")
    port = free_port()
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "radicale",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--storage-filesystem-folder",
            str(root / "collections"),
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-filename",
            str(root / "users"),
            "--auth-htpasswd-encryption",
            "plain",
            "--auth-delay",
            "0",
            "--rights-type",
            "owner_only",
            "--logging-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Radicale(root, port, process)
    try:
        wait_for_port(port, process)
    except RuntimeError:
        server.stop()
        raise
    return server
