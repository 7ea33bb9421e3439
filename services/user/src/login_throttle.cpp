#include "login_throttle.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "restinu/rt/pg.hpp"

namespace restinu::user {

std::chrono::seconds throttleDelay(std::int64_t failures, const ThrottlePolicy& policy) {
    auto over = failures - policy.free_failures;
    if (over <= 0) {
        return std::chrono::seconds(0);
    }
    // 2^over, without overflowing: anything past 2^30 s is past any sane cap.
    std::int64_t secs = over >= 30 ? std::int64_t{1} << 30 : std::int64_t{1} << over;
    return std::min(std::chrono::seconds(secs), policy.max_delay);
}

LoginThrottle::LoginThrottle(const LoginThrottleSettings& settings, const std::string& client_ip,
                             const std::string& email)
    : settings_(settings),
      address_key_("ip:" + client_ip),
      pair_key_("ip-account:" + client_ip + " " + email) {}

rt::Task<std::optional<std::int64_t>> LoginThrottle::waitFor(rt::PgPool& pool) const {
    auto r = co_await pool.query(
        "SELECT ceil(extract(epoch FROM max(locked_until) - now()))::bigint FROM login_throttle "
        "WHERE key IN ($1, $2) AND locked_until > now()",
        address_key_, pair_key_);
    if (r.isNull(0, 0)) {
        co_return std::nullopt;
    }
    co_return std::max<std::int64_t>(1, r.getInt(0, 0));
}

rt::Task<void> LoginThrottle::failed(rt::PgConn& tx) const {
    const std::array<std::pair<const std::string*, const ThrottlePolicy*>, 2> keys{
        std::pair{&address_key_, &settings_.per_address},
        std::pair{&pair_key_, &settings_.per_account_and_address}};
    const auto window = static_cast<double>(settings_.window.count());
    for (const auto& [key, policy] : keys) {
        // The row stays locked by the upsert until the transaction ends, so the wait below is
        // set from this count, not a concurrent one.
        auto r = co_await tx.execute(
            "user_throttle_fail",
            "INSERT INTO login_throttle AS t (key, failures, last_failure) VALUES ($1, 1, now()) "
            "ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN t.last_failure < now() - "
            "make_interval(secs => $2::float8) THEN 1 ELSE t.failures + 1 END, last_failure = "
            "now() "
            "RETURNING failures",
            *key, window);
        auto delay = throttleDelay(r.getInt(0, 0), *policy);
        co_await tx.execute("user_throttle_wait",
                            "UPDATE login_throttle SET locked_until = CASE WHEN $2::bigint > 0 "
                            "THEN now() + make_interval(secs => $2::bigint) END WHERE key = $1",
                            *key, static_cast<std::int64_t>(delay.count()));
    }
}

rt::Task<void> LoginThrottle::succeeded(rt::PgConn& tx) const {
    co_await tx.execute("user_throttle_clear", "DELETE FROM login_throttle WHERE key = $1",
                        pair_key_);
}

}  // namespace restinu::user
