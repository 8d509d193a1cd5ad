-- wrk: alternately a refused buy (the customer is frozen: 409) and a usage report on a
-- frozen resource (423). CUSTOMER = {id, token, resource_id} is prepended by Scripts/bench.
local counter = 0
request = function()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. CUSTOMER[2] }
  if counter % 2 == 0 then
    return wrk.format("POST", "/v1/customers/" .. CUSTOMER[1] .. "/orders", headers,
      '{"action":"buy","resource":{"type":"ecs.instance","billing_mode":"pay_per_use"}}')
  end
  return wrk.format("POST", "/v1/customers/" .. CUSTOMER[1] .. "/resources/" .. CUSTOMER[3] .. "/usage", headers,
    '{"quantity":1}')
end

