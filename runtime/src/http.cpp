#include "restinu/rt/http.hpp"

namespace restinu::rt {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = lower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

}  // namespace

std::string_view methodName(Method m) {
    switch (m) {
        case Method::Get:
            return "GET";
        case Method::Head:
            return "HEAD";
        case Method::Post:
            return "POST";
        case Method::Put:
            return "PUT";
        case Method::Patch:
            return "PATCH";
        case Method::Delete:
            return "DELETE";
        case Method::Options:
            return "OPTIONS";
        case Method::Other:
            return "OTHER";
    }
    return "OTHER";
}

Method parseMethod(std::string_view name) {
    if (name == "GET") {
        return Method::Get;
    }
    if (name == "POST") {
        return Method::Post;
    }
    if (name == "HEAD") {
        return Method::Head;
    }
    if (name == "PUT") {
        return Method::Put;
    }
    if (name == "PATCH") {
        return Method::Patch;
    }
    if (name == "DELETE") {
        return Method::Delete;
    }
    if (name == "OPTIONS") {
        return Method::Options;
    }
    return Method::Other;
}

std::string_view Request::header(std::string_view name) const {
    const auto* v = findHeader(headers, name);
    return v != nullptr ? *v : std::string_view{};
}

bool Request::hasHeader(std::string_view name) const {
    return findHeader(headers, name) != nullptr;
}

std::string_view Request::param(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

std::optional<std::vector<std::pair<std::string, std::string>>> Request::queryParams() const {
    std::vector<std::pair<std::string, std::string>> out;
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        auto key = percentDecode(pair.substr(0, eq), true);
        auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string{})
                                                  : percentDecode(pair.substr(eq + 1), true);
        if (!key || !value) {
            return std::nullopt;
        }
        out.emplace_back(std::move(*key), std::move(*value));
    }
    return out;
}

std::optional<std::string> Request::queryParam(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        auto eq = pair.find('=');
        auto key = pair.substr(0, eq);
        auto decoded_key = percentDecode(key, true);
        if (decoded_key && *decoded_key == name) {
            if (eq == std::string_view::npos) {
                return std::string{};
            }
            return percentDecode(pair.substr(eq + 1), true);
        }
    }
    return std::nullopt;
}

std::string_view Response::header(std::string_view name) const {
    const auto* v = findHeader(headers, name);
    return v != nullptr ? std::string_view{*v} : std::string_view{};
}

std::optional<std::string> percentDecode(std::string_view in, bool plus_is_space) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) {
                return std::nullopt;
            }
            int hi = hexValue(in[i + 1]);
            int lo = hexValue(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace restinu::rt
