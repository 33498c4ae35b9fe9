// bcrypt through libxcrypt, its worker pool, and the keyed password digest; see
// auth_crypto.hpp.
#include "uetcd/server/auth_crypto.hpp"

#include <crypt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "uetcd/assert.hpp"
#include "uetcd/reactor/ops.hpp"
#include "uetcd/reactor/reactor.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace uetcd::server::auth {

namespace {

// bcrypt threads yield to the reactors: a flood of bad passwords spends idle CPU, not the
// CPU the reactors need to answer everyone else.
constexpr int worker_nice = 19;
constexpr std::size_t salt_entropy_bytes = 16;
constexpr std::size_t digest_secret_bytes = 192;  // > XXH3_SECRET_SIZE_MIN (136)

bool fill_random(void* out, std::size_t size_bytes) {
    auto* p = static_cast<unsigned char*>(out);
    std::size_t got = 0;
    while (got < size_bytes) {
        const ssize_t n = ::getrandom(p + got, size_bytes - got, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        got += static_cast<std::size_t>(n);
    }
    return true;
}

const std::array<unsigned char, digest_secret_bytes>& digest_secret() {
    static const auto secret = [] {
        std::array<unsigned char, digest_secret_bytes> s{};
        UETCD_ASSERT(fill_random(s.data(), s.size()));
        return s;
    }();
    return secret;
}

// crypt_data is 32 KiB: one per worker thread, reused.
crypt_data& thread_crypt_data() {
    thread_local auto data = std::make_unique<crypt_data>();
    return *data;
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

}  // namespace

std::string bcrypt_hash(std::string_view password) {
    unsigned char entropy[salt_entropy_bytes];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (has_nul(password) || !fill_random(entropy, sizeof(entropy)) ||
        crypt_gensalt_rn("$2a$", bcrypt_cost, reinterpret_cast<const char*>(entropy),
            sizeof(entropy), setting, sizeof(setting)) == nullptr) {
        return {};
    }
    const std::string clear(password);
    crypt_data& data = thread_crypt_data();
    std::memset(&data, 0, sizeof(data));
    const char* out = crypt_r(clear.c_str(), setting, &data);
    if (out == nullptr || out[0] == '*') {
        return {};
    }
    return out;
}

bool bcrypt_verify(std::string_view password, std::string_view hash) {
    // Go's bcrypt compares bytes; a C string stops at NUL, so such a password never matches.
    if (has_nul(password) || has_nul(hash) || !hash.starts_with("$2")) {
        return false;
    }
    const std::string clear(password);
    const std::string setting(hash);
    crypt_data& data = thread_crypt_data();
    std::memset(&data, 0, sizeof(data));
    const char* out = crypt_r(clear.c_str(), setting.c_str(), &data);
    return out != nullptr && out[0] != '*' && equal_constant_time(out, hash);
}

void password_digest_to(std::string_view password, char* out) {
    const auto& secret = digest_secret();
    const XXH128_hash_t h =
        XXH3_128bits_withSecret(password.data(), password.size(), secret.data(), secret.size());
    std::memcpy(out, &h.low64, 8);
    std::memcpy(out + 8, &h.high64, 8);
}

std::string password_digest(std::string_view password) {
    std::string out(password_digest_bytes, '\0');
    password_digest_to(password, out.data());
    return out;
}

struct bcrypt_pool::core_queue {
    int event_fd = -1;
    unsigned in_flight = 0;  // jobs of this core at the pool (reactor thread only)
    bool pump_running = false;
    std::deque<std::coroutine_handle<>> slot_waiters;  // reactor thread only
    std::mutex done_mutex;
    std::vector<job*> done;  // filled by workers, drained by the pump
};

bcrypt_pool::bcrypt_pool(unsigned threads, unsigned cores) {
    UETCD_ASSERT(threads > 0 && cores > 0);
    for (unsigned c = 0; c < cores; ++c) {
        _cores.push_back(std::make_unique<core_queue>());
        _cores.back()->event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        UETCD_ASSERT(_cores.back()->event_fd >= 0);
    }
    // The workers take no signals: SIGINT/SIGTERM belong to the server's signalfd, and a
    // worker that received one would end the process without a clean shutdown.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &previous);
    for (unsigned t = 0; t < threads; ++t) {
        _threads.emplace_back([this] { worker_main(); });
    }
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

bcrypt_pool::~bcrypt_pool() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    for (auto& t : _threads) {
        t.join();
    }
    for (auto& q : _cores) {
        ::close(q->event_fd);
    }
}

void bcrypt_pool::worker_main() {
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), worker_nice);
    for (;;) {
        job* j = nullptr;
        {
            std::unique_lock lock(_mutex);
            _wake.wait(lock, [this] { return _stopping || !_jobs.empty(); });
            if (_jobs.empty()) {
                return;
            }
            j = _jobs.front();
            _jobs.pop_front();
        }
        if (j->is_verify) {
            j->matched = bcrypt_verify(j->password, j->hash);
        } else {
            j->hash = bcrypt_hash(j->password);
        }
        core_queue& q = *_cores[j->core];
        {
            std::lock_guard lock(q.done_mutex);
            q.done.push_back(j);
        }
        const std::uint64_t one = 1;
        (void)!::write(q.event_fd, &one, sizeof(one));
    }
}

namespace {

struct slot_awaiter {
    unsigned& in_flight;
    std::deque<std::coroutine_handle<>>& waiters;
    bool await_ready() const noexcept {
        if (in_flight < bcrypt_pool::jobs_per_core_max) {
            ++in_flight;
            return true;
        }
        return false;
    }
    void await_suspend(std::coroutine_handle<> h) { waiters.push_back(h); }
    void await_resume() const noexcept {}
};

}  // namespace

reactor::task<void> bcrypt_pool::pump(core_queue& q) {
    std::vector<job*> finished;
    while (q.in_flight > 0) {
        std::uint64_t count = 0;
        const auto n = co_await reactor::read_at(q.event_fd, &count, sizeof(count), 0);
        UETCD_ASSERT(n == static_cast<std::int32_t>(sizeof(count)) || n == -EINTR);
        {
            std::lock_guard lock(q.done_mutex);
            finished.swap(q.done);
        }
        auto& r = reactor::reactor::current();
        for (job* j : finished) {
            UETCD_ASSERT(q.in_flight > 0);
            r.schedule(j->waiter);
            if (q.slot_waiters.empty()) {
                --q.in_flight;
            } else {
                // The slot passes straight to the next waiter (in_flight unchanged).
                r.schedule(q.slot_waiters.front());
                q.slot_waiters.pop_front();
            }
        }
        finished.clear();
    }
    q.pump_running = false;
}

reactor::task<void> bcrypt_pool::run(job& j) {
    j.core = reactor::reactor::current().core();
    UETCD_ASSERT(j.core < _cores.size());
    core_queue& q = *_cores[j.core];
    slot_awaiter slot{q.in_flight, q.slot_waiters};
    co_await slot;
    if (!q.pump_running) {
        q.pump_running = true;
        reactor::spawn(pump(q));
    }
    struct submit_awaiter {
        bcrypt_pool& pool;
        job& j;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            j.waiter = h;
            {
                std::lock_guard lock(pool._mutex);
                pool._jobs.push_back(&j);
            }
            pool._wake.notify_one();
        }
        void await_resume() const noexcept {}
    };
    submit_awaiter submit{*this, j};
    co_await submit;
}

reactor::task<std::string> bcrypt_pool::hash(std::string password) {
    job j;
    j.password = std::move(password);
    co_await run(j);
    // Wipe the clear password from the job before the frame goes.
    std::fill(j.password.begin(), j.password.end(), '\0');
    co_return std::move(j.hash);
}

reactor::task<bool> bcrypt_pool::verify(std::string password, std::string hash) {
    job j;
    j.is_verify = true;
    j.password = std::move(password);
    j.hash = std::move(hash);
    co_await run(j);
    std::fill(j.password.begin(), j.password.end(), '\0');
    co_return j.matched;
}

}  // namespace uetcd::server::auth
