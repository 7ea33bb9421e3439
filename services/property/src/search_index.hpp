#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "restinu/rt/task.hpp"
#include "search_query.hpp"
#include "search_text.hpp"

namespace restinu::rt {
class PgPool;
class PgResult;
}  // namespace restinu::rt

namespace restinu::property::search {

namespace detail {
/// Whether `a` comes before (created_us, id) in newest-first order.
template <class Row>
bool newerThan(const Row& a, std::int64_t us, std::string_view id) {
    return a.created_us > us || (a.created_us == us && std::string_view(a.id) > id);
}
/// The cell of the place grid that holds (lat, lng).
std::int64_t cellOf(double lat, double lng);
std::int64_t cellKey(std::int64_t lat_cell, std::int64_t lng_cell);
/// Whether `a` comes before (price, id) in cheapest-first order.
template <class Row>
bool cheaperThan(const Row& a, std::int64_t price, std::string_view id) {
    return a.price < price || (a.price == price && std::string_view(a.id) < id);
}
}  // namespace detail

/// The read model's public listings in memory, for the searches that filter on a listing's
/// fields (city, type, listing type, status, price, rooms, area) and its words, in newest,
/// price or relevance order: the bulk of what people search (ADR 0012). Such a search walks a
/// city's listings (or a word's) in the asked order from the cursor, testing the filters on a
/// compact row, and stops after a page: a selective filter costs a walk over memory, not
/// thousands of rows read by PostgreSQL. Items are written once, when a row is loaded, by the
/// same code as the database's pages (search_page.cpp), and cursors are the database's, so
/// either engine continues the other's pages. Words are matched on the database's own analysis
/// (search_text.hpp); phrases, distance, bounding boxes and facets stay in PostgreSQL.
///
/// Fresh as the read model: every write to `property_search` takes the next change number
/// (migration 0005), and catchUp() applies the rows changed since the last it saw before a page
/// is computed. Numbers can commit out of order (two projection transactions), so a number
/// skipped over is asked for again for a while, and the rows changed just before the first
/// load are read once more after it.
///
/// @par Thread safety
/// None: one per shard (loop thread).
class MemoryIndex {
public:
    MemoryIndex();
    ~MemoryIndex();
    MemoryIndex(const MemoryIndex&) = delete;
    MemoryIndex& operator=(const MemoryIndex&) = delete;

    /// Whether `p` is a search this index answers (if its words parse: see page()).
    static bool answers(const Params& p);

    /// Reads the search's words as the database analyses them (once per distinct text).
    rt::Task<void> prepare(const Params& p, rt::PgPool& pool);

    /// Loads the read model the first time (concurrent callers wait for that load), then
    /// applies what changed: on return the index has every change committed before the call.
    rt::Task<void> catchUp(rt::PgPool& pool);

    /// The page's JSON, as search::pageJson would write it from the database; nullopt when
    /// the cursor's key cannot be read or the words are beyond it (the database then answers).
    std::optional<std::string> page(const Params& p) const;

    std::size_t size() const;
    bool loaded() const { return loaded_; }
    /// Whether a load or catch-up is reading now.
    bool busy() const { return busy_; }

private:
    struct Row {
        std::string id;
        std::string created_key;  // created_at::text: the newest sort's cursor key
        std::string item;         // the page's JSON of it
        text::Lexemes words;
        std::int64_t created_us = 0;
        std::int64_t price = 0;
        std::int64_t seq = 0;
        double lat = 0;
        double lng = 0;
        std::int32_t bedrooms = 0;
        std::int32_t bathrooms = 0;
        std::int32_t area = 0;
        std::uint16_t city = 0;
        std::uint16_t type = 0;
        std::uint16_t listing_type = 0;
        std::uint16_t status = 0;
        std::uint16_t currency = 0;
        std::int16_t vastu = -1;  // the latest Vastu score, -1 when not certified
        bool live = false;        // public, and in the orders
    };
    // Row numbers in the orders a search walks: newest first (created_at, id descending) and
    // cheapest first (price_minor, id ascending; walked backwards for price_desc).
    struct Orders {
        std::vector<std::uint32_t> newest;
        std::vector<std::uint32_t> price;
    };
    struct Waiter;
    struct Words {  // a search's words: the tsquery's text and what it parsed to
        std::string tsquery;
        std::optional<std::size_t> parsed_at;  // the vocabulary's size when last parsed
        std::optional<text::Query> query;
    };

    const text::Query* queryOf(const Params& p) const;
    rt::Task<void> load(rt::PgPool& pool);
    rt::Task<void> readChanges(rt::PgPool& pool);
    void apply(const rt::PgResult& r, bool bulk);
    std::uint16_t intern(std::string_view name);
    Orders& ordersOf(std::uint16_t city);
    void place(std::uint32_t row);
    void unplace(std::uint32_t row);
    rt::Task<void> waitTurn();
    void wakeAll();

    std::vector<Row> rows_;
    std::unordered_map<std::string, std::uint32_t> by_id_;
    std::unordered_map<std::string, std::uint16_t> names_;
    std::unique_ptr<Orders> all_;
    std::unordered_map<std::uint16_t, std::unique_ptr<Orders>> by_city_;
    // Per lexeme, the listings with it (all / in the title or locality), newest first.
    std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> with_word_;
    std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> with_headline_word_;
    text::Vocabulary vocabulary_;
    mutable std::unordered_map<std::string, Words> words_;
    // Listings by place: cells of 0.01° × 0.01° (see search_index_page.cpp).
    std::unordered_map<std::int64_t, std::vector<std::uint32_t>> cells_;
    std::size_t live_ = 0;

    bool loaded_ = false;
    bool busy_ = false;           // a load or catch-up is reading
    std::uint64_t started_ = 0;   // catch-ups begun
    std::uint64_t finished_ = 0;  // catch-ups done
    std::shared_ptr<Waiter> waiters_;
    std::int64_t seen_max_ = 0;  // the highest change number applied
    // Numbers skipped over (not seen yet: rolled back, or still committing), with when.
    std::deque<std::pair<std::int64_t, std::int64_t>> gaps_;  // (number, Unix ms)
};

}  // namespace restinu::property::search
