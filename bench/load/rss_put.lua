-- wrk script for bench/load/rss_1m.sh: each thread PUTs QUOTA distinct keys
-- /v2/keys/rss/k<thread>_<n> with a 64-byte form value, then stops once all its 201s are in
-- (after its quota a thread sends GET /version, so no key is written twice).
local counter = 1
local threads = {}

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    quota = tonumber(os.getenv("QUOTA") or "1000")
    sent = 0
    created = 0
    body = "value=" .. string.rep("0123456789abcdef", 4)
    hdrs = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
    if sent < quota then
        sent = sent + 1
        return wrk.format("PUT", "/v2/keys/rss/k" .. id .. "_" .. sent, hdrs, body)
    end
    return wrk.format("GET", "/version")
end

function response(status, headers, body)
    if status == 201 then
        created = created + 1
        if created >= quota then
            wrk.thread:stop()
        end
    end
end

function done(summary, latency, requests)
    local total = 0
    for _, t in ipairs(threads) do
        total = total + t:get("created")
    end
    io.write(string.format("created=%d\n", total))
end
