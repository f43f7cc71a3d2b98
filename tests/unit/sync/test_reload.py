from __future__ import annotations

import os
from pathlib import Path

import pytest

from jirabridge.sync.config import ConfigError, ConfigWatcher, ReloadOutcome, example_text


def write(path: Path, text: str, bump: int) -> None:
    path.write_text(text)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))


def test_a_bad_file_never_starts(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sites: {}\n")
    with pytest.raises(ConfigError):
        ConfigWatcher(path)


def test_reload_good_then_bad_keeps_the_old_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    text = example_text()
    path.write_text(text)
    watcher = ConfigWatcher(path)
    assert watcher.poll().outcome is ReloadOutcome.UNCHANGED
    assert watcher.current.polling.interval_seconds == 60

    write(path, text.replace("interval_seconds: 60", "interval_seconds: 15"), 1)
    assert watcher.poll().outcome is ReloadOutcome.RELOADED
    assert watcher.current.polling.interval_seconds == 15

    write(path, text.replace("flavour: cloud", "flavour: moon"), 2)
    result = watcher.poll()
    assert result.outcome is ReloadOutcome.REJECTED
    assert result.problems and result.problems[0].line > 1
    assert watcher.current.polling.interval_seconds == 15  # still the last good one
    # the same bad file is not re-parsed on every poll, and stays reported
    write(path, text.replace("flavour: cloud", "flavour: moon"), 3)
    assert watcher.poll().outcome is ReloadOutcome.REJECTED

    write(path, text, 4)
    assert watcher.poll().outcome is ReloadOutcome.RELOADED
    assert watcher.problems == ()
    assert watcher.current.polling.interval_seconds == 60


def test_touch_without_change_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(example_text())
    watcher = ConfigWatcher(path)
    write(path, example_text(), 5)
    assert watcher.poll().outcome is ReloadOutcome.UNCHANGED


def test_deleted_file_keeps_the_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(example_text())
    watcher = ConfigWatcher(path)
    path.unlink()
    assert watcher.poll().outcome is ReloadOutcome.REJECTED
    assert watcher.current.pairs[0].id == "ops"
