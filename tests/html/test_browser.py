"""The built book, opened in a real browser (the system's headless Chromium via
Selenium; nothing downloads a browser). Run by ``make check-html``, which builds
the HTML first; ``make test`` leaves this folder out.

Every page of the table of contents must load without console errors, every
image must load, math must be typeset by MathJax (served locally, so this works
offline), the search page must find ``SpatialDropout2D``, and every internal
link must resolve, anchors included. Screenshots of every page are kept under
``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest
from booktools import toc_files

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"


PAGES = toc_files(ROOT)


def _find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="session")
def site():
    if not (HTML / "search.html").exists():
        pytest.fail("no built book in _build/html: run `make check-html` (it builds the book first)")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _find_browser(), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("headless Chromium is needed: `apt-get install chromium chromium-driver` "
                    "(make check-html does this when run as root)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--disable-background-networking", "--no-first-run"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def _open(browser, url):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop messages of the previous page
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _typeset_count(browser, n_math, timeout=30):
    """Wait (up to ``timeout`` s) for MathJax to typeset ``n_math`` formulas; return how many it did."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    script = "return document.querySelectorAll('.math mjx-container').length"
    try:
        WebDriverWait(browser, timeout).until(lambda d: d.execute_script(script) >= n_math)
    except TimeoutException:
        pass
    return browser.execute_script(script)


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly(site, browser, page):
    _open(browser, f"{site}/{page}.html")
    assert browser.title and "404" not in browser.title
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"console errors on {page}: {errors}"
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.getAttribute('src'))")
    assert not broken, f"images that did not load on {page}: {broken}"
    n_math = browser.execute_script("return document.querySelectorAll('.math').length")
    if n_math:
        typeset = _typeset_count(browser, n_math)
        assert typeset == n_math, f"{page}: MathJax typeset {typeset} of {n_math} formulas"
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{page.replace('/', '__')}.png"))


FIGURE_SCALES = """
return Array.from(document.querySelectorAll('main img'))
  .filter(i => i.naturalWidth > 0 && i.offsetParent !== null)
  .map(i => [i.getAttribute('src'), i.clientWidth / i.naturalWidth]);
"""
SCROLLING_CODE = """
return Array.from(document.querySelectorAll('main .cell_input pre, main div.highlight pre'))
  .filter(p => p.offsetParent !== null && !p.closest('.cell_output'))
  .filter(p => p.scrollWidth > p.clientWidth + 1)
  .map(p => p.textContent.split('\\n').find(l => l.length > 79) || p.textContent.slice(0, 80));
"""
OVERFLOW = """
const w = window.innerWidth;
const scrolls = el => { for (let e = el.parentElement; e; e = e.parentElement) {
  const o = getComputedStyle(e).overflowX; if (o === 'auto' || o === 'scroll') return true; }
  return false; };
return Array.from(document.querySelectorAll('main img, main table, main figure'))
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > w + 1 && !scrolls(e))
  .map(e => e.tagName + ' ' + (e.getAttribute('src') || e.className));
"""


@pytest.mark.parametrize("page", PAGES)
def test_desktop_figures_unscaled_and_code_fits(site, browser, page):
    """At 1280 px: no figure shown below 0.9 of its pixel width, no code cell scrolls sideways."""
    browser.set_window_size(1280, 900)
    _open(browser, f"{site}/{page}.html")
    small = [(src, round(r, 2)) for src, r in browser.execute_script(FIGURE_SCALES) if r < 0.9]
    assert not small, f"{page}: figures shrunk below 0.9 of their width: {small}"
    scrolling = browser.execute_script(SCROLLING_CODE)
    assert not scrolling, f"{page}: code cells that scroll sideways, e.g. {scrolling[:3]}"


@pytest.mark.parametrize("page", PAGES)
def test_phone_view_has_no_overflow(site, browser, page):
    """At 390 px (a phone): no figure or table sticks out of the page (scroll boxes are fine)."""
    browser.set_window_size(390, 844)
    try:
        _open(browser, f"{site}/{page}.html")
        out = browser.execute_script(OVERFLOW)
        page_width, view_width = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SHOTS / f"phone__{page.replace('/', '__')}.png"))
    finally:
        browser.set_window_size(1280, 900)
    assert not out, f"{page}: wider than a phone screen: {out}"
    assert page_width <= view_width + 1, f"{page}: the page scrolls sideways ({page_width} > {view_width} px)"


def test_some_page_has_math_and_figures():
    # keeps the checks above honest: the book does contain math and figures
    theory = (HTML / "notebooks" / "02_theory.html").read_text()
    assert 'class="math' in theory
    assert re.search(r'<img[^>]+src="[^"]+\.png"', theory)


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("notebooks/")])
def test_chapter_has_download_and_launch_buttons(page):
    text = (HTML / f"{page}.html").read_text()
    name = page.split("/")[-1]
    assert f"_sources/{page}.ipynb" in text, f"{page}: no .ipynb download link"
    assert "mybinder.org" in text and "colab.research.google.com" in text, f"{page}: launch buttons missing"
    assert f"{name}.ipynb" in text


def test_search_finds_spatialdropout2d(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{site}/search.html?q=SpatialDropout2D")
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(
        "return document.querySelectorAll('#search-results li, ul.search li').length > 0"))
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a, ul.search li a'))"
        ".map(a => a.textContent)")
    assert any("Keras" in t or "API" in t for t in titles), titles


_HREF = re.compile(r'<a\s[^>]*href="([^"]+)"')
_ID = re.compile(r'\sid="([^"]+)"')


@functools.cache
def _ids(path: Path) -> frozenset:
    return frozenset(_ID.findall(path.read_text(errors="replace")))


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(page):
    source = HTML / f"{page}.html"
    problems = []
    for href in _HREF.findall(source.read_text(errors="replace")):
        parsed = urllib.parse.urlparse(href)
        if parsed.scheme or href.startswith(("mailto:", "javascript:", "//")):
            continue
        target = source if not parsed.path else (source.parent / urllib.parse.unquote(parsed.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"{href}: no file {target.relative_to(HTML) if HTML in target.parents else target}")
            continue
        if parsed.fragment and target.suffix == ".html" and parsed.fragment not in _ids(target):
            problems.append(f"{href}: no anchor #{parsed.fragment}")
    assert not problems, f"broken internal links on {page}:\n" + "\n".join(problems)


CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]


@pytest.mark.parametrize("page", CHAPTERS)
def test_solutions_are_hidden_until_opened(site, browser, page):
    """Each chapter's exercises render as numbered exercises; every solution is
    collapsed when the page opens and shows its code (and output) when clicked."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{site}/{page}.html")
    exercises = browser.find_elements(By.CSS_SELECTOR, "div.exercise")
    solutions = browser.find_elements(By.CSS_SELECTOR, "div.solution.dropdown")
    assert 2 <= len(exercises) <= 4 and len(solutions) == len(exercises)
    for ex in exercises:
        assert re.match(r"Exercise \d+\.\d+", ex.find_element(By.CSS_SELECTOR, ".admonition-title").text)
    first = solutions[0]
    code = first.find_elements(By.CSS_SELECTOR, "div.cell_input")
    assert code and not any(c.is_displayed() for c in code), "solution visible before it is opened"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", first)
    # a reader clicks the title; its centre can be the link to the exercise, so
    # the click goes to the title element itself
    browser.execute_script("arguments[0].click();",
                           first.find_element(By.CSS_SELECTOR, ".admonition-title"))
    WebDriverWait(browser, 10).until(lambda b: code[0].is_displayed())
    SHOTS.mkdir(parents=True, exist_ok=True)
    first.screenshot(str(SHOTS / f"solution__{page.replace('/', '__')}.png"))
