#pragma once

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "restinu/rt/events.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class TokenVerifier;
}  // namespace restinu::rt

/// What every user-service handler needs: the caller, the JSON body, field errors, the audit
/// trail. One place, so every endpoint answers the same way to the same mistake.
namespace restinu::user {

struct Caller {
    std::string user_id;
    std::string session_id;
    std::string role;  ///< as the token says; admin actions re-read it from the database
};

/// The caller: from the gateway's signed identity (`req.identity`, checked by the runtime) or,
/// for a request that did not come through the gateway, from its bearer access token. Throws a
/// 401 problem when there is neither or the token does not verify. (The service's middleware
/// runs it once per request; handlers read the result with callerOf.)
Caller authenticate(const rt::TokenVerifier& verifier, const rt::Request& req);

/// The caller of a route whose access rule requires one (`req.identity`); a 401 problem if a
/// route was declared open by mistake.
Caller callerOf(const rt::Request& req);

using rt::isUuid;
using rt::parseJsonObject;

/// A string member; records "is required" / "must be a string" in `errors`.
std::string stringField(const boost::json::object& o, std::string_view key,
                        std::vector<rt::FieldError>& errors, bool required = true);

/// The `limit` query parameter of a list: 1 to 200, 50 when absent; records a field error.
std::int64_t pageLimit(const rt::Request& req, std::vector<rt::FieldError>& errors);

/// A page of a list: {"items": the first `limit` rows as `item(row)` renders them,
/// "next_cursor": `cursor(last row)` when the store found more (it is asked for limit + 1
/// rows), else null}.
template <class Row, class Item, class Cursor>
boost::json::object page(const std::vector<Row>& rows, std::int64_t limit, Item item,
                         Cursor cursor) {
    boost::json::array items;
    auto n = std::min<std::size_t>(rows.size(), static_cast<std::size_t>(limit));
    for (std::size_t i = 0; i < n; ++i) {
        items.push_back(item(rows[i]));
    }
    boost::json::object out{{"items", std::move(items)}, {"next_cursor", nullptr}};
    if (rows.size() > n && n > 0) {
        out["next_cursor"] = cursor(rows[n - 1]);
    }
    return out;
}

/// Appends one row to audit_log in the caller's transaction, under the request's id.
inline rt::Task<void> audit(rt::PgConn& tx, std::string_view actor, std::string_view action,
                            std::string_view entity_type, std::string_view entity_id,
                            const rt::Request& req, std::string_view details_json = "{}") {
    return rt::audit(tx, actor, action, entity_type, entity_id, req.request_id, details_json);
}

}  // namespace restinu::user
