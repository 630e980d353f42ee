"""Shipped data (lexicons, site rules, rules) comes from the installed package.

A config written in an empty folder outside the checkout must find the NLP
lexicons without naming ``nlp.lexicon_dir``; a wheel must carry the data.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from monitor.commands import deep_check
from monitor.config import load_settings, packaged_config_dir
from tests.support import CONFIG_DIR, REPO_ROOT


def test_a_config_in_an_empty_folder_uses_the_packaged_lexicons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "monitor.yaml").write_text("roles: [nlp]\n")
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings(tmp_path / "monitor.yaml", environ={})
    shipped = packaged_config_dir()
    assert Path(settings.nlp.lexicon_dir) == shipped / "nlp"
    assert settings.poller.sites_file == shipped / "sites.yaml"
    assert settings.rules_file == shipped / "rules.yaml"
    assert deep_check(settings) == []  # every language's lexicon and the rules load


def test_files_beside_the_config_and_set_keys_win_over_the_packaged_ones(tmp_path: Path) -> None:
    (tmp_path / "nlp").mkdir()
    (tmp_path / "rules.yaml").write_text("rules: []\n")
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "monitor.yaml").write_text("poller:\n  sites_file: mine/sites.yaml\n")
    settings = load_settings(tmp_path / "monitor.yaml", environ={})
    assert Path(settings.nlp.lexicon_dir) == tmp_path / "nlp"
    assert settings.rules_file == tmp_path / "rules.yaml"
    assert settings.config_dir / settings.poller.sites_file == tmp_path / "mine/sites.yaml"
    overridden = load_settings(
        tmp_path / "monitor.yaml", environ={"MONITOR_NLP__LEXICON_DIR": str(CONFIG_DIR / "nlp")}
    )
    assert Path(overridden.nlp.lexicon_dir) == CONFIG_DIR / "nlp"


def test_every_monitor_package_and_the_shipped_data_are_declared() -> None:
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(setuptools["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO_ROOT).parts)
        for init in (REPO_ROOT / "monitor").rglob("__init__.py")
    }
    assert on_disk <= declared
    assert setuptools["package-dir"]["monitor.defaults"] == "config"
    language_folders = {
        "monitor.defaults.nlp." + folder.name
        for folder in (CONFIG_DIR / "nlp").iterdir()
        if folder.is_dir()
    }
    assert language_folders <= declared
    assert language_folders <= set(setuptools["package-data"])


@pytest.mark.timeout(240)
def test_a_wheel_carries_every_lexicon_and_the_rules(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: building writes build/ and egg-info beside the sources
    for name in ("monitor", "config"):
        shutil.copytree(REPO_ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("news_monitor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [
        "monitor/defaults/" + path.relative_to(CONFIG_DIR).as_posix()
        for path in [*(CONFIG_DIR / "nlp").rglob("*.yaml"), CONFIG_DIR / "rules.yaml",
                     CONFIG_DIR / "sites.yaml"]
    ]  # fmt: skip
    assert set(shipped) <= names
