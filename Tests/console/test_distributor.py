"""The distributor's view: its partners with Grant / Revoke, and its resellers' customers."""

from support import Console, World

FREEZE = "Restrict Purchase and Freeze Resources"
RESTRICT = "Restrict Purchase"


def partner_row(console: Console, partner_id: str):
    return console.wait(lambda d: d.find_element("css selector", f'#partners-body tr[data-partner-id="{partner_id}"]'),
                        f"no row for partner {partner_id}")


def test_distributor_grants_and_revokes(console: Console, world: World):
    distributor = world.new_distributor(name="Test Distribution Ltd.")
    first = world.new_partner(granted=False, distributor=distributor, name="Alpha Resellers")
    second = world.new_partner(granted=False, distributor=distributor, name="Beta Resellers")
    alpha_customer = world.new_customer(first, "Alpha's Customer")
    beta_customer = world.new_customer(second, "Beta's Customer")

    console.sign_in(distributor.token, expect_role="distributor")
    nav = [link.text for link in console.find_all(".sidenav .nav-link") if link.is_displayed()]
    assert nav == ["Customer Management", "Partners", "Settings"]

    # Without grants the distributor acts on its resellers' customers itself.
    assert console.find("#customers-table th.col-partner").is_displayed()
    assert console.find(".col-partner", console.row(alpha_customer["id"])).text == "Alpha Resellers"
    assert console.row_operations(alpha_customer["id"]) == [FREEZE, RESTRICT]
    assert console.row_operations(beta_customer["id"]) == [FREEZE, RESTRICT]
    console.shot("customers-before-grant")

    console.find('.sidenav [data-nav="partners"]').click()
    console.visible("#view-partners")
    row = partner_row(console, first.id)
    assert "Alpha Resellers" in row.text
    assert console.find(".permission", row).text == "Not granted"
    assert console.find(".badge", row).text == "Active"
    console.shot("partners")

    # Grant.
    console.find("button.grant", row).click()
    console.wait(lambda d: partner_row(console, first.id).get_attribute("data-granted") == "true", "grant not shown")
    console.wait_success_notice()
    row = partner_row(console, first.id)
    assert "Granted" in console.find(".permission", row).text
    assert console.find_all("button.revoke", row)
    assert console.js("return document.activeElement.classList.contains('revoke')")
    assert world.permission(distributor, first)["granted"] is True
    assert console.find(".permission", partner_row(console, second.id)).text == "Not granted"
    console.shot("granted")

    # Now the partner holds the authority: the distributor can no longer act on its customer.
    console.find('.sidenav [data-nav="customers"]').click()
    console.wait_rows_loaded()
    assert console.row_operations(alpha_customer["id"]) == []
    assert console.find(".no-op", console.row(alpha_customer["id"])).text == "Managed by partner"
    assert console.row_operations(beta_customer["id"]) == [FREEZE, RESTRICT]
    console.shot("customers-after-grant")

    # Revoke, through a confirmation; Cancel first changes nothing.
    console.find('.sidenav [data-nav="partners"]').click()
    console.visible("#view-partners")
    revoke = console.find("button.revoke", partner_row(console, first.id))
    revoke.click()
    console.wait(lambda d: d.find_element("id", "confirm-dialog").get_attribute("open") is not None, "no confirmation")
    assert "Alpha Resellers" in console.text_of("#confirm-text")
    console.find("#confirm-cancel").click()
    console.wait(lambda d: d.find_element("id", "confirm-dialog").get_attribute("open") is None, "confirmation stayed open")
    assert world.permission(distributor, first)["granted"] is True

    console.find("button.revoke", partner_row(console, first.id)).click()
    console.wait(lambda d: d.find_element("id", "confirm-dialog").get_attribute("open") is not None, "no confirmation")
    console.shot("revoke-confirm")
    console.find("#confirm-ok").click()
    console.wait(lambda d: partner_row(console, first.id).get_attribute("data-granted") == "false", "revoke not shown")
    assert console.find(".permission", partner_row(console, first.id)).text == "Not granted"
    assert world.permission(distributor, first)["granted"] is False

    # The history shows the grant and its revocation.
    history = console.find("button.history-toggle", partner_row(console, first.id))
    history.click()
    console.wait(lambda d: "revoked" in d.find_element("css selector", "#partners-body tr.history-row").text, "no history")
    assert history.get_attribute("aria-expanded") == "true"
    console.shot("revoked-history")


def test_distributor_restricts_a_resellers_customer(console: Console, world: World):
    distributor = world.new_distributor()
    partner = world.new_partner(granted=False, distributor=distributor, name="Gamma Resellers")
    customer = world.new_customer(partner, "Gamma's Customer", pay_per_use=2, prepaid=0)
    console.sign_in(distributor.token, expect_role="distributor")

    console.open_operation(customer["id"], FREEZE)
    console.type_reason("Distributor stop")
    console.find("#op-agreement").click()
    console.press_ok()
    console.dialog_closed()
    console.wait_success_notice()
    console.wait_row_status(customer["id"], "frozen")
    state = world.get_customer(distributor, customer["id"])
    assert state["active_restriction"]["applied_by"]["kind"] == "distributor"
    console.shot("distributor-froze")
