#pragma once

// Internal to the runtime (the HTTP server and client): a one-pass parser for the plain HTTP/1.1
// message that nearly all traffic is, in front of Beast's parser (lean_parser.hpp).
//
// It takes a message only when the whole of it is in the buffer and it has the simple form:
// HTTP/1.0 or 1.1, printable field values without line folding, no Transfer-Encoding or Upgrade,
// at most one Content-Length of plain digits (the body complete after the head), a Connection
// list of plain tokens. Anything else, including anything malformed, is left to Beast, which
// then parses the message from its first byte (nothing is consumed) and accepts or rejects it
// by its own rules. So this parser accepts a strict subset of what Beast accepts and must read
// it exactly as Beast does (the same start line, fields, body and keep-alive); a differential
// test in whole_message_test.cpp holds it to that on generated and hostile messages.
//
// Why: Beast looks at a header a byte at a time through lookup tables (its SIMD search is a stub
// in Boost 1.81), which made parsing a quarter of the gateway's and a service's instructions per
// request; a bearer token alone cost 5,000. This pass checks eight bytes of a field value per step.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lean_parser.hpp"

namespace restinu::rt::detail {

struct WholeMessage {
    std::size_t used = 0;  ///< bytes of the message; 0: not taken (give the buffer to Beast)
    bool keep_alive = false;
};

/// A complete request at the start of `in`, into `m` (cleared first). `header_limit` and
/// `body_limit` are the server's: a message near or over either is left to Beast, which
/// answers it with the right error.
WholeMessage parseWholeRequest(std::string_view in, std::size_t header_limit,
                               std::uint64_t body_limit, LeanMessage& m);

/// A complete response at the start of `in`, into `m` (cleared first). `head_request`: the
/// answer to a HEAD, which has no body whatever its Content-Length says. Interim (1xx) answers
/// and answers delimited by the end of the connection are left to Beast. The limits are the
/// client's, as for a request.
WholeMessage parseWholeResponse(std::string_view in, std::size_t header_limit,
                                std::uint64_t body_limit, bool head_request, LeanMessage& m);

}  // namespace restinu::rt::detail
