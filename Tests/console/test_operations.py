"""The Operation column and its dialog: restrict and freeze, restrict purchase only, the
verification-code flow, unfreeze, errors shown inline, and keyboard/focus handling."""

from support import Console, World

FREEZE = "Restrict Purchase and Freeze Resources"
RESTRICT = "Restrict Purchase"
UNFREEZE = "Unrestrict Purchase and Unfreeze Resources"
UNRESTRICT = "Unrestrict Purchase"
AGREEMENT = "Agreement for Partners to Manage Customer Budgets"


def test_freeze_through_the_dialog(console: Console, world: World):
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Freeze Dialog Ltd.", pay_per_use=4, prepaid=2)
    console.sign_in(partner.token, expect_role="partner")

    # Keyboard: the dialog focuses the reason on open; Esc cancels and gives focus back.
    opener = console.op_button(customer["id"], FREEZE)
    opener.click()
    console.dialog_open()
    assert console.text_of("#op-title") == FREEZE
    assert "Freeze Dialog Ltd." in console.text_of("#op-summary")
    assert console.find("#op-agreement-field").is_displayed()
    assert not console.find("#op-code-field").is_displayed()  # the setting is off
    console.escape()
    console.dialog_closed()
    assert console.js("return document.activeElement") == console.op_button(customer["id"], FREEZE)

    console.open_operation(customer["id"], FREEZE)
    console.shot("dialog-open")

    # Reason missing → message, nothing sent.
    console.press_ok()
    assert console.visible("#op-reason-error").text == "Enter a reason."
    assert console.find("#op-reason").get_attribute("aria-invalid") == "true"
    assert console.active_id() == "op-reason"
    console.shot("reason-missing")

    # The live counter.
    console.type_reason("Budget for Q3 exhausted")
    assert console.text_of("#op-reason-count") == f"{len('Budget for Q3 exhausted')}/256"
    assert console.find("#op-reason").get_attribute("maxlength") == "256"

    # Agreement unticked → message.
    console.press_ok()
    assert "I have read and agree to" in console.visible("#op-agreement-error").text
    assert console.active_id() == "op-agreement"
    console.shot("agreement-missing")
    assert world.get_customer(partner, customer["id"])["status"] == "normal"

    # The agreement text, from GET /v1/agreement, in its own dialog; focus comes back to the link.
    label = console.find("#op-agreement-field .check").text
    assert label == f"I have read and agree to {AGREEMENT}"
    console.find("#op-agreement-link").click()
    console.wait(lambda d: d.find_element("id", "agreement-dialog").get_attribute("open") is not None, "no agreement dialog")
    agreement = world.api.call(partner.token, "GET", "/v1/agreement")
    console.wait_text("#agreement-text", agreement["text"][:60])
    assert console.text_of("#agreement-version") == f"Version {agreement['version']}"
    console.shot("agreement-text")
    console.find("#agreement-close").click()
    console.wait(lambda d: d.find_element("id", "agreement-dialog").get_attribute("open") is None, "agreement stayed open")
    assert console.active_id() == "op-agreement-link"
    assert console.find("#op-dialog").get_attribute("open") is not None

    console.find("#op-agreement").click()
    console.press_ok()
    console.dialog_closed()
    notice = console.wait_success_notice()
    assert "4 pay-per-use resources frozen" in notice
    console.shot("success")

    # The row shows the new state without a reload.
    row = console.wait_row_status(customer["id"], "frozen")
    assert console.find(".col-status .badge", row).text == "Frozen"
    assert "Purchase restricted, resources frozen" in console.find(".restriction-type", row).text
    assert "Budget for Q3 exhausted" in console.find(".restriction-reason", row).text
    assert "4 frozen" in console.find('.counts-line[data-billing="pay_per_use"]', row).text
    assert "2 active" in console.find('.counts-line[data-billing="prepaid"]', row).text
    assert console.row_operations(customer["id"]) == [UNFREEZE]
    # Focus lands on the new row's operation, not on the page body.
    console.wait(lambda d: console.js("return document.activeElement.classList.contains('op-link')"),
                 "focus was not returned to the row")

    state = world.get_customer(partner, customer["id"])
    assert state["status"] == "frozen"
    assert state["active_restriction"]["type"] == "purchase_and_resources"
    assert state["active_restriction"]["reason"] == "Budget for Q3 exhausted"
    assert state["active_restriction"]["agreement_version"] == agreement["version"]


def test_server_error_is_shown_inline(console: Console, world: World):
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Raced Customer")
    console.sign_in(partner.token, expect_role="partner")
    console.open_operation(customer["id"], RESTRICT)
    assert not console.find("#op-agreement-field").is_displayed()  # no agreement for purchase only
    console.type_reason("Second try")
    # Meanwhile someone else restricts the customer.
    world.freeze(partner, customer["id"], "purchase", reason="First")
    console.press_ok()
    message = console.dialog_error()
    assert "already" in message.lower(), message
    assert console.find("#op-dialog").get_attribute("open") is not None
    console.shot("server-error")
    console.find("#op-cancel").click()
    console.dialog_closed()


def test_verification_code_flow(console: Console, world: World):
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Code Flow GmbH", pay_per_use=2, prepaid=1)
    console.sign_in(partner.token, expect_role="partner")

    # Turn the requirement on in Settings.
    console.find('.sidenav [data-nav="settings"]').click()
    console.visible("#view-settings")
    console.wait_text("#setting-code-state", "Off")
    assert not console.find("#settings-save").is_enabled()
    console.find(".switch").click()
    console.find("#settings-save").click()
    console.wait_text("#notice-text", "Settings saved.")
    console.wait_text("#setting-code-state", "On")
    console.shot("setting-on")
    assert world.api.call(partner.token, "GET", "/v1/settings")["verification_code_required"] is True

    console.find('.sidenav [data-nav="customers"]').click()
    console.wait_rows_loaded()
    console.open_operation(customer["id"], FREEZE)
    assert console.find("#op-code-field").is_displayed()
    console.type_reason("Needs a code")
    console.find("#op-agreement").click()

    # No code → message, nothing sent.
    console.press_ok()
    assert "verification code" in console.visible("#op-code-error").text
    assert console.active_id() == "op-code"

    # Send code: a hint, the demo code shown as text, the field left empty.
    console.find("#op-send-code").click()
    console.wait_text("#op-code-hint", "Code sent")
    demo = console.visible("#op-code-demo code").text
    assert len(demo) == 6 and demo.isdigit()
    assert console.find("#op-code").get_attribute("value") == ""
    assert not console.find("#op-send-code").is_enabled()  # resend cooldown
    console.shot("code-sent")

    # A wrong code → the server's message inline; the customer is unchanged.
    wrong = f"{(int(demo) + 1) % 1000000:06d}"
    console.find("#op-code").send_keys(wrong)
    console.press_ok()
    message = console.dialog_error()
    assert message, "no inline error for a wrong code"
    assert console.find("#op-code").get_attribute("aria-invalid") == "true"
    console.shot("wrong-code")
    assert world.get_customer(partner, customer["id"])["status"] == "normal"

    # The right code → success.
    console.find("#op-code").clear()
    console.find("#op-code").send_keys(demo)
    console.press_ok()
    console.dialog_closed()
    console.wait_success_notice()
    console.wait_row_status(customer["id"], "frozen")
    console.shot("code-success")
    assert world.get_customer(partner, customer["id"])["status"] == "frozen"

    # Unfreezing asks for a code too (purpose unfreeze).
    console.open_operation(customer["id"], UNFREEZE)
    assert console.find("#op-code-field").is_displayed()
    assert not console.find("#op-agreement-field").is_displayed()
    assert console.find("#op-code-demo").is_displayed() is False  # nothing left from before
    console.type_reason("Paid")
    console.find("#op-send-code").click()
    code = console.visible("#op-code-demo code").text
    console.find("#op-code").send_keys(code)
    console.press_ok()
    console.dialog_closed()
    console.wait_success_notice()
    console.wait_row_status(customer["id"], "normal")

    # Turning the requirement off takes a code of its own (purpose settings).
    console.find('.sidenav [data-nav="settings"]').click()
    console.visible("#view-settings")
    console.wait_text("#setting-code-state", "On")
    console.find(".switch").click()
    assert console.find("#settings-code-field").is_displayed()
    console.find("#settings-save").click()
    console.wait_text("#settings-error", "verification code")
    assert world.api.call(partner.token, "GET", "/v1/settings")["verification_code_required"] is True
    console.find("#settings-send-code").click()
    settings_code = console.visible("#settings-code-demo code").text
    console.find("#settings-code").send_keys(settings_code)
    console.find("#settings-save").click()
    console.wait_text("#notice-text", "Settings saved.")
    console.wait_text("#setting-code-state", "Off")
    console.shot("setting-off-with-code")
    assert world.api.call(partner.token, "GET", "/v1/settings")["verification_code_required"] is False


def test_unfreeze_through_the_dialog(console: Console, world: World):
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Unfreeze Me Inc.", pay_per_use=3, prepaid=1)
    world.freeze(partner, customer["id"], reason="Overdue")
    console.sign_in(partner.token, expect_role="partner")

    row = console.row(customer["id"])
    assert "3 frozen" in console.find('.counts-line[data-billing="pay_per_use"]', row).text
    console.open_operation(customer["id"], UNFREEZE)
    assert console.text_of("#op-title") == UNFREEZE
    assert not console.find("#op-agreement-field").is_displayed()
    assert "Active restriction" in console.text_of("#op-summary")
    console.shot("dialog")
    console.type_reason("Invoice paid")
    console.press_ok()
    console.dialog_closed()
    assert "3 resources unfrozen" in console.wait_success_notice()

    row = console.wait_row_status(customer["id"], "normal")
    assert console.find(".col-status .badge", row).text == "Normal"
    assert console.find(".col-restriction", row).text == "—"
    assert "3 active" in console.find('.counts-line[data-billing="pay_per_use"]', row).text
    assert console.row_operations(customer["id"]) == [FREEZE, RESTRICT]
    console.shot("unfrozen")
    assert world.get_customer(partner, customer["id"])["status"] == "normal"


def test_restrict_purchase_only_and_lift_it(console: Console, world: World):
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Purchase Only AG", pay_per_use=2, prepaid=1)
    console.sign_in(partner.token, expect_role="partner")

    console.open_operation(customer["id"], RESTRICT)
    console.type_reason("Credit limit reached")
    console.press_ok()
    console.dialog_closed()
    console.wait_success_notice()
    row = console.wait_row_status(customer["id"], "purchase_restricted")
    assert console.find(".col-status .badge", row).text == "Purchase restricted"
    assert "2 active" in console.find('.counts-line[data-billing="pay_per_use"]', row).text  # nothing frozen
    assert console.row_operations(customer["id"]) == [UNRESTRICT]
    console.shot("restricted")

    console.open_operation(customer["id"], UNRESTRICT)
    console.type_reason("Limit raised")
    console.press_ok()
    console.dialog_closed()
    console.wait_success_notice()
    console.wait_row_status(customer["id"], "normal")
    assert world.get_customer(partner, customer["id"])["status"] == "normal"
