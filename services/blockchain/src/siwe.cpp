#include "siwe.hpp"

#include <cstdio>

namespace restinu::blockchain::siwe {
namespace {

constexpr std::string_view kHeadline = " wants you to sign in with your Ethereum account:";

bool isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
bool isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool isUnreserved(char c) {
    return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool isSubDelim(char c) {
    return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}
bool isGenDelim(char c) {
    return std::string_view(":/?#[]@").find(c) != std::string_view::npos;
}
bool isReserved(char c) {
    return isGenDelim(c) || isSubDelim(c);
}

// Every character of `s` is `ok` or part of a well-formed "%" HEXDIG HEXDIG.
template <class Pred>
bool allOrPercent(std::string_view s, Pred ok) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
                return false;
            }
            i += 2;
        } else if (!ok(s[i])) {
            return false;
        }
    }
    return true;
}

bool isScheme(std::string_view s) {
    if (s.empty() || !isAlpha(s[0])) {
        return false;
    }
    for (char c : s) {
        if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') {
            return false;
        }
    }
    return true;
}

// RFC 3986 URI: scheme ":" and then only URI characters (unreserved, reserved, percent-escapes).
bool isUri(std::string_view s) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || !isScheme(s.substr(0, colon))) {
        return false;
    }
    return allOrPercent(s.substr(colon + 1),
                        [](char c) { return isUnreserved(c) || isReserved(c); });
}

// RFC 3986 authority = [ userinfo "@" ] host [ ":" port ], with a host that is not empty.
bool isAuthority(std::string_view s) {
    if (const auto at = s.rfind('@'); at != std::string_view::npos) {
        auto userinfo = s.substr(0, at);
        if (!allOrPercent(userinfo,
                          [](char c) { return isUnreserved(c) || isSubDelim(c) || c == ':'; })) {
            return false;
        }
        s.remove_prefix(at + 1);
    }
    std::string_view host;
    std::string_view rest;
    if (!s.empty() && s[0] == '[') {
        const auto close = s.find(']');
        if (close == std::string_view::npos || close < 2) {
            return false;
        }
        for (char c : s.substr(1, close - 1)) {
            if (!isHex(c) && c != ':' && c != '.' && !isUnreserved(c) && !isSubDelim(c)) {
                return false;
            }
        }
        host = s.substr(0, close + 1);
        rest = s.substr(close + 1);
    } else {
        const auto colon = s.find(':');
        host = s.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
        if (!allOrPercent(host, [](char c) { return isUnreserved(c) || isSubDelim(c); })) {
            return false;
        }
    }
    if (host.empty()) {
        return false;
    }
    if (!rest.empty()) {
        if (rest[0] != ':') {
            return false;
        }
        for (char c : rest.substr(1)) {
            if (!isDigit(c)) {
                return false;
            }
        }
    }
    return true;
}

bool isStatement(std::string_view s) {
    for (char c : s) {
        if (!isUnreserved(c) && !isReserved(c) && c != ' ') {
            return false;
        }
    }
    return true;
}

bool isNonce(std::string_view s) {
    if (s.size() < 8) {
        return false;
    }
    for (char c : s) {
        if (!isAlpha(c) && !isDigit(c)) {
            return false;
        }
    }
    return true;
}

bool isRequestId(std::string_view s) {
    return allOrPercent(
        s, [](char c) { return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@'; });
}

std::optional<int> digits(std::string_view s, std::size_t at, std::size_t n) {
    if (at + n > s.size()) {
        return std::nullopt;
    }
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (!isDigit(s[i])) {
            return std::nullopt;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

// A line "<label><value>"; the value, or nullopt when the line does not start with the label.
std::optional<std::string_view> field(std::string_view line, std::string_view label) {
    if (!line.starts_with(label)) {
        return std::nullopt;
    }
    return line.substr(label.size());
}

struct Reader {
    std::vector<std::string_view> lines;
    std::size_t at = 0;
    std::string why;

    bool more() const { return at < lines.size(); }
    std::string_view next() { return more() ? lines[at++] : std::string_view{}; }
    bool fail(std::string reason) {
        why = std::move(reason);
        return false;
    }
    // The next line is "<label><value>"; its value in `out`.
    bool expect(std::string_view label, std::string_view& out) {
        if (!more()) {
            return fail("the line \"" + std::string(label) + "\" is missing");
        }
        auto v = field(lines[at], label);
        if (!v) {
            return fail("line " + std::to_string(at + 1) + " must start with \"" +
                        std::string(label) + "\"");
        }
        ++at;
        out = *v;
        return true;
    }
    // An optional "<label><value>" line, if the next line is one.
    std::optional<std::string_view> optional(std::string_view label) {
        if (!more()) {
            return std::nullopt;
        }
        auto v = field(lines[at], label);
        if (v) {
            ++at;
        }
        return v;
    }
};

bool readHead(Reader& r, Message& m) {
    const auto head = r.next();
    if (!head.ends_with(kHeadline)) {
        return r.fail("the first line must end with \"" + std::string(kHeadline.substr(1)) + "\"");
    }
    auto authority = head.substr(0, head.size() - kHeadline.size());
    if (const auto sep = authority.find("://"); sep != std::string_view::npos) {
        if (!isScheme(authority.substr(0, sep))) {
            return r.fail("the scheme before the domain is not an RFC 3986 scheme");
        }
        m.scheme = std::string(authority.substr(0, sep));
        authority.remove_prefix(sep + 3);
    }
    if (!isAuthority(authority)) {
        return r.fail("the domain is not an RFC 3986 authority");
    }
    m.domain = std::string(authority);
    if (!r.more()) {
        return r.fail("the address line is missing");
    }
    const auto address_text = r.next();
    auto address = eth::Address::parse(address_text);
    if (!address) {
        return r.fail("the address is not 0x and 40 hex digits with a valid EIP-55 checksum");
    }
    if (address->checksummed() != address_text) {
        return r.fail("the address must be written in its EIP-55 checksum form");
    }
    m.address = *address;
    if (!r.more() || !r.next().empty()) {
        return r.fail("a blank line must follow the address");
    }
    // [ statement LF ] LF: no statement is two blank lines before "URI: ".
    if (r.more() && r.lines[r.at].empty() && r.at + 1 < r.lines.size() &&
        r.lines[r.at + 1].starts_with("URI: ")) {
        ++r.at;
        return true;
    }
    if (!r.more()) {
        return r.fail("the statement and the blank line after it are missing");
    }
    const auto statement = r.next();
    if (!isStatement(statement)) {
        return r.fail(
            "the statement has a character outside RFC 3986 reserved, unreserved and space");
    }
    m.statement = std::string(statement);
    if (!r.more() || !r.next().empty()) {
        return r.fail("a blank line must follow the statement");
    }
    return true;
}

bool readTime(Reader& r, std::string_view text, std::string_view name, std::string& out) {
    if (!parseRfc3339(text)) {
        return r.fail(std::string(name) + " is not an RFC 3339 date-time");
    }
    out = std::string(text);
    return true;
}

bool readFields(Reader& r, Message& m) {
    std::string_view v;
    if (!r.expect("URI: ", v)) {
        return false;
    }
    if (!isUri(v)) {
        return r.fail("the URI is not an RFC 3986 URI");
    }
    m.uri = std::string(v);
    if (!r.expect("Version: ", v)) {
        return false;
    }
    if (v != "1") {
        return r.fail("the version must be 1");
    }
    if (!r.expect("Chain ID: ", v)) {
        return false;
    }
    if (v.empty() || v.size() > 18 || (v.size() > 1 && v[0] == '0')) {
        return r.fail("the chain id must be a decimal number without leading zeros");
    }
    std::uint64_t chain = 0;
    for (char c : v) {
        if (!isDigit(c)) {
            return r.fail("the chain id must be a decimal number without leading zeros");
        }
        chain = chain * 10 + static_cast<std::uint64_t>(c - '0');
    }
    m.chain_id = chain;
    if (!r.expect("Nonce: ", v)) {
        return false;
    }
    if (!isNonce(v)) {
        return r.fail("the nonce must be at least 8 ASCII letters and digits");
    }
    m.nonce = std::string(v);
    if (!r.expect("Issued At: ", v) || !readTime(r, v, "Issued At", m.issued_at)) {
        return false;
    }
    if (auto t = r.optional("Expiration Time: ")) {
        if (!readTime(r, *t, "Expiration Time", m.expiration_time.emplace())) {
            return false;
        }
    }
    if (auto t = r.optional("Not Before: ")) {
        if (!readTime(r, *t, "Not Before", m.not_before.emplace())) {
            return false;
        }
    }
    if (auto id = r.optional("Request ID: ")) {
        if (!isRequestId(*id)) {
            return r.fail("the request id has a character that is not an RFC 3986 pchar");
        }
        m.request_id = std::string(*id);
    }
    if (r.more() && r.lines[r.at] == "Resources:") {
        ++r.at;
        while (r.more()) {
            auto res = field(r.lines[r.at], "- ");
            if (!res || !isUri(*res)) {
                return r.fail("line " + std::to_string(r.at + 1) + " must be \"- \" and a URI");
            }
            m.resources.emplace_back(*res);
            ++r.at;
        }
    }
    if (r.more()) {
        return r.fail("line " + std::to_string(r.at + 1) +
                      " is not a field of the message, or is out of order");
    }
    return true;
}

}  // namespace

std::string format(const Message& m) {
    std::string out;
    if (!m.scheme.empty()) {
        out += m.scheme + "://";
    }
    out += m.domain;
    out += kHeadline;
    out += '\n';
    out += m.address.checksummed();
    out += "\n\n";
    if (m.statement) {
        out += *m.statement + "\n";
    }
    out += "\nURI: " + m.uri;
    out += "\nVersion: 1";
    out += "\nChain ID: " + std::to_string(m.chain_id);
    out += "\nNonce: " + m.nonce;
    out += "\nIssued At: " + m.issued_at;
    if (m.expiration_time) {
        out += "\nExpiration Time: " + *m.expiration_time;
    }
    if (m.not_before) {
        out += "\nNot Before: " + *m.not_before;
    }
    if (m.request_id) {
        out += "\nRequest ID: " + *m.request_id;
    }
    if (!m.resources.empty()) {
        out += "\nResources:";
        for (const auto& r : m.resources) {
            out += "\n- " + r;
        }
    }
    return out;
}

std::optional<Message> parse(std::string_view text, std::string* why) {
    Reader r;
    std::size_t start = 0;
    while (true) {
        const auto lf = text.find('\n', start);
        r.lines.push_back(text.substr(start, lf == std::string_view::npos ? lf : lf - start));
        if (lf == std::string_view::npos) {
            break;
        }
        start = lf + 1;
    }
    Message m;
    if (readHead(r, m) && readFields(r, m)) {
        return m;
    }
    if (why != nullptr) {
        *why = r.why;
    }
    return std::nullopt;
}

std::string rfc3339(std::chrono::sys_seconds t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{t - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

std::optional<std::chrono::sys_seconds> parseRfc3339(std::string_view s) {
    // full-date "T" partial-time [ "." 1*DIGIT ] time-offset
    auto year = digits(s, 0, 4);
    auto month = digits(s, 5, 2);
    auto day = digits(s, 8, 2);
    auto hour = digits(s, 11, 2);
    auto minute = digits(s, 14, 2);
    auto second = digits(s, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year(*year),
                                          std::chrono::month(static_cast<unsigned>(*month)),
                                          std::chrono::day(static_cast<unsigned>(*day))};
    if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 60) {
        return std::nullopt;
    }
    std::size_t at = 19;
    if (at < s.size() && s[at] == '.') {
        ++at;
        const auto first = at;
        while (at < s.size() && isDigit(s[at])) {
            ++at;
        }
        if (at == first) {
            return std::nullopt;
        }
    }
    int offset_minutes = 0;
    if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
        ++at;
    } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
        auto oh = digits(s, at + 1, 2);
        auto om = digits(s, at + 4, 2);
        if (!oh || !om || s[at + 3] != ':' || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset_minutes = (*oh * 60 + *om) * (s[at] == '-' ? -1 : 1);
        at += 6;
    } else {
        return std::nullopt;
    }
    if (at != s.size()) {
        return std::nullopt;
    }
    return std::chrono::sys_days(ymd) + std::chrono::hours(*hour) +
           std::chrono::minutes(*minute - offset_minutes) + std::chrono::seconds(*second);
}

}  // namespace restinu::blockchain::siwe
