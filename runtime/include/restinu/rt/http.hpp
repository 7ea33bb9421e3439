#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/task.hpp"

/// The request and response that handlers see. No Beast here: a Request holds views into the
/// message the server parsed (valid while the handler runs), a Response owns its bytes.
namespace restinu::rt {

enum class Method { Get, Head, Post, Put, Patch, Delete, Options, Other };

std::string_view methodName(Method m);
Method parseMethod(std::string_view name);

/// Case-insensitive ASCII comparison, as HTTP field names need. Inline: header filters call it
/// a few dozen times per proxied request, and most calls end at the length check.
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        // Setting bit 5 lower-cases a letter; the other side must then be that same letter.
        char x = a[i];
        char y = b[i];
        if (x != y) {
            char lx = static_cast<char>(x | 0x20);
            if (lx != static_cast<char>(y | 0x20) || lx < 'a' || lx > 'z') {
                return false;
            }
        }
    }
    return true;
}

/// The first value of header `name` in a list of (name, value) pairs, or nullptr.
template <class Fields>
const auto* findHeader(const Fields& fields, std::string_view name) {
    for (const auto& field : fields) {
        if (iequals(field.first, name)) {
            return &field.second;
        }
    }
    return static_cast<decltype(&fields.begin()->second)>(nullptr);
}

/// The caller of a request, as the gateway vouches for it (see identity.hpp).
struct Identity {
    std::string user_id;
    std::vector<std::string> roles;
    std::string session_id;

    bool hasRole(std::string_view role) const {
        for (const auto& r : roles) {
            if (r == role) {
                return true;
            }
        }
        return false;
    }
};

class SpooledBody;

class Request {
public:
    using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

    Method method = Method::Get;
    std::string_view method_name;
    std::string_view target;  ///< path plus query, as sent
    std::string_view path;    ///< before '?', not decoded
    std::string_view query;   ///< after '?', not decoded
    Fields headers;
    std::string_view body;
    /// Set instead of `body` for a route whose bodies go to a file (ServerOptions::spool): the
    /// whole body, finished (size and SHA-256 known), removed when the last holder lets go.
    std::shared_ptr<SpooledBody> spooled;
    std::string request_id;  ///< kept from X-Request-Id or generated
    std::string_view route;  ///< the matched route template, e.g. /api/v1/properties/{id}
    std::string remote_ip;   ///< the socket's peer: behind the gateway, always the gateway
    /// The client's address: the one the gateway signed (identity.hpp) when the request came
    /// through it, else the socket's peer. Anything keyed on the caller's address uses this.
    std::string client_ip;
    Fields params;  ///< path parameters by name
    /// Set by the runtime when the gateway's signed identity headers verified; empty for an
    /// anonymous request (a request with bad identity headers never reaches a handler).
    std::optional<Identity> identity;

    /// First value of a header, or empty.
    std::string_view header(std::string_view name) const;
    bool hasHeader(std::string_view name) const;
    /// A path parameter from the route template, or empty.
    std::string_view param(std::string_view name) const;
    /// A query parameter, percent-decoded ('+' is a space); nullopt when absent.
    std::optional<std::string> queryParam(std::string_view name) const;
    /// Every query parameter in order, percent-decoded; nullopt if an escape is malformed.
    std::optional<std::vector<std::pair<std::string, std::string>>> queryParams() const;
};

/// The body of a response written over time (Server-Sent Events). The server has sent the head
/// (chunked, Connection: close) when the stream body runs; each write() goes out at once as a
/// chunk. The connection closes when the body returns.
class StreamWriter {
public:
    virtual ~StreamWriter() = default;
    /// Sends `data` now; false when the client has gone or is too slow (the body should end).
    virtual Task<bool> write(std::string_view data) = 0;
    /// True until the client closes its side or the server shuts down.
    virtual bool open() const = 0;
    /// Runs (once, on the loop thread) when the client goes away or the server shuts down, so
    /// that a body waiting for something to send can end at once.
    std::function<void()> on_close;
};
using StreamBody = std::function<Task<void>(StreamWriter&)>;

class Response {
public:
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    /// When set, sent instead of `body`: a large answer kept once and shared by every response
    /// that sends it (the web app's files), never copied per answer.
    std::shared_ptr<const std::string> shared_body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// When set (on a 200 to a GET), `body` is ignored and this writes the body over time.
    std::shared_ptr<StreamBody> stream;

    Response() = default;
    Response(int s, std::string ct, std::string b)
        : status(s), content_type(std::move(ct)), body(std::move(b)) {}

    static Response json(int status, std::string body) {
        return {status, "application/json", std::move(body)};
    }
    static Response text(int status, std::string body) {
        return {status, "text/plain; charset=utf-8", std::move(body)};
    }
    static Response noContent() { return {204, "", ""}; }

    /// The bytes sent: `shared_body` when set, else `body`.
    std::string_view payload() const { return shared_body ? *shared_body : body; }

    Response& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    std::string_view header(std::string_view name) const;
};

/// Percent-decodes a URL component; '+' becomes a space when `plus_is_space`. Returns nullopt on
/// a malformed escape.
std::optional<std::string> percentDecode(std::string_view in, bool plus_is_space);

}  // namespace restinu::rt
