#pragma once

// Internal to the runtime: included by http_server.cpp and http_client.cpp only (it pulls in
// Beast).

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/http.hpp"

namespace restinu::rt::detail {

/// One HTTP message as the lean parser leaves it. The start line's parts and every field name
/// and value are copied into `store` as they are parsed (so they outlive the read buffer, which
/// moves when it grows, and Beast's stack copy of a folded value), and the body into `body`.
/// A connection keeps one and clears it per message, so the storage is allocated once.
struct LeanMessage {
    struct Span {
        std::uint32_t off = 0;
        std::uint32_t len = 0;
    };

    std::string store;
    Span method;  ///< request: the method as sent
    Span target;  ///< request: the target as sent
    int status = 0;
    int version = 11;
    std::vector<std::pair<Span, Span>> fields;
    std::string body;

    void clear() {
        store.clear();
        fields.clear();
        body.clear();
        status = 0;
        version = 11;
    }
    std::string_view view(Span s) const { return {store.data() + s.off, s.len}; }
    std::string_view name(std::size_t i) const { return view(fields[i].first); }
    std::string_view value(std::size_t i) const { return view(fields[i].second); }

    Span keep(std::string_view s) {
        Span out{static_cast<std::uint32_t>(store.size()), static_cast<std::uint32_t>(s.size())};
        store.append(s.data(), s.size());
        return out;
    }
};

/// Beast's HTTP/1.1 parser (its grammar, limits, chunked decoding and keep-alive rules) with
/// the message collected into a LeanMessage instead of Beast's field container, which allocates
/// each field and keeps them in a tree. One parser per message, as Beast requires.
template <bool IsRequest>
class LeanParser final : public boost::beast::http::basic_parser<IsRequest> {
public:
    using error_code = boost::beast::error_code;
    using string_view = boost::beast::string_view;

    /// Method and path to the body limit of a spooled request, or 0 (ServerOptions::spool).
    using SpoolPolicy = std::function<std::uint64_t(Method, std::string_view)>;

    explicit LeanParser(LeanMessage& m) : m_(m) { m_.clear(); }

    /// Asks `policy` (which must outlive the parser) about the request line as soon as it is
    /// read: a spooled request gets its own body limit, checked against Content-Length before
    /// any body byte, and its body is not reserved in memory (the server drains it to a file).
    void spool(const SpoolPolicy* policy) { spool_ = policy; }
    bool spooling() const { return spooling_; }

private:
    void on_request_impl(boost::beast::http::verb, string_view method_str, string_view target,
                         int version, error_code&) override {
        m_.method = m_.keep({method_str.data(), method_str.size()});
        m_.target = m_.keep({target.data(), target.size()});
        m_.version = version;
        if (spool_ != nullptr && *spool_) {
            std::string_view t(target.data(), target.size());
            auto limit = (*spool_)(parseMethod({method_str.data(), method_str.size()}),
                                   t.substr(0, t.find('?')));
            if (limit > 0) {
                this->body_limit(limit);
                spooling_ = true;
            }
        }
    }
    void on_response_impl(int code, string_view, int version, error_code&) override {
        m_.status = code;
        m_.version = version;
    }
    void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                       error_code&) override {
        auto n = m_.keep({name.data(), name.size()});
        auto v = m_.keep({value.data(), value.size()});
        m_.fields.emplace_back(n, v);
    }
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
        // The parser has checked `length` against the body limit already.
        if (length && !spooling_) {
            m_.body.reserve(static_cast<std::size_t>(*length));
        }
    }
    std::size_t on_body_impl(string_view body, error_code&) override {
        m_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
        m_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(error_code&) override {}

    LeanMessage& m_;
    const SpoolPolicy* spool_ = nullptr;
    bool spooling_ = false;
};

}  // namespace restinu::rt::detail
