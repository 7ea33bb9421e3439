#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

/// Bulk loading with COPY ... FROM STDIN for command-line tools (`restinu seed`). Blocking:
/// never call it on a loop thread; services use PgPool.
namespace restinu::rt {

/// One row of COPY text format being written; `field()` escapes, `null()` writes \N.
class CopyRow {
public:
    /// Appends to `out`.
    explicit CopyRow(std::string& out) : out_(&out) {}

    CopyRow& field(std::string_view value);
    CopyRow& field(std::int64_t value);
    CopyRow& field(double value);
    CopyRow& null();
    /// A text[] value from plain strings (quoted as PostgreSQL's array syntax needs).
    CopyRow& array(const std::vector<std::string>& values);

private:
    void separator();
    std::string* out_;
    bool first_ = true;
};

/// Runs `copy_sql` ("COPY t (a, b) FROM STDIN") on a new connection to `conninfo` and calls
/// `produce(row)` until it returns false; each call writes at most one row. Sends in chunks of
/// about 1 MiB. Returns the number of rows COPY reports; throws std::runtime_error (with the
/// server's message) on any failure, after which nothing of the COPY is committed.
std::int64_t copyIn(const std::string& conninfo, const std::string& copy_sql,
                    const std::function<bool(CopyRow&)>& produce);

}  // namespace restinu::rt
