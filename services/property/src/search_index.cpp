#include "search_index.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"
#include "search_page.hpp"

namespace restinu::property::search {
namespace {

namespace net = boost::asio;
using detail::cheaperThan;
using detail::newerThan;

constexpr std::string_view kPublic[] = {"active", "reserved", "sold"};
// What the index reads of a row: the page's columns (kColumns), the newest sort's cursor key,
// the creation time in microseconds (for ordering), the city's key, the change number and the
// search document's lexemes.
const std::string kSelect =
    "SELECT " + std::string(kColumns) +
    ", created_at::text AS cursor_key, (extract(epoch FROM created_at) "
    "* 1000000)::bigint AS created_us, city_key, change_seq, document::text AS words "
    "FROM property_search ";
constexpr std::size_t kBatch = 5000;
constexpr std::int64_t kGapLifeMs = 10'000;  // a skipped number is asked for this long
constexpr std::size_t kMaxGaps = 4096;
constexpr std::int64_t kLoadOverlap = 1000;  // numbers before the load's last, asked for again

}  // namespace

struct MemoryIndex::Waiter {
    explicit Waiter(const net::any_io_executor& ex)
        : timer(ex, net::steady_timer::time_point::max()) {}
    net::steady_timer timer;
};

namespace {}  // namespace

MemoryIndex::MemoryIndex() : all_(std::make_unique<Orders>()) {}
MemoryIndex::~MemoryIndex() = default;

bool MemoryIndex::answers(const Params& p) {
    return !p.bbox && p.facets.empty() && p.relevance_window == 0 &&
           (p.sort != Sort::Distance || p.radius_km);
}

std::size_t MemoryIndex::size() const {
    return live_;
}

std::uint16_t MemoryIndex::intern(std::string_view name) {
    auto [it, inserted] =
        names_.try_emplace(std::string(name), static_cast<std::uint16_t>(names_.size() + 1));
    return it->second;
}

MemoryIndex::Orders& MemoryIndex::ordersOf(std::uint16_t city) {
    auto& o = by_city_[city];
    if (!o) {
        o = std::make_unique<Orders>();
    }
    return *o;
}

namespace {

// Where row `i` is, or goes, in a list in newest (or cheapest) order.
template <class Rows>
std::vector<std::uint32_t>::iterator newestSlot(const Rows& rows, std::vector<std::uint32_t>& list,
                                                std::uint32_t i) {
    return std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
        return newerThan(rows[j], rows[i].created_us, rows[i].id);
    });
}
template <class Rows>
std::vector<std::uint32_t>::iterator cheapestSlot(const Rows& rows,
                                                  std::vector<std::uint32_t>& list,
                                                  std::uint32_t i) {
    return std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
        return cheaperThan(rows[j], rows[i].price, rows[i].id);
    });
}
// A float8 as PostgreSQL writes it (the shortest text that reads back as the same double).
double number(std::string_view text) {
    double v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
}

void eraseAt(std::vector<std::uint32_t>& list, std::vector<std::uint32_t>::iterator at,
             std::uint32_t i) {
    if (at != list.end() && *at == i) {
        list.erase(at);
    }
}

}  // namespace

void MemoryIndex::place(std::uint32_t i) {
    const auto& r = rows_[i];
    for (auto* o : {all_.get(), &ordersOf(r.city)}) {
        o->newest.insert(newestSlot(rows_, o->newest, i), i);
        o->price.insert(cheapestSlot(rows_, o->price, i), i);
    }
    cells_[detail::cellOf(r.lat, r.lng)].push_back(i);
    for (auto w : r.words.all) {
        auto& list = with_word_[w];
        list.insert(newestSlot(rows_, list, i), i);
    }
    for (auto w : r.words.headline) {
        auto& list = with_headline_word_[w];
        list.insert(newestSlot(rows_, list, i), i);
    }
}

void MemoryIndex::unplace(std::uint32_t i) {
    const auto& r = rows_[i];
    for (auto* o : {all_.get(), &ordersOf(r.city)}) {
        eraseAt(o->newest, newestSlot(rows_, o->newest, i), i);
        eraseAt(o->price, cheapestSlot(rows_, o->price, i), i);
    }
    auto& cell = cells_[detail::cellOf(r.lat, r.lng)];
    std::erase(cell, i);
    for (auto w : r.words.all) {
        auto& list = with_word_[w];
        eraseAt(list, newestSlot(rows_, list, i), i);
    }
    for (auto w : r.words.headline) {
        auto& list = with_headline_word_[w];
        eraseAt(list, newestSlot(rows_, list, i), i);
    }
}

void MemoryIndex::apply(const rt::PgResult& r, bool bulk) {
    static constexpr std::array<std::string_view, 17> kNames{
        "id",         "property_type", "listing_type", "status",     "price_minor", "currency",
        "bedrooms",   "bathrooms",     "area_sqft",    "cursor_key", "created_us",  "city_key",
        "change_seq", "words",         "latitude",     "longitude",  "vastu_score"};
    const auto at = rt::requireColumns(r, kNames);
    const auto items = itemsJson(r);
    for (std::size_t i = 0; i < r.rows(); ++i) {
        std::string id(r.get(i, at[0]));
        const auto seq = r.getInt(i, at[12]);
        auto [it, added] = by_id_.try_emplace(id, static_cast<std::uint32_t>(rows_.size()));
        if (added) {
            rows_.emplace_back();
        }
        const auto n = it->second;
        auto& row = rows_[n];
        if (!added && seq <= row.seq) {
            continue;  // read again (a skipped number, the load's overlap): nothing new
        }
        if (row.live && !bulk) {
            unplace(n);
        }
        live_ -= row.live ? 1 : 0;
        row.id = std::move(id);
        row.seq = seq;
        row.type = intern(r.get(i, at[1]));
        row.listing_type = intern(r.get(i, at[2]));
        row.status = intern(r.get(i, at[3]));
        row.price = r.getInt(i, at[4]);
        row.currency = intern(r.get(i, at[5]));
        row.bedrooms = static_cast<std::int32_t>(r.getInt(i, at[6]));
        row.bathrooms = static_cast<std::int32_t>(r.getInt(i, at[7]));
        row.area = static_cast<std::int32_t>(r.getInt(i, at[8]));
        row.created_key = std::string(r.get(i, at[9]));
        row.created_us = r.getInt(i, at[10]);
        row.city = intern(r.get(i, at[11]));
        row.lat = number(r.get(i, at[14]));
        row.lng = number(r.get(i, at[15]));
        row.vastu =
            r.isNull(i, at[16]) ? std::int16_t{-1} : static_cast<std::int16_t>(r.getInt(i, at[16]));
        row.item = items[i];
        row.words = text::parseVector(r.get(i, at[13]), vocabulary_).value_or(text::Lexemes{});
        const auto status = r.get(i, at[3]);
        row.live = std::find(std::begin(kPublic), std::end(kPublic), status) != std::end(kPublic);
        live_ += row.live ? 1 : 0;
        if (row.live && !bulk) {
            place(n);
        }
    }
    if (bulk) {  // one sort per order instead of an insertion per row
        all_ = std::make_unique<Orders>();
        by_city_.clear();
        with_word_.clear();
        with_headline_word_.clear();
        cells_.clear();
        for (std::uint32_t n = 0; n < rows_.size(); ++n) {
            if (rows_[n].live) {
                for (auto* o : {all_.get(), &ordersOf(rows_[n].city)}) {
                    o->newest.push_back(n);
                    o->price.push_back(n);
                }
                cells_[detail::cellOf(rows_[n].lat, rows_[n].lng)].push_back(n);
                for (auto w : rows_[n].words.all) {
                    with_word_[w].push_back(n);
                }
                for (auto w : rows_[n].words.headline) {
                    with_headline_word_[w].push_back(n);
                }
            }
        }
        auto newestFirst = [this](std::uint32_t a, std::uint32_t b) {
            return newerThan(rows_[a], rows_[b].created_us, rows_[b].id);
        };
        for (auto* lists : {&with_word_, &with_headline_word_}) {
            for (auto& [w, list] : *lists) {
                std::sort(list.begin(), list.end(), newestFirst);
            }
        }
        auto sortAll = [this, &newestFirst](Orders& o) {
            std::sort(o.newest.begin(), o.newest.end(), newestFirst);
            std::sort(o.price.begin(), o.price.end(), [this](std::uint32_t a, std::uint32_t b) {
                return cheaperThan(rows_[a], rows_[b].price, rows_[b].id);
            });
        };
        sortAll(*all_);
        for (auto& [city, o] : by_city_) {
            sortAll(*o);
        }
    }
}

rt::Task<void> MemoryIndex::prepare(const Params& p, rt::PgPool& pool) {
    if (!p.text || words_.contains(*p.text)) {
        co_return;
    }
    auto r = co_await pool.query("SELECT websearch_to_tsquery('english', $1)::text", *p.text);
    if (words_.size() >= 10'000) {
        words_.clear();  // bounded: the popular ones come back at once
    }
    words_[*p.text] = Words{std::string(r.get(0, 0)), std::nullopt, std::nullopt};
}

const text::Query* MemoryIndex::queryOf(const Params& p) const {
    auto it = words_.find(*p.text);
    if (it == words_.end()) {
        return nullptr;
    }
    auto& w = it->second;
    // Parsed again when new lexemes arrived since: one no listing had may have one now.
    if (w.parsed_at != vocabulary_.size()) {
        w.query = text::Query::parse(w.tsquery, vocabulary_);
        w.parsed_at = vocabulary_.size();
    }
    return w.query ? &*w.query : nullptr;
}

rt::Task<void> MemoryIndex::waitTurn() {
    if (!waiters_) {
        waiters_ = std::make_shared<Waiter>(co_await net::this_coro::executor);
    }
    auto w = waiters_;
    co_await w->timer.async_wait(net::as_tuple(net::use_awaitable));
}

void MemoryIndex::wakeAll() {
    if (waiters_) {
        waiters_->timer.cancel();
        waiters_.reset();
    }
}

rt::Task<void> MemoryIndex::catchUp(rt::PgPool& pool) {
    // A read that begins after this call: one in progress may have missed what committed just
    // before it. Callers that arrive together share the next one.
    const auto need = started_ + 1;
    while (finished_ < need) {
        if (busy_) {
            co_await waitTurn();
            continue;
        }
        busy_ = true;
        const auto mine = ++started_;
        std::exception_ptr failed;
        try {
            if (loaded_) {
                co_await readChanges(pool);
            } else {
                co_await load(pool);
            }
        } catch (...) {
            failed = std::current_exception();
        }
        busy_ = false;
        if (!failed) {
            finished_ = mine;
        }
        wakeAll();
        if (failed) {
            std::rethrow_exception(failed);
        }
    }
}

rt::Task<void> MemoryIndex::load(rt::PgPool& pool) {
    const std::string sql = kSelect + "WHERE status IN ('active', 'reserved', 'sold')";
    auto r = co_await pool.query(sql);
    apply(r, true);
    std::int64_t top = 0;
    for (const auto& row : rows_) {
        top = std::max(top, row.seq);
    }
    seen_max_ = top;
    // Numbers just before the last loaded one that the load did not hold (drafts, withdrawn
    // listings, or a write still committing): asked for again for a while.
    const auto now = rt::unixMillis();
    std::vector<bool> held(static_cast<std::size_t>(kLoadOverlap) + 1, false);
    for (const auto& row : rows_) {
        if (row.seq >= top - kLoadOverlap) {
            held[static_cast<std::size_t>(row.seq - (top - kLoadOverlap))] = true;
        }
    }
    for (std::int64_t s = std::max<std::int64_t>(1, top - kLoadOverlap); s < top; ++s) {
        if (!held[static_cast<std::size_t>(s - (top - kLoadOverlap))]) {
            gaps_.emplace_back(s, now);
        }
    }
    loaded_ = true;
}

rt::Task<void> MemoryIndex::readChanges(rt::PgPool& pool) {
    const auto now = rt::unixMillis();
    while (!gaps_.empty() && (now - gaps_.front().second > kGapLifeMs || gaps_.size() > kMaxGaps)) {
        gaps_.pop_front();
    }
    const std::string sql = kSelect +
                            "WHERE change_seq > $1::bigint OR change_seq = ANY($2::bigint[]) "
                            "ORDER BY change_seq LIMIT " +
                            std::to_string(kBatch);
    while (true) {
        std::string gaps = "{";
        for (const auto& [s, t] : gaps_) {
            gaps += (gaps.size() > 1 ? "," : "") + std::to_string(s);
        }
        gaps += "}";
        auto r = co_await pool.query(sql, seen_max_, gaps);
        if (r.rows() == 0) {
            co_return;
        }
        const auto seq_col = rt::requireColumn(r, "change_seq");
        std::int64_t last = seen_max_;
        for (std::size_t i = 0; i < r.rows(); ++i) {
            const auto s = r.getInt(i, seq_col);
            if (s <= seen_max_) {
                std::erase_if(gaps_, [s](const auto& g) { return g.first == s; });
                continue;
            }
            for (auto skipped = last + 1; skipped < s && gaps_.size() < kMaxGaps; ++skipped) {
                gaps_.emplace_back(skipped, now);
            }
            last = s;
        }
        apply(r, false);
        seen_max_ = last;
        if (r.rows() < kBatch) {
            co_return;
        }
    }
}

}  // namespace restinu::property::search
