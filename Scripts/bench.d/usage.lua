-- wrk: each request reports usage of one of the bench customers' pay-per-use resources
-- (CUSTOMERS is prepended by Scripts/bench: a list of {id, token, {resource ids}}), the
-- customers in turn and each one's resources in turn.
local counter = 0
request = function()
  counter = counter + 1
  local c = CUSTOMERS[(counter % #CUSTOMERS) + 1]
  local resources = c[3]
  local r = resources[(math.floor(counter / #CUSTOMERS) % #resources) + 1]
  return wrk.format("POST", "/v1/customers/" .. c[1] .. "/resources/" .. r .. "/usage",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. c[2] },
    '{"quantity":1}')
end
