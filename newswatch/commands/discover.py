"""`newswatch discover`: a homepage's feeds and sitemaps, checked, as [[sources]] to paste."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from urllib.parse import urlsplit

import click

from crawler.discovery.choice import Verdict, judge
from crawler.discovery.probe import Probe, describe
from crawler.discovery.run import discover as discover_sites
from crawler.discovery.site import SiteReport
from newswatch.app import App
from newswatch.commands.options import config_option
from newswatch.config_writer import SourceBlock, append_sources, render, source_name

log = logging.getLogger("newswatch")
# TOML comments may hold no control character but tab; page titles and addresses are
# untrusted, and a line break in one would write configuration, not a comment.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]+")


@click.command()
@config_option
@click.argument("homepages", nargs=-1, required=True, metavar="HOMEPAGE...")
@click.option(
    "--write",
    is_flag=True,
    help="Also add the sources to the configuration file (a backup is kept first; "
    "sources whose name or address it has already are left out).",
)
@click.pass_obj
def discover(app: App, homepages: tuple[str, ...], write: bool) -> None:
    """Find each site's feeds and sitemaps from its homepage; print [[sources]].

    For every HOMEPAGE the feeds its page advertises (RSS, Atom, JSON Feed), the
    sitemaps its robots.txt names (and the parts of a sitemap index), and, where
    it names none, the usual paths (/feed, /rss.xml, /sitemap.xml, ...) are
    fetched and checked: is it really a feed or a sitemap, how many articles,
    the newest, the language. The best sitemap (a news sitemap first) and the
    main feed are printed as ready-to-paste [[sources]] blocks, with what was
    found and why as comments; every other candidate gets a line saying why not.
    Requests follow the [crawl] settings and robots.txt, like a crawl.

    Exits 0 when at least one site gave a source; 1 when none did (every site
    unreachable, or without a feed or sitemap the crawler can read).

    \b
    Examples:
      newswatch discover https://www.lesoir.be https://www.hespress.com
      newswatch discover --write www.lesoir.be     # add them to the config file
    """
    pages = [_homepage(page) for page in homepages]
    settings = app.settings
    reports = discover_sites(pages, settings.crawl, settings.database_url)
    blocks: list[SourceBlock] = []
    for report in reports:
        verdicts = judge(list(report.probes))
        site_blocks = _blocks(report, verdicts)
        _log(report, verdicts)
        if site_blocks:
            click.echo(render(site_blocks), nl=False)
        else:
            click.echo("\n" + "\n".join(f"# {line}" for line in _site_lines(report, verdicts)))
        blocks.extend(site_blocks)
    if write and blocks:
        _write(settings.config_path, blocks)
    if not blocks:
        log.warning("no site gave a feed or sitemap to follow")
        click.get_current_context().exit(1)


def _homepage(value: str) -> str:
    page = value.strip()
    if "://" not in page:
        page = "https://" + page
    parts = urlsplit(page)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not a homepage address", param_hint="HOMEPAGE")
    return page if parts.path else page + "/"


def _blocks(report: SiteReport, verdicts: list[Verdict]) -> list[SourceBlock]:
    chosen = [v for v in verdicts if v.chosen]
    site = source_name(urlsplit(report.homepage).netloc)
    blocks = []
    for number, verdict in enumerate(chosen):
        found = verdict.probe
        lines = _site_lines(report, verdicts) if number == 0 else []
        lines += [
            f"chosen: {found.kind} {found.url} ({_how(found)}): {describe(found)}",
            f"  why: {verdict.why}",
        ]
        values = {"name": f"{site}-{found.kind}", "kind": found.kind, "url": found.url}
        language = found.language or report.language
        if language:
            values["language"] = language
        blocks.append(SourceBlock(values, tuple(_comment(line) for line in lines)))
    return blocks


def _site_lines(report: SiteReport, verdicts: list[Verdict]) -> list[str]:
    """The site's header line and a line for every candidate not chosen."""
    about = f"language {report.language}" if report.language else "language not declared"
    if not report.reachable:
        return [f"=== {report.homepage}: unreachable ({report.problem}); nothing to add"]
    header = f"=== {report.homepage}: {about}"
    if report.problem:
        header += f"; the homepage: {report.problem}"
    if not any(v.chosen for v in verdicts):
        header += "; no feed or sitemap the crawler can read, nothing to add"
    lines = [header]
    usual: dict[str, list[str]] = defaultdict(list)
    for verdict in verdicts:
        found = verdict.probe
        if verdict.chosen:
            continue
        if found.problem and found.candidate.how.startswith("usual path"):
            usual[found.problem].append(urlsplit(found.candidate.url).path)
        elif found.problem:
            lines.append(f"not usable: {found.candidate.url} ({_how(found)}): {found.problem}")
        else:
            lines.append(
                f"not chosen: {found.url} ({_how(found)}): {describe(found)}; {verdict.why}"
            )
    for problem, paths in usual.items():
        lines.append(f"usual paths {', '.join(paths)}: {problem}")
    return lines


def _how(found: Probe) -> str:
    how = found.candidate.how
    if found.final_url and found.final_url != found.candidate.url:
        how += f", redirected from {found.candidate.url}"
    return how


def _comment(line: str) -> str:
    return _CONTROL.sub(" ", line)


def _log(report: SiteReport, verdicts: list[Verdict]) -> None:
    chosen = [f"{v.probe.format or v.probe.kind} {v.probe.url}" for v in verdicts if v.chosen]
    unusable = sum(1 for v in verdicts if v.probe.problem)
    if not report.reachable:
        log.warning("discover %s: unreachable (%s)", report.homepage, report.problem)
    elif chosen:
        log.info(
            "discover %s: %d checked, %d not usable; chose %s",
            report.homepage,
            len(verdicts),
            unusable,
            " and ".join(chosen),
        )
    else:
        log.warning("discover %s: %d checked, none usable", report.homepage, len(verdicts))


def _write(path, blocks: list[SourceBlock]) -> None:
    try:
        added = append_sources(path, blocks, note="added by newswatch discover")
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    for skipped in added.skipped:
        log.warning("not written: %s", skipped)
    if added.written:
        backup = f" (backup: {added.backup})" if added.backup else ""
        log.info(
            "wrote %d sources to %s%s: %s",
            len(added.written),
            path,
            backup,
            ", ".join(added.written),
        )
