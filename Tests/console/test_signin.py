"""Signing in with an API key (kept in sessionStorage, never in the URL) and signing out."""

from support import Console, World

TOKEN_KEY = "partnerCenter.apiKey"


def test_sign_in_rejects_bad_keys_and_keys_of_other_principals(console: Console, world: World):
    console.open()
    console.visible("#signin-key")
    console.shot("sign-in-page")

    console.find("#signin-submit").click()
    assert console.visible("#signin-error").text == "Enter your API key."

    console.find("#signin-key").send_keys("pc_not-a-real-key")
    console.find("#signin-submit").click()
    console.wait_text("#signin-error", "unknown or revoked")
    assert console.find("#signin-key").get_attribute("aria-invalid") == "true"

    console.find("#signin-key").clear()
    console.find("#signin-key").send_keys(world.customer.token)
    console.find("#signin-submit").click()
    console.wait_text("#signin-error", "for partners and distributors")
    console.shot("customer-key-refused")
    assert console.find("#app").is_displayed() is False
    assert console.session_storage() == {}


def test_partner_signs_in_and_sees_customer_management(console: Console, world: World):
    console.sign_in(world.partner.token, expect_role="partner")
    console.shot("signed-in")

    # The key is in this tab's sessionStorage only: not in the URL, not in localStorage.
    assert console.session_storage() == {TOKEN_KEY: world.partner.token}
    assert world.partner.token not in console.driver.current_url
    assert console.js("return localStorage.length") == 0
    assert console.find("#signin-key").get_attribute("value") == ""

    # Top bar: product name and signed-in principal; nav without Partners for a partner.
    assert console.text_of(".brand") == "PartnerCenter"
    assert console.text_of("#account-role") == "Partner"
    assert console.text_of("#account-key").endswith(world.partner.token[-4:])
    nav = [link.text for link in console.find_all(".sidenav .nav-link") if link.is_displayed()]
    assert nav == ["Customer Management", "Settings"]
    assert console.text_of("#customers-title") == "Customer Management"

    # A reload keeps the session (same tab).
    console.driver.refresh()
    console.visible("#app")
    console.wait_rows_loaded()
    assert console.text_of("#account-role") == "Partner"


def test_sign_out_clears_session_storage(console: Console, world: World):
    console.sign_in(world.partner.token, expect_role="partner")
    assert console.session_storage() != {}
    console.sign_out()
    console.shot("signed-out")

    assert console.session_storage() == {}
    assert console.js("return sessionStorage.length") == 0
    assert "signed out" in console.text_of("#signin-error")
    assert console.find("#app").is_displayed() is False
    # Nothing of the signed-in page is left in the DOM.
    assert console.find_all("#customers-body tr") == []

    # A reload does not sign back in.
    console.driver.refresh()
    console.visible("#signin-key")
    assert console.find("#app").is_displayed() is False


def test_revoked_session_returns_to_sign_in(console: Console, world: World):
    partner = world.new_partner(granted=True)
    console.sign_in(partner.token, expect_role="partner")
    # Another tab or an operator revoking the key is simulated by a key the server does not know.
    console.js("sessionStorage.setItem(arguments[0], 'pc_revoked-key')", TOKEN_KEY)
    console.find("#customers-refresh").click()
    console.visible("#signin-key")
    console.wait_text("#signin-error", "session has ended")
    assert console.session_storage() == {}
