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

constexpr std::string_view kPublic[] = {"active", "reserved", "sold"};
// What the index reads of a row: the page's columns (kColumns), the newest sort's cursor key,
// the creation time in microseconds (for ordering), the city's key and the change number.
const std::string kSelect = "SELECT " + std::string(kColumns) +
                            ", created_at::text AS cursor_key, (extract(epoch FROM created_at) "
                            "* 1000000)::bigint AS created_us, city_key, change_seq "
                            "FROM property_search ";
constexpr std::size_t kBatch = 5000;
constexpr std::int64_t kGapLifeMs = 10'000;  // a skipped number is asked for this long
constexpr std::size_t kMaxGaps = 4096;
constexpr std::int64_t kLoadOverlap = 1000;  // numbers before the load's last, asked for again

// A timestamptz's text as PostgreSQL writes it ("2026-12-06 05:50:41.123456+00", offsets as
// +05:30 too) in Unix microseconds; nullopt for anything else.
std::optional<std::int64_t> parseTimestamp(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, n = 0;
    std::string text(s);
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) !=
        6) {
        return std::nullopt;
    }
    std::string_view rest = s.substr(static_cast<std::size_t>(n));
    std::int64_t micros = 0;
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        int digits = 0;
        while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9' && digits < 6) {
            micros = micros * 10 + (rest.front() - '0');
            rest.remove_prefix(1);
            ++digits;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        for (; digits < 6; ++digits) {
            micros *= 10;
        }
    }
    int offset_minutes = 0;
    if (!rest.empty()) {
        const int sign = rest.front() == '-' ? -1 : 1;
        if (rest.front() != '+' && rest.front() != '-') {
            return std::nullopt;
        }
        rest.remove_prefix(1);
        int oh = 0, om = 0;
        if (rest.size() == 2) {
            std::from_chars(rest.data(), rest.data() + 2, oh);
        } else if (rest.size() == 5 && rest[2] == ':') {
            std::from_chars(rest.data(), rest.data() + 2, oh);
            std::from_chars(rest.data() + 3, rest.data() + 5, om);
        } else {
            return std::nullopt;
        }
        offset_minutes = sign * (oh * 60 + om);
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    const std::int64_t secs = static_cast<std::int64_t>(timegm(&tm)) - offset_minutes * 60;
    return secs * 1'000'000 + micros;
}

}  // namespace

struct MemoryIndex::Row {
    std::string id;
    std::string created_key;  // created_at::text: the newest sort's cursor key
    std::string item;         // the page's JSON of it
    std::int64_t created_us = 0;
    std::int64_t price = 0;
    std::int64_t seq = 0;
    std::int32_t bedrooms = 0;
    std::int32_t bathrooms = 0;
    std::int32_t area = 0;
    std::uint16_t city = 0;
    std::uint16_t type = 0;
    std::uint16_t listing_type = 0;
    std::uint16_t status = 0;
    std::uint16_t currency = 0;
    bool live = false;  // public, and in the orders
};

// Row numbers in the two orders a search walks: newest first (created_at, id descending) and
// cheapest first (price_minor, id ascending; walked backwards for price_desc).
struct MemoryIndex::Orders {
    std::vector<std::uint32_t> newest;
    std::vector<std::uint32_t> price;
};

struct MemoryIndex::Waiter {
    explicit Waiter(const net::any_io_executor& ex)
        : timer(ex, net::steady_timer::time_point::max()) {}
    net::steady_timer timer;
};

namespace {

template <class Row>
bool newerThan(const Row& a, std::int64_t us, std::string_view id) {
    return a.created_us > us || (a.created_us == us && std::string_view(a.id) > id);
}
template <class Row>
bool cheaperThan(const Row& a, std::int64_t price, std::string_view id) {
    return a.price < price || (a.price == price && std::string_view(a.id) < id);
}

}  // namespace

MemoryIndex::MemoryIndex() : all_(std::make_unique<Orders>()) {}
MemoryIndex::~MemoryIndex() = default;

bool MemoryIndex::answers(const Params& p) {
    return !p.text && !p.near && !p.bbox && p.facets.empty() && p.relevance_window == 0 &&
           (p.sort == Sort::Newest || p.sort == Sort::PriceAsc || p.sort == Sort::PriceDesc);
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

void MemoryIndex::place(std::uint32_t i) {
    const auto& r = rows_[i];
    for (auto* o : {all_.get(), &ordersOf(r.city)}) {
        auto at = std::partition_point(o->newest.begin(), o->newest.end(), [&](std::uint32_t j) {
            return newerThan(rows_[j], r.created_us, r.id);
        });
        o->newest.insert(at, i);
        at = std::partition_point(o->price.begin(), o->price.end(), [&](std::uint32_t j) {
            return cheaperThan(rows_[j], r.price, r.id);
        });
        o->price.insert(at, i);
    }
}

void MemoryIndex::unplace(std::uint32_t i) {
    const auto& r = rows_[i];
    for (auto* o : {all_.get(), &ordersOf(r.city)}) {
        auto at = std::partition_point(o->newest.begin(), o->newest.end(), [&](std::uint32_t j) {
            return newerThan(rows_[j], r.created_us, r.id);
        });
        if (at != o->newest.end() && *at == i) {
            o->newest.erase(at);
        }
        at = std::partition_point(o->price.begin(), o->price.end(), [&](std::uint32_t j) {
            return cheaperThan(rows_[j], r.price, r.id);
        });
        if (at != o->price.end() && *at == i) {
            o->price.erase(at);
        }
    }
}

void MemoryIndex::apply(const rt::PgResult& r, bool bulk) {
    static constexpr std::array<std::string_view, 13> kNames{
        "id",         "property_type", "listing_type", "status",    "price_minor",
        "currency",   "bedrooms",      "bathrooms",    "area_sqft", "cursor_key",
        "created_us", "city_key",      "change_seq"};
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
        row.item = items[i];
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
        for (std::uint32_t n = 0; n < rows_.size(); ++n) {
            if (rows_[n].live) {
                for (auto* o : {all_.get(), &ordersOf(rows_[n].city)}) {
                    o->newest.push_back(n);
                    o->price.push_back(n);
                }
            }
        }
        auto sortAll = [this](Orders& o) {
            std::sort(o.newest.begin(), o.newest.end(), [this](std::uint32_t a, std::uint32_t b) {
                return newerThan(rows_[a], rows_[b].created_us, rows_[b].id);
            });
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

std::optional<std::string> MemoryIndex::page(const Params& p) const {
    const Orders* orders = all_.get();
    auto name = [this](std::string_view n) -> std::uint16_t {
        auto it = names_.find(std::string(n));
        return it == names_.end() ? std::uint16_t{0} : it->second;  // 0: no row has it
    };
    if (p.city) {
        std::string key = *p.city;
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        auto it = by_city_.find(name(key));
        orders = it == by_city_.end() ? nullptr : it->second.get();
    }
    // The filters, compiled to the interned numbers.
    std::vector<std::uint16_t> statuses;
    for (const auto& s : p.statuses) {
        statuses.push_back(name(s));
    }
    std::vector<std::uint16_t> types;
    for (const auto& t : p.property_types) {
        types.push_back(name(t));
    }
    const auto listing_type = p.listing_type ? name(*p.listing_type) : std::uint16_t{0};
    const bool priced = p.min_price || p.max_price;
    const auto currency = name(p.currency);
    auto matches = [&](const Row& r) {
        return std::find(statuses.begin(), statuses.end(), r.status) != statuses.end() &&
               (types.empty() || std::find(types.begin(), types.end(), r.type) != types.end()) &&
               (!p.listing_type || r.listing_type == listing_type) &&
               (!priced || r.currency == currency) && (!p.min_price || r.price >= *p.min_price) &&
               (!p.max_price || r.price <= *p.max_price) &&
               (!p.min_bedrooms || r.bedrooms >= *p.min_bedrooms) &&
               (!p.min_bathrooms || r.bathrooms >= *p.min_bathrooms) &&
               (!p.min_area || r.area >= *p.min_area) && (!p.max_area || r.area <= *p.max_area);
    };
    const auto want = static_cast<std::size_t>(p.limit) + 1;
    std::vector<std::uint32_t> found;
    if (orders != nullptr) {
        if (p.sort == Sort::Newest) {
            const auto& list = orders->newest;
            auto from = list.begin();
            if (p.after) {
                auto us = parseTimestamp(p.after->first);
                if (!us) {
                    return std::nullopt;
                }
                const std::string_view id = p.after->second;
                from = std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
                    const auto& r = rows_[j];
                    return newerThan(r, *us, id) || (r.created_us == *us && r.id == id);
                });
            }
            for (auto it = from; it != list.end() && found.size() < want; ++it) {
                if (matches(rows_[*it])) {
                    found.push_back(*it);
                }
            }
        } else {
            const auto& list = orders->price;
            std::int64_t cp = 0;
            std::string_view cid;
            if (p.after) {
                auto [ptr, ec] = std::from_chars(p.after->first.data(),
                                                 p.after->first.data() + p.after->first.size(), cp);
                if (ec != std::errc{} || ptr != p.after->first.data() + p.after->first.size()) {
                    return std::nullopt;
                }
                cid = p.after->second;
            }
            if (p.sort == Sort::PriceAsc) {
                // After the cursor: past every row cheaper than it, or it.
                auto from = list.begin();
                if (p.after) {
                    from = std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
                        const auto& r = rows_[j];
                        return cheaperThan(r, cp, cid) || (r.price == cp && r.id == cid);
                    });
                }
                for (auto it = from; it != list.end() && found.size() < want; ++it) {
                    if (matches(rows_[*it])) {
                        found.push_back(*it);
                    }
                }
            } else {
                auto end =
                    !p.after ? list.end()
                             : std::partition_point(list.begin(), list.end(), [&](std::uint32_t j) {
                                   return cheaperThan(rows_[j], cp, cid);
                               });
                for (auto it = end; it != list.begin() && found.size() < want;) {
                    --it;
                    if (matches(rows_[*it])) {
                        found.push_back(*it);
                    }
                }
            }
        }
    }
    const auto shown = std::min(found.size(), static_cast<std::size_t>(p.limit));
    std::vector<const std::string*> items;
    items.reserve(shown);
    for (std::size_t i = 0; i < shown; ++i) {
        items.push_back(&rows_[found[i]].item);
    }
    if (found.size() > shown && shown > 0) {
        const auto& last = rows_[found[shown - 1]];
        auto cursor = encodeCursor(
            p.sort, p.sort == Sort::Newest ? last.created_key : std::to_string(last.price),
            last.id);
        return pageFromItems(items, &cursor);
    }
    return pageFromItems(items, nullptr);
}

}  // namespace restinu::property::search
