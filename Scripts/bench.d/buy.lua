-- wrk: each request buys one pay-per-use resource for one of the bench customers
-- (CUSTOMERS is prepended by Scripts/bench: a list of {id, token}).
local counter = 0
request = function()
  counter = counter + 1
  local c = CUSTOMERS[(counter % #CUSTOMERS) + 1]
  return wrk.format("POST", "/v1/customers/" .. c[1] .. "/orders",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. c[2] },
    '{"action":"buy","resource":{"type":"ecs.instance","billing_mode":"pay_per_use"}}')
end
