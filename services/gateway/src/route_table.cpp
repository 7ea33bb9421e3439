#include "route_table.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "restinu/registry.hpp"
#include "restinu/rt/http.hpp"

namespace restinu::gateway {

const std::vector<PrefixRoute>& publicRoutes() {
    // Every public prefix of every service in the registry (services/registry.tsv).
    static const std::vector<PrefixRoute> kRoutes = [] {
        std::vector<PrefixRoute> out;
        for (const auto& svc : registry::services()) {
            for (auto prefix : svc.prefixes) {
                out.push_back({prefix, svc.name});
            }
        }
        return out;
    }();
    return kRoutes;
}

bool prefixMatches(std::string_view prefix, std::string_view path) {
    if (prefix.find('*') == std::string_view::npos) {
        if (path.substr(0, prefix.size()) != prefix) {
            return false;
        }
        return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
    }
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < prefix.size()) {
        if (prefix[i] == '*' && (i == 0 || prefix[i - 1] == '/')) {
            auto seg_end = path.find('/', j);
            seg_end = seg_end == std::string_view::npos ? path.size() : seg_end;
            if (seg_end == j) {
                return false;  // "*" needs a non-empty segment
            }
            j = seg_end;
            ++i;
            continue;
        }
        if (j >= path.size() || path[j] != prefix[i]) {
            return false;
        }
        ++i;
        ++j;
    }
    return j == path.size() || prefix.back() == '/' || path[j] == '/';
}

std::optional<std::string_view> serviceFor(std::string_view path) {
    const PrefixRoute* best = nullptr;
    for (const auto& r : publicRoutes()) {
        if (!prefixMatches(r.prefix, path)) {
            continue;
        }
        if (best == nullptr || r.prefix.size() > best->prefix.size()) {
            best = &r;
        }
    }
    if (best == nullptr) {
        return std::nullopt;
    }
    return best->service;
}

std::vector<std::string> routedServices() {
    std::set<std::string> names;
    for (const auto& r : publicRoutes()) {
        names.emplace(r.service);
    }
    return {names.begin(), names.end()};
}

std::optional<Upstream> parseUpstream(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return std::nullopt;
    }
    unsigned port = 0;
    auto p = text.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || ptr != p.data() + p.size() || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return Upstream{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

bool isHopByHop(std::string_view h) {
    // Most headers are none of these; their lengths (2, 4, 7, 10, 14, 16-19) tell at once.
    constexpr std::uint32_t kLengths = (1u << 2) | (1u << 4) | (1u << 7) | (1u << 10) | (1u << 14) |
                                       (1u << 16) | (1u << 17) | (1u << 18) | (1u << 19);
    if (h.size() >= 32 || (kLengths & (1u << h.size())) == 0) {
        return false;
    }
    for (std::string_view x : {"connection", "keep-alive", "proxy-authenticate",
                               "proxy-authorization", "proxy-connection", "te", "trailer",
                               "transfer-encoding", "upgrade", "host", "content-length"}) {
        if (rt::iequals(h, x)) {
            return true;
        }
    }
    return false;
}

bool listHasToken(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        auto comma = list.find(',');
        auto member = list.substr(0, comma);
        while (!member.empty() && (member.front() == ' ' || member.front() == '\t')) {
            member.remove_prefix(1);
        }
        while (!member.empty() && (member.back() == ' ' || member.back() == '\t')) {
            member.remove_suffix(1);
        }
        if (!member.empty() && rt::iequals(member, token)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool namedByConnection(std::string_view header, std::string_view connection) {
    return listHasToken(connection, header);
}

}  // namespace restinu::gateway
