"""Helpers for the console tests: a small API client for arranging data, and a page object
that drives the console in the browser (sign in, rows, the operation dialog, screenshots)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_SECONDS = 15
XSS_NAME = "<img src=x onerror=alert(1)>"


# --- the API, for arranging and checking state -------------------------------------------


class ApiFailure(AssertionError):
    def __init__(self, method: str, path: str, status: int, body: object):
        super().__init__(f"{method} {path} answered {status}: {body}")
        self.status = status
        self.body = body


class Api:
    """A JSON client for the server under test (urllib only)."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def call(self, token: str | None, method: str, path: str, body: object = None,
             expect: tuple[int, ...] = (200, 201, 202)) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        payload = json.loads(raw) if raw else {}
        if status not in expect:
            raise ApiFailure(method, path, status, payload)
        return payload


@dataclass
class Principal:
    kind: str
    id: str
    name: str
    token: str


@dataclass
class World:
    """The seeded demo world plus builders for fresh, isolated tenants per test."""

    api: Api
    operator: Principal
    distributor: Principal
    partner: Principal
    partner_without_permission: Principal
    customer: Principal
    created: list = field(default_factory=list)

    # builders (through the operator, as provisioning is the operator's job)
    def new_distributor(self, name: str | None = None, retention_seconds: int | None = None) -> Principal:
        body: dict = {"name": name or f"Distributor {uuid.uuid4().hex[:6]}"}
        if retention_seconds is not None:
            body["retention_seconds"] = retention_seconds
        created = self.api.call(self.operator.token, "POST", "/v1/distributors", body)
        return Principal("distributor", created["id"].lower(), body["name"], self.key("distributor", created["id"]))

    def new_partner(self, granted: bool = True, distributor: Principal | None = None, name: str | None = None) -> Principal:
        distributor = distributor or self.distributor
        name = name or f"Partner {uuid.uuid4().hex[:6]}"
        created = self.api.call(self.operator.token, "POST", "/v1/partners",
                                {"distributor_id": distributor.id, "name": name})
        partner = Principal("partner", created["id"].lower(), name, self.key("partner", created["id"]))
        if granted:
            self.api.call(distributor.token, "PUT", f"/v1/partners/{partner.id}/freeze-permission")
        return partner

    def new_customer(self, partner: Principal, name: str | None = None, pay_per_use: int = 4, prepaid: int = 2,
                     level: str | None = None, data_bytes: int = 4096) -> dict:
        name = name or f"Customer {uuid.uuid4().hex[:6]}"
        body: dict = {"partner_id": partner.id, "name": name}
        if level is not None:
            body["level"] = level
        created = self.api.call(self.operator.token, "POST", "/v1/customers", body)
        customer_id = created["id"].lower()
        if pay_per_use:
            self.api.call(self.operator.token, "POST", f"/v1/customers/{customer_id}/resources",
                          {"type": "ecs.instance", "billing_mode": "pay_per_use", "count": pay_per_use, "data_bytes": data_bytes})
        if prepaid:
            self.api.call(self.operator.token, "POST", f"/v1/customers/{customer_id}/resources",
                          {"type": "rds.instance", "billing_mode": "prepaid", "count": prepaid})
        return {"id": customer_id, "name": name, "partner_id": partner.id}

    def provision(self, customer_id: str, billing_mode: str = "prepaid", type_: str = "rds.instance",
                  expires_at: datetime | None = None, count: int | None = None, data_bytes: int | None = None) -> dict:
        """Provisions resources (operator); the answer has `id` for one, `created` for many."""
        body: dict = {"type": type_, "billing_mode": billing_mode}
        if expires_at is not None:
            body["expires_at"] = iso(expires_at)
        if count is not None:
            body["count"] = count
        if data_bytes is not None:
            body["data_bytes"] = data_bytes
        return self.api.call(self.operator.token, "POST", f"/v1/customers/{customer_id}/resources", body)

    def set_level(self, customer_id: str, level: str) -> dict:
        return self.api.call(self.operator.token, "PATCH", f"/v1/customers/{customer_id}", {"level": level})

    def set_retention_policy(self, level: str, freeze_retention_seconds: int, prepaid_grace_seconds: int,
                             prepaid_retention_seconds: int) -> dict:
        return self.api.call(self.operator.token, "PUT", f"/v1/retention-policies/{level}", {
            "freeze_retention_seconds": freeze_retention_seconds,
            "prepaid_grace_seconds": prepaid_grace_seconds,
            "prepaid_retention_seconds": prepaid_retention_seconds,
        })

    def key(self, kind: str, principal_id: str) -> str:
        created = self.api.call(self.operator.token, "POST", "/v1/api-keys",
                                {"principal_kind": kind, "principal_id": principal_id})
        return created["token"]

    # reads and actions as a given principal
    def get_customer(self, who: Principal, customer_id: str) -> dict:
        return self.api.call(who.token, "GET", f"/v1/customers/{customer_id}")

    def resources(self, who: Principal, customer_id: str) -> dict[str, dict]:
        """A customer's resources by upper-case id (every page)."""
        found: dict[str, dict] = {}
        cursor = None
        while True:
            query = "?limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            page = self.api.call(who.token, "GET", f"/v1/customers/{customer_id}/resources{query}")
            for item in page.get("items", []):
                found[item["id"].lower()] = item
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    def freeze(self, who: Principal, customer_id: str, type_: str = "purchase_and_resources", reason: str = "Arranged by the test",
               lift_at: datetime | None = None) -> dict:
        body: dict = {"type": type_, "reason": reason}
        if type_ == "purchase_and_resources":
            body["agreement_accepted"] = True
        if lift_at is not None:
            body["lift_at"] = iso(lift_at)
        return self.api.call(who.token, "POST", f"/v1/customers/{customer_id}/freeze", body)

    def preview(self, who: Principal, customer_id: str, type_: str = "purchase_and_resources", lift_at: datetime | None = None) -> dict:
        """The freeze's impact preview (a dry run: nothing changes)."""
        body: dict = {"dry_run": True, "type": type_}
        if lift_at is not None:
            body["lift_at"] = iso(lift_at)
        return self.api.call(who.token, "POST", f"/v1/customers/{customer_id}/freeze", body)

    def unfreeze(self, who: Principal, customer_id: str, reason: str = "Lifted by the test") -> dict:
        return self.api.call(who.token, "POST", f"/v1/customers/{customer_id}/unfreeze", {"reason": reason})

    def permission(self, distributor: Principal, partner: Principal) -> dict:
        return self.api.call(distributor.token, "GET", f"/v1/partners/{partner.id}/freeze-permission")

    # budgets (DESIGN §10): money is a decimal string, never a JSON number
    def set_price(self, resource_type: str, usage_unit_price: str, monthly_price: str = "0") -> dict:
        """The operator's price for a resource type (global: every test pricing a type should agree)."""
        return self.api.call(self.operator.token, "PUT", f"/v1/prices/{resource_type}",
                             {"usage_unit_price": usage_unit_price, "monthly_price": monthly_price})

    def customer_principal(self, customer: dict) -> Principal:
        """The customer itself, with an API key of its own (for recording usage and reading)."""
        return Principal("customer", customer["id"], customer["name"], self.key("customer", customer["id"]))

    def pay_per_use_resource(self, who: Principal, customer_id: str) -> str:
        """The id of one of the customer's active pay-per-use resources."""
        for resource_id, resource in sorted(self.resources(who, customer_id).items()):
            if resource["billing_mode"] == "pay_per_use" and resource["state"] == "active":
                return resource_id
        raise AssertionError(f"customer {customer_id} has no active pay-per-use resource")

    def record_usage(self, customer: Principal, resource_id: str, quantity: float) -> dict:
        """A usage record by the customer (202); it costs quantity × the type's usage_unit_price."""
        return self.api.call(customer.token, "POST", f"/v1/customers/{customer.id}/resources/{resource_id}/usage",
                             {"quantity": quantity}, expect=(202,))

    def set_budget(self, who: Principal, customer_id: str, amount: str, period: str = "monthly",
                   on_exhaustion: str = "notify", agreement_accepted: bool | None = None) -> dict:
        body: dict = {"amount": amount, "period": period, "on_exhaustion": on_exhaustion}
        if agreement_accepted is not None:
            body["agreement_accepted"] = agreement_accepted
        return self.api.call(who.token, "PUT", f"/v1/customers/{customer_id}/budget", body)

    def get_budget(self, who: Principal, customer_id: str) -> dict | None:
        """The customer's budget, or None when it has none (404)."""
        answer = self.api.call(who.token, "GET", f"/v1/customers/{customer_id}/budget", expect=(200, 404))
        return None if "error" in answer else answer

    def set_code_required(self, who: Principal, required: bool = True, code: str | None = None) -> dict:
        """The caller's verification-code setting (turning it off needs a code of purpose settings)."""
        body: dict = {"verification_code_required": required}
        if code is not None:
            body["verification_code"] = code
        return self.api.call(who.token, "PATCH", "/v1/settings", body)

    def verification_code(self, who: Principal, purpose: str) -> str:
        """A code of `purpose`, delivered in the answer by the test server."""
        return self.api.call(who.token, "POST", "/v1/verification-codes", {"purpose": purpose})["code"]


# --- time, and the retention sweep ---------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC, to the second (what the API accepts)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def retention_sweep(binary: str, database_url: str, log: Path | None = None) -> str:
    """Runs `partner-center retention-sweep` on the test database; fails on a non-zero exit."""
    result = subprocess.run([binary, "retention-sweep"], env={**os.environ, "DATABASE_URL": database_url},
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    if log is not None:
        with open(log, "a") as file:
            file.write(output)
    assert result.returncode == 0, f"retention-sweep failed ({result.returncode}):\n{output}"
    return output


def settle_budgets(binary: str, database_url: str, log: Path | None = None) -> str:
    """Runs `partner-center settle-budgets` on the test database at once (the server settles on its
    own only every 10 s); fails on a non-zero exit."""
    result = subprocess.run([binary, "settle-budgets"], env={**os.environ, "DATABASE_URL": database_url},
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    if log is not None:
        with open(log, "a") as file:
            file.write(output)
    assert result.returncode == 0, f"settle-budgets failed ({result.returncode}):\n{output}"
    return output


def parse_seed_output(text: str) -> dict[str, Principal]:
    """The principals of `partner-center seed-demo --json`, by role."""
    roles = {"operator", "distributor", "partner", "partner-without-permission", "customer"}
    found = {key["role"]: Principal(key["principal_kind"], key["id"], key["name"], key["token"])
             for key in json.loads(text)["keys"] if key["role"] in roles}
    missing = roles - set(found)
    if missing:
        raise RuntimeError(f"seed-demo printed no token for {sorted(missing)}; output was:\n{text}")
    return found


# --- the console in the browser ------------------------------------------------------------


class Console:
    """The partner console, as a user drives it."""

    def __init__(self, driver: WebDriver, base_url: str, shots: Path, test_name: str):
        self.driver = driver
        self.base_url = base_url.rstrip("/")
        self.shots = shots
        self.test_name = test_name
        self.shot_count = 0

    # basics
    def wait(self, condition, message: str = "", timeout: float = WAIT_SECONDS):
        def safe(driver):
            try:
                return condition(driver)
            except (NoSuchElementException, StaleElementReferenceException):
                return False
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe, message)

    def find(self, css: str, root: WebElement | None = None) -> WebElement:
        return (root or self.driver).find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str, root: WebElement | None = None) -> list[WebElement]:
        return (root or self.driver).find_elements(By.CSS_SELECTOR, css)

    def visible(self, css: str, timeout: float = WAIT_SECONDS) -> WebElement:
        return self.wait(lambda d: (lambda e: e if e.is_displayed() else False)(d.find_element(By.CSS_SELECTOR, css)),
                         f"{css} never became visible", timeout)

    def gone(self, css: str, timeout: float = WAIT_SECONDS) -> None:
        self.wait(lambda d: all(not e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, css)),
                  f"{css} is still visible", timeout)

    def click(self, target: WebElement | str) -> None:
        """Clicks like a user who first scrolled the element to the middle of the window
        (WebDriver only scrolls when the element is off-screen, and the top bar is sticky)."""
        element = self.find(target) if isinstance(target, str) else target
        self.js("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})", element)
        element.click()

    def text_of(self, css: str) -> str:
        return self.find(css).text

    def wait_text(self, css: str, expected: str, timeout: float = WAIT_SECONDS) -> WebElement:
        self.wait(lambda d: expected in d.find_element(By.CSS_SELECTOR, css).text,
                  f"{css} never showed {expected!r}", timeout)
        return self.find(css)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def active_id(self) -> str:
        return self.js("return document.activeElement ? document.activeElement.id : ''")

    def shot(self, step: str) -> Path:
        self.shot_count += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", step)
        path = self.shots / f"{self.test_name}-{self.shot_count:02d}-{safe}.png"
        self.driver.save_screenshot(str(path))
        return path

    def assert_no_alert(self) -> None:
        try:
            alert = self.driver.switch_to.alert
        except NoAlertPresentException:
            return
        text = alert.text
        alert.dismiss()
        raise AssertionError(f"an alert opened: {text!r}")

    # session
    def open(self, fragment: str = "") -> None:
        self.driver.get(f"{self.base_url}/console{fragment}")

    def session_storage(self) -> dict:
        return self.js("const o = {}; for (let i = 0; i < sessionStorage.length; i++) { const k = sessionStorage.key(i); o[k] = sessionStorage.getItem(k); } return o;")

    def sign_in(self, token: str, expect_role: str | None = None) -> None:
        self.open()
        field = self.visible("#signin-key")
        field.clear()
        field.send_keys(token)
        self.find("#signin-submit").click()
        self.visible("#app")
        if expect_role:
            self.wait_text("#account-role", expect_role.capitalize())
        self.wait_rows_loaded()

    def sign_out(self) -> None:
        self.find("#signout").click()
        self.visible("#signin-key")

    # Customer Management
    def wait_rows_loaded(self) -> None:
        self.wait(lambda d: d.find_element(By.ID, "customers-table").get_attribute("aria-busy") is None
                  and not d.find_elements(By.CSS_SELECTOR, "#customers-body tr.placeholder:not(.empty):not(.error)"),
                  "the customer table never finished loading")

    def row(self, customer_id: str, timeout: float = WAIT_SECONDS) -> WebElement:
        css = f'#customers-body tr[data-customer-id="{customer_id.lower()}"]'
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css), f"no row for {customer_id}", timeout)

    def row_ids(self) -> list[str]:
        return [row.get_attribute("data-customer-id") for row in self.find_all("#customers-body tr[data-customer-id]")]

    def wait_row_status(self, customer_id: str, status: str) -> WebElement:
        css = f'#customers-body tr[data-customer-id="{customer_id.lower()}"][data-status="{status}"]'
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css),
                         f"the row of {customer_id} never showed status {status}")

    def op_button(self, customer_id: str, label: str) -> WebElement:
        row = self.row(customer_id)
        for button in self.find_all("button.op-link", row):
            if button.text.strip() == label:
                return button
        raise AssertionError(f"row {customer_id} has no operation {label!r}; it has "
                             f"{[b.text for b in self.find_all('button.op-link', row)]}")

    def row_operations(self, customer_id: str) -> list[str]:
        return [b.text.strip() for b in self.find_all("button.op-link", self.row(customer_id))]

    # the operation dialog
    def open_operation(self, customer_id: str, label: str) -> WebElement:
        self.click(self.op_button(customer_id, label))
        return self.dialog_open()

    def dialog_open(self) -> WebElement:
        dialog = self.wait(lambda d: (lambda e: e if e.get_attribute("open") is not None else False)(d.find_element(By.ID, "op-dialog")),
                           "the operation dialog never opened")
        self.wait(lambda d: self.active_id() == "op-reason", "the reason field was not focused on open")
        return dialog

    def dialog_closed(self) -> None:
        self.wait(lambda d: d.find_element(By.ID, "op-dialog").get_attribute("open") is None, "the operation dialog stayed open")

    def type_reason(self, text: str) -> None:
        field = self.find("#op-reason")
        field.clear()
        field.send_keys(text)

    def press_ok(self) -> None:
        self.find("#op-ok").click()

    def dialog_error(self) -> str:
        return self.visible("#op-error").text

    def wait_success_notice(self) -> str:
        self.wait_text("#notice-text", "The operation is successful.")
        return self.text_of("#notice-text")

    def escape(self) -> None:
        self.driver.switch_to.active_element.send_keys(Keys.ESCAPE)

    # the scheduled lift and the impact preview
    def set_lift_at(self, moment: datetime) -> tuple[str, datetime]:
        """Sets the dialog's "Lift automatically on" field (datetime-local, the browser's time zone)
        to `moment` (to the minute) as a user picking a time would, firing input and change.
        Returns the field's value and the instant it stands for."""
        value = self.js(
            "const d = new Date(arguments[0]); const two = (n) => String(n).padStart(2, '0');"
            "return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate())"
            " + 'T' + two(d.getHours()) + ':' + two(d.getMinutes());",
            int(moment.timestamp() * 1000))
        field = self.find("#op-lift-at")
        self.js("arguments[0].value = arguments[1];"
                "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", field, value)
        assert field.get_attribute("value") == value or self.js("return arguments[0].value", field) == value
        instant = parse_iso(self.js("return new Date(arguments[0]).toISOString()", value))
        return value, instant

    def wait_preview(self, state: str = "ready") -> WebElement:
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, f'#op-preview[data-state="{state}"]'),
                         f"the impact preview never reached the state {state!r}")

    # budgets: the list's Budget column, the detail page's Budget section, the budget dialog
    def budget_cell(self, customer_id: str) -> WebElement:
        return self.find(".col-budget", self.row(customer_id))

    def wait_budget_level(self, customer_id: str, level: str) -> WebElement:
        """The row's budget bar once it shows `level` (normal, warn, high, exhausted)."""
        css = f'#customers-body tr[data-customer-id="{customer_id.lower()}"] .budget-use[data-level="{level}"]'
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css), f"the budget of {customer_id} never reached {level}")

    def budget_dialog_open(self, mode: str = "set") -> WebElement:
        dialog = self.wait(lambda d: (lambda e: e if e.get_attribute("open") is not None and e.get_attribute("data-mode") == mode
                                      else False)(d.find_element(By.ID, "budget-dialog")),
                           f"the budget dialog ({mode}) never opened")
        if mode == "set":
            self.wait(lambda d: self.active_id() == "budget-amount", "the amount field was not focused on open")
        return dialog

    def budget_dialog_closed(self) -> None:
        self.wait(lambda d: d.find_element(By.ID, "budget-dialog").get_attribute("open") is None, "the budget dialog stayed open")

    def open_budget_from_row(self, customer_id: str) -> WebElement:
        self.click(self.find(".budget-set", self.row(customer_id)))
        return self.budget_dialog_open()

    def open_customer(self, customer_id: str, name: str) -> None:
        """The customer's detail page (from the list), its budget section loaded."""
        self.click(self.find(".customer-link", self.row(customer_id)))
        self.wait_text("#customer-name", name)
        self.wait_budget_section()

    def wait_budget_section(self) -> WebElement:
        return self.wait(lambda d: (lambda e: e if e.get_attribute("aria-busy") == "false" and e.get_attribute("data-state")
                                    else False)(d.find_element(By.ID, "budget-panel")),
                         "the budget section never loaded")

    def budget_button(self, action: str) -> WebElement:
        return self.find(f'#budget-ops button[data-budget-action="{action}"]')

    def fill_budget(self, amount: str | None = None, period: str | None = None, policy: str | None = None) -> None:
        if amount is not None:
            field = self.find("#budget-amount")
            field.clear()
            field.send_keys(amount)
        if period is not None:
            self.click(f"#budget-period-{period}")
        if policy is not None:
            self.click(f"#budget-policy-{policy}")

    def save_budget(self) -> None:
        self.find("#budget-ok").click()

    def set_status_filter(self, value: str) -> None:
        Select(self.find("#status-filter")).select_by_value(value)
        self.wait_rows_loaded()

    def set_page_size(self, value: int) -> None:
        Select(self.find("#page-size")).select_by_value(str(value))
        self.wait_rows_loaded()


def wait_for(condition, timeout: float = WAIT_SECONDS, message: str = "condition never held"):
    """Polls a plain Python condition (e.g. an API read) until it is truthy."""
    import time
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.1)
    raise TimeoutException(f"{message} (last value: {last!r})")
