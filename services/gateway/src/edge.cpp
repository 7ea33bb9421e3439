#include "edge.hpp"

#include <algorithm>

#include "restinu/rt/digest.hpp"
#include "restinu/rt/http.hpp"

namespace restinu::gateway {
namespace {

bool isTrusted(std::string_view ip, const std::vector<std::string>& trusted) {
    return std::find(trusted.begin(), trusted.end(), ip) != trusted.end();
}

std::vector<std::string_view> splitList(std::string_view list) {
    std::vector<std::string_view> out;
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = trimOws(list.substr(0, comma));
        if (!item.empty()) {
            out.push_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return out;
}

bool isLowerHex(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string clientIp(std::string_view remote_ip, std::string_view forwarded_for,
                     const std::vector<std::string>& trusted) {
    if (!isTrusted(remote_ip, trusted)) {
        return std::string(remote_ip);
    }
    auto chain = splitList(forwarded_for);
    // The nearest hop that is not a trusted proxy is the client.
    auto client = std::find_if(chain.rbegin(), chain.rend(),
                               [&](std::string_view ip) { return !isTrusted(ip, trusted); });
    if (client != chain.rend()) {
        return std::string(*client);
    }
    return chain.empty() ? std::string(remote_ip) : std::string(chain.front());
}

std::string forwardedFor(std::string_view remote_ip, std::string_view forwarded_for,
                         const std::vector<std::string>& trusted) {
    if (!isTrusted(remote_ip, trusted) || trimOws(forwarded_for).empty()) {
        return std::string(remote_ip);
    }
    return std::string(trimOws(forwarded_for)) + ", " + std::string(remote_ip);
}

bool validTraceparent(std::string_view v) {
    // 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
    if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') {
        return false;
    }
    auto version = v.substr(0, 2);
    auto trace = v.substr(3, 32);
    auto parent = v.substr(36, 16);
    auto flags = v.substr(53, 2);
    if (version != "00" || !isLowerHex(trace) || !isLowerHex(parent) || !isLowerHex(flags)) {
        return false;
    }
    return trace.find_first_not_of('0') != std::string_view::npos &&
           parent.find_first_not_of('0') != std::string_view::npos;
}

std::string nextTraceparent(std::string_view incoming) {
    std::string out;
    out.reserve(55);
    out += "00-";
    bool valid = validTraceparent(incoming);
    if (valid) {
        out += incoming.substr(3, 32);
    } else {
        rt::appendRandomHex(out, 32);
    }
    out += '-';
    rt::appendRandomHex(out, 16);
    out += '-';
    out += valid ? incoming.substr(53, 2) : std::string_view("01");
    return out;
}

bool pathIsNormal(std::string_view path) {
    for (std::size_t i = 0; i < path.size(); ++i) {
        char c = path[i];
        if (c == '%') {
            return false;
        }
        if (c == '/' && i + 1 < path.size() && (path[i + 1] == '/' || path[i + 1] == '.')) {
            return false;
        }
    }
    return true;
}

std::optional<std::string> normalisePath(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            if (out.empty() || out.back() != '/') {
                out += '/';
            }
            ++i;
            continue;
        }
        auto end = path.find('/', i);
        auto segment = path.substr(i, end == std::string_view::npos ? path.size() - i : end - i);
        auto decoded = rt::percentDecode(segment, false);
        if (!decoded || *decoded == "." || *decoded == ".." ||
            decoded->find_first_of("/\\") != std::string::npos) {
            return std::nullopt;
        }
        out.append(segment);
        i += segment.size();
    }
    return out;
}

}  // namespace restinu::gateway
