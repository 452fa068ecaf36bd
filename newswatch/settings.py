"""Load newswatch.toml into validated, frozen settings: defaults, then the file, then the env.

Every problem in a file is reported at once, each with the file, the key and the
reason, as a ConfigError; the command line prints them and exits with status 2.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from alerts.config import AlertSettings, parse_alert_settings
from crawler.capture import KEEP, Retention
from crawler.cluster.options import DEFAULT_REDIS_URL, ClusterOptions
from crawler.config_reader import Problem, TableReader
from crawler.processes import cores
from crawler.sources import CrawlOptions, Source
from crawler.storage.engine import url_problem
from crawler.websub import WebSubOptions
from crawler.websub import read_options as read_websub_options
from newswatch.config_sources import Topic, read_source, read_topic
from newswatch.scheduling.health import HealthRules
from newswatch.scheduling.polling import PollingPolicy

CONFIG_ENV = "NEWSWATCH_CONFIG"
# Looked for in this order when neither --config nor $NEWSWATCH_CONFIG names a file (the
# user config directory comes last, see config_candidates); the first is also where
# `sources import` starts a configuration when there is none.
DEFAULT_CONFIG = Path("newswatch.toml")
CHECKOUT_CONFIG = Path("config/newswatch.toml")  # a source checkout's, for `make run`
DEFAULT_DATABASE_URL = "sqlite:///newswatch.db"
DEFAULT_INTERVAL = 30 * 60.0
AUTO = "auto"  # [service] workers and [crawl] extraction_workers: one process per core
TOP_LEVEL = (
    "storage",
    "crawl",
    "service",
    "cluster",
    "web",
    "display",
    "evidence",
    "topics",
    "sources",
    "alerts",
    "channels",
    "rules",
)
CLUSTER_KEYS = (
    "redis_url",
    "prefix",
    "heartbeat",
    "worker_timeout",
    "dedupe_window",
    "run_timeout",
)
REDIS_SCHEMES = ("redis", "rediss", "unix")
WEB_KEYS = ("allowed_hosts", "base_url")
DISPLAY_KEYS = ("timezone",)
EVIDENCE_KEYS = ("keep", "retention")
FOREVER = "forever"  # [evidence] retention: captures never expire
LOCALTIME = Path("/etc/localtime")  # the machine's zone when $TZ names none
# A Host name as TrustedHostMiddleware compares it: a DNS name (optionally "*." for its
# subdomains), an IPv4 address, or an IPv6 address in brackets; never a scheme or a port.
_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_IPV6_HOST = re.compile(r"^\[[0-9a-f:.]+\]$")
SERVICE_KEYS = (
    "workers",
    "crawls_per_worker",
    "min_interval",
    "max_interval",
    "adaptive",
    "jitter",
    "alerts_interval",
    "admin_channel",
    "failing_after",
    "quiet_factor",
    "quiet_after",
    "stop_timeout",
    "timezone",
    "websub",
)
CRAWL_KEYS = (
    "user_agent",
    "concurrency",
    "per_domain_concurrency",
    "delay",
    "autothrottle",
    "timeout",
    "max_page_size",
    "retries",
    "obey_robots",
    "extraction_workers",
    "min_text_chars",
    "max_articles_per_source",
    "retry_schedule",
    "recheck_after",
    "interval",
)


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` says every reason at once."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{self.path}: {p.key}: {p.message}" for p in self.problems]


@dataclass(frozen=True)
class ServiceSettings:
    """`[service]`: how `newswatch run` schedules crawls and watches source health."""

    polling: PollingPolicy = field(default_factory=PollingPolicy)
    health: HealthRules = field(default_factory=HealthRules)
    # crawl processes at once, each crawling a batch of due sources; "auto": one per core
    workers: int = field(default_factory=cores)
    # batches a crawl process runs before it is replaced; 1: a fresh process per crawl
    crawls_per_worker: int = 100
    alerts_interval: float = 60.0  # the alerts round also runs this often (retries, digests)
    admin_channel: str | None = None  # where source health changes are announced
    stop_timeout: float = 30.0  # how long SIGTERM waits for in-flight crawls
    timezone: str = "UTC"  # of sources' cron expressions; [alerts] timezone by default
    websub: WebSubOptions = field(default_factory=WebSubOptions)  # push from feeds' hubs


@dataclass(frozen=True)
class WebSettings:
    """`[web]`: the names the review UI answers to and the address its links are built from.

    Required when it is reached from elsewhere (`serve --host 0.0.0.0`, or a proxy):
    `newswatch.web.options` says when.
    """

    allowed_hosts: tuple[str, ...] = ()  # Host header names accepted ("*.example.org" too)
    base_url: str | None = None  # "https://news.example.org": absolute links (Atom, API)


@dataclass(frozen=True)
class DisplaySettings:
    """`[display]`: the one time zone every time is shown in — command line, web, exports.

    By default the machine's ($TZ, else /etc/localtime, else UTC). `[alerts] timezone` is
    another thing: the zone digests are cut in (and cron runs in); an alert message states
    its times there, labelled, as its digest period ("until 08:00 CET") is set there.
    """

    timezone: str = "UTC"  # an IANA name, e.g. "Europe/Brussels"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Settings:
    config_path: Path
    database_url: str
    crawl: CrawlOptions
    default_interval: float  # seconds between polls of a source that sets none
    topics: tuple[Topic, ...]
    sources: tuple[Source, ...]
    alerts: AlertSettings
    service: ServiceSettings = field(default_factory=ServiceSettings)
    cluster: ClusterOptions | None = None  # [cluster]: crawl with workers sharing a Redis queue
    web: WebSettings = field(default_factory=WebSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    evidence: Retention = field(default_factory=Retention)  # [evidence]: captures kept

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


@dataclass(frozen=True)
class ConfigLocation:
    """The configuration file to read, and how it was chosen (for logs and --help)."""

    path: Path
    origin: str  # "from --config", "from $NEWSWATCH_CONFIG", "found as ./newswatch.toml"...


def user_config_dir(env: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/newswatch, else ~/.config/newswatch (%APPDATA%\\newswatch on Windows)."""
    base = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):  # the XDG spec says to ignore a relative one
        base = env.get("APPDATA", "") if os.name == "nt" else ""
        base = base or str(Path.home() / ".config")
    return Path(base) / "newswatch"


def config_candidates(env: Mapping[str, str]) -> tuple[Path, ...]:
    """The files looked for, in order, when no file is named."""
    return (DEFAULT_CONFIG, CHECKOUT_CONFIG, user_config_dir(env) / "newswatch.toml")


def locate_config(
    path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> ConfigLocation:
    """The file given, else the one $NEWSWATCH_CONFIG names, else the first that exists of
    ./newswatch.toml, ./config/newswatch.toml and the user config directory's newswatch.toml.

    Raises ConfigError when none does, naming every place looked in.
    """
    env = os.environ if env is None else env
    if path:
        return ConfigLocation(Path(path), "from --config")
    if env.get(CONFIG_ENV):
        return ConfigLocation(Path(env[CONFIG_ENV]), f"from ${CONFIG_ENV}")
    candidates = config_candidates(env)
    for candidate in candidates:
        if candidate.is_file():
            where = f"./{candidate}" if not candidate.is_absolute() else None
            origin = f"found as {where}" if where else "found in the user config directory"
            return ConfigLocation(candidate, origin)
    looked = ", ".join(f"./{c}" if not c.is_absolute() else str(c) for c in candidates)
    message = (
        f"no configuration found: looked for {looked} (working directory {os.getcwd()}); "
        f"name one with --config FILE or ${CONFIG_ENV} (`newswatch demo` needs none)"
    )
    raise ConfigError(DEFAULT_CONFIG, [Problem("(file)", message)])


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read, validate and freeze the configuration; raises ConfigError.

    `path` None: the file locate_config finds.
    """
    env = os.environ if env is None else env
    location = locate_config(path, env)
    path = location.path
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        named = f" (named by ${CONFIG_ENV})" if location.origin == f"from ${CONFIG_ENV}" else ""
        raise ConfigError(path, [Problem("(file)", f"no such file{named}")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, [Problem("(file)", f"cannot be read: {error}")]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [Problem("(syntax)", f"not valid TOML: {error}")]) from None
    return parse_settings(document, path, env)


def parse_settings(document: dict, path: Path, env: Mapping[str, str]) -> Settings:
    problems: list[Problem] = []
    top = TableReader(document, "", problems)
    top.only(TOP_LEVEL)

    storage = top.subtable("storage")
    storage.only(["database_url"])
    database_url = env.get("NEWSWATCH_DATABASE_URL") or storage.text(
        "database_url", DEFAULT_DATABASE_URL
    )
    _check_database_url(storage, database_url, from_env="NEWSWATCH_DATABASE_URL" in env)

    crawl, default_interval = _crawl_options(top.subtable("crawl"))
    topics_read = [read_topic(reader) for reader in top.tables("topics")]
    topics = tuple(topic for topic, _ in topics_read)
    sources = tuple(read_source(reader) for reader in top.tables("sources"))
    sources = tuple(s for s in sources if s is not None)
    sources += tuple(source for _, searches in topics_read for source in searches)
    _check_unique(top, "sources", [s.name for s in sources])

    alerts, alert_problems = parse_alert_settings(document, env)
    problems.extend(alert_problems)
    service = _service(top.subtable("service"), default_interval, alerts)
    cluster = _cluster(top.subtable("cluster"), env) if "cluster" in document else None
    web = _web(top.subtable("web"))
    display = _display(top.subtable("display"), env)
    evidence = _evidence(top.subtable("evidence"))
    crawl = replace(crawl, capture_pages=evidence.keep != "none")

    if problems:
        raise ConfigError(path, problems)
    return Settings(
        path,
        database_url,
        crawl,
        default_interval,
        topics,
        sources,
        alerts,
        service,
        cluster,
        web,
        display,
        evidence=evidence,
    )


def with_cluster(
    settings: Settings, requested: bool = True, env: Mapping[str, str] | None = None
) -> Settings:
    """The settings of a command that may crawl in a cluster.

    In a cluster when the file has a [cluster] section or `requested` (--cluster: the
    section's defaults, and $NEWSWATCH_REDIS_URL). Checked here, once the database URL is
    final (after --database): every machine must reach the same PostgreSQL database.
    """
    if settings.cluster is None and not requested:
        return settings
    env = os.environ if env is None else env
    problems: list[Problem] = []
    reader = TableReader({"cluster": {}, "storage": {}}, "", problems)
    cluster = settings.cluster or _cluster(reader.subtable("cluster"), env)
    _check_cluster_database(reader.subtable("storage"), settings.database_url)
    _check_cluster_sources(reader, settings.sources)
    if problems:
        raise ConfigError(settings.config_path, problems)
    return replace(settings, cluster=cluster)


def _check_cluster_sources(reader: TableReader, sources: tuple[Source, ...]) -> None:
    # A site's discovery follows one homepage's answers in one process; queued requests
    # go to any worker. Until the queue carries that state, sites are discovered beforehand.
    for index, source in enumerate(sources):
        if source.kind == "site":
            reader.problem(
                f"sources[{index}].kind",
                f'"site" sources ({source.name}) cannot '
                "be crawled by a cluster yet: turn them into feed and sitemap "
                "sources with `newswatch discover --write URL`",
            )


def _cluster(reader: TableReader, env: Mapping[str, str]) -> ClusterOptions:
    reader.only(CLUSTER_KEYS)
    defaults = ClusterOptions()
    from_env = "NEWSWATCH_REDIS_URL" in env
    redis_url = env.get("NEWSWATCH_REDIS_URL") or reader.text("redis_url", DEFAULT_REDIS_URL)
    if urlsplit(redis_url).scheme not in REDIS_SCHEMES:
        where = "redis_url ($NEWSWATCH_REDIS_URL)" if from_env else "redis_url"
        reader.problem(where, f"must be a redis://host:port/db address (got {redis_url!r})")
    heartbeat = reader.duration("heartbeat", defaults.heartbeat_seconds)
    timeout = reader.duration("worker_timeout", defaults.worker_timeout)
    if heartbeat and timeout and timeout < 2 * heartbeat:
        reader.problem("worker_timeout", f"must be at least twice the heartbeat ({heartbeat:g}s)")
    prefix = reader.text("prefix", defaults.prefix)
    if not re.fullmatch(r"[\w.-]+", prefix or ""):
        reader.problem("prefix", f"letters, digits, '.', '-' or '_' only (got {prefix!r})")
    return ClusterOptions(
        redis_url=redis_url,
        prefix=prefix or defaults.prefix,
        heartbeat_seconds=heartbeat or defaults.heartbeat_seconds,
        worker_timeout=timeout or defaults.worker_timeout,
        dedupe_window=reader.duration("dedupe_window", defaults.dedupe_window),
        run_timeout=reader.duration("run_timeout", defaults.run_timeout),
    )


def _web(reader: TableReader) -> WebSettings:
    reader.only(WEB_KEYS)
    hosts = tuple(name.lower() for name in reader.strings("allowed_hosts"))
    for index, name in enumerate(hosts):
        if name == "*":
            reader.problem(
                f"allowed_hosts[{index}]",
                "'*' would accept any Host header: list "
                'the names clients use, e.g. "news.example.org"',
            )
        elif not (_HOST_NAME.match(name) or _IPV6_HOST.match(name)):
            reader.problem(
                f"allowed_hosts[{index}]",
                "must be a host name such as "
                "news.example.org or *.example.org, without scheme or port "
                f"(got {name!r})",
            )
    base_url = reader.text("base_url")
    if base_url is not None and not _is_origin(base_url.rstrip("/")):
        reader.problem(
            "base_url",
            "must be the http(s) address clients use, scheme and host "
            '(and port) only, e.g. "https://news.example.org" '
            f"(got {base_url!r})",
        )
        base_url = None
    return WebSettings(hosts, base_url.rstrip("/") if base_url else None)


def _display(reader: TableReader, env: Mapping[str, str]) -> DisplaySettings:
    reader.only(DISPLAY_KEYS)
    name = reader.text("timezone")
    where = "timezone"
    if name is None:
        # the machine's zone; a name it cannot resolve says where it came from
        name = machine_timezone(env)
        where = f"timezone ({'$TZ' if env.get('TZ') else LOCALTIME})"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        reader.problem(where, f"unknown time zone {name!r}: name one such as Europe/Brussels")
        name = "UTC"
    return DisplaySettings(name)


def _evidence(reader: TableReader) -> Retention:
    reader.only(EVIDENCE_KEYS)
    defaults = Retention()
    keep = reader.choice("keep", KEEP, defaults.keep)
    if reader.values.get("retention") == FOREVER:  # beyond the reader's one-year durations
        return Retention(keep, None)
    return Retention(keep, reader.duration("retention", defaults.max_age_seconds))


def machine_timezone(env: Mapping[str, str] | None = None, localtime: Path = LOCALTIME) -> str:
    """The machine's zone name, the default of [display] timezone.

    $TZ ("Asia/Tokyo", ":Asia/Tokyo", or a zone file's path), else the zone file that
    /etc/localtime links to, else /etc/timezone; UTC when none names a zone.
    """
    env = os.environ if env is None else env
    name = env.get("TZ", "").strip().removeprefix(":")
    if name and not name.startswith("/"):
        return name
    target = os.path.realpath(name or localtime)
    if "/zoneinfo/" in target:
        return target.split("/zoneinfo/", 1)[1]
    if not name:
        try:
            return (localtime.parent / "timezone").read_text(encoding="utf-8").strip() or "UTC"
        except (OSError, UnicodeDecodeError):
            pass
    return "UTC"


def local_zone() -> zoneinfo.ZoneInfo:
    """The machine's zone, for output made without settings (it is their default)."""
    try:
        return zoneinfo.ZoneInfo(machine_timezone())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _is_origin(url: str) -> bool:
    """An http(s) scheme and host (and port), with no user, path, query or fragment."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  raises on a port that is not a number
    except ValueError:
        return False
    extras = (parts.username, parts.password, parts.path, parts.query, parts.fragment)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(extras)


def _check_cluster_database(storage: TableReader, url: str) -> None:
    """Workers on several machines share one database: it cannot be a SQLite file."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        return  # reported already
    if backend != "postgresql":
        storage.problem(
            "database_url",
            f"a cluster needs PostgreSQL, which every worker reaches (got {backend}); "
            "move the data with `newswatch copy-db --to postgresql://...`",
        )


def _service(
    reader: TableReader, default_interval: float, alerts: AlertSettings
) -> ServiceSettings:
    reader.only(SERVICE_KEYS)
    defaults, rules = PollingPolicy(), HealthRules()
    # The band holds the default interval, so a short [crawl] interval is not overruled.
    low = reader.duration("min_interval", min(defaults.min_interval, default_interval))
    high = reader.duration("max_interval", max(defaults.max_interval, default_interval))
    if low > high:
        reader.problem("max_interval", f"must not be shorter than min_interval ({low:g}s)")
    jitter = reader.number("jitter", defaults.jitter)
    if jitter > 0.5:
        reader.problem("jitter", f"must be a share from 0 to 0.5 of the interval (got {jitter})")
        jitter = defaults.jitter
    workers = _processes(reader, "workers", minimum=1)
    timezone = reader.text("timezone", alerts.timezone)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        reader.problem("timezone", f"unknown time zone {timezone!r} (e.g. Europe/Brussels)")
        timezone = "UTC"
    channel = reader.text("admin_channel")
    if channel is not None and channel not in alerts.channels:
        known = ", ".join(sorted(alerts.channels))
        reader.problem("admin_channel", f"no channel named {channel!r} (known: {known})")
    return ServiceSettings(
        polling=PollingPolicy(low, high, reader.flag("adaptive", defaults.adaptive), jitter),
        health=HealthRules(
            failing_after=reader.number(
                "failing_after", rules.failing_after, minimum=1, integer=True
            ),
            quiet_factor=reader.number("quiet_factor", rules.quiet_factor, minimum=1),
            quiet_after=reader.duration("quiet_after", rules.quiet_after),
        ),
        workers=workers,
        crawls_per_worker=reader.number(
            "crawls_per_worker", ServiceSettings.crawls_per_worker, minimum=1, integer=True
        ),
        alerts_interval=reader.duration("alerts_interval", ServiceSettings.alerts_interval),
        admin_channel=channel,
        stop_timeout=reader.duration("stop_timeout", ServiceSettings.stop_timeout),
        timezone=timezone,
        websub=read_websub_options(reader.subtable("websub")),
    )


def _crawl_options(reader: TableReader) -> tuple[CrawlOptions, float]:
    reader.only(CRAWL_KEYS)
    defaults = CrawlOptions()
    # "auto", one per core: the crawl process itself mostly waits on the network
    workers = _processes(reader, "extraction_workers", minimum=0)
    options = CrawlOptions(
        user_agent=reader.text("user_agent", defaults.user_agent),
        concurrency=reader.number("concurrency", defaults.concurrency, minimum=1, integer=True),
        per_domain_concurrency=reader.number(
            "per_domain_concurrency", defaults.per_domain_concurrency, minimum=1, integer=True
        ),
        download_delay=reader.number("delay", defaults.download_delay),
        autothrottle=reader.flag("autothrottle", defaults.autothrottle),
        download_timeout=reader.duration("timeout", defaults.download_timeout),
        max_page_bytes=reader.size("max_page_size", defaults.max_page_bytes),
        retries=reader.number("retries", defaults.retries, integer=True),
        obey_robots=reader.flag("obey_robots", defaults.obey_robots),
        extraction_workers=workers,
        min_text_chars=reader.number("min_text_chars", defaults.min_text_chars, integer=True),
        max_articles_per_source=reader.number(
            "max_articles_per_source", defaults.max_articles_per_source, minimum=1, integer=True
        ),
        retry_schedule=reader.durations("retry_schedule", defaults.retry_schedule),
        recheck_after=_recheck_after(reader, defaults.recheck_after),
    )
    return options, reader.duration("interval", DEFAULT_INTERVAL)


def _recheck_after(reader: TableReader, default: tuple[float, ...]) -> tuple[float, ...]:
    """Delays from an article's first fetch, in increasing order; [] turns re-checks off."""
    if reader.values.get("recheck_after") == []:
        return ()
    after = reader.durations("recheck_after", default)
    if list(after) != sorted(after):
        reader.problem("recheck_after", 'must be in increasing order, like ["1h", "6h"]')
        return default
    return after


def _processes(reader: TableReader, key: str, *, minimum: int) -> int:
    """A number of processes: "auto" (the default, one per core) or a whole number."""
    value = reader.values.get(key, AUTO)
    if value == AUTO:
        return cores()
    if isinstance(value, str):
        reader.problem(key, f'must be "{AUTO}" or a whole number (got {value!r})')
        return cores()
    return reader.number(key, cores(), minimum=minimum, integer=True)


def _check_database_url(reader: TableReader, url: str, *, from_env: bool) -> None:
    where = "database_url" if not from_env else "database_url ($NEWSWATCH_DATABASE_URL)"
    problem = url_problem(url)  # not a URL, another database, or its driver not installed
    if problem:
        reader.problem(where, problem)


def _check_unique(reader: TableReader, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            reader.problem(key, f"the name {name!r} is used twice")
        seen.add(name)
