"""One validation path for ``monitor run``, SIGHUP and ``monitor check-config``.

:func:`check` loads the configuration and then everything the requested
roles load when they start — rules, lexicons, site rules, receivers' signing
keys — collecting every problem of every file instead of stopping at the
first, plus warnings about a config that is valid but will not do what its
author probably wants (no feeds, no receivers, feed URLs the private-address
guard will refuse). Every problem and warning leaves here in one form:
``source: key: message`` with list positions written ``[N]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from monitor.config import Settings, default_config_path, load_with_problems
from monitor.errors import ConfigError, ConfigProblem
from monitor.feeds.settings import PollerSettings

#: Told (done so far + 1, total, what) before each load of a long check.
Progress = Callable[[int, int, str], None]
_DOTTED_INDEX = re.compile(r"\.(\d+)(?=[.(]|$)")
#: Validation messages worded one way wherever they come from.
_MESSAGES = {"Extra inputs are not permitted": "unknown key"}
#: Host names that always mean this machine (RFC 6761), refused like 127.0.0.1.
_LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check` found: the settings (usable even with problems), the
    files it read, the problems (the config must not run) and warnings."""

    settings: Settings
    files: tuple[Path, ...]
    problems: tuple[ConfigProblem, ...]
    warnings: tuple[ConfigProblem, ...]


def check(
    path: Path | None,
    roles: Sequence[str] | None,
    environ: Mapping[str, str],
    progress: Progress | None = None,
) -> CheckReport:
    """Validate everything ``roles`` (default: the config's) would load at start;
    ``progress`` is told of each file before it is loaded."""
    path = (path or default_config_path()).resolve()
    settings, problems = load_with_problems(path, environ)
    chosen = tuple(roles) if roles else settings.roles
    files, deep = role_problems(settings, chosen, environ, progress)
    return CheckReport(
        settings=settings,
        files=(path, settings.feeds_file, *files),
        problems=tuple(normalised(p) for p in (*problems, *deep)),
        warnings=tuple(normalised(w) for w in warnings(settings, chosen, str(path))),
    )


def role_problems(
    settings: Settings,
    roles: Sequence[str],
    environ: Mapping[str, str],
    progress: Progress | None = None,
) -> tuple[list[Path], list[ConfigProblem]]:
    """Load what each of ``roles`` loads at start; the files read and every problem."""
    files: list[Path] = []
    checks: list[Callable[[], object]] = []
    if "poller" in roles:
        checks += _site_checks(settings, files)
    if "nlp" in roles:
        checks += _lexicon_checks(settings, files)
    if "alerts" in roles:
        checks += _alert_checks(settings, files, environ)
    problems: list[ConfigProblem] = []
    for index, run_check in enumerate(checks):
        if progress is not None:
            progress(index + 1, len(checks), _subject(run_check))
        try:
            run_check()
        except ConfigError as exc:
            problems.extend(exc.problems)
    return files, problems


def _subject(run_check: Callable[[], object]) -> str:
    """What a check loads, for progress lines (its first argument)."""
    args = getattr(run_check, "args", ())
    first: object = args[0] if args else "?"
    if isinstance(first, Path):
        return str(first)
    return f"receiver {getattr(first, 'name', '?')}'s key"


def _site_checks(settings: Settings, files: list[Path]) -> list[Callable[[], object]]:
    from monitor.feeds.sites import load_site_rules

    sites = settings.config_dir / settings.poller.sites_file
    if sites.exists():
        files.append(sites)
    return [partial(load_site_rules, sites)]


def _lexicon_checks(settings: Settings, files: list[Path]) -> list[Callable[[], object]]:
    from monitor.nlp.lexicon import load_lexicon

    folders = [
        settings.config_dir / settings.nlp.lexicon_folder(lang)
        for lang in ("en", *settings.nlp.lexicons)
    ]
    files.extend(folders)
    return [partial(load_lexicon, folder) for folder in folders]


def _alert_checks(
    settings: Settings, files: list[Path], environ: Mapping[str, str]
) -> list[Callable[[], object]]:
    from monitor.alerts.rules import load_rules
    from monitor.alerts.settings import resolve_keys

    files.append(settings.rules_file)
    checks: list[Callable[[], object]] = [partial(load_rules, settings.rules_file)]
    for index, receiver in enumerate(settings.alerts.receivers):
        if receiver.secret_file is not None:
            files.append(receiver.secret_file)
        checks.append(partial(resolve_keys, receiver, index, environ))
    return checks


def warnings(settings: Settings, roles: Sequence[str], config_file: str) -> list[ConfigProblem]:
    """What is valid but probably not meant: nothing to poll, nowhere to deliver,
    feed URLs the private-address guard will refuse."""
    found: list[ConfigProblem] = []
    feeds_file = str(settings.feeds_file)
    if "poller" in roles and not settings.feeds:
        found.append(ConfigProblem(feeds_file, "feeds", "no feeds: the poller polls nothing"))
    if "poller" in roles:
        found.extend(refused_feeds(settings, feeds_file))
    if "alerts" in roles and not settings.alerts.receivers:
        found.append(
            ConfigProblem(
                config_file, "alerts.receivers",
                "no receivers: alerts are recorded but delivered nowhere",
            )
        )  # fmt: skip
    return found


def refused_feeds(settings: Settings, source: str) -> list[ConfigProblem]:
    """Feeds whose URL the poller will refuse under the current private-address settings.

    Pure: literal addresses and loopback names are judged; other names are
    only known when they are resolved, at fetch time.
    """
    from monitor.feeds.errors import RefusedUrl
    from monitor.feeds.fetcher import check_url_allowed

    poller = settings.poller
    found: list[ConfigProblem] = []
    for index, feed in enumerate(settings.feeds):
        url, host = str(feed.url), (feed.url.host or "").lower()
        try:
            check_url_allowed(url, poller.allow_private_addresses, poller.allowed_private_hosts)
            reason = _loopback_name(host, poller)
        except RefusedUrl as exc:
            reason = str(exc)
        if reason:
            found.append(
                ConfigProblem(
                    source, f"feeds[{index}].url",
                    f"will be refused ({reason}); allow it with poller.allowed_private_hosts "
                    "or poller.allow_private_addresses",
                )
            )  # fmt: skip
    return found


def _loopback_name(host: str, poller: PollerSettings) -> str | None:
    """Why a name that always means this machine is refused, or None."""
    from monitor.http.guard import exempt

    if exempt(host, poller.allow_private_addresses, poller.allowed_private_hosts):
        return None
    if any(host == name or host.endswith("." + name) for name in _LOOPBACK_NAMES):
        return f"{host} is this machine"
    return None


def normalised(problem: ConfigProblem) -> ConfigProblem:
    """``problem`` with list positions as ``[N]`` and the shared wording."""
    key = _DOTTED_INDEX.sub(r"[\1]", problem.key)
    message = _MESSAGES.get(problem.message, problem.message)
    return ConfigProblem(problem.source, key, message)


def raise_problems(problems: Iterable[ConfigProblem]) -> None:
    """Raise :class:`ConfigError` with ``problems`` normalised, if there are any."""
    found = [normalised(p) for p in problems]
    if found:
        raise ConfigError(found)
