-- wrk script for the `put` load test (bench/load/run.sh): every request is an etcd v2
-- PUT of a 64-byte value sent as a form body, the way etcdctl and curl -d send it.
-- The value must stay in step with BENCH_VALUE in run.sh (same 64 bytes).
wrk.method = "PUT"
wrk.body = "value=" .. string.rep("0123456789abcdef", 4)
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
