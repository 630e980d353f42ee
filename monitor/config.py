"""Configuration: loaded once at start into frozen, validated models, then passed in.

Sources, later ones winning:

1. ``config/monitor.yaml`` (path from ``--config`` or ``MONITOR_CONFIG``);
   ``feeds.yaml`` and ``rules.yaml`` beside it (names configurable).
2. ``${NAME}`` inside any YAML string is replaced by that environment
   variable, so secrets need not be written into files.
3. ``MONITOR_<SECTION>__<KEY>=value`` environment variables override single
   keys (``MONITOR_BUS__KIND=kafka``, ``MONITOR_ROLES=nlp``); values are read
   as YAML scalars, so ``true``, ``3`` and ``[a, b]`` mean what they say.

Every problem is reported at once, each naming its file (or variable) and
key, through :class:`~monitor.errors.ConfigError`.

Shipped data (the NLP lexicons, ``sites.yaml``, ``rules.yaml``) is package
data (:data:`PACKAGED_CONFIG`). When ``nlp.lexicon_dir``, ``poller.sites_file``
or ``rules_file`` is not set, the one beside ``monitor.yaml`` is used if it
exists, else the shipped one, so a config written in an empty folder works.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from monitor.alerts.settings import AlertSettings
from monitor.bus.codec import TopicNames
from monitor.bus.settings import (
    MIN_STAGE_STALL_AFTER_S,
    STAGE_STALL_AFTER_S,
    KafkaSettings,
)
from monitor.errors import ConfigError, ConfigProblem
from monitor.feeds.settings import FeedConfig, FeedList, PollerSettings
from monitor.nlp.settings import NlpSettings
from monitor.ops.settings import OpsSettings
from monitor.roles import ROLE_NAMES

T = TypeVar("T", bound=BaseModel)


def _known_role(name: str) -> str:
    if name not in ROLE_NAMES:
        raise PydanticCustomError(
            "unknown_role",
            "unknown role {name}; choose from {choices}",
            {"name": name, "choices": ", ".join(ROLE_NAMES)},
        )
    return name


#: A role name from the registry (:data:`monitor.roles.REGISTRY`).
RoleName = Annotated[str, AfterValidator(_known_role)]
ENV_PREFIX = "MONITOR_"
#: Variables with the prefix that are not config overrides.
_ENV_RESERVED = {"MONITOR_CONFIG", "MONITOR_TEST_KAFKA"}
#: Values a config file may hold; far above any real one, far below an alias bomb.
MAX_CONFIG_VALUES = 200_000
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: The package holding the shipped config folder (``config/`` of the checkout,
#: mapped to this name in pyproject.toml).
PACKAGED_CONFIG = "monitor.defaults"


class GroupNames(BaseModel):
    """Kafka consumer group per consuming role; processes of a role share one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    poller: str = "monitor-poller"
    publisher: str = "monitor-publisher"
    nlp: str = "monitor-nlp"
    alerts: str = "monitor-alerts"
    stories: str = "monitor-stories"
    delivery: str = "monitor-delivery"


class BusSettings(BaseModel):
    """Which transport carries messages, and the names on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["embedded", "kafka"] = "embedded"
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicNames = TopicNames()
    groups: GroupNames = GroupNames()
    #: Seconds a stage (nlp, alerts) may have records waiting and read none
    #: before its watchdog rebuilds it with a new consumer.
    stage_stall_after_s: float = Field(
        default=STAGE_STALL_AFTER_S, ge=MIN_STAGE_STALL_AFTER_S, le=86_400
    )


class Settings(BaseModel):
    """Everything the monitor is configured with. Paths are absolute after loading."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: tuple[RoleName, ...] = ROLE_NAMES
    bus: BusSettings = BusSettings()
    poller: PollerSettings = PollerSettings()
    nlp: NlpSettings = NlpSettings()
    alerts: AlertSettings = AlertSettings()
    ops: OpsSettings = OpsSettings()
    feeds_file: Path = Path("feeds.yaml")
    rules_file: Path = Path("rules.yaml")
    #: Where SQLite stores and other local state live (relative: to the working dir).
    state_dir: Path = Path("var")
    #: Filled in by the loader, not read from monitor.yaml.
    config_dir: Path = Field(default=Path("config"), exclude=True)
    feeds: tuple[FeedConfig, ...] = Field(default=(), exclude=True)


def cross_section_problems(
    settings: Settings, source: str, env_keys: Mapping[str, str]
) -> list[ConfigProblem]:
    """Rules that span two sections, each problem naming the key that breaks it."""
    problems: list[ConfigProblem] = []

    def problem(key: str, message: str) -> None:
        problems.append(ConfigProblem(env_keys.get(key, source), key, message))

    if settings.poller.sharing == "kafka" and settings.bus.kind != "kafka":
        problem("poller.sharing", "sharing 'kafka' needs bus.kind 'kafka'")
    return problems


def default_config_path() -> Path:
    """``$MONITOR_CONFIG``, else ``./config/monitor.yaml``, else the checkout's config."""
    if env := os.environ.get("MONITOR_CONFIG"):
        return Path(env)
    local = Path("config/monitor.yaml")
    if local.exists():
        return local
    return Path(__file__).resolve().parent.parent / "config" / "monitor.yaml"


def packaged_config_dir() -> Path:
    """The folder of the shipped config data, wherever the package is installed.

    Read through importlib (a wheel puts it in ``site-packages/monitor/defaults``,
    an editable install maps it to the checkout's ``config/``); an install that
    predates the mapping falls back to the ``config/`` folder beside the package.
    """
    try:
        spec = importlib.util.find_spec(PACKAGED_CONFIG)
    except ImportError:
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    if locations:
        return Path(locations[0])
    return Path(__file__).resolve().parent.parent / "config"


def _beside_or_packaged(config_dir: Path, name: str) -> Path:
    """``config_dir/name`` when it exists, else the shipped ``name`` (absolute)."""
    local = config_dir / name
    return local if local.exists() else packaged_config_dir() / name


def _with_shipped_defaults(settings: Settings, config_dir: Path) -> Settings:
    """Fill the data paths the config leaves unset (see the module docstring)."""
    nlp, poller = settings.nlp, settings.poller
    if "lexicon_dir" not in nlp.model_fields_set:
        folder = _beside_or_packaged(config_dir, nlp.lexicon_dir)
        nlp = nlp.model_copy(update={"lexicon_dir": str(folder)})
    if "sites_file" not in poller.model_fields_set:
        poller = poller.model_copy(
            update={"sites_file": _beside_or_packaged(config_dir, str(poller.sites_file))}
        )
    if "rules_file" in settings.model_fields_set:
        rules = config_dir / settings.rules_file
    else:
        rules = _beside_or_packaged(config_dir, str(settings.rules_file))
    return settings.model_copy(update={"nlp": nlp, "poller": poller, "rules_file": rules})


def load_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load, merge and validate configuration; raise ConfigError listing every problem."""
    settings, problems = load_with_problems(path, environ)
    if problems:
        raise ConfigError(problems)
    return settings


def load_with_problems(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Settings, list[ConfigProblem]]:
    """Settings and every problem of ``monitor.yaml`` and ``feeds.yaml``, never raising.

    When ``monitor.yaml`` is invalid the settings returned are the defaults
    with the file paths it names (``feeds_file``, ``rules_file``) where those
    are readable, so the other files can still be checked in the same run.
    """
    path = path or default_config_path()
    env = os.environ if environ is None else environ
    problems: list[ConfigProblem] = []
    raw = _read_yaml_mapping(path, problems, env)
    env_keys = _apply_env_overrides(raw, env, problems)
    settings = _validate(Settings, raw, str(path), env_keys, problems)
    if settings is None:
        settings = _paths_only(raw)
    else:
        problems.extend(cross_section_problems(settings, str(path), env_keys))
    config_dir = path.resolve().parent
    feeds_path = config_dir / settings.feeds_file
    feed_list = _validate(
        FeedList, _read_yaml_mapping(feeds_path, problems, env), str(feeds_path), {}, problems
    )
    loaded = _with_shipped_defaults(settings, config_dir).model_copy(
        update={
            "config_dir": config_dir,
            "feeds_file": feeds_path,
            "state_dir": settings.state_dir.resolve(),
            "feeds": feed_list.feeds if feed_list else (),
        }
    )
    return loaded, problems


def _paths_only(raw: Mapping[str, Any]) -> Settings:
    """Default settings keeping the file names an invalid ``monitor.yaml`` gives."""
    names = {k: raw[k] for k in ("feeds_file", "rules_file") if isinstance(raw.get(k), str)}
    try:
        return Settings.model_validate(names)
    except ValidationError:
        return Settings()


def _read_yaml_mapping(
    path: Path, problems: list[ConfigProblem], env: Mapping[str, str]
) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(ConfigProblem(str(path), "", "file not found"))
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ConfigProblem(str(path), "", f"cannot read: {exc}"))
        return {}
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        problems.append(ConfigProblem(str(path), "", "nested too deeply to be a config file"))
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(ConfigProblem(str(path), "", f"invalid YAML{where}: {problem}"))
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(ConfigProblem(str(path), "", "must be a mapping of keys to values"))
        return {}
    if _exceeds_size(data, MAX_CONFIG_VALUES):
        # YAML aliases can make a small file stand for an enormous tree.
        problems.append(
            ConfigProblem(str(path), "", f"expands to more than {MAX_CONFIG_VALUES} values")
        )
        return {}
    return _expand_env_refs(data, str(path), "", env, problems)  # type: ignore[no-any-return]


def _exceeds_size(data: Any, limit: int) -> bool:
    """Whether the tree, with every alias expanded, holds more than ``limit`` values."""
    seen = 0
    stack = [data]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _expand_env_refs(
    value: Any, source: str, key: str, env: Mapping[str, str], problems: list[ConfigProblem]
) -> Any:
    """Replace ``${NAME}`` in strings, recursively; a missing variable is a problem."""
    if isinstance(value, dict):
        return {
            k: _expand_env_refs(v, source, _join(key, str(k)), env, problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _expand_env_refs(v, source, f"{key}[{i}]", env, problems) for i, v in enumerate(value)
        ]
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append(
                    ConfigProblem(source, key, f"environment variable {name} is not set")
                )
                return ""
            return env[name]

        return _ENV_REF.sub(substitute, value)
    return value


def _apply_env_overrides(
    raw: dict[str, Any], env: Mapping[str, str], problems: list[ConfigProblem]
) -> dict[str, str]:
    """Merge ``MONITOR_A__B`` variables into ``raw``; return dotted key → variable name."""
    applied: dict[str, str] = {}
    for name, text in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name in _ENV_RESERVED:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if path[0] not in Settings.model_fields or path[0] in ("config_dir", "feeds"):
            continue
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            value = text
        if path == ["roles"] and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        node = raw
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(ConfigProblem(name, "", f"{part} is not a section"))
                break
            node = child
        else:
            node[path[-1]] = value
            applied[".".join(path)] = name
    return applied


def _validate(
    model: type[T],
    raw: dict[str, Any],
    source: str,
    env_keys: Mapping[str, str],
    problems: list[ConfigProblem],
) -> T | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            key = _dotted(error["loc"])
            origin = next(
                (var for k, var in env_keys.items() if key == k or key.startswith(k + ".")),
                source,
            )
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            problems.append(ConfigProblem(origin, key, message))
        return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key = f"{key}[{part}]" if isinstance(part, int) else _join(key, part)
    return key


def _join(prefix: str, part: str) -> str:
    return f"{prefix}.{part}" if prefix else part
