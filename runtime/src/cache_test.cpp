#include "restinu/rt/cache.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

namespace restinu::rt {
namespace {

L1Cache::Entry entry(std::string value, std::int64_t until = 1'000'000) {
    L1Cache::Entry e;
    e.value = std::make_shared<const std::string>(std::move(value));
    e.fresh_until_ms = e.stale_until_ms = e.error_until_ms = until;
    return e;
}

TEST(L1Cache, NeverHoldsMoreThanItsBudgetUnderAMillionDistinctKeys) {
    constexpr std::size_t kBudget = 4u << 20;
    L1Cache l1(kBudget);
    std::minstd_rand rng(7);
    std::uniform_int_distribution<int> size(20, 2000);
    std::size_t most = 0;
    std::size_t stored = 0;
    for (int i = 0; i < 1'000'000; ++i) {
        auto key = "k" + std::to_string(i);
        l1.find(key, 0);  // asked once, as a miss would be
        stored += l1.put(key, "g", l1.epoch("g"), entry(std::string(size(rng), 'v'))) ? 1 : 0;
        ASSERT_LE(l1.bytes(), kBudget) << "after key " << i;
        most = std::max(most, l1.bytes());
    }
    // It did fill up (the test would pass trivially on a cache that stores nothing).
    EXPECT_GT(most, kBudget * 9 / 10);
    EXPECT_GT(stored, 1000u);
    EXPECT_GT(l1.size(), 1000u);
}

TEST(L1Cache, OneOffKeysDoNotEvictTheHotSet) {
    L1Cache l1(1u << 20);
    auto hot = [](int i) { return "hot" + std::to_string(i); };
    // 200 hot keys of ~1 KiB (about a fifth of the budget), each asked for many times.
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 200; ++i) {
            if (l1.find(hot(i), 0) == nullptr) {
                l1.put(hot(i), "g", l1.epoch("g"), entry(std::string(1000, 'h')));
            }
        }
    }
    // Then a scan of 20,000 keys seen once each (a crawler, the uniform share of searches),
    // while nobody asks for the hot keys: plain LRU would evict every one of them.
    for (int i = 0; i < 20'000; ++i) {
        auto key = "scan" + std::to_string(i);
        l1.find(key, 0);
        l1.put(key, "g", l1.epoch("g"), entry(std::string(1000, 's')));
    }
    int present = 0;
    for (int i = 0; i < 200; ++i) {
        present += l1.find(hot(i), 0) != nullptr ? 1 : 0;
    }
    EXPECT_EQ(present, 200);
}

TEST(L1Cache, InvalidatingAGroupMissesItsEntriesOnly) {
    L1Cache l1(1u << 20);
    ASSERT_TRUE(l1.put("a", "search", l1.epoch("search"), entry("A")));
    ASSERT_TRUE(l1.put("b", "listing:1", l1.epoch("listing:1"), entry("B")));
    l1.invalidate("search");
    EXPECT_EQ(l1.find("a", 0), nullptr);
    ASSERT_NE(l1.find("b", 0), nullptr);
    EXPECT_EQ(*l1.find("b", 0)->value, "B");
    EXPECT_LT(l1.bytes(), 2 * 300u);  // the invalid entry went on the read
}

TEST(L1Cache, AnAnswerComputedBeforeAnInvalidationIsNotStored) {
    L1Cache l1(1u << 20);
    auto before = l1.epoch("search");
    l1.invalidate("search");  // arrives while the answer was being computed
    EXPECT_FALSE(l1.put("a", "search", before, entry("old")));
    EXPECT_EQ(l1.find("a", 0), nullptr);
    auto after_clear = l1.epoch("search");
    l1.clear();  // a clear (new subscription) also voids answers computed before it
    EXPECT_FALSE(l1.put("a", "search", after_clear, entry("old")));
    EXPECT_TRUE(l1.put("a", "search", l1.epoch("search"), entry("new")));
}

TEST(L1Cache, EntriesPastTheirLastUseAreGoneAndNegativeAnswersAreKept) {
    L1Cache l1(1u << 20);
    ASSERT_TRUE(l1.put("a", "g", l1.epoch("g"), entry("A", 100)));
    L1Cache::Entry missing;  // "not found": no value
    missing.error_until_ms = 100;
    ASSERT_TRUE(l1.put("gone", "g", l1.epoch("g"), missing));
    ASSERT_NE(l1.find("gone", 99), nullptr);
    EXPECT_EQ(l1.find("gone", 99)->value, nullptr);
    EXPECT_NE(l1.find("a", 99), nullptr);
    EXPECT_EQ(l1.find("a", 100), nullptr);
    EXPECT_EQ(l1.size(), 1u);
}

TEST(L1Cache, RefusesAnEntryLargerThanAnEighthOfTheBudget) {
    L1Cache l1(64u << 10);
    EXPECT_FALSE(l1.put("big", "g", l1.epoch("g"), entry(std::string(9000, 'x'))));
    EXPECT_TRUE(l1.put("small", "g", l1.epoch("g"), entry(std::string(6000, 'x'))));
}

}  // namespace
}  // namespace restinu::rt
