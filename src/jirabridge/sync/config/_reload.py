"""Hot reload: notice a changed file, keep the old configuration when the new one is bad.

Polling the file's (mtime, size) and then its SHA-256 is enough here and works on every file
system (inotify misses edits over NFS and in some containers), so no watcher library is used.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from pathlib import Path

from jirabridge.sync.config._loader import ConfigError, ConfigProblem, LoadedConfig, load_config
from jirabridge.sync.config._models import SyncConfig

__all__ = ["ConfigWatcher", "ReloadOutcome", "ReloadResult"]


class ReloadOutcome(enum.StrEnum):
    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    REJECTED = "rejected"  # the new file is bad; the old configuration stays in force


@dataclass(frozen=True)
class ReloadResult:
    outcome: ReloadOutcome
    problems: tuple[ConfigProblem, ...] = ()


class ConfigWatcher:
    """Holds the configuration in force and reloads it when the file changes.

    The constructor loads the file and raises :class:`ConfigError` when it is bad: a bad
    config never starts a sync. Later bad versions are reported by :meth:`poll` and ignored.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._loaded = load_config(self.path)
        self._stat = self._stat_key()
        self._rejected_sha: str | None = None
        self.problems: tuple[ConfigProblem, ...] = ()

    @property
    def current(self) -> SyncConfig:
        return self._loaded.config

    @property
    def loaded(self) -> LoadedConfig:
        return self._loaded

    def _stat_key(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def poll(self) -> ReloadResult:
        """Check the file once; reload it when its content changed."""
        key = self._stat_key()
        if key is not None and key == self._stat:
            return ReloadResult(ReloadOutcome.UNCHANGED)
        self._stat = key
        try:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError as exc:
            problem = ConfigProblem(str(self.path), 1, 1, "", f"cannot read: {exc.strerror}")
            self.problems = (problem,)
            return ReloadResult(ReloadOutcome.REJECTED, self.problems)
        if digest == self._loaded.sha256:
            self.problems = ()
            return ReloadResult(ReloadOutcome.UNCHANGED)
        if digest == self._rejected_sha:
            return ReloadResult(ReloadOutcome.REJECTED, self.problems)
        try:
            loaded = load_config(self.path)
        except ConfigError as exc:
            self._rejected_sha = digest
            self.problems = tuple(exc.problems)
            return ReloadResult(ReloadOutcome.REJECTED, self.problems)
        self._loaded = loaded
        self._rejected_sha = None
        self.problems = ()
        return ReloadResult(ReloadOutcome.RELOADED)
