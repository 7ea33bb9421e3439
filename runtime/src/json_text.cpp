#include "restinu/rt/json_text.hpp"

#include "word_scan.hpp"

namespace restinu::rt {

void appendJsonEscaped(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    // Runs of characters that need no escape are appended whole; most text is one run. The run
    // is found eight bytes per step: a word with no byte below a space, no '"' and no '\\'
    // needs no closer look (UTF-8 passes through as it is).
    const char* d = text.data();
    const std::size_t n = text.size();
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            auto w = detail::loadWord(d + i);
            if (!detail::anyByteBelow(w, 0x20) && !detail::anyByteIs(w, '"') &&
                !detail::anyByteIs(w, '\\')) {
                i += 8;
                continue;
            }
        }
        auto u = static_cast<unsigned char>(d[i]);
        if (u >= 0x20 && u != '"' && u != '\\') {
            ++i;
            continue;
        }
        out.append(d + start, i - start);
        start = ++i;
        switch (u) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += "\\u00";
                out += kHex[u >> 4];
                out += kHex[u & 0xf];
        }
    }
    out.append(d + start, n - start);
}

void appendJsonString(std::string& out, std::string_view text) {
    out += '"';
    appendJsonEscaped(out, text);
    out += '"';
}

void appendJsonNumber(std::string& out, std::string_view text) {
    bool ok = !text.empty() && text.find_first_not_of("-+.0123456789eE") == std::string_view::npos;
    out += ok ? text : std::string_view("null");
}

void appendJsonField(std::string& out, std::string_view name) {
    if (!out.empty() && out.back() != '{') {
        out += ',';
    }
    out += '"';
    out += name;
    out += "\":";
}

}  // namespace restinu::rt
