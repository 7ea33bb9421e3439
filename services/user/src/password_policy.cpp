#include "password_policy.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "common_passwords.hpp"

namespace restinu::user::domain {

namespace {

char toLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowerAscii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), toLower);
    return out;
}

// The bundled list, lower-cased, built once (thread-safe static initialisation). Lines are
// trimmed of '\r' and blank lines and '#' comments skipped.
const std::unordered_set<std::string>& commonPasswords() {
    static const std::unordered_set<std::string> kSet = [] {
        std::unordered_set<std::string> set;
        std::string_view text = commonPasswordsText();
        while (!text.empty()) {
            auto nl = text.find('\n');
            std::string_view line = text.substr(0, nl);
            text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            if (!line.empty() && line.front() != '#') {
                set.insert(lowerAscii(line));
            }
        }
        return set;
    }();
    return kSet;
}

}  // namespace

std::optional<std::size_t> utf8Length(std::string_view text) {
    std::size_t count = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        auto b0 = static_cast<std::uint8_t>(text[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if (b0 < 0x80) {
            len = 1;
            cp = b0;
        } else if ((b0 & 0xE0) == 0xC0) {
            len = 2;
            cp = b0 & 0x1Fu;
            min = 0x80;
        } else if ((b0 & 0xF0) == 0xE0) {
            len = 3;
            cp = b0 & 0x0Fu;
            min = 0x800;
        } else if ((b0 & 0xF8) == 0xF0) {
            len = 4;
            cp = b0 & 0x07u;
            min = 0x10000;
        } else {
            return std::nullopt;  // a continuation byte or 0xF8..0xFF as a lead byte
        }
        if (text.size() - i < len) {
            return std::nullopt;  // truncated sequence
        }
        for (std::size_t k = 1; k < len; ++k) {
            auto b = static_cast<std::uint8_t>(text[i + k]);
            if ((b & 0xC0) != 0x80) {
                return std::nullopt;
            }
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return std::nullopt;  // overlong, out of range, or a UTF-16 surrogate
        }
        i += len;
        ++count;
    }
    return count;
}

bool isCommonPassword(std::string_view password) {
    return commonPasswords().contains(lowerAscii(password));
}

std::optional<std::string> normaliseEmail(std::string_view email) {
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    auto first = email.find_first_not_of(kSpace);
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    email = email.substr(first, email.find_last_not_of(kSpace) - first + 1);
    if (email.size() > 254) {
        return std::nullopt;
    }
    for (char c : email) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F) {
            return std::nullopt;  // space or control character inside the address
        }
    }
    auto at = email.find('@');
    if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view local = email.substr(0, at);
    std::string_view domain = email.substr(at + 1);
    if (local.empty() || domain.empty()) {
        return std::nullopt;
    }
    auto dot = domain.find('.');
    if (dot == std::string_view::npos || domain.front() == '.' || domain.back() == '.') {
        return std::nullopt;
    }
    return lowerAscii(email);
}

PasswordCheck checkPassword(std::string_view password, std::string_view email) {
    auto length = utf8Length(password);
    if (!length) {
        return {false, "password must be valid UTF-8 text"};
    }
    if (*length < kMinPasswordLength) {
        return {false, "password must be at least 12 characters"};
    }
    if (*length > kMaxPasswordLength) {
        return {false, "password must be at most 128 characters"};
    }
    if (std::all_of(password.begin(), password.end(),
                    [&](char c) { return c == password.front(); })) {
        return {false, "password must not be one character repeated"};
    }
    if (isCommonPassword(password)) {
        return {false,
                "password is too common; choose one that is not on lists of leaked passwords"};
    }
    if (auto normalised = normaliseEmail(email)) {
        std::string_view local = std::string_view(*normalised).substr(0, normalised->find('@'));
        if (local.size() >= 4 && lowerAscii(password).find(local) != std::string::npos) {
            return {false, "password must not contain your e-mail address"};
        }
    }
    return {true, {}};
}

}  // namespace restinu::user::domain
