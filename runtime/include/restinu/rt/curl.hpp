#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/task.hpp"

/// Outgoing SMTP and HTTPS through libcurl without blocking the loop thread: libcurl's multi
/// interface drives every transfer, its sockets watched by the io_context (ADR 0014). For
/// third-party APIs and mail servers; calls between our own services use rt::HttpClient.
namespace restinu::rt {

/// One transfer: a libcurl easy handle with the options the caller sets, the headers it adds,
/// and what came back. The caller sets the URL and protocol options with curl_easy_setopt on
/// get(); Curl::perform sets the callbacks, timeouts and NOSIGNAL.
class CurlEasy {
public:
    CurlEasy();
    ~CurlEasy();
    CurlEasy(const CurlEasy&) = delete;
    CurlEasy& operator=(const CurlEasy&) = delete;

    CURL* get() const { return easy_; }
    /// Adds a request header ("Name: value"), or for SMTP a recipient (rcpt(...)).
    void header(const std::string& line);
    void rcpt(const std::string& address);
    /// The request body (POST fields for HTTP; the whole message for SMTP).
    void body(std::string data);

    /// The whole exchange must end within `total`; connecting within `connect`.
    std::chrono::milliseconds total_timeout{10'000};
    std::chrono::milliseconds connect_timeout{5'000};

    /// The longest response body taken; a longer one aborts the transfer (CURLE_WRITE_ERROR).
    /// No third-party API answers more than the default; downloads of files set their own.
    std::size_t max_response_bytes = std::size_t{16} << 20;

    long status() const;  ///< HTTP status or SMTP reply code
    const std::string& responseBody() const { return response_; }
    /// Moves the response body out (a large download need not be copied).
    std::string takeResponseBody() { return std::move(response_); }
    std::string_view responseHeader(std::string_view name) const;  ///< "" when absent

private:
    friend class Curl;
    CURL* easy_ = nullptr;
    curl_slist* headers_ = nullptr;
    curl_slist* rcpt_ = nullptr;
    std::string body_;
    std::size_t body_sent_ = 0;
    std::string response_;
    std::vector<std::pair<std::string, std::string>> response_headers_;
    char error_[CURL_ERROR_SIZE] = {};
    static std::size_t onWrite(char* data, std::size_t size, std::size_t n, void* self);
    static std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* self);
    static std::size_t onRead(char* data, std::size_t size, std::size_t n, void* self);
};

/// A transfer that did not complete: libcurl's code and message. `transient` when trying again
/// later may succeed (could not connect, timed out, the connection broke).
class CurlError : public std::runtime_error {
public:
    CurlError(int code, const std::string& what, bool transient)
        : std::runtime_error(what), code_(code), transient_(transient) {}
    int code() const { return code_; }
    bool transient() const { return transient_; }

private:
    int code_;
    bool transient_;
};

/// The multi handle of one loop thread.
///
/// @par Thread safety
/// Bound to one io_context; use it only from that thread.
class Curl {
public:
    explicit Curl(IoContext& io);
    ~Curl();
    Curl(const Curl&) = delete;
    Curl& operator=(const Curl&) = delete;

    /// Runs the transfer to its end; throws CurlError when it failed below the protocol (an
    /// HTTP 500 or an SMTP rejection is a completed transfer: read easy.status()). `easy`
    /// must outlive the returned task.
    Task<void> perform(CurlEasy& easy);

    std::size_t running() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace restinu::rt
