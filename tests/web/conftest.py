"""Fixtures of the web tests: the browser tests' served sample help center and Chromium."""

from tests.web.browser_site import chromium, sample_site_url

__all__ = ["chromium", "sample_site_url"]
