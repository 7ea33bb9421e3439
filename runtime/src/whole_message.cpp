#include "whole_message.hpp"

#include <array>
#include <optional>

#include "restinu/rt/http.hpp"
#include "word_scan.hpp"

namespace restinu::rt::detail {
namespace {

// RFC 9110 tchar: the characters of a method, a field name and a Connection option.
constexpr std::array<bool, 256> kToken = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) {
        t[static_cast<std::size_t>(c)] = true;
    }
    for (int c = 'A'; c <= 'Z'; ++c) {
        t[static_cast<std::size_t>(c)] = true;
    }
    for (int c = 'a'; c <= 'z'; ++c) {
        t[static_cast<std::size_t>(c)] = true;
    }
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
        t[static_cast<unsigned char>(c)] = true;
    }
    return t;
}();

bool isToken(char c) {
    return kToken[static_cast<unsigned char>(c)];
}

bool isOws(char c) {
    return c == ' ' || c == '\t';
}

// The CR that ends the text (a field value, a reason phrase) starting at `p`, or null when a
// byte comes first that Beast does not allow in text (a control other than HTAB, DEL) or the
// input ends first. Beast's text is every byte but those, obs-text included. Eight bytes per
// step: a word with no byte below 0x20, at 0x7F or above 0x7F needs no closer look.
const char* endOfText(const char* p, const char* end) {
    while (end - p >= 8) {
        auto w = loadWord(p);
        if (anyByteBelow(w, 0x20) || anyByteIs(w, 0x7F) || anyHighByte(w)) {
            break;  // look at this word a byte at a time below
        }
        p += 8;
    }
    for (; p < end; ++p) {
        auto c = static_cast<unsigned char>(*p);
        if (c >= 0x20 && c != 0x7F) {
            continue;
        }
        if (c == '\t') {
            continue;
        }
        return c == '\r' ? p : nullptr;
    }
    return nullptr;
}

// What the special fields say, as Beast's basic_parser::do_field reads them.
struct Framing {
    std::optional<std::uint64_t> content_length;
    bool close = false;       ///< Connection: close
    bool keep_alive = false;  ///< Connection: keep-alive
};

// A Connection (or Proxy-Connection) value of plain tokens separated by commas; false for
// anything else (Beast's list grammar allows more; those messages go to Beast).
bool readConnection(std::string_view v, Framing& f) {
    std::size_t i = 0;
    for (;;) {
        while (i < v.size() && isOws(v[i])) {
            ++i;
        }
        auto start = i;
        while (i < v.size() && isToken(v[i])) {
            ++i;
        }
        if (i == start) {
            return false;
        }
        auto option = v.substr(start, i - start);
        if (iequals(option, "close")) {
            f.close = true;
        } else if (iequals(option, "keep-alive")) {
            f.keep_alive = true;
        }
        while (i < v.size() && isOws(v[i])) {
            ++i;
        }
        if (i == v.size()) {
            return true;
        }
        if (v[i] != ',') {
            return false;
        }
        ++i;
    }
}

// One Content-Length of 1 to 18 plain digits (no list, no sign: those go to Beast).
bool readContentLength(std::string_view v, Framing& f) {
    if (f.content_length || v.empty() || v.size() > 18) {
        return false;
    }
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') {
            return false;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    f.content_length = n;
    return true;
}

// The fields that frame a message, as Beast's do_field treats them; the others are only kept.
enum class Special { None, Refuse, Connection, ContentLength };

Special special(std::string_view name) {
    struct Entry {
        std::string_view lower;
        Special what;
    };
    static constexpr std::array<Entry, 5> kFields{{
        {"connection", Special::Connection},
        {"content-length", Special::ContentLength},
        {"proxy-connection", Special::Connection},  // Beast reads it as Connection
        {"transfer-encoding", Special::Refuse},     // chunked or any coding: Beast's
        {"upgrade", Special::Refuse},
    }};
    for (const auto& e : kFields) {
        if (name.size() == e.lower.size() && iequals(name, e.lower)) {
            return e.what;
        }
    }
    return Special::None;
}

// "HTTP/1.0" or "HTTP/1.1" at `p`: the version as Beast gives it (10, 11), or 0.
int readVersion(const char* p, const char* end) {
    static constexpr std::string_view kPrefix = "HTTP/1.";
    if (end - p < 8 || std::string_view(p, kPrefix.size()) != kPrefix) {
        return 0;
    }
    return p[7] == '1' ? 11 : p[7] == '0' ? 10 : 0;
}

// The field lines from `p` up to and including the empty line, into `m` and `f`. Returns the
// position after the empty line, or null to leave the message to Beast.
const char* readFields(const char* p, const char* end, LeanMessage& m, Framing& f) {
    for (;;) {
        if (end - p < 2) {
            return nullptr;
        }
        if (p[0] == '\r') {
            return p[1] == '\n' ? p + 2 : nullptr;
        }
        const char* name_end = p;
        while (name_end < end && isToken(*name_end)) {
            ++name_end;
        }
        if (name_end == p || name_end == end || *name_end != ':') {
            return nullptr;
        }
        std::string_view name(p, static_cast<std::size_t>(name_end - p));
        const char* v = name_end + 1;
        while (v < end && isOws(*v)) {
            ++v;
        }
        const char* cr = endOfText(v, end);
        // CR LF, and one byte more to see that the next line does not continue this one (an
        // obs-fold, which Beast joins and we leave to it).
        if (cr == nullptr || end - cr < 3 || cr[1] != '\n' || isOws(cr[2])) {
            return nullptr;
        }
        const char* v_end = cr;
        while (v_end > v && isOws(v_end[-1])) {
            --v_end;
        }
        std::string_view value(v, static_cast<std::size_t>(v_end - v));
        switch (special(name)) {
            case Special::Refuse:
                return nullptr;
            case Special::Connection:
                if (!readConnection(value, f)) {
                    return nullptr;
                }
                break;
            case Special::ContentLength:
                if (!readContentLength(value, f)) {
                    return nullptr;
                }
                break;
            case Special::None:
                break;
        }
        // The line up to the value's end in one copy; the name and value are spans of it.
        auto line = m.keep({p, static_cast<std::size_t>(v_end - p)});
        m.fields.emplace_back(LeanMessage::Span{line.off, static_cast<std::uint32_t>(name.size())},
                              LeanMessage::Span{line.off + static_cast<std::uint32_t>(v - p),
                                                static_cast<std::uint32_t>(value.size())});
        p = cr + 2;
    }
}

// Beast's keep_alive() for a message whose length is known.
bool keepAlive(int version, const Framing& f) {
    return version >= 11 ? !f.close : f.keep_alive;
}

}  // namespace

WholeMessage parseWholeRequest(std::string_view in, std::size_t header_limit,
                               std::uint64_t body_limit, LeanMessage& m) {
    m.clear();
    const char* const begin = in.data();
    const char* const end = begin + in.size();
    // request-line = method SP request-target SP HTTP-version CRLF
    const char* p = begin;
    while (p < end && isToken(*p)) {
        ++p;
    }
    if (p == begin || p == end || *p != ' ') {
        return {};
    }
    const char* target = ++p;
    // Visible ASCII only (Beast also takes obs-text in a target; such a target goes to it).
    while (p<end&& * p> ' ' && *p < 0x7F) {
        ++p;
    }
    if (p == target || p == end || *p != ' ') {
        return {};
    }
    const char* version_at = ++p;
    int version = readVersion(version_at, end);
    if (version == 0 || end - version_at < 10 || version_at[8] != '\r' || version_at[9] != '\n') {
        return {};
    }
    m.method = m.keep({begin, static_cast<std::size_t>(target - 1 - begin)});
    m.target = m.keep({target, static_cast<std::size_t>(version_at - 1 - target)});
    m.version = version;
    Framing f;
    const char* body = readFields(version_at + 10, end, m, f);
    if (body == nullptr || static_cast<std::size_t>(body - begin) > header_limit) {
        return {};
    }
    std::uint64_t length = f.content_length.value_or(0);
    if (length >= body_limit || length > static_cast<std::uint64_t>(end - body)) {
        return {};
    }
    m.body.assign(body, static_cast<std::size_t>(length));
    return {static_cast<std::size_t>(body - begin) + static_cast<std::size_t>(length),
            keepAlive(version, f)};
}

WholeMessage parseWholeResponse(std::string_view in, std::size_t header_limit,
                                std::uint64_t body_limit, bool head_request, LeanMessage& m) {
    m.clear();
    const char* const begin = in.data();
    const char* const end = begin + in.size();
    // status-line = HTTP-version SP 3DIGIT SP reason-phrase CRLF
    int version = readVersion(begin, end);
    if (version == 0 || end - begin < 13 || begin[8] != ' ' || begin[12] != ' ') {
        return {};
    }
    int status = 0;
    for (const char* d = begin + 9; d < begin + 12; ++d) {
        if (*d < '0' || *d > '9') {
            return {};
        }
        status = status * 10 + (*d - '0');
    }
    const char* cr = endOfText(begin + 13, end);
    if (cr == nullptr || end - cr < 2 || cr[1] != '\n' || status < 200) {
        return {};  // (an interim answer is followed by the real one: Beast's loop handles it)
    }
    m.status = status;
    m.version = version;
    Framing f;
    const char* body = readFields(cr + 2, end, m, f);
    if (body == nullptr || static_cast<std::size_t>(body - begin) > header_limit) {
        return {};
    }
    std::uint64_t length = 0;
    if (!head_request && status != 204 && status != 304) {
        if (!f.content_length) {
            return {};  // delimited by the end of the connection
        }
        length = *f.content_length;
    }
    if (length >= body_limit || length > static_cast<std::uint64_t>(end - body)) {
        return {};
    }
    m.body.assign(body, static_cast<std::size_t>(length));
    return {static_cast<std::size_t>(body - begin) + static_cast<std::size_t>(length),
            keepAlive(version, f)};
}

}  // namespace restinu::rt::detail
