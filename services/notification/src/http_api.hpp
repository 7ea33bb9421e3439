#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "channel.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class Curl;
class CurlEasy;
}  // namespace restinu::rt

/// What the HTTPS provider adapters (SendGrid, FCM, Twilio) share.
namespace restinu::notification {

/// A provider's own words, cut to a length nobody has to scroll (they go to the message's
/// last_error and the log).
std::string clip(std::string s);

/// A POST of `body` to `url` (http or https only), no 100-continue wait, within `timeout`.
/// `body` and `url` must outlive the transfer.
void preparePost(rt::CurlEasy& easy, const std::string& url, const std::string& body,
                 std::chrono::milliseconds timeout);

/// Runs the transfer. True when the provider answered (read easy.status()); false when it did
/// not, with `failure` set: Retry for what may pass (refused, timed out), Permanent otherwise.
/// curl's message names the host and the failure, never the request's headers (secrets).
rt::Task<bool> exchange(rt::Curl& curl, rt::CurlEasy& easy, std::string provider,
                        SendResult& failure);

}  // namespace restinu::notification
