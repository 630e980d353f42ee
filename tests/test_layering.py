"""Where packages meet: the shared modules stand alone, alerts does not lean on feeds."""

from __future__ import annotations

import ast
from pathlib import Path

MONITOR = Path(__file__).resolve().parent.parent / "monitor"
SHARED = ("monitor/db.py", "monitor/text.py", "monitor/http")
ROLE_PACKAGES = ("monitor.alerts", "monitor.feeds", "monitor.nlp", "monitor.bus")


def _modules(under: str) -> list[Path]:
    path = MONITOR.parent / under
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_alerts_does_not_import_from_feeds() -> None:
    for path in _modules("monitor/alerts"):
        assert not any(_inside(m, "monitor.feeds") for m in _imports(path)), path


def test_the_shared_modules_import_no_role_package() -> None:
    for under in SHARED:
        for path in _modules(under):
            leaning = {m for m in _imports(path) if any(_inside(m, p) for p in ROLE_PACKAGES)}
            assert not leaning, f"{path}: {leaning}"


def test_delivery_does_not_reach_back_into_the_role() -> None:
    for path in _modules("monitor/alerts/delivery"):
        assert "monitor.alerts.role" not in _imports(path), path


def test_sqlite_is_opened_only_by_the_shared_wrapper() -> None:
    opening = {
        str(path.relative_to(MONITOR.parent))
        for path in _modules("monitor")
        if "sqlite3.connect(" in path.read_text(encoding="utf-8")
    }
    assert opening == {"monitor/db.py"}


def test_there_is_one_retry_after_parser() -> None:
    defining = [
        path for path in _modules("monitor")
        if "def parse_retry_after(" in path.read_text(encoding="utf-8")
    ]
    assert defining == [MONITOR / "http" / "headers.py"]


def test_there_is_one_one_line_helper() -> None:
    defining = [
        path for path in _modules("monitor")
        if any(f"def {name}(" in path.read_text(encoding="utf-8")
               for name in ("one_line", "_one_line", "first_line", "_first_line"))
    ]
    assert defining == [MONITOR / "text.py"]


def test_the_headline_rule_lives_in_messages_only() -> None:
    defining = [
        path for path in _modules("monitor")
        if any(f"def {name}(" in path.read_text(encoding="utf-8")
               for name in ("without_headline", "_without_headline", "document_of"))
    ]
    assert defining == [MONITOR / "messages.py"]
