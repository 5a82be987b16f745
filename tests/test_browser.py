"""The report as a reader sees it: ``reports/report.html`` opened in a real browser.

Headless Chromium (Debian's package, ``/usr/bin/chromium``, installed by ``make browser``,
which ``make test`` runs first) driven by Playwright for Python opens the report of a
project built by ``rss run`` with every notebook (``full_project``) at a 1,280 px wide
window, and :func:`check_report` lists what a reader would hit: a broken image (or a
figure of ``reports/figures/`` with no image in the report), an error in the console or
a script error, an in-page link (``href="#id"``) to an id that does not exist, a table
header cell with no text, a page wider than 1,400 px.  A full-page screenshot goes to
the test build's ``reports/screenshots/report.png`` and is copied to this checkout's
``reports/screenshots/report.png`` for a reviewer.  The planted-fault cases show that
the check bites: a copy of the same report with one fault planted fails with it.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from full_project import REPO, full_project  # noqa: F401 (full_project: the session fixture)

CHROMIUM = Path("/usr/bin/chromium")
#: Flags known to work here: the network is closed, and without the background-networking ones
#: Chromium waits on refused connections.  Playwright adds a fresh --user-data-dir (the profile below).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
MAX_WIDTH = 1400
SCREENSHOT = Path("reports") / "screenshots" / "report.png"

# What the page shows once loaded; figures: the stems whose <figure id="figure-STEM"> must hold an image.
_FACTS = """(figures) => {
  const where = el => {
    const fig = el.closest('figure[id]');
    if (fig) return '#' + fig.id;
    for (let e = el; e; e = e.previousElementSibling || e.parentElement) {
      if (e !== el && e.id) return 'after #' + e.id;
    }
    return '(no id near it)';
  };
  const loaded = img => img.complete && img.naturalWidth > 0;
  const target = id => document.getElementById(id) || document.getElementsByName(id).length > 0;
  return {
    images: document.images.length,
    broken: [...document.images].filter(img => !loaded(img)).map(img =>
      where(img) + ' (src ' + (img.getAttribute('src') || '').slice(0, 40) + ')'),
    missing_figures: figures.filter(stem => {  // a figure left out, or its image element (loading: above)
      const fig = document.getElementById('figure-' + stem);
      return !fig || fig.querySelector('img') === null;
    }),
    links: document.querySelectorAll('a[href^="#"]').length,
    dead_links: [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'))
      .filter(href => {
        const id = decodeURIComponent(href.slice(1));
        return id !== '' && id.toLowerCase() !== 'top' && !target(id);  // "#" and "#top": the top (HTML spec)
      }),
    headers: document.querySelectorAll('th').length,
    empty_headers: [...document.querySelectorAll('th')].filter(th => th.textContent.trim() === '').map(th =>
      where(th.closest('table')) + ' column ' + (th.cellIndex + 1)),
    width: Math.max(document.documentElement.scrollWidth, document.body ? document.body.scrollWidth : 0),
  };
}"""


def check_report(context, html: Path, *, figures: Iterable[str] = (), screenshot: Path | None = None,
                 facts: dict | None = None) -> list[str]:
    """Open ``html`` in a new page of ``context`` (a Playwright browser context) and list what is wrong.

    Empty when nothing is.  ``figures``: stems that must each show a loaded image in
    ``<figure id="figure-STEM">`` (every image must have loaded, these and any other).  ``screenshot``: where to save a full-page PNG.
    ``facts``, if given, receives the counts behind the verdict (images, links, headers, width).
    """
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console error: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"script error: {exc}"))
    try:
        page.goto(html.resolve().as_uri(), wait_until="load")
        got = page.evaluate(_FACTS, sorted(figures))
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    if facts is not None:
        facts.update(got)
    return [*errors,
            *(f"broken image: {b}" for b in got["broken"]),
            *(f"figure {s}: no image in the report (no <img> in #figure-{s})" for s in got["missing_figures"]),
            *(f"in-page link {h}: no element with that id" for h in got["dead_links"]),
            *(f"empty table header: {h}" for h in got["empty_headers"]),
            *([f"page {got['width']} px wide at a {VIEWPORT['width']} px window (at most {MAX_WIDTH})"]
              if got["width"] > MAX_WIDTH else [])]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A Chromium browser context with a fresh profile, a 1,280 px wide window."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs it (`make test` does so first)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=FLAGS, viewport=VIEWPORT, offline=True)
        try:
            yield context
        finally:
            context.close()


def figure_stems(root: Path) -> set[str]:
    return {p.stem for p in (root / "reports" / "figures").iterdir() if p.suffix in (".png", ".svg")}


def test_the_report_shows_every_image_link_and_header_and_fits_the_window(full_project, browser):  # noqa: F811
    shot = full_project / SCREENSHOT
    facts: dict = {}
    problems = check_report(browser, full_project / "reports" / "report.html", figures=figure_stems(full_project),
                            screenshot=shot, facts=facts)
    assert problems == []
    # the check looked at something: every figure of the build, the contents' links, tables
    assert facts["images"] >= len(figure_stems(full_project)) >= 30
    assert facts["links"] >= 10 and facts["headers"] >= 50
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a reviewer finds it in this checkout's reports/ after `make test` (the test build is in a temporary folder)
    _keep(shot, SCREENSHOT.name)


def _keep(shot: Path, name: str) -> None:
    """Copy a screenshot of the test build into this checkout's reports/screenshots/ (atomically)."""
    keep = REPO / "reports" / "screenshots" / name
    keep.parent.mkdir(parents=True, exist_ok=True)
    tmp = keep.with_name(f".{keep.name}.{os.getpid()}.tmp")
    shutil.copyfile(shot, tmp)
    os.replace(tmp, keep)


def test_the_french_report_passes_the_same_check_and_reads_in_french(full_project, browser):  # noqa: F811
    """report.fr.html (the full project is built with --lang fr): same check; screenshots of its summary and a
    country page are kept in reports/screenshots/ (report_fr_summary.png, report_fr_country_SEN.png)."""
    html = full_project / "reports" / "report.fr.html"
    facts: dict = {}
    assert check_report(browser, html, figures=figure_stems(full_project), facts=facts) == []
    assert facts["images"] >= len(figure_stems(full_project)) and facts["headers"] >= 50
    page = browser.new_page()
    try:
        page.goto(html.resolve().as_uri(), wait_until="load")
        assert page.evaluate("document.documentElement.lang") == "fr"
        assert page.inner_text("#summary h2") == "Synthèse"
        assert "Sénégal (SEN)" in page.inner_text("#country-SEN")
        for element, name in (("#summary", "report_fr_summary.png"), ("#country-SEN", "report_fr_country_SEN.png")):
            shot = full_project.parent / name
            page.locator(element).screenshot(path=str(shot))
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            _keep(shot, name)
    finally:
        page.close()


def _first(pattern: str, repl: str | Callable) -> Callable[[str], str]:
    def plant(html: str) -> str:
        out, n = re.subn(pattern, repl, html, count=1, flags=re.S)
        assert n == 1, f"nothing to plant the fault in: {pattern}"
        return out

    return plant


def _before_body_end(snippet: str) -> Callable[[str], str]:
    return _first(r"</body>", lambda m: snippet + m.group(0))


#: One fault each, planted in a copy of the real report: (how, what the checker must say).
FAULTS = {
    "image data removed": (_first(r'(<img src="data:image/png;base64,)[^"]+"', r'\1"'),
                           r"^broken image: #figure-\S+ \(src data:image/png;base64,\)$"),
    "image file missing": (_first(r'<img src="data:[^"]+"', '<img src="figures/no-such-figure.png"'),
                           r"^broken image: #figure-\S+ \(src figures/no-such-figure.png\)$"),
    "image removed": (_first(r'(<figure id="figure-[^"]+">)<img [^>]*>', r"\1"),
                      r"^figure \S+: no image in the report \(no <img> in #figure-\S+\)$"),
    "dead in-page link": (_first(r'href="#country-[A-Z]{3}"', 'href="#country-XXX"'),
                          r"^in-page link #country-XXX: no element with that id$"),
    "empty table header": (_first(r"<th>[^<]+</th>", "<th> </th>"),
                           r"^empty table header: .+ column \d+$"),
    "console error": (_before_body_end('<script>console.error("planted fault")</script>'),
                      r"^console error: planted fault$"),
    "script error": (_before_body_end('<script>null.planted()</script>'),
                     r"^script error: .*null"),
    "page too wide": (_before_body_end('<div style="width:1500px">wide</div>'),
                      r"^page \d+ px wide at a 1280 px window \(at most 1400\)$"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_the_check_fails_on_a_report_with_one_planted_fault(full_project, browser, tmp_path, fault):  # noqa: F811
    plant, expected = FAULTS[fault]
    copy = tmp_path / "report.html"
    copy.write_text(plant((full_project / "reports" / "report.html").read_text()))
    problems = check_report(browser, copy, figures=figure_stems(full_project))
    print(f"{fault}: the checker reports {problems}")
    assert any(re.search(expected, p) for p in problems), problems
    if fault != "image file missing":  # a missing file is also a console error (Failed to load resource)
        assert len(problems) == 1, problems
