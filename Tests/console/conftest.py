"""Fixtures for the console's browser tests.

Session-wide: a fresh PostgreSQL database cloned from the migrated template
(TEST_DATABASE_URL + TEST_TEMPLATE_DATABASE), seeded with `partner-center seed-demo`; the
real server (PARTNER_CENTER_BIN) on a free loopback port serving the console from the source
folder; one headless Chromium through chromedriver. Each is torn down on every path.
Per test: a clean tab (no sessionStorage), a screenshot on failure, and a check that the
browser logged no Content-Security-Policy violation and no uncaught script error.

Nothing here skips: a missing browser, driver, binary or database is an error.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from support import Api, Console, World, parse_seed_output

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_DIR = ROOT / "Sources" / "PartnerAPI" / "Resources" / "console"
OUTPUT = ROOT / "test-output" / "console"


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"{name} is not set (Scripts/console-test documents what it needs)")
    return value


def url_with_db(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def find_psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)
    if candidates:
        return candidates[0]
    raise RuntimeError("psql not found (install postgresql-client)")


def psql(admin_url: str, sql: str) -> None:
    result = subprocess.run([find_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", sql],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({result.returncode}): {sql}\n{result.stderr}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- teardown on every path ------------------------------------------------------------


def _terminate(signum, _frame):
    # A CI timeout sends SIGTERM: turn it into an interrupt so that pytest still runs the
    # fixtures' teardown (server stopped, browser quit, database dropped).
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _terminate)


def _die_with_parent():
    """In the server's child process: get SIGTERM if the test process itself is killed."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


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
def database_url():
    """A fresh database cloned from the migrated template; dropped afterwards."""
    admin_url = required_env("TEST_DATABASE_URL")
    template = required_env("TEST_TEMPLATE_DATABASE")
    name = f"pc_test_console_{uuid.uuid4().hex[:12]}"
    psql(admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield url_with_db(admin_url, name)
    finally:
        psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def seeded(server_binary, database_url, output_dir):
    """Runs `partner-center seed-demo --json` and returns its principals by role."""
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run([server_binary, "seed-demo", "--json"], env=env, capture_output=True, text=True, timeout=120)
    (output_dir / "seed-demo.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"seed-demo failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return parse_seed_output(result.stdout)


def _wait_ready(base_url: str, process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(base_url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(server_binary, database_url, seeded, output_dir):
    """The real server on a free loopback port, serving the console from the source folder."""
    env = {**os.environ, "DATABASE_URL": database_url}
    log_path = output_dir / "server.log"
    last_error = ""
    for _attempt in range(3):  # a free port can be taken between choosing and binding
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = open(log_path, "ab")
        process = subprocess.Popen(
            [server_binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--environment", "test",
             "--verification-code-delivery", "response", "--console-dir", str(CONSOLE_DIR)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        try:
            if _wait_ready(base_url, process, timeout=60):
                yield base_url
                return
            last_error = f"exit status {process.poll()}" if process.poll() is not None else "not ready after 60 s"
        finally:
            _stop(process)
            log.close()
    tail = log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""
    raise RuntimeError(f"the server did not start ({last_error}); log tail:\n{tail}")


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
