"""One real browser (headless Debian Chromium via Selenium): search, open a report, screenshot,
and prove the crawled <script> fixture inert."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        pytest.fail("CI must have chromium and chromium-driver (.ci/run installs them)",
                    pytrace=False)
    pytest.skip("Debian chromium/chromium-driver not installed (apt-get install chromium "
                "chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def datasette_url(crawled_archive: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "datasette"), "serve", str(crawled_archive), "-m",
         str(REPO / "datasette/metadata.yml"), "--plugins-dir", str(REPO / "datasette/plugins"),
         "--template-dir", str(REPO / "datasette/templates"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_search_open_report_and_screenshot(datasette_url: str, browser, tmp_path: Path) -> None:
    browser.get(datasette_url + "/archive/reports")
    box = browser.find_element(By.ID, "_search")
    box.send_keys("复议", Keys.ENTER)
    time.sleep(0.5)
    assert "_search=" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table.reader tbody tr")
    assert rows, browser.page_source[:2000]
    link = browser.find_element(By.CSS_SELECTOR, "table.reader tbody tr td a")
    link.click()
    time.sleep(0.5)
    heading = browser.find_element(By.CSS_SELECTOR, "article.report h1").text
    assert "法治政府建设" in heading
    paragraphs = browser.find_elements(By.CSS_SELECTOR, "section.report-body p")
    assert len(paragraphs) > 5
    shot = Path(os.environ.get("SCREENSHOT_DIR", tmp_path)) / "report-page.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_crawled_script_fixture_is_inert(datasette_url: str, browser) -> None:
    browser.get(datasette_url + "/archive/reports?_search=XSS-FIXTURE")
    time.sleep(0.3)
    link = browser.find_element(By.CSS_SELECTOR, "table.reader tbody tr td a")
    link.click()
    time.sleep(0.5)
    body_text = browser.find_element(By.CSS_SELECTOR, "section.report-body").text
    assert "<script>document.title='XSS-FIXTURE'" in body_text  # shown as text
    assert browser.title != "XSS-FIXTURE"
    assert browser.execute_script("return document.body.dataset.xss || null") is None


PAGES = {  # name -> path on the crawled sample archive
    "home": "/",
    "reports": "/archive/reports",
    "search": "/archive/reports?_search=复议",
    "downloads": "/-/downloads/archive",
    "ledger": "/-/ledger/archive",
}


@pytest.mark.parametrize("width", [1400, 390])
def test_reader_pages_at_desktop_and_phone_width(datasette_url: str, browser, tmp_path: Path,
                                                 width: int) -> None:
    """Screenshots of what a researcher sees, and the checks a reader needs: the archived copy
    linked first, titles readable (not wrapped to a few characters a line), Chinese labels, no
    raw JSON in default views."""
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    browser.set_window_size(width, 1000)
    pages = dict(PAGES)
    browser.get(datasette_url + PAGES["reports"])
    first = browser.find_element(By.CSS_SELECTOR, "table.reader tbody tr td.title a")
    pages["report"] = first.get_attribute("href").removeprefix(datasette_url)
    for name, path in pages.items():
        browser.get(datasette_url + path)
        time.sleep(0.3)
        browser.save_screenshot(str(shots / f"{name}-{width}.png"))
        text = browser.find_element(By.TAG_NAME, "body").text
        assert '{"' not in text, name  # no raw JSON on any default view
        if name in ("reports", "search"):
            rows = browser.find_elements(By.CSS_SELECTOR, "table.reader tbody tr")
            assert rows, name
            labels = browser.find_elements(By.CSS_SELECTOR, "table.reader th")
            assert labels[0].get_attribute("textContent").strip().startswith("标题")
            for row in rows:
                link = row.find_element(By.TAG_NAME, "a")
                assert "/archive/reports/" in link.get_attribute("href")  # archived copy first
                title = row.find_element(By.CSS_SELECTOR, "td.title a")
                # Readable: a title gets at least ~12 characters a line, so 2 lines at most
                # for these 20–35 character titles.
                cell = row.find_element(By.CSS_SELECTOR, "td.title")
                assert cell.size["width"] >= min(250, width - 60), (name, cell.size)
                line = float(browser.execute_script(
                    "return parseFloat(getComputedStyle(arguments[0]).lineHeight)", title))
                assert title.size["height"] <= 3.2 * line, (name, title.text, title.size)
            if name == "search":
                marks = browser.find_elements(By.CSS_SELECTOR, "table.reader p.snippet mark")
                assert marks and marks[0].text == "复议"
        if name == "home":
            assert "收录" in text and "台账" in text and "下载" in text
        if name == "report":
            assert "引用 · Cite this report" in text and "GB/T 7714" in text
            frame = browser.find_element(By.CSS_SELECTOR, ".report-capture iframe")
            assert frame.get_attribute("sandbox") == ""
            assert frame.size["height"] > 200 and frame.size["width"] >= min(300, width - 60)
        if name == "ledger":
            assert "台账" in text or "按时" in text
        if name == "downloads":
            assert "数据字典 · Data dictionary" in text
            assert browser.find_elements(By.CSS_SELECTOR, "a.download")
    for name in pages:
        assert (shots / f"{name}-{width}.png").stat().st_size > 5_000
