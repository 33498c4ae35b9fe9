// Password hashing for v2 auth: bcrypt as Go's golang.org/x/crypto/bcrypt writes it (cost
// 10, "$2a$"), through libxcrypt, run off the reactor threads on a small worker pool with a
// bound on the work in flight; and the keyed digest under which a verified password is
// remembered (xxh3-128 with a random per-process secret: the clear password is never kept).
#pragma once

#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "uetcd/reactor/task.hpp"

namespace uetcd::server::auth {

inline constexpr int bcrypt_cost = 10;  // bcrypt.DefaultCost, what etcd 3.4 uses

// Synchronous, for worker threads and tests. "" when libxcrypt fails (no entropy).
std::string bcrypt_hash(std::string_view password);
bool bcrypt_verify(std::string_view password, std::string_view hash);

// xxh3-128 of the password under this process's random secret: what a verified password is
// remembered by. `out` receives password_digest_bytes bytes.
inline constexpr std::size_t password_digest_bytes = 16;
void password_digest_to(std::string_view password, char* out);
std::string password_digest(std::string_view password);

// The worker pool. One per process; the reactors submit jobs and are woken through one
// eventfd per core. Each core keeps at most `jobs_per_core_max` jobs at the pool; further
// requests wait in that core's FIFO (they are bounded by its connections), so a flood of
// bad passwords queues behind itself and never blocks a reactor.
class bcrypt_pool {
public:
    static constexpr unsigned jobs_per_core_max = 8;

    bcrypt_pool(unsigned threads, unsigned cores);
    ~bcrypt_pool();
    bcrypt_pool(const bcrypt_pool&) = delete;
    bcrypt_pool& operator=(const bcrypt_pool&) = delete;

    // On a reactor thread: the hash of `password`, or whether it matches `hash`.
    reactor::task<std::string> hash(std::string password);
    reactor::task<bool> verify(std::string password, std::string hash);

    struct job {
        bool is_verify = false;
        std::string password;
        std::string hash;    // in: to verify; out: the new hash
        bool matched = false;
        unsigned core = 0;
        std::coroutine_handle<> waiter;
    };

private:
    struct core_queue;
    reactor::task<void> run(job& j);
    reactor::task<void> pump(core_queue& q);
    void worker_main();

    std::vector<std::unique_ptr<core_queue>> _cores;
    std::mutex _mutex;
    std::condition_variable _wake;
    std::deque<job*> _jobs;  // at most cores * jobs_per_core_max
    bool _stopping = false;
    std::vector<std::thread> _threads;
};

}  // namespace uetcd::server::auth
