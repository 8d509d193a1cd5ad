"""Batch: select customers with the checkboxes and apply one operation to all of them, with a
per-customer result list (partial success included)."""

from support import Console, World

FREEZE = "Restrict Purchase and Freeze Resources"
UNFREEZE = "Unrestrict Purchase and Unfreeze Resources"


def select(console: Console, customer_id: str) -> None:
    box = console.find("input.row-check", console.row(customer_id))
    if not box.is_selected():
        console.click(box)


def batch_button(console: Console, label: str):
    for button in console.find_all("#batch-bar [data-batch-op]"):
        if button.text == label:
            return button
    raise AssertionError(f"no batch button {label!r}")


def test_batch_of_three(console: Console, world: World):
    partner = world.new_partner(granted=True)
    chosen = [world.new_customer(partner, f"Batch {letter}", pay_per_use=2, prepaid=1) for letter in "ABC"]
    untouched = world.new_customer(partner, "Batch D (not selected)")
    console.sign_in(partner.token, expect_role="partner")

    assert not batch_button(console, FREEZE).is_enabled()
    for customer in chosen:
        select(console, customer["id"])
    console.wait_text("#selection-count", "3 customers selected")
    assert batch_button(console, FREEZE).is_enabled()
    assert not batch_button(console, UNFREEZE).is_enabled()  # none of them is frozen
    console.shot("selected")

    console.click(batch_button(console, FREEZE))
    console.dialog_open()
    assert console.text_of("#op-title") == f"{FREEZE} (3 customers)"
    targets = [item.text for item in console.find_all("#op-targets li")]
    assert targets == ["Batch A", "Batch B", "Batch C"]
    console.type_reason("Batch budget stop")
    console.find("#op-agreement").click()
    console.press_ok()

    console.visible("#op-results")
    console.wait_text("#op-results-summary", "The operation is successful.")
    results = console.find_all("#op-results-list li")
    assert len(results) == 3
    for item in results:
        assert item.get_attribute("data-outcome") == "succeeded"
        assert "Succeeded" in item.text and "2 pay-per-use resources frozen" in item.text
    assert sorted(console.find(".result-name", item).text for item in results) == ["Batch A", "Batch B", "Batch C"]
    assert console.find("#op-cancel").text == "Close"
    assert not console.find("#op-ok").is_displayed()
    console.shot("results")
    console.find("#op-cancel").click()
    console.dialog_closed()

    for customer in chosen:
        console.wait_row_status(customer["id"], "frozen")
        assert world.get_customer(partner, customer["id"])["status"] == "frozen"
    console.wait_row_status(untouched["id"], "normal")
    console.wait_text("#selection-count", "No customers selected")
    console.shot("rows-frozen")

    # Lift all three, one of which another session lifted meanwhile: a partial success.
    for customer in chosen:
        select(console, customer["id"])
    console.wait_text("#selection-count", "3 customers selected")
    world.unfreeze(partner, chosen[1]["id"], reason="Lifted elsewhere")
    console.click(batch_button(console, UNFREEZE))
    console.dialog_open()
    console.type_reason("Batch lift")
    console.press_ok()
    console.visible("#op-results")
    console.wait_text("#op-results-summary", "2 of 3 customers succeeded; 1 failed.")
    outcomes = {console.find(".result-name", item).text: item for item in console.find_all("#op-results-list li")}
    assert outcomes["Batch B"].get_attribute("data-outcome") == "failed"
    assert "Failed" in outcomes["Batch B"].text
    assert outcomes["Batch A"].get_attribute("data-outcome") == "succeeded"
    console.shot("partial")
    console.escape()
    console.dialog_closed()
    for customer in chosen:
        console.wait_row_status(customer["id"], "normal")
