-- wrk script for bench/load/restart.sh: every request PUTs a new distinct key
-- /v2/keys/load/r<RUN>t<thread>_<n> with a 64-byte form value (RUN from the environment, so
-- that repeated wrk runs never rewrite a key). restart.sh repeats short runs until the store
-- holds the number of keys it wants.
local counter = 1

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end

function init(args)
    run = os.getenv("RUN") or "0"
    sent = 0
    body = "value=" .. string.rep("0123456789abcdef", 4)
    hdrs = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
    sent = sent + 1
    return wrk.format("PUT", "/v2/keys/load/r" .. run .. "t" .. id .. "_" .. sent, hdrs, body)
end
