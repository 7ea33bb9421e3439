#include "smtp.hpp"

#include <ctime>

#include "restinu/rt/curl.hpp"

namespace restinu::notification {
namespace {

bool ascii(std::string_view s) {
    for (unsigned char c : s) {
        if (c >= 0x80 || c == '\r' || c == '\n') {
            return false;
        }
    }
    return true;
}

// A header value: as it is when plain ASCII, else one RFC 2047 encoded word per line-safe chunk.
std::string headerText(std::string_view s) {
    if (ascii(s)) {
        return std::string(s);
    }
    std::string flat;
    for (char c : s) {
        flat += (c == '\r' || c == '\n') ? ' ' : c;
    }
    if (ascii(flat)) {
        return flat;
    }
    std::string b64 = base64Lines(flat);
    std::string joined;
    for (char c : b64) {
        if (c != '\r' && c != '\n') {
            joined += c;
        }
    }
    return "=?UTF-8?B?" + joined + "?=";
}

// A display name, quoted (quotes and backslashes escaped) or encoded.
std::string displayName(std::string_view name) {
    if (!ascii(name)) {
        return headerText(name);
    }
    std::string out = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string mailbox(std::string_view name, std::string_view address) {
    if (name.empty()) {
        return "<" + std::string(address) + ">";
    }
    return displayName(name) + " <" + std::string(address) + ">";
}

std::string rfc5322Date() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

bool cleanAddress(std::string_view a) {
    return !a.empty() && a.size() <= 254 &&
           a.find_first_of("\r\n<>, \t") == std::string_view::npos &&
           a.find('@') != std::string_view::npos;
}

}  // namespace

std::string base64Lines(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve(bytes.size() * 4 / 3 + bytes.size() / 38 + 8);
    std::size_t line = 0;
    auto put = [&](char c) {
        if (line == 76) {
            out += "\r\n";
            line = 0;
        }
        out += c;
        ++line;
    };
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
        put(kAlphabet[(v >> 18) & 63]);
        put(kAlphabet[(v >> 12) & 63]);
        put(kAlphabet[(v >> 6) & 63]);
        put(kAlphabet[v & 63]);
    }
    if (i < bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        const bool two = i + 1 < bytes.size();
        if (two) {
            v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        }
        put(kAlphabet[(v >> 18) & 63]);
        put(kAlphabet[(v >> 12) & 63]);
        put(two ? kAlphabet[(v >> 6) & 63] : '=');
        put('=');
    }
    return out;
}

std::string buildMime(const Outgoing& m, const SmtpSettings& s, const std::string& date) {
    const std::string boundary = "=_restinu_" + m.message_id;
    std::string out;
    out += "From: " + mailbox(s.from_name, s.from_address) + "\r\n";
    out += "To: " + mailbox(m.to_name, m.to) + "\r\n";
    out += "Subject: " + headerText(m.subject) + "\r\n";
    out += "Date: " + date + "\r\n";
    out += "Message-ID: <" + m.message_id + "@restinu>\r\n";
    out += "MIME-Version: 1.0\r\n";
    if (!m.unsubscribe.empty()) {
        out += "List-Unsubscribe: <" + m.unsubscribe + ">\r\n";
        out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
    }
    out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
    auto part = [&](std::string_view type, std::string_view body) {
        out += "--" + boundary + "\r\n";
        out += "Content-Type: " + std::string(type) + "; charset=utf-8\r\n";
        out += "Content-Transfer-Encoding: base64\r\n\r\n";
        out += base64Lines(body) + "\r\n";
    };
    part("text/plain", m.text);
    if (!m.html.empty()) {
        part("text/html", m.html);
    }
    out += "--" + boundary + "--\r\n";
    return out;
}

SmtpChannel::SmtpChannel(rt::Curl& curl, SmtpSettings settings)
    : curl_(curl), s_(std::move(settings)) {}

rt::Task<SendResult> SmtpChannel::send(const Outgoing& m) {
    if (!cleanAddress(m.to)) {
        co_return SendResult::permanent("not a deliverable address");
    }
    rt::CurlEasy e;
    CURL* h = e.get();
    curl_easy_setopt(h, CURLOPT_URL, s_.url.c_str());
    const std::string from = "<" + s_.from_address + ">";
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    e.rcpt("<" + m.to + ">");
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     static_cast<long>(s_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (!s_.username.empty()) {
        curl_easy_setopt(h, CURLOPT_USERNAME, s_.username.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, s_.password.c_str());
    }
    e.body(buildMime(m, s_, rfc5322Date()));
    e.total_timeout = s_.timeout;
    try {
        co_await curl_.perform(e);
    } catch (const rt::CurlError& err) {
        const long code = e.status();
        // The server's reply decides when it gave one: 5xx is for good, 4xx is "later".
        if (code >= 500) {
            co_return SendResult::permanent("SMTP " + std::to_string(code) + ": " + err.what());
        }
        if (code >= 400 || err.transient()) {
            co_return SendResult::retry(code > 0
                                            ? "SMTP " + std::to_string(code) + ": " + err.what()
                                            : std::string(err.what()));
        }
        co_return SendResult::retry(err.what());  // a TLS or protocol surprise: try again later
    }
    co_return SendResult::sent("<" + m.message_id + "@restinu>");
}

}  // namespace restinu::notification
