"""Customer Management: the list, filtering, paging, and the customer detail page."""

import os
import subprocess
import time

from support import Console, World

FREEZE = "Restrict Purchase and Freeze Resources"
RESTRICT = "Restrict Purchase"
UNFREEZE = "Unrestrict Purchase and Unfreeze Resources"
UNRESTRICT = "Unrestrict Purchase"


def test_list_shows_seeded_customers_with_status_counts_and_operations(console: Console, world: World):
    console.sign_in(world.partner.token, expect_role="partner")
    rows = console.find_all("#customers-body tr[data-customer-id]")
    names = sorted(console.find(".customer-link", row).text for row in rows)
    console.shot("seeded-list")
    # The partner holding the permission sees its own three customers, not the other partner's.
    for name in ("Adatum Corporation", "Litware Inc.", "Proseware Ltd."):
        assert name in names
    assert "Tailspin Toys" not in names and "Wingtip Toys" not in names

    adatum = next(row for row in rows if console.find(".customer-link", row).text == "Adatum Corporation")
    assert console.find(".col-status .badge", adatum).text == "Normal"
    assert console.find(".col-restriction", adatum).text == "—"
    pay_per_use = console.find('.counts-line[data-billing="pay_per_use"]', adatum).text
    prepaid = console.find('.counts-line[data-billing="prepaid"]', adatum).text
    assert "8 active" in pay_per_use, pay_per_use
    assert "2 active" in prepaid, prepaid
    assert "10 resources in total" in console.find(".col-resources", adatum).text
    assert [b.text for b in console.find_all("button.op-link", adatum)] == [FREEZE, RESTRICT]
    # Columns a partner sees (no Partner column).
    headers = [th.text for th in console.find_all("#customers-table thead th") if th.is_displayed()]
    assert headers == ["Select", "Customer", "Level", "Status", "Restriction", "Resources", "Budget", "Operation"]
    assert console.find(".col-level", adatum).text == "V0"


def test_partner_without_permission_has_no_operations(console: Console, world: World):
    console.sign_in(world.partner_without_permission.token, expect_role="partner")
    rows = console.find_all("#customers-body tr[data-customer-id]")
    assert rows, "the partner without permission should still see its customers"
    for row in rows:
        assert console.find_all("button.op-link", row) == []
        assert console.find(".no-op", row).text == "No permission"
        assert not console.find("input.row-check", row).is_enabled()
    assert "has not granted you the permission" in console.visible("#customers-banner").text
    console.shot("no-permission")


def test_filter_by_status(console: Console, world: World):
    partner = world.new_partner(granted=True)
    normal = world.new_customer(partner, "Filter Normal")
    restricted = world.new_customer(partner, "Filter Restricted")
    frozen = world.new_customer(partner, "Filter Frozen")
    world.freeze(partner, restricted["id"], "purchase", reason="Unpaid invoice")
    world.freeze(partner, frozen["id"], "purchase_and_resources", reason="Budget exhausted")

    console.sign_in(partner.token, expect_role="partner")
    assert sorted(console.row_ids()) == sorted(c["id"] for c in (normal, restricted, frozen))
    row = console.row(restricted["id"])
    assert console.find(".col-status .badge", row).text == "Purchase restricted"
    assert "Purchase restricted" in console.find(".restriction-type", row).text
    assert "Unpaid invoice" in console.find(".restriction-reason", row).text
    assert console.find(".col-restriction time", row).get_attribute("datetime")
    assert console.row_operations(restricted["id"]) == [UNRESTRICT]
    assert console.row_operations(frozen["id"]) == [UNFREEZE]

    console.set_status_filter("frozen")
    assert console.row_ids() == [frozen["id"]]
    console.shot("filter-frozen")
    console.set_status_filter("purchase_restricted")
    assert console.row_ids() == [restricted["id"]]
    console.set_status_filter("normal")
    assert console.row_ids() == [normal["id"]]
    console.set_status_filter("")
    assert len(console.row_ids()) == 3


def test_paging_with_previous_stack_and_batch_limit(console: Console, world: World):
    partner = world.new_partner(granted=True)
    customers = [world.new_customer(partner, f"Paging {i:02d}", pay_per_use=1, prepaid=0) for i in range(12)]
    console.sign_in(partner.token, expect_role="partner")

    # Twelve fit on one page of 20: select ten, and the others can no longer be selected.
    assert len(console.row_ids()) == 12
    boxes = console.find_all("#customers-body input.row-check")
    for box in boxes[:10]:
        console.click(box)
    console.wait_text("#selection-count", "10 customers selected")
    assert all(not box.is_enabled() for box in boxes[10:])
    assert all(box.is_enabled() for box in boxes[:10])
    console.shot("ten-selected")
    console.click(boxes[0])
    console.wait(lambda d: boxes[10].is_enabled(), "a checkbox stayed disabled below the limit")
    console.click("#selection-clear")
    console.wait_text("#selection-count", "No customers selected")

    # Pages of ten: next, then previous returns the same first page.
    console.set_page_size(10)
    first = console.row_ids()
    assert len(first) == 10
    assert console.text_of("#page-info") == "Page 1"
    assert not console.find("#page-prev").is_enabled()
    console.click("#page-next")
    console.wait_text("#page-info", "Page 2")
    console.wait_rows_loaded()
    second = console.row_ids()
    console.shot("page-2")
    assert len(second) == 2
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(c["id"] for c in customers)
    assert not console.find("#page-next").is_enabled()
    console.click("#page-prev")
    console.wait_text("#page-info", "Page 1")
    console.wait_rows_loaded()
    assert console.row_ids() == first


def test_customer_detail_shows_resources_retention_released_and_audit(console: Console, world: World, server_binary, database_url):
    # A distributor whose retention period is one second, so the sweep can release at once.
    distributor = world.new_distributor(retention_seconds=1)
    partner = world.new_partner(granted=True, distributor=distributor)
    released = world.new_customer(partner, "Detail Released", pay_per_use=2, prepaid=1)
    frozen = world.new_customer(partner, "Detail Frozen", pay_per_use=3, prepaid=1)
    world.freeze(partner, released["id"], reason="Retention test")
    time.sleep(1.5)  # past retention_until
    sweep = subprocess.run([server_binary, "retention-sweep"], env={**os.environ, "DATABASE_URL": database_url},
                           capture_output=True, text=True, timeout=120)
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    world.freeze(partner, frozen["id"], reason="Quarter budget used up")

    console.sign_in(partner.token, expect_role="partner")
    # Released: counted as released in the list.
    row = console.row(released["id"])
    assert "2 released" in console.find('.counts-line[data-billing="pay_per_use"]', row).text

    console.find(".customer-link", console.row(frozen["id"])).click()
    console.wait_text("#customer-name", "Detail Frozen")
    assert console.find("#customer-status .badge").text == "Frozen"
    console.wait(lambda d: len(console.find_all("#resources-body tr.resource")) == 4, "resources never loaded")
    frozen_rows = console.find_all('#resources-body tr[data-state="frozen"]')
    assert len(frozen_rows) == 3
    for resource in frozen_rows:
        assert "Pay-per-use" in resource.text
        assert "Retained until" in resource.text
        assert console.find(".retention time", resource).get_attribute("datetime")
    prepaid_rows = console.find_all('#resources-body tr[data-state="active"]')
    assert len(prepaid_rows) == 1 and "Prepaid" in prepaid_rows[0].text
    console.wait(lambda d: console.find_all('#audit-body tr[data-action="customer.restricted"]'), "no audit event")
    event = console.find('#audit-body tr[data-action="customer.restricted"]')
    assert "Quarter budget used up" in event.text
    assert "Partner" in event.text
    facts = console.text_of("#customer-facts")
    assert "Quarter budget used up" in facts and "Agreement version" in facts
    assert [b.text for b in console.find_all("#customer-ops button.op-link")] == [UNFREEZE]
    console.shot("detail-frozen")

    console.open(f"#customer/{released['id']}")
    console.wait_text("#customer-name", "Detail Released")
    console.wait(lambda d: len(console.find_all('#resources-body tr[data-state="released"]')) == 2, "released rows never shown")
    for resource in console.find_all('#resources-body tr[data-state="released"]'):
        assert "Released" in resource.text and "not recoverable" in resource.text
        assert "is-released" in resource.get_attribute("class")
    assert console.find('.count-card[data-billing="pay_per_use"] .count-value.released').text == "2"
    console.wait(lambda d: console.find_all('#audit-body tr[data-action="resource.released"]'), "no release in the audit trail")
    console.shot("detail-released")

    # Back to the list through the breadcrumb.
    console.find('.breadcrumb a[href="#customers"]').click()
    console.visible("#view-customers")
    console.wait_rows_loaded()
