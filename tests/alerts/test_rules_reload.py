"""Rules are reloaded without restart: on file change, and on SIGHUP's reload()."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from monitor.alerts.role import AlertRole
from monitor.bus.memory import MemoryBus
from monitor.clock import FrozenClock
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import settings_for, tagged_article


def write_rules(path: Path, keyword: str, name: str, stamp: float) -> None:
    path.write_text(yaml.safe_dump({"version": 1, "rules": [
        {"name": name, "when": {"keywords": [keyword]}}]}))
    os.utime(path, (stamp, stamp))


def fired(role: AlertRole) -> set[str]:
    return {alert.rule for out in role.handle(tagged_article())
            for alert in out.message.alerts}  # type: ignore[union-attr]


def test_rules_file_changes_are_picked_up_and_broken_ones_ignored(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    write_rules(rules, "Kremlin", "kremlin", 1_000_000)
    clock = FrozenClock()
    settings = settings_for(tmp_path, rules_file=rules, notify="statement")
    role = AlertRole(RoleContext(settings, MemoryBus(), Metrics(), clock))
    assert fired(role) == {"kremlin"}

    write_rules(rules, "Peskov", "peskov", 2_000_000)
    assert fired(role) == {"kremlin"}  # not looked at again within the check interval
    clock.advance(5)
    assert fired(role) == {"peskov"}

    rules.write_text("rules: [{name: Bad Name, when: {}}]")
    os.utime(rules, (3_000_000, 3_000_000))
    clock.advance(5)
    assert fired(role) == {"peskov"}  # the broken version is reported and ignored

    other = tmp_path / "other.yaml"
    write_rules(other, "counter-march", "march", 4_000_000)
    role.reload(settings.model_copy(update={"rules_file": other}))
    assert fired(role) == {"march"}
    role.close()
