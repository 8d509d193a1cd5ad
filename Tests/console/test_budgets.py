"""Budgets (DESIGN §10) in the console: the Budget column's bar and its levels at 75/90/100 %,
the Set Budget dialog (prefill, client-side amount checks, the agreement for the freeze
policy, the verification code of purpose budget), the detail page's budget and alert history,
a budget's own restriction (origin budget) and its lift when the budget is raised, removal,
and the read-only view of whoever does not hold the authority.

Spend is settled by `partner-center settle-budgets` (the server also settles every 10 s on its
own; the command makes each step deterministic). Every test prices `ecs.instance` (the test
world's pay-per-use type) at the same 1 per unit of usage, so the quantities below are money.
"""

from pathlib import Path

import pytest

from support import XSS_NAME, Console, Principal, World, settle_budgets

PRICE_TYPE = "ecs.instance"
AGREEMENT = "Agreement for Partners to Manage Customer Budgets"


@pytest.fixture
def priced(world: World) -> World:
    world.set_price(PRICE_TYPE, usage_unit_price="1", monthly_price="10")
    return world


@pytest.fixture
def settle(server_binary, database_url, output_dir: Path):
    """Settles every budget at once (the CLI), logging its summary."""
    return lambda: settle_budgets(server_binary, database_url, output_dir / "settle-budgets.log")


def spend(world: World, customer: Principal, resource_id: str, quantity: float, settle) -> None:
    """The customer uses `quantity` (costing as much), then budgets are settled."""
    world.record_usage(customer, resource_id, quantity)
    settle()


def refresh_list(console: Console) -> None:
    console.click("#customers-refresh")
    console.wait_rows_loaded()


def bar_state(console: Console, customer_id: str) -> dict:
    cell = console.budget_cell(customer_id)
    use = console.find(".budget-use", cell)
    bar = console.find("progress.budget-bar", use)
    return {
        "level": use.get_attribute("data-level"),
        "use_class": use.get_attribute("class"),
        "bar_class": bar.get_attribute("class"),
        "value": float(console.js("return arguments[0].value", bar)),
        "max": float(console.js("return arguments[0].max", bar)),
        "text": console.find(".budget-spent", use).text,
        "percent": console.find(".budget-percent", use).text,
        # The fill is drawn in the bar's colour (currentColor), set per level.
        "colour": console.js("return getComputedStyle(arguments[0]).color", bar),
    }


def test_budget_bar_levels_and_alert_history(console: Console, priced: World, settle):
    world = priced
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Budget Bar Ltd.", pay_per_use=2, prepaid=1)
    cid = customer["id"]
    me = world.customer_principal(customer)
    resource = world.pay_per_use_resource(partner, cid)
    console.sign_in(partner.token, expect_role="partner")

    # No budget yet: the column says so, and offers Set Budget to the authority holder.
    cell = console.budget_cell(cid)
    assert console.find(".no-budget", cell).text == "No budget"
    assert console.find(".budget-set", cell).text == "Set Budget"
    console.shot("list-no-budget")

    # The dialog: defaults (monthly, notify), no agreement, no code; Esc cancels, focus comes back.
    opener = console.find(".budget-set", cell)
    console.open_budget_from_row(cid)
    assert console.text_of("#budget-dialog-title") == "Set Budget"
    assert "Budget Bar Ltd." in console.text_of("#budget-summary")
    assert "No budget is set yet" in console.text_of("#budget-summary")
    assert console.find("#budget-period-monthly").is_selected()
    assert console.find("#budget-policy-notify").is_selected()
    assert not console.find("#budget-agreement-field").is_displayed()
    assert not console.find("#budget-code-field").is_displayed()
    assert console.find("#budget-amount").get_attribute("value") == ""
    console.escape()
    console.budget_dialog_closed()
    assert console.js("return document.activeElement") == opener
    assert world.get_budget(partner, cid) is None

    console.open_budget_from_row(cid)
    console.fill_budget(amount="100", period="one_time", policy="notify")
    console.shot("dialog-filled")
    console.save_budget()
    console.budget_dialog_closed()
    console.wait_text("#notice-text", "The budget is saved.")
    budget = world.get_budget(partner, cid)
    assert (budget["amount"], budget["period"], budget["on_exhaustion"]) == ("100.00", "one_time", "notify")
    assert budget["set_by"] == {"kind": "partner", "id": budget["set_by"]["id"]}
    assert budget["set_by"]["id"].lower() == partner.id

    # The row redraws in place: 0 of 100.00, an empty bar at the normal level.
    console.wait_budget_level(cid, "normal")
    state = bar_state(console, cid)
    assert state["text"] == "0 / 100.00", state
    assert state["percent"] == "0%", state
    assert (state["value"], state["max"]) == (0, 100)
    assert "level-normal" in state["bar_class"]
    normal_colour = state["colour"]
    assert "Notify only" in console.budget_cell(cid).text
    console.wait(lambda d: console.js("return document.activeElement.classList.contains('budget-set')"),
                 "focus did not come back to the row's Set Budget")
    console.shot("list-budget-0")

    # 76 % → the warning level.
    spend(world, me, resource, 76, settle)
    refresh_list(console)
    console.wait_budget_level(cid, "warn")
    state = bar_state(console, cid)
    assert state["text"] == "76 / 100.00", state
    assert state["percent"] == "76%", state
    assert state["value"] == 76
    assert "level-warn" in state["use_class"] and "level-warn" in state["bar_class"]
    warn_colour = state["colour"]
    assert warn_colour != normal_colour
    console.shot("list-budget-76")

    # 91 % → the stronger warning.
    spend(world, me, resource, 15, settle)
    refresh_list(console)
    console.wait_budget_level(cid, "high")
    state = bar_state(console, cid)
    assert state["text"] == "91 / 100.00", state
    assert state["value"] == 91
    assert "level-high" in state["bar_class"]
    high_colour = state["colour"]
    assert high_colour not in (normal_colour, warn_colour)
    console.shot("list-budget-91")

    # 105 % → exhausted: the danger colour, the bar full (capped), the text past the amount.
    spend(world, me, resource, 14, settle)
    refresh_list(console)
    console.wait_budget_level(cid, "exhausted")
    state = bar_state(console, cid)
    assert state["text"] == "105 / 100.00", state
    assert state["percent"] == "105%", state
    assert state["value"] == 100  # capped at 100 %
    assert "level-exhausted" in state["bar_class"]
    danger = console.js("const p = document.createElement('p'); p.style.color = getComputedStyle(document.documentElement)"
                        ".getPropertyValue('--danger'); document.body.append(p); const c = getComputedStyle(p).color; p.remove(); return c;")
    assert state["colour"] == danger, (state["colour"], danger)
    # Notify only: the customer is not restricted.
    row = console.row(cid)
    assert row.get_attribute("data-status") == "normal"
    console.shot("list-budget-105")

    # The detail page: the budget's facts, the thresholds reached and the alerts, newest first.
    api_budget = world.get_budget(partner, cid)
    assert api_budget["thresholds_reached"] == [75, 90, 100]
    assert [alert["percent"] for alert in api_budget["alerts"]] == [100, 90, 75]
    console.open_customer(cid, "Budget Bar Ltd.")
    panel = console.find("#budget-panel")
    assert panel.get_attribute("data-state") == "set"
    assert console.text_of("#budget-body .budget-amount") == "100.00"
    assert console.text_of("#budget-body .budget-period") == "One-time"
    assert console.text_of("#budget-body .budget-policy") == "Notify only"
    assert console.text_of("#budget-body .budget-spent-value") == "105"
    assert console.text_of("#budget-body .budget-remaining") == "0"
    detail_use = console.find("#budget-body .budget-use")
    assert detail_use.get_attribute("data-level") == "exhausted"
    assert console.find(".budget-spent", detail_use).text == "105 / 100.00"
    reached = [badge.get_attribute("data-percent") for badge in console.find_all("#budget-body .thresholds .badge")]
    assert reached == ["75", "90", "100"]
    rows = console.find_all("#budget-alerts-body tr[data-percent]")
    assert [r.get_attribute("data-percent") for r in rows] == ["100", "90", "75"]
    for ui_row, alert in zip(rows, api_budget["alerts"]):
        cells = console.find_all("td", ui_row)
        assert cells[1].text == f"{alert['percent']}%"
        assert cells[2].text == f"{alert['spent']} of {alert['amount']}"
        assert console.find("time", cells[0]).get_attribute("datetime") == alert["occurred_at"]
    assert [r.text for r in rows] and "91 of 100.00" in rows[1].text and "76 of 100.00" in rows[2].text
    assert console.budget_button("set").text == "Set Budget"
    assert console.budget_button("remove").text == "Remove Budget"
    assert not console.find("#budget-error").is_displayed()
    console.shot("detail-budget-and-alerts")

    # Removing it (no code needed: the setting is off): the section says so, with no error.
    console.click(console.budget_button("remove"))
    console.budget_dialog_open("remove")
    assert console.text_of("#budget-dialog-title") == "Remove Budget"
    assert not console.find("#budget-fields").is_displayed()
    assert "Current budget: 100.00" in console.text_of("#budget-summary")
    console.shot("remove-dialog")
    console.save_budget()
    console.budget_dialog_closed()
    console.wait_text("#notice-text", "The budget is removed.")
    console.wait_text("#budget-body", "No budget set.")
    assert console.find_all('#budget-ops [data-budget-action="remove"]') == []
    assert not console.find("#budget-alerts").is_displayed()
    assert not console.find("#budget-error").is_displayed()
    console.wait(lambda d: console.js("return document.activeElement.dataset.budgetAction || ''") == "set",
                 "focus did not move to Set Budget once Remove Budget was gone")
    assert world.get_budget(partner, cid) is None
    console.shot("detail-budget-removed")


def test_restrict_purchase_budget_restricts_and_a_raise_lifts(console: Console, priced: World, settle):
    world = priced
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Restrict On Budget GmbH", pay_per_use=2, prepaid=1)
    cid = customer["id"]
    me = world.customer_principal(customer)
    resource = world.pay_per_use_resource(partner, cid)
    console.sign_in(partner.token, expect_role="partner")

    # Set from the detail page: 50 a month, restrict purchase when used up.
    console.open_customer(cid, "Restrict On Budget GmbH")
    console.wait_text("#budget-body", "No budget set.")
    assert not console.find("#budget-error").is_displayed()  # a 404 is "no budget", not an error
    assert console.find_all('#budget-ops [data-budget-action="remove"]') == []
    console.click(console.budget_button("set"))
    console.budget_dialog_open()
    console.fill_budget(amount="50", period="monthly", policy="restrict_purchase")
    assert not console.find("#budget-agreement-field").is_displayed()  # only the freeze policy asks
    console.save_budget()
    console.budget_dialog_closed()
    console.wait_text("#notice-text", "The budget is saved.")
    console.wait_text("#budget-body .budget-policy", "Restrict purchase")
    assert console.text_of("#budget-body .budget-amount") == "50.00"
    assert console.text_of("#budget-body .budget-period") == "Monthly"
    console.wait(lambda d: console.js("return document.activeElement.dataset.budgetAction || ''") == "set",
                 "focus did not come back to Set Budget")
    console.shot("detail-budget-set")

    # Exhausted and settled: the budget restricts the customer (origin budget, actor system).
    spend(world, me, resource, 60, settle)
    state = world.get_customer(partner, cid)
    assert state["status"] == "purchase_restricted", state
    assert state["active_restriction"]["origin"] == "budget"
    assert state["active_restriction"]["applied_by"] == {"kind": "system"}
    assert state["budget"]["on_exhaustion"] == "restrict_purchase"

    console.find('.breadcrumb a[href="#customers"]').click()
    console.wait_rows_loaded()
    row = console.wait_row_status(cid, "purchase_restricted")
    restriction = console.find(".col-restriction .restriction", row)
    assert restriction.get_attribute("data-origin") == "budget"
    assert console.find(".origin-budget", restriction).text == "By budget"
    assert "budget exhausted" in console.find(".restriction-reason", row).text
    assert console.find(".col-status .badge", row).text == "Purchase restricted"
    assert console.wait_budget_level(cid, "exhausted")
    assert bar_state(console, cid)["text"] == "60 / 50.00"
    console.shot("list-restricted-by-budget")

    # The detail page names the origin and the system actor.
    console.open_customer(cid, "Restrict On Budget GmbH")
    facts = console.text_of("#customer-facts")
    assert "By budget" in facts and "System" in facts, facts
    console.find('.breadcrumb a[href="#customers"]').click()
    console.wait_rows_loaded()

    # Raising the budget above the spend lifts the budget's restriction at once.
    console.open_budget_from_row(cid)
    assert console.find("#budget-amount").get_attribute("value") == "50.00"  # prefilled
    assert console.find("#budget-period-monthly").is_selected()
    assert console.find("#budget-policy-restrict_purchase").is_selected()
    assert "60 spent" in console.text_of("#budget-summary")
    console.fill_budget(amount="80")
    console.shot("raise-dialog")
    console.save_budget()
    console.budget_dialog_closed()
    console.wait_text("#notice-text", "The budget is saved.")
    row = console.wait_row_status(cid, "normal")
    assert console.find(".col-restriction", row).text == "—"
    assert console.find(".col-status .badge", row).text == "Normal"
    console.wait_budget_level(cid, "warn")  # 60 of 80 is 75 %
    assert bar_state(console, cid)["text"] == "60 / 80.00"
    console.shot("list-lifted-by-raise")
    state = world.get_customer(partner, cid)
    assert state["status"] == "normal" and state.get("active_restriction") is None, state


def test_freeze_policy_needs_the_agreement(console: Console, priced: World):
    world = priced
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Freeze Budget Agreement Ltd.", pay_per_use=2, prepaid=0)
    cid = customer["id"]
    console.sign_in(partner.token, expect_role="partner")

    console.open_budget_from_row(cid)
    console.fill_budget(amount="250.50", period="monthly", policy="restrict_purchase_and_freeze_resources")
    field = console.visible("#budget-agreement-field")
    assert console.find(".check", field).text == f"I have read and agree to {AGREEMENT}"
    assert not console.find("#budget-agreement").is_selected()
    # Another policy hides it again.
    console.fill_budget(policy="notify")
    console.gone("#budget-agreement-field")
    console.fill_budget(policy="restrict_purchase_and_freeze_resources")
    console.visible("#budget-agreement-field")

    # Without the agreement: the server's agreement_required message, next to the checkbox; nothing is set.
    console.save_budget()
    message = console.visible("#budget-agreement-error").text
    assert "agree" in message.lower(), message
    assert console.find("#budget-agreement").get_attribute("aria-invalid") == "true"
    assert console.active_id() == "budget-agreement"
    assert console.find("#budget-dialog").get_attribute("open") is not None
    console.shot("agreement-required")
    assert world.get_budget(partner, cid) is None

    # The agreement text opens in its own dialog; focus comes back to the link.
    console.click("#budget-agreement-link")
    console.wait(lambda d: d.find_element("id", "agreement-dialog").get_attribute("open") is not None, "no agreement dialog")
    agreement = world.api.call(partner.token, "GET", "/v1/agreement")
    console.wait_text("#agreement-text", agreement["text"][:60])
    console.find("#agreement-close").click()
    console.wait(lambda d: d.find_element("id", "agreement-dialog").get_attribute("open") is None, "agreement stayed open")
    assert console.active_id() == "budget-agreement-link"
    assert console.find("#budget-dialog").get_attribute("open") is not None

    console.click("#budget-agreement")
    assert console.find("#budget-agreement").get_attribute("aria-invalid") is None
    console.gone("#budget-agreement-error")
    console.save_budget()
    console.budget_dialog_closed()
    console.wait_text("#notice-text", "The budget is saved.")
    budget = world.get_budget(partner, cid)
    assert budget["amount"] == "250.50"
    assert budget["on_exhaustion"] == "restrict_purchase_and_freeze_resources"
    assert budget["agreement_version"] == agreement["version"]
    assert "Restrict purchase and freeze resources" in console.budget_cell(cid).text
    console.shot("freeze-policy-set")

    # The detail page names the accepted agreement version.
    console.open_customer(cid, "Freeze Budget Agreement Ltd.")
    assert f"agreement version {agreement['version']}" in console.text_of("#budget-body")


def test_budget_verification_code_flow(console: Console, priced: World):
    world = priced
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Budget Code AG", pay_per_use=1, prepaid=0)
    cid = customer["id"]
    assert world.set_code_required(partner, True)["verification_code_required"] is True
    console.sign_in(partner.token, expect_role="partner")

    console.open_budget_from_row(cid)
    assert console.find("#budget-code-field").is_displayed()
    console.fill_budget(amount="1000", policy="notify")

    # No code → a message, nothing sent.
    console.save_budget()
    assert "verification code" in console.visible("#budget-code-error").text
    assert console.active_id() == "budget-code"

    # Send code (purpose budget): a hint, the demo code shown as text, the field left empty.
    console.find("#budget-send-code").click()
    console.wait_text("#budget-code-hint", "Code sent")
    demo = console.visible("#budget-code-demo code").text
    assert len(demo) == 6 and demo.isdigit()
    assert console.find("#budget-code").get_attribute("value") == ""
    assert not console.find("#budget-send-code").is_enabled()  # resend cooldown
    console.shot("code-sent")

    # A code of another purpose (freeze) is refused: the server's message inline, nothing set.
    freeze_code = world.verification_code(partner, "freeze")
    other = freeze_code if freeze_code != demo else f"{(int(demo) + 1) % 1000000:06d}"
    console.find("#budget-code").send_keys(other)
    console.save_budget()
    message = console.visible("#budget-code-error").text
    assert "code" in message.lower(), message
    assert console.find("#budget-code").get_attribute("aria-invalid") == "true"
    assert console.active_id() == "budget-code"
    console.shot("wrong-code")
    assert world.get_budget(partner, cid) is None

    # The budget code → saved.
    console.find("#budget-code").clear()
    console.find("#budget-code").send_keys(demo)
    console.save_budget()
    console.budget_dialog_closed()
    console.wait_text("#notice-text", "The budget is saved.")
    assert world.get_budget(partner, cid)["amount"] == "1000.00"
    console.wait_budget_level(cid, "normal")
    assert bar_state(console, cid)["text"] == "0 / 1000.00"

    # Removing asks for a code too.
    console.open_customer(cid, "Budget Code AG")
    console.click(console.budget_button("remove"))
    console.budget_dialog_open("remove")
    assert console.find("#budget-code-field").is_displayed()
    assert not console.find("#budget-code-demo").is_displayed()  # nothing left from before
    assert console.active_id() == "budget-code"
    console.find("#budget-send-code").click()
    code = console.visible("#budget-code-demo code").text
    console.find("#budget-code").send_keys(code)
    console.shot("remove-with-code")
    console.save_budget()
    console.budget_dialog_closed()
    console.wait_text("#notice-text", "The budget is removed.")
    console.wait_text("#budget-body", "No budget set.")
    assert world.get_budget(partner, cid) is None


def test_bad_amounts_are_refused_in_the_dialog(console: Console, priced: World):
    world = priced
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Bad Amount SARL", pay_per_use=1, prepaid=0)
    cid = customer["id"]
    console.sign_in(partner.token, expect_role="partner")
    console.open_budget_from_row(cid)

    for amount, expected in [("", "Enter an amount."), ("12.345", "at most 14 before the point and 2 after it"),
                             ("0", "greater than 0"), ("0.00", "greater than 0"), ("-5", "digits only"),
                             ("1e3", "digits only"), ("123456789012345", "at most 14 before the point")]:
        console.fill_budget(amount=amount)
        console.save_budget()
        error = console.visible("#budget-amount-error").text
        assert expected in error, (amount, error)
        assert console.find("#budget-amount").get_attribute("aria-invalid") == "true"
        assert console.active_id() == "budget-amount"
        assert console.find("#budget-dialog").get_attribute("open") is not None
        if amount == "12.345":
            console.shot("amount-too-precise")
        if amount == "0":
            console.shot("amount-zero")
    # Typing clears the message.
    console.find("#budget-amount").send_keys("1")
    console.gone("#budget-amount-error")
    console.find("#budget-cancel").click()
    console.budget_dialog_closed()
    # Nothing reached the server.
    assert world.get_budget(partner, cid) is None
    assert "budget" not in world.get_customer(partner, cid)
    assert console.find(".no-budget", console.budget_cell(cid)).text == "No budget"


def test_budget_is_read_only_without_the_authority(console: Console, priced: World):
    world = priced
    # Customers cannot use the console at all (it is for partners and distributors): a customer
    # reads its budget through the API only.
    console.open()
    console.visible("#signin-key").send_keys(world.customer.token)
    console.find("#signin-submit").click()
    assert "for partners and distributors" in console.visible("#signin-error").text

    # A partner without the permission: its distributor holds the authority and sets the budget.
    distributor = world.new_distributor()
    partner = world.new_partner(granted=False, distributor=distributor)
    customer = world.new_customer(partner, "Read Only Budget Co.", pay_per_use=1, prepaid=0)
    cid = customer["id"]
    world.set_budget(distributor, cid, "40", "monthly", "notify")
    me = world.customer_principal(customer)
    assert world.get_budget(me, cid)["amount"] == "40.00"  # the customer itself may read it

    console.sign_in(partner.token, expect_role="partner")
    cell = console.budget_cell(cid)
    assert console.find(".budget-spent", cell).text == "0 / 40.00"
    assert console.find_all(".budget-set", cell) == []
    console.shot("list-read-only")
    console.open_customer(cid, "Read Only Budget Co.")
    assert console.text_of("#budget-body .budget-amount") == "40.00"
    assert console.find_all("#budget-ops button") == []
    assert "Read-only" in console.text_of("#budget-body .budget-readonly")
    assert "Distributor" in console.text_of("#budget-body")  # set by
    console.shot("detail-read-only")

    # The distributor, holding the authority, may change it.
    console.sign_out()
    console.sign_in(distributor.token, expect_role="distributor")
    assert console.find(".budget-set", console.budget_cell(cid)).text == "Set Budget"
    console.open_customer(cid, "Read Only Budget Co.")
    assert console.budget_button("set").is_displayed()
    assert console.budget_button("remove").is_displayed()
    assert console.find_all("#budget-body .budget-readonly") == []


def test_budget_surfaces_show_markup_literally(console: Console, priced: World):
    world = priced
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, XSS_NAME, pay_per_use=1, prepaid=0)
    cid = customer["id"]
    world.set_budget(partner, cid, "10", "monthly", "notify")
    console.sign_in(partner.token, expect_role="partner")
    assert console.find(".budget-set", console.budget_cell(cid)).get_attribute("aria-label") == f"Set Budget for {XSS_NAME}"
    console.open_budget_from_row(cid)
    assert console.find("#budget-summary .target-name").text == XSS_NAME
    assert console.find_all("#budget-summary img") == []
    console.escape()
    console.budget_dialog_closed()
    console.open_customer(cid, XSS_NAME)
    console.click(console.budget_button("remove"))
    console.budget_dialog_open("remove")
    assert console.find("#budget-summary .target-name").text == XSS_NAME
    console.find("#budget-cancel").click()
    console.budget_dialog_closed()
    assert console.find_all("#main img, dialog img") == []  # the brand logos sit outside both
    console.assert_no_alert()
