#include "http_api.hpp"

#include <algorithm>

#include "restinu/rt/curl.hpp"

namespace restinu::notification {

std::string clip(std::string s) {
    constexpr std::size_t kLimit = 300;
    if (s.size() > kLimit) {
        s.resize(kLimit);
        s += "...";
    }
    return s;
}

void preparePost(rt::CurlEasy& easy, const std::string& url, const std::string& body,
                 std::chrono::milliseconds timeout) {
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    easy.header("Expect:");  // no 100-continue round trip for a body over 1 KiB
    easy.total_timeout = timeout;
    easy.connect_timeout = std::min(easy.connect_timeout, timeout);
}

rt::Task<bool> exchange(rt::Curl& curl, rt::CurlEasy& easy, std::string provider,
                        SendResult& failure) {
    try {
        co_await curl.perform(easy);
    } catch (const rt::CurlError& e) {
        std::string why = provider + " did not answer: " + e.what();
        failure = e.transient() ? SendResult::retry(std::move(why))
                                : SendResult::permanent(std::move(why));
        co_return false;
    }
    co_return true;
}

}  // namespace restinu::notification
