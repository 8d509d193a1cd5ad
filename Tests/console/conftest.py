"""Fixtures for the console's browser tests.

Session-wide: the server Scripts/console-test started (CONSOLE_URL) on the fresh database it
cloned and seeded (CONSOLE_DATABASE_URL, with `seed-demo --json` in CONSOLE_SEED), started
as the bench and the drills start theirs (Scripts/lib/server.sh); the binary (PARTNER_CENTER_BIN)
for the batch commands; one headless Chromium through chromedriver, quit on every path.
Per test: a clean tab (no sessionStorage), a screenshot on failure, and a check that the
browser logged no Content-Security-Policy violation and no uncaught script error.

Nothing here skips: a missing browser, driver, binary or database is an error.
"""

from __future__ import annotations

import os
import shutil
import signal
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from support import Api, Console, World, parse_seed_output

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "console"


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"{name} is not set (Scripts/console-test documents what it needs)")
    return value


# --- teardown on every path ------------------------------------------------------------


def _terminate(signum, _frame):
    # A CI timeout sends SIGTERM: turn it into an interrupt so that pytest still runs the
    # fixtures' teardown (the browser quit); Scripts/console-test stops the server and drops
    # the database.
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _terminate)


# --- reporting: remember each phase's outcome; a skip counts as a failure ----------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"this suite never skips, but {item.nodeid} was skipped: {report.longrepr}"
    setattr(item, f"rep_{report.when}", report)


# --- session fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def server_binary() -> str:
    binary = required_env("PARTNER_CENTER_BIN")
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise RuntimeError(f"PARTNER_CENTER_BIN={binary} is not an executable file")
    return binary


@pytest.fixture(scope="session")
def database_url() -> str:
    """The session's database: cloned from the template and seeded by Scripts/console-test,
    which drops it afterwards."""
    return required_env("CONSOLE_DATABASE_URL")


@pytest.fixture(scope="session")
def seeded() -> dict:
    """The principals of the seed (`partner-center seed-demo --json`), by role."""
    return parse_seed_output(Path(required_env("CONSOLE_SEED")).read_text())


@pytest.fixture(scope="session")
def server() -> str:
    """The real server, serving the console from the source folder; it must answer now."""
    base_url = required_env("CONSOLE_URL").rstrip("/")
    with urllib.request.urlopen(base_url + "/readyz", timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{base_url}/readyz answered {response.status}")
    return base_url


@pytest.fixture(scope="session")
def world(server, seeded) -> World:
    return World(
        api=Api(server),
        operator=seeded["operator"],
        distributor=seeded["distributor"],
        partner=seeded["partner"],
        partner_without_permission=seeded["partner-without-permission"],
        customer=seeded["customer"],
    )


@pytest.fixture(scope="session")
def driver(output_dir):
    """Headless Chromium through chromedriver (the Debian packages)."""
    chromium = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver")
    if not chromium or not chromedriver:
        raise RuntimeError(f"chromium ({chromium}) or chromedriver ({chromedriver}) not found; "
                           "install the Debian packages chromium and chromium-driver")
    for path in (chromium, chromedriver):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise RuntimeError(f"{path} is not an executable file")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1440,1000", "--lang=en-US", "--disable-extensions",
                     "--no-first-run", "--no-default-browser-check", "--password-store=basic"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=chromedriver, log_output=str(output_dir / "chromedriver.log"))
    browser = webdriver.Chrome(options=options, service=service)
    try:
        browser.set_page_load_timeout(30)
        yield browser
    finally:
        browser.quit()


# --- per test ------------------------------------------------------------------------------


def _browser_problems(entries: list[dict]) -> list[str]:
    """CSP violations and uncaught script errors; failed requests (4xx answers the tests
    provoke on purpose) are not problems."""
    problems = []
    for entry in entries:
        message = entry.get("message", "")
        if entry.get("source") == "network" or "Failed to load resource" in message:
            continue
        if ("Content Security Policy" in message or "Uncaught" in message
                or (entry.get("level") == "SEVERE" and entry.get("source") == "javascript")):
            problems.append(message)
    return problems


@pytest.fixture
def console(request, driver, server, output_dir):
    """The console in a clean tab; screenshots on failure; fails on CSP or script errors."""
    name = request.node.name.replace("test_", "", 1)
    page = Console(driver, server, output_dir, name)
    driver.get(f"{server}/console")
    driver.execute_script("sessionStorage.clear()")
    driver.get_log("browser")  # drop what earlier tests left
    driver.get(f"{server}/console")
    yield page
    failed = any(getattr(request.node, f"rep_{phase}", None) is not None
                 and getattr(request.node, f"rep_{phase}").failed for phase in ("setup", "call"))
    if failed:
        try:
            driver.save_screenshot(str(output_dir / f"FAILED-{name}.png"))
            (output_dir / f"FAILED-{name}.html").write_text(driver.page_source)
        except Exception as error:  # a dead browser must not hide the real failure
            print(f"could not save the failure screenshot: {error}")
    try:
        alert = driver.switch_to.alert
        alert.dismiss()
        raise AssertionError("an alert was left open: the page ran injected script")
    except AssertionError:
        raise
    except Exception:
        pass
    problems = _browser_problems(driver.get_log("browser"))
    if problems:
        (output_dir / f"{name}.browser.log").write_text("\n".join(problems) + "\n")
    if problems and not failed:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems))
