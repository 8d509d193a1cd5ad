"""Server-provided strings are rendered as text: markup in a customer's name or a restriction
reason shows literally and never runs."""

from support import XSS_NAME, Console, World

FREEZE = "Restrict Purchase and Freeze Resources"
FLAG_NAME = '<img src=x onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=2</script>'
REASON = '<b>bold</b> & <a href="javascript:alert(2)">link</a>'


def injected(console: Console) -> None:
    """Fails if any payload ran or created elements."""
    console.assert_no_alert()
    assert console.js("return document.body.dataset.pwned === undefined"), "injected script ran"
    assert console.find_all("main img[src='x'], dialog img[src='x']") == []
    assert console.find_all("main script, dialog script") == []
    assert console.find_all("main a[href^='javascript']") == []


def test_xss_named_customer_renders_as_text(console: Console, world: World):
    partner = world.new_partner(granted=True)
    # Created through the operator API, as the brief says.
    created = world.api.call(world.operator.token, "POST", "/v1/customers", {"partner_id": partner.id, "name": XSS_NAME})
    xss_id = created["id"].lower()
    flag = world.new_customer(partner, FLAG_NAME, pay_per_use=1, prepaid=0)
    world.freeze(partner, flag["id"], reason=REASON)

    console.sign_in(partner.token, expect_role="partner")
    row = console.row(xss_id)
    link = console.find(".customer-link", row)
    assert link.text == XSS_NAME
    assert link.get_attribute("textContent") == XSS_NAME
    assert console.find("input.row-check", row).get_attribute("aria-label") == f"Select {XSS_NAME}"
    flag_row = console.row(flag["id"])
    assert console.find(".customer-link", flag_row).text == FLAG_NAME
    assert REASON in console.find(".restriction-reason", flag_row).text
    injected(console)
    console.shot("list")

    # In the dialog.
    console.open_operation(xss_id, FREEZE)
    assert console.find("#op-summary .target-name").text == XSS_NAME
    injected(console)
    console.shot("dialog")
    console.escape()
    console.dialog_closed()

    # In the batch dialog and its results.
    console.find("input.row-check", console.row(xss_id)).click()
    for button in console.find_all("#batch-bar [data-batch-op]"):
        if button.text == FREEZE:
            button.click()
            break
    console.dialog_open()
    assert [item.text for item in console.find_all("#op-targets li")] == [XSS_NAME]
    console.type_reason(REASON)
    console.find("#op-agreement").click()
    console.press_ok()
    console.wait_text("#op-results-summary", "The operation is successful.")
    assert console.find("#op-results-list .result-name").text == XSS_NAME
    injected(console)
    console.shot("batch-results")
    console.find("#op-cancel").click()
    console.dialog_closed()

    # On the detail page: heading, breadcrumb, reason, audit trail.
    row = console.wait_row_status(xss_id, "frozen")
    console.find(".customer-link", row).click()
    console.wait_text("#customer-name", XSS_NAME)
    assert console.text_of("#customer-crumb") == XSS_NAME
    assert REASON in console.text_of("#customer-facts")
    console.wait(lambda d: console.find_all('#audit-body tr[data-action="customer.restricted"]'), "no audit event")
    assert REASON in console.find('#audit-body tr[data-action="customer.restricted"]').text
    injected(console)
    console.shot("detail")
