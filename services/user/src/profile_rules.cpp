#include "profile_rules.hpp"

#include <cctype>

#include "password_policy.hpp"

namespace restinu::user::domain {
namespace {

bool allAlpha(std::string_view s) {
    for (char c : s) {
        if (std::isalpha(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return true;
}

bool allDigits(std::string_view s) {
    for (char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

std::optional<std::string> normalisePhone(std::string_view phone) {
    phone = trim(phone);
    if (phone.empty() || phone.front() != '+') {
        return std::nullopt;
    }
    std::string out = "+";
    for (char c : phone.substr(1)) {
        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return std::nullopt;
        }
        out += c;
    }
    auto digits = out.size() - 1;
    if (digits < 8 || digits > 15 || out[1] == '0') {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> normaliseLanguage(std::string_view tag) {
    tag = trim(tag);
    std::string out;
    int part = 0;
    bool had_script = false;
    bool had_region = false;
    while (!tag.empty()) {
        auto cut = tag.find_first_of("-_");
        auto sub = tag.substr(0, cut);
        tag = cut == std::string_view::npos ? std::string_view{} : tag.substr(cut + 1);
        if (cut != std::string_view::npos && tag.empty()) {
            return std::nullopt;  // trailing separator
        }
        std::string piece;
        if (part == 0) {
            if (sub.size() < 2 || sub.size() > 3 || !allAlpha(sub)) {
                return std::nullopt;
            }
            for (char c : sub) {
                piece += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
        } else if (!had_script && !had_region && sub.size() == 4 && allAlpha(sub)) {
            had_script = true;
            piece += static_cast<char>(std::toupper(static_cast<unsigned char>(sub[0])));
            for (char c : sub.substr(1)) {
                piece += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
        } else if (!had_region &&
                   ((sub.size() == 2 && allAlpha(sub)) || (sub.size() == 3 && allDigits(sub)))) {
            had_region = true;
            for (char c : sub) {
                piece += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
        } else {
            return std::nullopt;
        }
        if (!out.empty()) {
            out += '-';
        }
        out += piece;
        ++part;
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> normaliseName(std::string_view name) {
    name = trim(name);
    auto len = utf8Length(name);
    if (!len || *len == 0 || *len > 100) {
        return std::nullopt;
    }
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            return std::nullopt;
        }
    }
    return std::string(name);
}

bool isRole(std::string_view role) {
    for (auto r : kRoles) {
        if (r == role) {
            return true;
        }
    }
    return false;
}

}  // namespace restinu::user::domain
