"""What the crawl's Scrapy settings switch on and off."""

from __future__ import annotations

from crawler.settings import scrapy_settings
from crawler.sources import CrawlOptions


def test_a_crawl_opens_no_console_and_no_code_running_server():
    settings = scrapy_settings(CrawlOptions())
    # Scrapy 2.19 serves a code-running endpoint on localhost unless told not to
    assert settings["REMOTE_CONTROL_ENABLED"] is False
    assert settings["EXTENSIONS"]["scrapy.extensions.remote_control.RemoteControl"] is None
    assert settings["TELNETCONSOLE_ENABLED"] is False
