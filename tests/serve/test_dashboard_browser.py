"""The dashboard end to end in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium): sign in, create a fast sim campaign, upload seed
000's list and paste two rows from "Excel", start it and watch the counters move to the end.

Set ``AUTOINFORMER_SCREENSHOTS=DIR`` to keep the screenshots (``docs/serve.md`` shows them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.serve.conftest import (
    SEED_000_LIST,
    TOKEN,
    campaign_toml,
    create_with_list,
    free_port,
    server,
)

webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (the dev extra)")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1700",
)
RUN_SECONDS = 120

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
        reason="needs Debian's chromium and chromium-driver: apt-get install chromium "
        "chromium-driver",
    ),
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    keep = os.environ.get("AUTOINFORMER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def test_a_person_runs_a_campaign_from_the_dashboard(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(seconds: float = 20) -> Any:
        return WebDriverWait(browser, seconds)

    def text(element_id: str) -> str:
        return str(browser.find_element(By.ID, element_id).text)

    port = free_port()
    listed = tmp_path / "seed000.csv"
    listed.write_text(SEED_000_LIST, encoding="utf-8")
    with server(tmp_path / "serve.sqlite", port):
        browser.get(f"http://127.0.0.1:{port}/")
        # the API wants the token: the dashboard asks for it
        wait().until(ec.visibility_of_element_located((By.ID, "token"))).send_keys("wrong")
        browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait().until(ec.text_to_be_present_in_element((By.ID, "login-error"), "not the server"))
        field = browser.find_element(By.ID, "token")
        field.clear()
        field.send_keys(TOKEN)
        browser.find_element(By.CSS_SELECTOR, "#login-form button").click()

        # a campaign file with a mistake: the error names its key; then the right one
        area = wait().until(ec.visibility_of_element_located((By.ID, "campaign-text")))
        area.clear()
        area.send_keys(campaign_toml(speed=40).replace('"09:00-20:00"', '"9 to 8"'))
        browser.find_element(By.ID, "create").click()
        wait().until(
            ec.text_to_be_present_in_element((By.ID, "create-error"), "campaign.window.hours")
        )
        area.clear()
        area.send_keys(campaign_toml(speed=40))
        browser.find_element(By.ID, "create").click()
        wait().until(ec.text_to_be_present_in_element((By.ID, "c-state"), "draft"))
        assert text("c-name") == "HOA debt"

        # seed 000's list as a file: the report shows the refused row, row by row
        browser.find_element(By.ID, "list-file").send_keys(str(listed))
        browser.find_element(By.ID, "upload-file").click()
        wait().until(ec.text_to_be_present_in_element((By.ID, "report-summary"), "4 rows"))
        assert "3 valid, 1 invalid" in text("report-summary")
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#report-rows td")]
        assert cells[:3] == ["2", "PHONE_NUMBER", "17605632123"]
        shoot(browser, tmp_path, "serve-upload-report")
        # two more rows pasted from a spreadsheet (tab-separated; a typed Tab would move the
        # focus, so the rows go in as a paste does, all at once)
        pasted = "phone\tname\tBALANCE\n+7 495 111 22 33\tOlga\t-70\n+7 495 111 22 34\tPavel\t-80"
        box = browser.find_element(By.ID, "paste")
        browser.execute_script("arguments[0].value = arguments[1]", box, pasted)
        browser.find_element(By.ID, "upload-paste").click()
        wait().until(ec.text_to_be_present_in_element((By.ID, "report-summary"), "2 added"))
        wait().until(ec.text_to_be_present_in_element((By.ID, "c-pending"), "5"))

        # start: the counters move, live, to the end
        browser.find_element(By.ID, "btn-start").click()
        seen: set[str] = set()
        shot: list[str] = []

        def finished(driver: Any) -> bool:
            attempts = text("c-attempts")
            if attempts not in ("0", "1") and not shot and "running" in text("c-state"):
                shoot(browser, tmp_path, "serve-campaign-running")
                shot.append(attempts)
            seen.add(attempts)
            return "finished" in text("c-state")

        WebDriverWait(browser, RUN_SECONDS, poll_frequency=0.05).until(finished)
        assert text("c-attempts") == "5"
        assert text("c-done") == "5"
        assert text("c-pending") == "0"
        assert len(seen) >= 3, f"the counters jumped straight to the end: {sorted(seen)}"
        bars = browser.find_elements(By.CSS_SELECTOR, "#chart-outcomes rect")
        assert bars, "the outcome chart is drawn"
        assert browser.find_elements(By.CSS_SELECTOR, "#chart-hours rect")
        assert browser.find_element(By.ID, "btn-start").is_enabled()
        assert not browser.find_element(By.ID, "btn-stop").is_enabled()
        shoot(browser, tmp_path, "serve-campaign-finished")

        browser.get(f"http://127.0.0.1:{port}/#/")
        wait().until(ec.text_to_be_present_in_element((By.ID, "campaign-rows"), "HOA debt"))
        row = browser.find_element(By.CSS_SELECTOR, "#campaign-rows tr").text
        assert "finished" in row
        assert "5 / 5" in row
        shoot(browser, tmp_path, "serve-campaigns")


def test_a_list_pasted_into_a_finished_campaign_moves_the_counters_when_it_runs_again(
    browser: Any, tmp_path: Path
) -> None:
    """The page of a finished campaign has heard its stream's ``end``; the campaign is fed a
    pasted list and started again (by another person, or a script over the API, then with
    the page's own button): the counters follow each run to its end."""
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(seconds: float = 20) -> Any:
        return WebDriverWait(browser, seconds)

    def text(element_id: str) -> str:
        return str(browser.find_element(By.ID, element_id).text)

    def paste(first: int) -> None:
        rows = [f"+7 495 222 00 {first + i:02d}\tRow {first + i}\t-{first + i}" for i in (0, 1)]
        box = browser.find_element(By.ID, "paste")
        pasted = "\n".join(["phone\tname\tBALANCE", *rows])
        browser.execute_script("arguments[0].value = arguments[1]", box, pasted)
        browser.find_element(By.ID, "upload-paste").click()
        wait().until(ec.text_to_be_present_in_element((By.ID, "report-summary"), "2 added"))
        wait().until(ec.text_to_be_present_in_element((By.ID, "c-pending"), "2"))

    def runs_to(attempts: str) -> None:
        wait(30).until(lambda _: text("c-attempts") == attempts and text("c-state") == "finished")
        assert text("c-done") == attempts
        assert text("c-pending") == "0"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        server(tmp_path / "serve.sqlite", port),
        httpx.Client(base_url=base, headers=headers, timeout=60) as api,
    ):
        campaign_id = create_with_list(base, 3, speed=200)
        assert api.post(f"/api/campaigns/{campaign_id}/start").json()["state"] == "running"
        api.get(f"/api/campaigns/{campaign_id}/events")  # read to its end: finished
        browser.get(f"{base}/")
        wait().until(ec.visibility_of_element_located((By.ID, "token"))).send_keys(TOKEN)
        browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait().until(ec.visibility_of_element_located((By.ID, "campaign-text")))
        browser.get(f"{base}/#/c/{campaign_id}")
        runs_to("3")  # the page's stream has ended with the campaign

        paste(10)
        started = api.post(f"/api/campaigns/{campaign_id}/start")  # not from this page
        assert started.json()["state"] == "running"
        runs_to("5")

        paste(20)
        browser.find_element(By.ID, "btn-start").click()
        runs_to("7")
