"""A PNG of one element of a built report (e.g. ``table-prepare_exclusions_by_country``), for a
reviewer: headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright, which never
downloads a browser of its own here (Playwright is a development dependency).

    python -m helpers.report.shot reports/report.html table-prepare_exclusions_by_country OUT.png

Imports: no other helpers module.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
#: As tests/test_browser.py: the network is closed, so no background networking.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def element_png(html: Path, element_id: str, png: Path, *, width: int = 1280, chromium: Path = CHROMIUM) -> Path:
    """Save a PNG of the element ``#element_id`` of the page ``html``; ``LookupError`` when there is none."""
    import tempfile

    from playwright.sync_api import sync_playwright

    if not chromium.is_file():
        raise FileNotFoundError(f"{chromium} is missing: `make browser` installs it")
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rss-shot-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=str(chromium), headless=True,
                                                        args=FLAGS, viewport={"width": width, "height": 900},
                                                        offline=True)
        try:
            page = context.new_page()
            page.goto(Path(html).resolve().as_uri(), wait_until="load")
            element = page.query_selector(f"[id='{element_id}']")
            if element is None:
                raise LookupError(f"{html}: no element with id {element_id!r}")
            element.screenshot(path=str(png))
        finally:
            context.close()
    return png


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m helpers.report.shot REPORT.html ELEMENT_ID OUT.png", file=sys.stderr)
        return 2
    try:
        print(element_png(Path(args[0]), args[1], Path(args[2])))
    except (LookupError, FileNotFoundError) as exc:
        print(f"shot: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
