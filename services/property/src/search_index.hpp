#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "restinu/rt/task.hpp"
#include "search_query.hpp"

namespace restinu::rt {
class PgPool;
class PgResult;
}  // namespace restinu::rt

namespace restinu::property::search {

/// The read model's public listings in memory, for the searches that filter on a listing's
/// fields alone (city, type, listing type, status, price, rooms, area) in newest or price
/// order: the bulk of what people search (ADR 0012). Such a search walks a city's listings (or
/// all of them) in the asked order from the cursor, testing the filters on a compact row, and
/// stops after a page: a selective filter costs a walk over memory, not thousands of rows read
/// by PostgreSQL. Items are written once, when a row is loaded, by the same code as the
/// database's pages (search_page.cpp), and cursors are the database's, so either engine
/// continues the other's pages. Text, distance, bounding boxes and facets stay in PostgreSQL.
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

    /// Whether `p` is a search this index answers.
    static bool answers(const Params& p);

    /// Loads the read model the first time (concurrent callers wait for that load), then
    /// applies what changed: on return the index has every change committed before the call.
    rt::Task<void> catchUp(rt::PgPool& pool);

    /// The page's JSON, as search::pageJson would write it from the database; nullopt when
    /// the cursor's key cannot be read (the database then answers, as before).
    std::optional<std::string> page(const Params& p) const;

    std::size_t size() const;
    bool loaded() const { return loaded_; }

private:
    struct Row;
    struct Orders;
    struct Waiter;

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
    std::size_t live_ = 0;

    bool loaded_ = false;
    bool busy_ = false;           // a load or catch-up is reading
    std::uint64_t started_ = 0;   // catch-ups begun
    std::uint64_t finished_ = 0;  // catch-ups done
    std::shared_ptr<Waiter> waiters_;
    std::int64_t seen_max_ = 0;  // the highest change number applied
    // Numbers skipped over (not seen yet: rolled back, or still committing), with when.
    std::deque<std::pair<std::int64_t, std::int64_t>> gaps_;  // (number, Unix ms)
    std::int64_t reread_after_ms_ = 0;  // once: the last changes before the load, read again
    std::int64_t reread_from_ = 0;
};

}  // namespace restinu::property::search
