-- wrk script: POST /api/checkout/sessions with a new Idempotency-Key on every request.
-- The order comes from the ORDER environment variable.
local order = os.getenv("ORDER")
local body = '{"order_id":"' .. order .. '","wallet_id":"wechat_pay","return_url":"http://127.0.0.1/","device":"desktop"}'
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local counter = 0
function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json", ["Idempotency-Key"] = "wrk-" .. id .. "-" .. counter .. "-" .. math.random(1e9) }
  return wrk.format("POST", "/api/checkout/sessions", headers, body)
end

function response(status)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
