#include "restinu/rt/curl.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace restinu::rt {
namespace {

namespace net = boost::asio;

void globalInit() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool transientCode(CURLcode c) {
    switch (c) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_AGAIN:
            return true;
        default:
            return false;
    }
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

// --- CurlEasy ------------------------------------------------------------------------------

CurlEasy::CurlEasy() {
    globalInit();
    easy_ = curl_easy_init();
    if (easy_ == nullptr) {
        throw std::bad_alloc();
    }
}

CurlEasy::~CurlEasy() {
    curl_easy_cleanup(easy_);
    curl_slist_free_all(headers_);
    curl_slist_free_all(rcpt_);
}

void CurlEasy::header(const std::string& line) {
    headers_ = curl_slist_append(headers_, line.c_str());
}

void CurlEasy::rcpt(const std::string& address) {
    rcpt_ = curl_slist_append(rcpt_, address.c_str());
}

void CurlEasy::body(std::string data) {
    body_ = std::move(data);
    body_sent_ = 0;
}

long CurlEasy::status() const {
    long code = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

std::string_view CurlEasy::responseHeader(std::string_view name) const {
    for (const auto& [k, v] : response_headers_) {
        if (iequals(k, name)) {
            return v;
        }
    }
    return {};
}

std::size_t CurlEasy::onWrite(char* data, std::size_t size, std::size_t n, void* self) {
    auto* e = static_cast<CurlEasy*>(self);
    if (e->response_.size() + size * n > e->max_response_bytes) {
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    e->response_.append(data, size * n);
    return size * n;
}

std::size_t CurlEasy::onHeader(char* data, std::size_t size, std::size_t n, void* self) {
    auto* e = static_cast<CurlEasy*>(self);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
        e->response_headers_.clear();  // a new response (after 100 Continue or a redirect)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        auto value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
            value.remove_prefix(1);
        }
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
            value.remove_suffix(1);
        }
        e->response_headers_.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return size * n;
}

std::size_t CurlEasy::onRead(char* data, std::size_t size, std::size_t n, void* self) {
    auto* e = static_cast<CurlEasy*>(self);
    const std::size_t left = e->body_.size() - e->body_sent_;
    const std::size_t take = std::min(left, size * n);
    std::memcpy(data, e->body_.data() + e->body_sent_, take);
    e->body_sent_ += take;
    return take;
}

// --- Curl ------------------------------------------------------------------------------------

struct Curl::Impl : std::enable_shared_from_this<Impl> {
    // A socket libcurl asked us to watch. The descriptor does not own the fd (libcurl closes
    // it): it is released before libcurl does.
    struct Watch {
        net::posix::stream_descriptor fd;
        int want = 0;  // CURL_POLL_IN/OUT/INOUT
        bool reading = false;
        bool writing = false;
        bool removed = false;
        explicit Watch(IoContext& io, curl_socket_t s) : fd(io, s) {}
    };
    // A transfer in progress: its completion.
    struct Transfer {
        net::steady_timer done;
        CURLcode result = CURLE_OK;
        bool finished = false;
        explicit Transfer(IoContext& io) : done(io, net::steady_timer::time_point::max()) {}
    };

    IoContext& io;
    CURLM* multi = nullptr;
    net::steady_timer timer;
    std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches;
    int running = 0;

    explicit Impl(IoContext& i) : io(i), timer(i) {
        globalInit();
        multi = curl_multi_init();
        curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::onSocket);
        curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
        curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::onTimer);
        curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    }
    ~Impl() {
        for (auto& [s, w] : watches) {
            w->removed = true;
            w->fd.release();
        }
        curl_multi_cleanup(multi);
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    static int onSocket(CURL*, curl_socket_t s, int what, void* self, void*) {
        static_cast<Impl*>(self)->socket(s, what);
        return 0;
    }
    static int onTimer(CURLM*, long timeout_ms, void* self) {
        static_cast<Impl*>(self)->arm(timeout_ms);
        return 0;
    }

    void socket(curl_socket_t s, int what) {
        if (what == CURL_POLL_REMOVE) {
            if (auto it = watches.find(s); it != watches.end()) {
                it->second->removed = true;
                it->second->fd.cancel();
                it->second->fd.release();
                watches.erase(it);
            }
            return;
        }
        auto& w = watches[s];
        if (!w) {
            w = std::make_shared<Watch>(io, s);
        }
        w->want = what;
        watch(w, s);
    }

    // Starts the waits libcurl wants that are not already in flight.
    void watch(const std::shared_ptr<Watch>& w, curl_socket_t s) {
        std::weak_ptr<Impl> self = weak_from_this();
        if ((w->want & CURL_POLL_IN) != 0 && !w->reading) {
            w->reading = true;
            w->fd.async_wait(net::posix::stream_descriptor::wait_read,
                             [self, w, s](boost::system::error_code ec) {
                                 w->reading = false;
                                 if (auto impl = self.lock(); impl && !ec && !w->removed) {
                                     impl->ready(w, s, CURL_CSELECT_IN, CURL_POLL_IN);
                                 }
                             });
        }
        if ((w->want & CURL_POLL_OUT) != 0 && !w->writing) {
            w->writing = true;
            w->fd.async_wait(net::posix::stream_descriptor::wait_write,
                             [self, w, s](boost::system::error_code ec) {
                                 w->writing = false;
                                 if (auto impl = self.lock(); impl && !ec && !w->removed) {
                                     impl->ready(w, s, CURL_CSELECT_OUT, CURL_POLL_OUT);
                                 }
                             });
        }
    }

    void ready(const std::shared_ptr<Watch>& w, curl_socket_t s, int select, int poll) {
        if ((w->want & poll) == 0) {
            return;  // libcurl stopped wanting this direction meanwhile
        }
        curl_multi_socket_action(multi, s, select, &running);
        finish();
        if (!w->removed) {
            watch(w, s);
        }
    }

    void arm(long timeout_ms) {
        timer.cancel();
        if (timeout_ms < 0) {
            return;
        }
        timer.expires_after(std::chrono::milliseconds(timeout_ms));
        std::weak_ptr<Impl> self = weak_from_this();
        timer.async_wait([self](boost::system::error_code ec) {
            if (auto impl = self.lock(); impl && !ec) {
                curl_multi_socket_action(impl->multi, CURL_SOCKET_TIMEOUT, 0, &impl->running);
                impl->finish();
            }
        });
    }

    // Hands each finished transfer its result.
    void finish() {
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            void* p = nullptr;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
            const CURLcode result = m->data.result;
            curl_multi_remove_handle(multi, m->easy_handle);
            if (auto* t = static_cast<Transfer*>(p)) {
                t->result = result;
                t->finished = true;
                t->done.cancel();
            }
        }
    }
};

Curl::Curl(IoContext& io) : impl_(std::make_shared<Impl>(io)) {}

Curl::~Curl() = default;

std::size_t Curl::running() const {
    return static_cast<std::size_t>(impl_->running);
}

Task<void> Curl::perform(CurlEasy& easy) {
    CURL* h = easy.get();
    easy.response_.clear();
    easy.response_headers_.clear();
    easy.body_sent_ = 0;
    easy.error_[0] = '\0';
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(easy.total_timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(easy.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &CurlEasy::onWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &easy);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &CurlEasy::onHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &easy);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, easy.error_);
    if (easy.headers_ != nullptr) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, easy.headers_);
    }
    if (easy.rcpt_ != nullptr) {
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, easy.rcpt_);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &CurlEasy::onRead);
        curl_easy_setopt(h, CURLOPT_READDATA, &easy);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    }

    auto transfer = std::make_shared<Impl::Transfer>(impl_->io);
    curl_easy_setopt(h, CURLOPT_PRIVATE, transfer.get());
    if (auto rc = curl_multi_add_handle(impl_->multi, h); rc != CURLM_OK) {
        throw CurlError(-1, curl_multi_strerror(rc), false);
    }
    // If this frame is destroyed before the end (the io_context stops), the handle leaves the
    // multi handle with it.
    struct Remove {
        std::shared_ptr<Impl> impl;
        CURL* h;
        std::shared_ptr<Impl::Transfer> t;
        ~Remove() {
            if (!t->finished) {
                curl_multi_remove_handle(impl->multi, h);
            }
            curl_easy_setopt(h, CURLOPT_PRIVATE, nullptr);
        }
    } remove{impl_, h, transfer};
    if (!transfer->finished) {
        boost::system::error_code ec;
        co_await transfer->done.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    if (transfer->result != CURLE_OK) {
        std::string what = easy.error_[0] != '\0'
                               ? std::string(easy.error_)
                               : std::string(curl_easy_strerror(transfer->result));
        throw CurlError(static_cast<int>(transfer->result), what, transientCode(transfer->result));
    }
}

}  // namespace restinu::rt
