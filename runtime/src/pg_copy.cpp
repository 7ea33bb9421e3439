#include "restinu/rt/pg_copy.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <stdexcept>

namespace restinu::rt {
namespace {

struct ConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::runtime_error pgFailure(PGconn* c, const std::string& what) {
    return std::runtime_error(what + ": " + PQerrorMessage(c));
}

}  // namespace

void CopyRow::separator() {
    if (!first_) {
        *out_ += '\t';
    }
    first_ = false;
}

CopyRow& CopyRow::field(std::string_view value) {
    separator();
    for (char c : value) {
        switch (c) {
            case '\\':
                *out_ += "\\\\";
                break;
            case '\t':
                *out_ += "\\t";
                break;
            case '\n':
                *out_ += "\\n";
                break;
            case '\r':
                *out_ += "\\r";
                break;
            default:
                *out_ += c;
        }
    }
    return *this;
}

CopyRow& CopyRow::field(std::int64_t value) {
    separator();
    *out_ += std::to_string(value);
    return *this;
}

CopyRow& CopyRow::field(double value) {
    separator();
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out_->append(buf, end);
    return *this;
}

CopyRow& CopyRow::null() {
    separator();
    *out_ += "\\N";
    return *this;
}

CopyRow& CopyRow::array(const std::vector<std::string>& values) {
    std::string text = "{";
    for (const auto& v : values) {
        if (text.size() > 1) {
            text += ',';
        }
        text += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') {
                text += '\\';
            }
            text += c;
        }
        text += '"';
    }
    text += '}';
    return field(text);
}

std::int64_t copyIn(const std::string& conninfo, const std::string& copy_sql,
                    const std::function<bool(CopyRow&)>& produce) {
    Conn conn(PQconnectdb(conninfo.c_str()));
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw pgFailure(conn.get(), "cannot connect");
    }
    Result start(PQexec(conn.get(), copy_sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
        throw pgFailure(conn.get(), "COPY did not start");
    }
    std::string buffer;
    buffer.reserve(std::size_t{1} << 21);
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    auto flush = [&] {
        if (!buffer.empty() &&
            PQputCopyData(conn.get(), buffer.data(), static_cast<int>(buffer.size())) != 1) {
            throw pgFailure(conn.get(), "COPY data was refused");
        }
        buffer.clear();
    };
    for (;;) {
        CopyRow row(buffer);
        auto mark = buffer.size();
        if (!produce(row)) {
            buffer.resize(mark);
            break;
        }
        buffer += '\n';
        if (buffer.size() >= kChunk) {
            flush();
        }
    }
    flush();
    if (PQputCopyEnd(conn.get(), nullptr) != 1) {
        throw pgFailure(conn.get(), "COPY could not end");
    }
    Result end(PQgetResult(conn.get()));
    if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) {
        throw pgFailure(conn.get(), "COPY failed");
    }
    const char* tuples = PQcmdTuples(end.get());
    return tuples != nullptr && *tuples != '\0' ? std::stoll(tuples) : 0;
}

}  // namespace restinu::rt
