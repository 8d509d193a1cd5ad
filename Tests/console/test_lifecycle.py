"""The resource lifecycle (DESIGN §9) in the console: customer levels, prepaid resources that
expired (grace) or were frozen by expiry, the scheduled lift of a restriction, the freeze
dialog's impact preview (a dry run), and the retention policies by level."""

from datetime import timedelta

from support import Console, World, iso, parse_iso, retention_sweep, utc_now

FREEZE = "Restrict Purchase and Freeze Resources"
RESTRICT = "Restrict Purchase"
UNRESTRICT = "Unrestrict Purchase"
DAY = 86400
LEVELS = ["v0", "v1", "v2", "v3", "v4", "v5"]


def lift_time(console: Console, element) -> object:
    """The instant a "Lifts automatically on …" element shows (its <time datetime>)."""
    return parse_iso(console.find("time", element).get_attribute("datetime"))


def test_level_column_and_scheduled_lift_in_the_list(console: Console, world: World):
    partner = world.new_partner(granted=True)
    plain = world.new_customer(partner, "Level Zero Ltd.", pay_per_use=1, prepaid=0)
    gold = world.new_customer(partner, "Level Three Ltd.", pay_per_use=1, prepaid=0, level="v1")
    assert world.set_level(gold["id"], "v3")["level"] == "v3"
    scheduled = world.new_customer(partner, "Scheduled Lift GmbH", pay_per_use=2, prepaid=1, level="v2")
    lift_at = (utc_now() + timedelta(days=3)).replace(microsecond=0)
    answer = world.freeze(partner, scheduled["id"], "purchase", reason="Until the invoice is paid", lift_at=lift_at)
    assert parse_iso(answer["lift_at"]) == lift_at, answer
    # The API: a new customer is at level v0; the restriction carries its scheduled lift.
    assert world.get_customer(partner, plain["id"])["level"] == "v0"
    state = world.get_customer(partner, scheduled["id"])
    assert state["level"] == "v2"
    assert parse_iso(state["active_restriction"]["lift_at"]) == lift_at

    console.sign_in(partner.token, expect_role="partner")
    headers = [th.text for th in console.find_all("#customers-table thead th") if th.is_displayed()]
    assert headers == ["Select", "Customer", "Level", "Status", "Restriction", "Resources", "Budget", "Operation"]
    assert console.find(".col-level", console.row(plain["id"])).text == "V0"
    assert console.find(".col-level", console.row(gold["id"])).text == "V3"
    assert console.find(".col-level", console.row(scheduled["id"])).text == "V2"

    row = console.row(scheduled["id"])
    cell = console.find(".col-restriction", row)
    assert "Lifts automatically on" in cell.text, cell.text
    assert lift_time(console, console.find(".lift-at", cell)) == lift_at
    assert console.find_all(".lift-at", console.row(plain["id"])) == []
    console.shot("list-levels-and-scheduled-lift")

    # The lift dialog says that a lift is scheduled.
    console.open_operation(scheduled["id"], UNRESTRICT)
    assert "scheduled to lift automatically" in console.text_of("#op-summary")
    assert not console.find("#op-lift-field").is_displayed()  # only a freeze schedules a lift
    assert not console.find("#op-preview").is_displayed()
    console.escape()
    console.dialog_closed()

    # The detail page: the level and the scheduled lift in the restriction summary.
    console.find(".customer-link", console.row(scheduled["id"])).click()
    console.wait_text("#customer-name", "Scheduled Lift GmbH")
    console.wait_text("#customer-facts", "Lifts automatically on")
    assert console.find("#customer-facts .customer-level").text == "V2"
    assert lift_time(console, console.find("#customer-facts .lift-at")) == lift_at


def test_detail_shows_expired_and_frozen_by_expiry_prepaid_resources(console: Console, world: World, server_binary,
                                                                      database_url, output_dir):
    # Level v4 (no other test uses it): one day of grace, thirty days of retention.
    world.set_retention_policy("v4", freeze_retention_seconds=30 * DAY, prepaid_grace_seconds=DAY,
                               prepaid_retention_seconds=30 * DAY)
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Lifecycle Detail Ltd.", pay_per_use=2, prepaid=0)
    world.set_level(customer["id"], "v4")
    now = utc_now()
    expired_id = world.provision(customer["id"], "prepaid", "rds.instance", expires_at=now - timedelta(hours=1))["id"].lower()
    lapsed_id = world.provision(customer["id"], "prepaid", "oss.bucket", expires_at=now - timedelta(days=10))["id"].lower()
    current_id = world.provision(customer["id"], "prepaid", "rds.instance", expires_at=now + timedelta(days=90))["id"].lower()

    # The sweep moves them: one hour past expiry is within the grace (expired), ten days past
    # is beyond it (frozen by expiry). It may take a pass per transition.
    def states():
        found = world.resources(partner, customer["id"])
        return {rid: found[rid]["state"] for rid in (expired_id, lapsed_id, current_id)}
    wanted = {expired_id: "expired", lapsed_id: "frozen", current_id: "active"}
    for _ in range(3):
        retention_sweep(server_binary, database_url, output_dir / "lifecycle-sweep.log")
        if states() == wanted:
            break
    assert states() == wanted

    lift_at = (utc_now() + timedelta(days=5)).replace(microsecond=0)
    world.freeze(partner, customer["id"], reason="Overdue since March", lift_at=lift_at)

    # The API as the contract says: grace_until once expired, frozen_reason while frozen.
    resources = world.resources(partner, customer["id"])
    expired, lapsed = resources[expired_id], resources[lapsed_id]
    assert "grace_until" in expired and "frozen_reason" not in expired, expired
    assert parse_iso(expired["grace_until"]) > utc_now()
    assert lapsed["frozen_reason"] == "expired" and "grace_until" in lapsed and "retention_until" in lapsed, lapsed
    pay_per_use = [r for r in resources.values() if r["billing_mode"] == "pay_per_use"]
    assert len(pay_per_use) == 2 and all(r["state"] == "frozen" and r["frozen_reason"] == "restriction" for r in pay_per_use)
    counts = world.get_customer(partner, customer["id"])["resource_counts"]
    assert counts["prepaid"]["expired"] == 1 and counts["prepaid"]["frozen"] == 1 and counts["prepaid"]["active"] == 1, counts

    console.sign_in(partner.token, expect_role="partner")
    row = console.row(customer["id"])
    assert console.find(".col-level", row).text == "V4"
    prepaid_line = console.find('.counts-line[data-billing="prepaid"]', row).text
    for part in ("1 active", "1 expired", "1 frozen"):
        assert part in prepaid_line, prepaid_line
    assert "Lifts automatically on" in console.find(".col-restriction", row).text

    console.find(".customer-link", row).click()
    console.wait_text("#customer-name", "Lifecycle Detail Ltd.")
    console.wait(lambda d: len(console.find_all("#resources-body tr.resource")) == 5, "resources never loaded")
    facts = console.text_of("#customer-facts")
    assert "Level" in facts and console.find("#customer-facts .customer-level").text == "V4"
    assert "Lifts automatically on" in facts
    console.wait_text("#customer-facts .level-policy", "1 day grace")
    assert console.find('.count-card[data-billing="prepaid"] .count-value.expired').text == "1"
    assert console.find('.count-card[data-billing="prepaid"] .count-value.frozen').text == "1"
    assert console.find('.count-card[data-billing="prepaid"] .count-value.active').text == "1"
    assert console.find('.count-card[data-billing="pay_per_use"] .count-value.frozen').text == "2"

    def resource_row(resource_id: str):
        return console.find(f'#resources-body tr[data-resource-id="{resource_id}"]')

    # Expired: its own badge, still usable, with the grace deadline.
    row = resource_row(expired_id)
    assert row.get_attribute("data-state") == "expired"
    assert "is-expired" in row.get_attribute("class")
    badge = console.find(".resource-state .badge", row)
    assert badge.text == "Expired" and "warn" in badge.get_attribute("class")
    assert "Grace until" in row.text
    assert parse_iso(console.find(".grace time", row).get_attribute("datetime")) == parse_iso(expired["grace_until"])

    # Frozen by expiry: the reason says that a renewal reactivates it; retention as for any freeze.
    row = resource_row(lapsed_id)
    assert row.get_attribute("data-state") == "frozen" and row.get_attribute("data-frozen-reason") == "expired"
    assert console.find(".frozen-reason", row).text == "Frozen: expired — renew to reactivate"
    assert "Retained until" in row.text and console.find(".retention time", row).get_attribute("datetime")

    # Frozen by the restriction: a different reason, and no renewal hint.
    for resource in pay_per_use:
        row = resource_row(resource["id"].lower())
        assert row.get_attribute("data-frozen-reason") == "restriction"
        assert console.find(".frozen-reason", row).text == "Frozen: restriction"
        assert "renew" not in row.text and "Retained until" in row.text

    row = resource_row(current_id)
    assert row.get_attribute("data-state") == "active" and console.find(".resource-state .badge", row).text == "Active"
    console.shot("detail-level-lift-and-counts")
    console.js("arguments[0].scrollIntoView({block: 'start'})", console.find("#resources-table"))
    console.shot("detail-expired-and-frozen-by-expiry")


def test_freeze_dialog_previews_the_impact_and_schedules_a_lift(console: Console, world: World):
    # Thirty days of retention (the distributor's own), so what runs out before it is known.
    distributor = world.new_distributor(retention_seconds=30 * DAY)
    partner = world.new_partner(granted=True, distributor=distributor)
    customer = world.new_customer(partner, "Preview Industries", pay_per_use=4, prepaid=0, data_bytes=375_000_000)
    now = utc_now()
    soonest = world.provision(customer["id"], "prepaid", expires_at=now + timedelta(days=1))["id"].lower()
    world.provision(customer["id"], "prepaid", expires_at=now + timedelta(days=3), count=101)
    world.provision(customer["id"], "prepaid", expires_at=now + timedelta(days=200))  # after the retention

    # The dry run through the API: the numbers the dialog must show, and nothing changed.
    audit_before = world.api.call(partner.token, "GET", f"/v1/audit-events?customer_id={customer['id']}&limit=200")["items"]
    preview = world.preview(partner, customer["id"])
    assert preview["dry_run"] is True and preview["customer_id"].lower() == customer["id"]
    assert preview["type"] == "purchase_and_resources"
    assert preview["frozen_resources"] == 4
    assert preview["data_bytes_at_risk"] == 1_500_000_000
    assert "retention_until" in preview and "lift_at" not in preview
    assert preview["prepaid_expiring_total"] == 102
    assert len(preview["prepaid_expiring"]) == 100
    assert preview["prepaid_expiring"][0]["resource_id"].lower() == soonest
    assert all({"resource_id", "expires_at", "grace_until"} <= set(item) for item in preview["prepaid_expiring"])
    assert world.get_customer(partner, customer["id"])["status"] == "normal"
    assert world.api.call(partner.token, "GET", f"/v1/audit-events?customer_id={customer['id']}&limit=200")["items"] == audit_before
    # A lift in the past or more than 365 days ahead is refused, by the dry run and the freeze alike.
    path = f"/v1/customers/{customer['id']}/freeze"
    for moment in (now - timedelta(hours=1), now + timedelta(days=400)):
        refused = world.api.call(partner.token, "POST", path, {"dry_run": True, "type": "purchase", "lift_at": iso(moment)}, expect=(422,))
        assert refused["error"]["code"] == "validation_failed", refused
        refused = world.api.call(partner.token, "POST", path, {"type": "purchase", "reason": "Too far", "lift_at": iso(moment)}, expect=(422,))
        assert refused["error"]["code"] == "validation_failed", refused
    assert world.get_customer(partner, customer["id"])["status"] == "normal"

    console.sign_in(partner.token, expect_role="partner")
    console.open_operation(customer["id"], FREEZE)
    console.visible("#op-preview")
    console.wait_preview("ready")
    assert console.text_of("#op-preview-frozen .preview-value") == "4"
    assert console.text_of("#op-preview-data .preview-value") == "1.5 GB"
    # The retention runs from now: a moment later than the API's dry run above, thirty days ahead.
    retention = parse_iso(console.find("#op-preview-retention time").get_attribute("datetime"))
    assert timedelta(0) <= retention - parse_iso(preview["retention_until"]) < timedelta(minutes=2)
    assert abs(retention - (utc_now() + timedelta(days=30))) < timedelta(minutes=2)
    assert console.find_all("#op-preview-lift") == []
    items = console.find_all("#op-preview-prepaid-list li")
    assert len(items) == 100
    assert items[0].get_attribute("data-resource-id") == soonest
    first = items[0].get_attribute("textContent")
    assert first.startswith(f"{soonest[:8]} expires ") and console.find("time", items[0]).get_attribute("datetime"), first
    assert console.find("#op-preview-more").get_attribute("textContent") == "and 2 more"
    assert "102 prepaid resources run out" in console.find("#op-preview-prepaid").get_attribute("textContent")
    assert console.find("#op-ok").is_enabled()
    assert console.find("#op-lift-field").is_displayed()
    assert console.find("#op-lift-at").get_attribute("type") == "datetime-local"
    assert console.find("#op-lift-at").get_attribute("min") and console.find("#op-lift-at").get_attribute("max")
    console.shot("dialog-preview")
    console.js("arguments[0].scrollTop = arguments[0].scrollHeight", console.find("#op-preview"))
    console.shot("dialog-preview-prepaid-running-out")
    console.js("arguments[0].scrollTop = 0", console.find("#op-preview"))

    # More than 365 days ahead: refused before anything is sent.
    console.type_reason("Budget for the quarter is used up")
    console.find("#op-agreement").click()
    console.set_lift_at(utc_now() + timedelta(days=400))
    console.press_ok()
    assert "365 days" in console.visible("#op-lift-error").text
    assert console.find("#op-lift-at").get_attribute("aria-invalid") == "true"
    # The preview asked with that time fails (422) and says so, without blocking.
    console.wait_preview("error")
    assert "could not be checked" in console.text_of("#op-preview-status")
    assert world.get_customer(partner, customer["id"])["status"] == "normal"

    # A time two days ahead: the preview is asked again with it, and shows the lift.
    _, chosen = console.set_lift_at(utc_now() + timedelta(days=2))
    assert not console.find("#op-lift-error").is_displayed()
    console.wait(lambda d: console.find_all("#op-preview-lift time")
                 and parse_iso(console.find("#op-preview-lift time").get_attribute("datetime")) == chosen
                 and console.find("#op-preview").get_attribute("data-state") == "ready",
                 "the preview was not refreshed with the chosen lift")
    assert "Lifts automatically on" in console.text_of("#op-preview-lift")
    assert console.text_of("#op-preview-frozen .preview-value") == "4"
    console.shot("dialog-preview-with-lift")

    console.press_ok()
    console.dialog_closed()
    notice = console.wait_success_notice()
    assert "4 pay-per-use resources frozen" in notice and "Lifts automatically on" in notice, notice
    row = console.wait_row_status(customer["id"], "frozen")
    cell = console.find(".col-restriction", row)
    assert "Lifts automatically on" in cell.text
    assert lift_time(console, console.find(".lift-at", cell)) == chosen
    state = world.get_customer(partner, customer["id"])
    assert state["status"] == "frozen"
    assert parse_iso(state["active_restriction"]["lift_at"]) == chosen
    console.shot("list-after-freeze-with-lift")


def test_preview_of_purchase_only_and_a_failing_preview(console: Console, world: World):
    partner = world.new_partner(granted=True)
    customer = world.new_customer(partner, "Preview Conflict AG", pay_per_use=2, prepaid=1)
    console.sign_in(partner.token, expect_role="partner")

    # Restrict Purchase freezes nothing: no retention either.
    console.open_operation(customer["id"], RESTRICT)
    console.wait_preview("ready")
    assert console.text_of("#op-preview-frozen .preview-value") == "0"
    assert console.find_all("#op-preview-retention") == []
    assert console.find("#op-lift-field").is_displayed()
    console.escape()
    console.dialog_closed()

    console.open_operation(customer["id"], FREEZE)
    console.wait_preview("ready")
    assert console.text_of("#op-preview-frozen .preview-value") == "2"
    # Meanwhile someone else restricts the customer; the next preview (a new lift time) fails.
    world.freeze(partner, customer["id"], "purchase", reason="Restricted elsewhere")
    console.set_lift_at(utc_now() + timedelta(days=1))
    console.wait_preview("error")
    status = console.visible("#op-preview-status").text
    assert "could not be checked" in status and "already" in status.lower(), status
    assert console.find("#op-preview-retry").is_displayed()
    assert console.find("#op-ok").is_enabled()  # the preview never blocks
    console.shot("dialog-preview-failed")

    # OK still sends the freeze, and the server's refusal shows as usual.
    console.type_reason("Second try")
    console.find("#op-agreement").click()
    console.press_ok()
    assert "already" in console.dialog_error().lower()
    console.find("#op-cancel").click()
    console.dialog_closed()


def test_batch_freeze_with_a_scheduled_lift(console: Console, world: World):
    partner = world.new_partner(granted=True)
    chosen = [world.new_customer(partner, f"Batch Lift {letter}", pay_per_use=1, prepaid=1) for letter in "AB"]
    console.sign_in(partner.token, expect_role="partner")
    for customer in chosen:
        console.click(console.find("input.row-check", console.row(customer["id"])))
    console.wait_text("#selection-count", "2 customers selected")
    for button in console.find_all("#batch-bar [data-batch-op]"):
        if button.text == FREEZE:
            console.click(button)
            break
    console.dialog_open()
    assert console.find("#op-lift-field").is_displayed()
    assert not console.find("#op-preview").is_displayed()  # no dry run for a batch
    _, lift_at = console.set_lift_at(utc_now() + timedelta(days=1, hours=6))
    console.type_reason("Batch with a scheduled lift")
    console.find("#op-agreement").click()
    console.shot("batch-dialog")
    console.press_ok()
    console.wait_text("#op-results-summary", "The operation is successful.")
    for item in console.find_all("#op-results-list li"):
        assert item.get_attribute("data-outcome") == "succeeded"
        assert "Lifts automatically on" in item.text, item.text
    console.shot("batch-results")
    console.find("#op-cancel").click()
    console.dialog_closed()

    for customer in chosen:
        row = console.wait_row_status(customer["id"], "frozen")
        assert lift_time(console, console.find(".col-restriction .lift-at", row)) == lift_at
        assert parse_iso(world.get_customer(partner, customer["id"])["active_restriction"]["lift_at"]) == lift_at
    console.shot("batch-rows")


def test_settings_show_the_retention_policies(console: Console, world: World):
    # Level v5 (no other test uses it).
    world.set_retention_policy("v5", freeze_retention_seconds=7 * DAY, prepaid_grace_seconds=2 * 3600,
                               prepaid_retention_seconds=30 * DAY)
    policies = world.api.call(world.partner.token, "GET", "/v1/retention-policies")["items"]
    assert sorted(policy["level"] for policy in policies) == LEVELS
    v5 = next(policy for policy in policies if policy["level"] == "v5")
    assert (v5["freeze_retention_seconds"], v5["prepaid_grace_seconds"], v5["prepaid_retention_seconds"]) == (7 * DAY, 7200, 30 * DAY)

    console.sign_in(world.partner.token, expect_role="partner")
    console.find('.sidenav [data-nav="settings"]').click()
    console.visible("#view-settings")
    console.wait(lambda d: len(console.find_all("#policies-body tr[data-level]")) == 6, "the policies never loaded")
    rows = console.find_all("#policies-body tr[data-level]")
    assert [row.get_attribute("data-level") for row in rows] == LEVELS
    assert [console.find(".badge", row).text for row in rows] == [level.upper() for level in LEVELS]
    cells = [cell.text for cell in console.find_all("td", console.find('#policies-body tr[data-level="v5"]'))]
    assert cells[:3] == ["7 days", "2 hours", "30 days"], cells
    console.js("arguments[0].scrollIntoView({block: 'center'})", console.find("#policies"))
    console.shot("retention-policies")
