"""Hot reload: the policy a running daemon uses, re-read when its file changes, the last good one kept.

The daemon calls :meth:`PolicySource.refresh` once per cycle and reads :attr:`PolicySource.current`. A change
is noticed by the file's size, modification time and inode, and confirmed by the hash of its bytes, so
touching a file or rewriting the same bytes does not reload. A broken file is logged once per content,
with every located problem, and the last good policy stays in force.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import structlog

from crmsync.errors import PolicyError, PolicyProblem
from crmsync.policy.loader import LoadedPolicy, content_hash, parse_policy, read_policy
from crmsync.policy.model import Policy

log = structlog.get_logger(__name__)

_Stamp = tuple[int, int, int]


class PolicySource:
    """A policy file kept loaded.

    The constructor loads the file and raises :class:`PolicyError` when that first load fails (a daemon
    must not start without a valid policy). After that, :meth:`refresh` never raises.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        stamp = self._stamp()
        self._loaded: LoadedPolicy = read_policy(self.path)
        self._stamp_seen: _Stamp | None = stamp
        self._rejected: str | None = None
        log.info("policy_loaded", path=str(self.path), policy_hash=self._loaded.digest)

    @property
    def loaded(self) -> LoadedPolicy:
        """The policy in force with its path and hashes."""
        return self._loaded

    @property
    def current(self) -> Policy:
        """The policy in force (the last file that loaded without problems)."""
        return self._loaded.policy

    @property
    def digest(self) -> str:
        """Short content hash of the policy in force; every decision records it."""
        return self._loaded.digest

    @property
    def rejected(self) -> str | None:
        """Short hash of the newest file content that was refused, while it is still on disk; else None."""
        return self._rejected[:12] if self._rejected else None

    def refresh(self, *, force: bool = False) -> bool:
        """Reload when the file changed; True when a new policy is now in force.

        ``force`` hashes the file even when its size and time look unchanged. Problems are logged as
        ``policy_reload_failed`` (with every located problem) or ``policy_unreadable``; they never raise.
        """
        with self._lock:
            stamp = self._stamp()
            if stamp is None or (stamp == self._stamp_seen and not force):
                if stamp is None and self._stamp_seen is not None:
                    log.warning("policy_unreadable", path=str(self.path), kept=self.digest, reason="missing")
                    self._stamp_seen = None
                return False
            self._stamp_seen = stamp
            try:
                content = self.path.read_bytes()
            except OSError as unreadable:
                reason = unreadable.strerror or type(unreadable).__name__
                log.warning("policy_unreadable", path=str(self.path), kept=self.digest, reason=reason)
                return False
            return self._consider(content)

    def _consider(self, content: bytes) -> bool:
        sha = content_hash(content)
        if sha == self._loaded.sha256:
            self._rejected = None
            return False
        if sha == self._rejected:
            return False
        try:
            policy = parse_policy(content, str(self.path))
        except PolicyError as broken:
            self._rejected = sha
            log.error(
                "policy_reload_failed",
                path=str(self.path),
                kept=self.digest,
                rejected=sha[:12],
                problems=[_as_dict(p) for p in broken.located],
            )
            return False
        previous = self.digest
        self._loaded = LoadedPolicy(policy, str(self.path), sha)
        self._rejected = None
        log.info("policy_reloaded", path=str(self.path), policy_hash=self.digest, previous=previous)
        return True

    def _stamp(self) -> _Stamp | None:
        try:
            found = os.stat(self.path)
        except (OSError, ValueError):
            return None
        return (found.st_size, found.st_mtime_ns, found.st_ino)


def _as_dict(problem: PolicyProblem) -> dict[str, object]:
    return {
        "line": problem.line,
        "column": problem.column,
        "path": problem.path,
        "message": problem.message,
        "text": str(problem),
    }
