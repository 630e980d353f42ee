"""docker-compose.yml is a valid Compose file that runs a useful stack.

No Docker engine runs here and the docker CLI has no compose plugin, so the
file is checked the way Compose would read it: variables interpolated as
Compose does (``${VAR:?message}`` fails when unset), then validated against
the compose-spec JSON schema that check-jsonschema ships
(``--builtin-schema vendor.compose-spec``; CI installs it from
requirements-dev.lock). Beyond the schema: every variable the file reads is
documented and used, the monitor services' environment makes a valid config
with feeds and a receiver, the demo services' own code serves feeds and
receives alerts (run here on loopback), and Alertmanager's config passes
``amtool check-config``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from monitor.commands import deep_check
from monitor.config import load_settings
from tests.support import REPO_ROOT, free_port, wait_for

COMPOSE = REPO_ROOT / "docker-compose.yml"
OPERATIONS = REPO_ROOT / "docs" / "operations.md"
ALERTMANAGER_CONFIG = REPO_ROOT / "config" / "alertmanager" / "alertmanager.yml"
PROMETHEUS_CONFIG = REPO_ROOT / "config" / "prometheus" / "prometheus.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
MONITOR_ROLES = ("poller", "nlp", "alerts")
DEMO_SERVICES = ("demo-feeds", "demo-receiver")
#: Where the image puts config/ (Dockerfile: COPY config /etc/monitor).
IMAGE_CONFIG = "/etc/monitor"
#: The variables a user has to give; everything else has a default.
TEST_ENV = {"GRAFANA_ADMIN_PASSWORD": "s3cret-for-the-test"}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error},
# ${NAME:+alt}, ${NAME+alt}, $NAME; $$ is a literal $.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    """A ``${NAME:?message}`` whose variable is unset (or empty)."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Substitute variables in one string the way Compose does."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        value, op, arg = env.get(name), match["op"], match["arg"] or ""
        present = value is not None and (value != "" or not (op or "").startswith(":"))
        if op in ("-", ":-"):
            return value if present and value is not None else arg
        if op in ("?", ":?"):
            if not present or value is None:
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op in ("+", ":+"):
            return arg if present else ""
        return value or ""

    return _VARIABLE.sub(substitute, text)


def interpolated(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


def raw() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(doc, dict)
    return doc


def compose(env: Mapping[str, str] = TEST_ENV) -> dict[str, Any]:
    """The file as Compose sees it after interpolation."""
    doc = interpolated(raw(), env)
    assert isinstance(doc, dict)
    return doc


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def variables() -> set[str]:
    """Every variable the file reads (values only, as Compose interpolates; not comments)."""
    names = set()
    for text in strings(raw()):
        for match in _VARIABLE.finditer(text):
            if not match["escaped"]:
                names.add(match["braced"] or match["bare"])
    return names


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    assert CHECK_JSONSCHEMA.exists(), "check-jsonschema comes with requirements-dev.lock"
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True, check=False, timeout=60,
    )


def test_interpolation_follows_compose() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("a${SET}b$SET$$x", env) == "avbv$x"
    assert interpolate("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", env) == "d d  d"
    assert interpolate("${SET:+alt}${EMPTY:+alt}${EMPTY+e}", env) == "alte"
    assert interpolate("${SET:?need it}", env) == "v"
    for missing in ("${UNSET:?need it}", "${EMPTY:?need it}", "${UNSET?need it}"):
        with pytest.raises(MissingVariable, match="need it"):
            interpolate(missing, env)


def test_compose_file_is_valid_under_the_compose_spec(tmp_path: Path) -> None:
    assert check_schema(COMPOSE).returncode == 0
    resolved = tmp_path / "resolved.json"
    resolved.write_text(json.dumps(compose()))
    result = check_schema(resolved)
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator does reject what Compose would: an unknown service key.
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"services": {"x": {"image": "a", "portz": ["1:1"]}}}))
    assert check_schema(broken).returncode == 1


def test_required_secrets_fail_fast_and_grafana_has_no_default_password() -> None:
    with pytest.raises(MissingVariable, match="GRAFANA_ADMIN_PASSWORD"):
        compose({})
    with pytest.raises(MissingVariable, match="GRAFANA_ADMIN_PASSWORD"):
        compose({"GRAFANA_ADMIN_PASSWORD": ""})
    grafana = compose()["services"]["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == TEST_ENV["GRAFANA_ADMIN_PASSWORD"]
    raw_password = raw()["services"]["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert raw_password.startswith("${GRAFANA_ADMIN_PASSWORD:?")


def test_every_variable_the_compose_file_reads_is_documented() -> None:
    text = OPERATIONS.read_text()
    section = text[text.index("## Docker Compose"):]
    section = section[: section.index("\n## ", 1)]
    header = COMPOSE.read_text().split("\nx-monitor:")[0]
    names = variables()
    assert {"GRAFANA_ADMIN_PASSWORD", "MONITOR_CONFIG", "MONITOR_OPS__HTTP_TOKEN"} <= names
    for name in sorted(names):
        assert f"`{name}`" in section, f"docs/operations.md (Docker Compose) does not name {name}"
        assert name in header, f"the header of docker-compose.yml does not name {name}"


def container_env(service: str, env: Mapping[str, str] = TEST_ENV) -> dict[str, str]:
    """A monitor service's environment, with the image's config paths mapped to config/."""
    values = compose(env)["services"][service]["environment"]
    local = str(REPO_ROOT / "config")
    return {key: str(value).replace(IMAGE_CONFIG, local) for key, value in values.items()}


@pytest.mark.parametrize("role", MONITOR_ROLES)
def test_monitor_services_run_the_demo_config_out_of_the_box(role: str) -> None:
    """Feeds on demo-feeds, a receiver on demo-receiver: the stack polls and delivers."""
    env = container_env(role)
    settings = load_settings(Path(env["MONITOR_CONFIG"]), environ=env)
    assert deep_check(settings) == []
    assert settings.bus.kind == "kafka" and settings.ops.http_enabled
    assert settings.ops.http_token is None or not settings.ops.http_token.get_secret_value()
    demo = compose()["services"]
    feed_hosts = {urlsplit(str(feed.url)).netloc for feed in settings.feeds}
    assert feed_hosts == {f"demo-feeds:{demo['demo-feeds']['environment']['DEMO_PORT']}"}
    [receiver] = settings.alerts.receivers
    port = demo["demo-receiver"]["environment"]["DEMO_PORT"]
    assert urlsplit(str(receiver.url)).netloc == f"demo-receiver:{port}"


def test_every_variable_given_to_the_monitor_is_read() -> None:
    """MONITOR_* set a config key; any other variable is named in the config it runs."""
    env = container_env("poller")
    config_dir = Path(env["MONITOR_CONFIG"]).parent
    config_text = "".join(p.read_text() for p in sorted(config_dir.glob("*.yaml")))
    settings = load_settings(Path(env["MONITOR_CONFIG"]), environ=env).model_dump()
    for name in env:
        if name == "MONITOR_CONFIG":
            continue
        if name.startswith("MONITOR_"):
            node: Any = settings
            for part in name.removeprefix("MONITOR_").lower().split("__"):
                assert isinstance(node, dict) and part in node, f"{name} is no config key"
                node = node[part]
        else:
            assert f"${{{name}}}" in config_text, f"nothing in {config_dir} reads {name}"


def test_secrets_are_passed_by_name_and_none_is_unused() -> None:
    monitor_env = raw()["services"]["poller"]["environment"]
    assert "WEBHOOK_SECRET" not in monitor_env  # asked for before, read by nothing
    assert monitor_env["MONITOR_OPS__HTTP_TOKEN"] == "${MONITOR_OPS__HTTP_TOKEN:-}"
    # Unset, the token is empty, which the ops server takes as "no token".
    assert container_env("poller")["MONITOR_OPS__HTTP_TOKEN"] == ""
    with_token = container_env("poller", {**TEST_ENV, "MONITOR_OPS__HTTP_TOKEN": "t0ken"})
    assert with_token["MONITOR_OPS__HTTP_TOKEN"] == "t0ken"


def test_demo_profile_holds_the_demo_services_and_only_them() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name in DEMO_SERVICES:
            assert service["profiles"] == ["demo"]
            assert service["image"] == services["poller"]["image"]  # the monitor's image
            assert "ports" not in service  # reached inside the Compose network only
        else:
            assert "profiles" not in service, f"{name} would not start by default"
    core = {"kafka", *MONITOR_ROLES, "prometheus", "alertmanager", "grafana"}
    assert core | set(DEMO_SERVICES) == set(services)


@pytest.fixture
def demo_servers() -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    """The demo services' own entrypoints, run on loopback ports."""
    services = compose()["services"]
    processes: list[subprocess.Popen[str]] = []
    urls = []
    for name in DEMO_SERVICES:
        service = services[name]
        port = free_port()
        env = {**os.environ, **service["environment"], "DEMO_HOST": "127.0.0.1",
               "DEMO_PORT": str(port)}
        if "DEMO_SITE" in env:
            env["DEMO_SITE"] = env["DEMO_SITE"].replace(IMAGE_CONFIG, str(REPO_ROOT / "config"))
        program, *args = service["entrypoint"]
        assert program == "python"  # the image's Python; here, the venv's
        command = [sys.executable, *args]
        processes.append(subprocess.Popen(command, env=env, cwd=REPO_ROOT, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            wait_for(functools.partial(_answers, url), 30, f"{url} to listen")
        yield urls[0], urls[1], processes[1]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


def test_demo_services_serve_the_feeds_and_print_the_alerts(
    demo_servers: tuple[str, str, subprocess.Popen[str]],
) -> None:
    feeds, receiver, receiver_process = demo_servers
    base = compose()["services"]["demo-feeds"]["environment"]["DEMO_BASE"]
    for feed in ("world.xml", "politics.atom"):
        reply = httpx.get(f"{feeds}/{feed}", timeout=5)
        assert reply.status_code == 200
        assert base in reply.text and "{{BASE}}" not in reply.text
    # What the sink sends by default: one story notification (story/1).
    story = {
        "schema": "story/1", "id": "s1", "revision": 1, "severity": "high",
        "article": {"title": "A story", "url": f"{base}/articles/x.html"}, "sources": [],
        "statements": [{
            "statement": {"text": "Zembla meddled.", "tags": ["foreign_interference"],
                          "speaker": "the ministry"},
            "rules": [{"rule": "interference", "matches": [{"text": "meddled"}]}],
        }],
    }
    assert httpx.post(f"{receiver}/alerts", json=story, timeout=5).status_code == 204
    receiver_process.terminate()
    output, _ = receiver_process.communicate(timeout=10)
    assert "STORY [high] A story" in output
    assert "the ministry: Zembla meddled." in output
    assert "rules: interference; matched: meddled" in output


def test_alertmanager_is_wired_to_prometheus_and_its_config_checks() -> None:
    amtool = shutil.which("amtool")
    assert amtool, "amtool comes with prometheus-alertmanager (scripts/install-system-deps)"
    result = subprocess.run([amtool, "check-config", str(ALERTMANAGER_CONFIG)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    services = compose()["services"]
    manager = services["alertmanager"]
    [config_flag] = [a for a in manager["command"] if a.startswith("--config.file=")]
    mounts = dict(v.split(":")[:2] for v in manager["volumes"])
    assert mounts["./config/alertmanager"] == str(Path(config_flag.split("=", 1)[1]).parent)
    assert manager["ports"] == ["127.0.0.1:9093:9093"]
    prometheus = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    [target] = prometheus["alerting"]["alertmanagers"]
    [dns] = target["dns_sd_configs"]
    assert dns["names"] == ["alertmanager"] and dns["port"] == 9093
    assert "alertmanager" in services["prometheus"]["depends_on"]
