#include "auth.hpp"

#include "restinu/rt/http.hpp"

namespace restinu::gateway {

std::optional<std::string_view> bearerToken(std::string_view h) {
    if (h.empty()) {
        return std::nullopt;
    }
    constexpr std::string_view kBearer = "Bearer ";
    if (h.size() <= kBearer.size() || !rt::iequals(h.substr(0, kBearer.size()), kBearer)) {
        return std::string_view{};
    }
    auto token = h.substr(kBearer.size());
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    while (!token.empty() && token.back() == ' ') {
        token.remove_suffix(1);
    }
    return token;
}

TokenCache::Claims TokenCache::find(std::string_view token, std::int64_t now_unix) {
    auto it = entries_.find(token);
    if (it == entries_.end()) {
        return nullptr;
    }
    if (it->second->expires_at <= now_unix) {
        entries_.erase(it);
        return nullptr;
    }
    return it->second;
}

TokenCache::Claims TokenCache::put(std::string_view token, rt::AccessClaims claims,
                                   std::int64_t now_unix) {
    if (entries_.size() >= max_) {
        std::erase_if(entries_, [&](const auto& kv) { return kv.second->expires_at <= now_unix; });
        if (entries_.size() >= max_) {
            entries_.clear();
        }
    }
    auto shared = std::make_shared<const rt::AccessClaims>(std::move(claims));
    entries_.insert_or_assign(std::string(token), shared);
    return shared;
}

bool RefreshGate::tryAcquire(std::int64_t now_ms) {
    auto next = next_allowed_ms_.load();
    while (now_ms >= next) {
        if (next_allowed_ms_.compare_exchange_weak(next, now_ms + min_interval_.count())) {
            return true;
        }
    }
    return false;
}

}  // namespace restinu::gateway
