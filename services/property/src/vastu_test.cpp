#include "vastu.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <stdexcept>

namespace restinu::property::vastu {
namespace {

namespace json = boost::json;
using Elements = std::vector<std::pair<std::string, std::string>>;

Layout facingEast(Elements elements) {
    return {"E", std::move(elements)};
}

Elements with(Elements base, Elements more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
}

// The required elements, each in its favourable zone; with the open centre the weights are
// entrance 20 + kitchen 15 + master bedroom 10 + Brahmasthan 5 = 50.
const Elements kIdealRequired{{"main_entrance", "N"}, {"kitchen", "SE"}, {"master_bedroom", "SW"}};

// Every element placed in a favourable zone (the septic tank, which has none, in a zone no
// source avoids). The twelve weights add up to 100.
const Elements kIdealFull = with(kIdealRequired, {{"childrens_room", "W"},
                                                  {"pooja_room", "NE"},
                                                  {"toilet", "W"},
                                                  {"staircase", "SW"},
                                                  {"overhead_tank", "W"},
                                                  {"underground_tank", "NE"},
                                                  {"septic_tank", "S"},
                                                  {"balcony", "E"}});

// Every element in a zone to avoid, the kitchen and staircase loading the centre. The
// children's room has no zone to avoid, so its worst is neutral (the centre, 40 points).
const Elements kWorstFull{
    {"main_entrance", "S"},  {"kitchen", "C"},        {"master_bedroom", "NE"},
    {"childrens_room", "C"}, {"pooja_room", "SE"},    {"toilet", "NE"},
    {"staircase", "C"},      {"overhead_tank", "NE"}, {"underground_tank", "SW"},
    {"septic_tank", "NW"},   {"balcony", "SW"}};

Elements replaced(Elements base, const std::string& id, const std::string& zone) {
    for (auto& [e, z] : base) {
        if (e == id) {
            z = zone;
        }
    }
    return base;
}

const Finding& findingOf(const Score& s, std::string_view element) {
    for (const auto& f : s.findings) {
        if (f.element == element) {
            return f;
        }
    }
    throw std::logic_error("no finding for " + std::string(element));
}

TEST(Vastu, RuleTableParsesAndHasEveryElementOfTheIssue) {
    const auto& t = rules();
    EXPECT_EQ(t.version, "2026.1");
    EXPECT_EQ(t.zones.size(), 9u);
    EXPECT_EQ(t.facings.size(), 8u);
    for (auto id : {"main_entrance", "kitchen", "master_bedroom", "childrens_room", "pooja_room",
                    "toilet", "staircase", "overhead_tank", "underground_tank", "septic_tank",
                    "balcony", "brahmasthan"}) {
        const auto* e = t.find(id);
        ASSERT_NE(e, nullptr) << id;
        EXPECT_FALSE(e->remedy.empty()) << id;
        EXPECT_FALSE(e->sources.empty()) << id;
    }
    EXPECT_EQ(t.elements.size(), 12u);
    EXPECT_TRUE(t.find("brahmasthan")->derived());
    for (auto id : {"main_entrance", "kitchen", "master_bedroom"}) {
        EXPECT_TRUE(t.find(id)->required) << id;
    }
}

struct Case {
    const char* name;
    Elements elements;
    int score;
    const char* grade;
};

TEST(Vastu, ScoresMatchTheHandComputedTable) {
    const std::vector<Case> cases{
        // 12 weights × 100 / 100
        {"ideal, every element", kIdealFull, 100, "A"},
        // (20 + 15 + 10 + 5) × 100 / 50
        {"ideal, required only", kIdealRequired, 100, "A"},
        // only the children's room scores: 5 × 40 = 200; 200 / 100 = 2
        {"worst, every element", kWorstFull, 2, "D"},
        // entrance S 0, kitchen C 0, master NE 0, centre loaded 0: 0 / 50
        {"worst, required only",
         {{"main_entrance", "S"}, {"kitchen", "C"}, {"master_bedroom", "NE"}},
         0,
         "D"},
        // conflict: (20×100 + 15×60 + 10×100 + 5×100) / 50 = 4400 / 50 = 88
        {"kitchen W", replaced(kIdealRequired, "kitchen", "W"), 88, "A"},
        // conflict: (20×0 + 1500 + 1000 + 500) / 50 = 3000 / 50 = 60
        {"entrance S", replaced(kIdealRequired, "main_entrance", "S"), 60, "C"},
        // (20×60 + 1500 + 1000 + 500) / 50 = 4200 / 50 = 84, one short of A
        {"entrance W", replaced(kIdealRequired, "main_entrance", "W"), 84, "B"},
        // (20×40 + 1500 + 1000 + 500) / 50 = 3800 / 50 = 76
        {"entrance SE (neutral)", replaced(kIdealRequired, "main_entrance", "SE"), 76, "B"},
        // conflict: (5000 + 10×40) / 60 = 5400 / 60 = 90
        {"toilet NW", with(kIdealRequired, {{"toilet", "NW"}}), 90, "A"},
        // conflict: (5000 + 5×60) / 55 = 5300 / 55 = 96.36 → 96
        {"staircase E", with(kIdealRequired, {{"staircase", "E"}}), 96, "A"},
        // (5000 + 5×0) / 55 = 90.91 → 91
        {"staircase NE", with(kIdealRequired, {{"staircase", "NE"}}), 91, "A"},
        // weights 20+15+10+10+10+5+5+5 = 80; (8000 − 5×40) / 80 = 7800 / 80 = 97.5 → 98
        {"half rounds up",
         with(kIdealRequired,
              {{"pooja_room", "NE"}, {"toilet", "W"}, {"staircase", "E"}, {"balcony", "N"}}),
         98, "A"},
        // pooja C neutral 40, centre holds a light room 60: (4500 + 400 + 300) / 60 = 86.67 → 87
        {"pooja room in the centre", with(kIdealRequired, {{"pooja_room", "C"}}), 87, "A"},
        // toilet C 0 and centre loaded 0: 4500 / 60 = 75
        {"toilet in the centre", with(kIdealRequired, {{"toilet", "C"}}), 75, "B"},
        // septic tank S: no source avoids it, 100: 5500 / 55 = 100
        {"septic tank S", with(kIdealRequired, {{"septic_tank", "S"}}), 100, "A"},
        // septic C 100 in its own row, centre loaded 0: (4500 + 500) / 55 = 90.91 → 91
        {"septic tank in the centre", with(kIdealRequired, {{"septic_tank", "C"}}), 91, "A"},
        // (20×100 + 15×40 + 10×60 + 5×100) / 50 = 3700 / 50 = 74
        {"kitchen N, master S",
         {{"main_entrance", "NE"}, {"kitchen", "N"}, {"master_bedroom", "S"}},
         74,
         "B"},
    };
    for (const auto& c : cases) {
        auto layout = facingEast(c.elements);
        ASSERT_TRUE(validate(layout).empty()) << c.name;
        auto s = score(layout);
        EXPECT_EQ(s.score, c.score) << c.name;
        EXPECT_EQ(s.grade, c.grade) << c.name;
        EXPECT_EQ(s.rules_version, "2026.1");
    }
}

TEST(Vastu, EachConflictCaseGivesTheTableVerdictWithRemedyAndNote) {
    struct Conflict {
        std::string element;
        std::string zone;
        Verdict verdict;
        int points;
    };
    for (const auto& c : std::vector<Conflict>{{"kitchen", "W", Verdict::Acceptable, 60},
                                               {"toilet", "NW", Verdict::Neutral, 40},
                                               {"main_entrance", "S", Verdict::Avoid, 0},
                                               {"staircase", "E", Verdict::Acceptable, 60},
                                               {"staircase", "NE", Verdict::Avoid, 0},
                                               {"main_entrance", "W", Verdict::Acceptable, 60}}) {
        const bool required = rules().find(c.element)->required;
        auto s = score(facingEast(required ? replaced(kIdealRequired, c.element, c.zone)
                                           : with(kIdealRequired, {{c.element, c.zone}})));
        const auto& f = findingOf(s, c.element);
        EXPECT_EQ(f.zone, c.zone);
        EXPECT_EQ(f.verdict, c.verdict) << c.element << " " << c.zone;
        EXPECT_EQ(f.points, c.points) << c.element << " " << c.zone;
        EXPECT_EQ(f.remedy, rules().find(c.element)->remedy);
        EXPECT_FALSE(f.note.empty()) << c.element << " " << c.zone;
    }
}

TEST(Vastu, FindingsThatCostNoPointsCarryNoRemedy) {
    auto s = score(facingEast(kIdealFull));
    ASSERT_EQ(s.findings.size(), 12u);
    for (const auto& f : s.findings) {
        EXPECT_TRUE(f.remedy.empty()) << f.element;
        EXPECT_TRUE(f.note.empty()) << f.element;
    }
    EXPECT_EQ(findingOf(s, "brahmasthan").verdict, Verdict::Favourable);
    EXPECT_EQ(findingOf(s, "septic_tank").verdict, Verdict::Neutral);
}

TEST(Vastu, OptionalElementsLeftOutNeitherHelpNorHurt) {
    EXPECT_EQ(score(facingEast(kIdealRequired)).score, 100);
    EXPECT_EQ(score(facingEast(kIdealFull)).score, 100);
    // Kitchen W with the required elements only: 4400 / 50 = 88. Were the eight absent optional
    // elements (weight 50) counted as 0 it would be 4400 / 100 = 44, as favourable 9400 / 100.
    auto s = score(facingEast(replaced(kIdealRequired, "kitchen", "W")));
    EXPECT_EQ(s.score, 88);
    EXPECT_EQ(s.findings.size(), 4u);  // three given + the Brahmasthan
    // Given and favourable, they do count: (10000 − 15×40) / 100 = 9400 / 100 = 94.
    EXPECT_EQ(score(facingEast(replaced(kIdealFull, "kitchen", "W"))).score, 94);
}

TEST(Vastu, TheFacingIsNotScored) {
    for (const auto& facing : rules().facings) {
        EXPECT_EQ(score({facing, replaced(kIdealRequired, "kitchen", "W")}).score, 88) << facing;
    }
}

TEST(Vastu, GradesFollowTheTable) {
    const auto& t = rules();
    for (auto [s, g] : std::vector<std::pair<int, std::string>>{{100, "A"},
                                                                {85, "A"},
                                                                {84, "B"},
                                                                {70, "B"},
                                                                {69, "C"},
                                                                {50, "C"},
                                                                {49, "D"},
                                                                {0, "D"}}) {
        EXPECT_EQ(t.gradeOf(s), g) << s;
    }
}

TEST(Vastu, ValidationNamesEachBadField) {
    struct Bad {
        Layout layout;
        std::string field;
        std::string reason;
    };
    const std::vector<Bad> cases{
        {{"", kIdealRequired}, "facing", "is required"},
        {{"north", kIdealRequired}, "facing", "must be one of N, NE"},
        {{"C", kIdealRequired}, "facing", "must be one of"},
        {facingEast(with(kIdealRequired, {{"garage", "N"}})), "elements.garage", "not a Vastu"},
        {facingEast(replaced(kIdealRequired, "kitchen", "X")), "elements.kitchen", "one of N"},
        {facingEast(replaced(kIdealRequired, "kitchen", "se")), "elements.kitchen", "one of N"},
        {facingEast(with(kIdealRequired, {{"kitchen", "NW"}})), "elements.kitchen",
         "more than once"},
        {facingEast({{"main_entrance", "N"}, {"kitchen", "SE"}}), "elements.master_bedroom",
         "is required"},
        {facingEast(with(kIdealRequired, {{"brahmasthan", "C"}})), "elements.brahmasthan",
         "derived"},
    };
    for (const auto& c : cases) {
        auto errors = validate(c.layout);
        ASSERT_EQ(errors.size(), 1u) << c.field;
        EXPECT_EQ(errors[0].field, c.field);
        EXPECT_NE(errors[0].reason.find(c.reason), std::string::npos) << errors[0].reason;
    }
    EXPECT_TRUE(validate(facingEast(kIdealFull)).empty());
    EXPECT_TRUE(validate(facingEast(kWorstFull)).empty());
}

TEST(Vastu, LayoutFromJsonNamesEachProblemOnce) {
    std::vector<rt::FieldError> errors;
    auto ok = layoutFromJson(
        json::parse(R"({"facing": "N", "elements": {"main_entrance": "NE", "kitchen": "SE",
                        "master_bedroom": "SW", "toilet": "NW"}})")
            .as_object(),
        errors);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(ok.facing, "N");
    EXPECT_EQ(score(ok).score, 90);  // as "toilet NW" above: 5400 / 60

    auto fields = [](const char* body) {
        std::vector<rt::FieldError> errors;
        layoutFromJson(json::parse(body).as_object(), errors);
        std::vector<std::string> out;
        for (const auto& e : errors) {
            out.push_back(e.field);
        }
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(fields(R"({"facing": 3, "elements": []})"), (V{"facing", "elements"}));
    EXPECT_EQ(fields(R"({"elements": {"main_entrance": "N", "kitchen": "SE"}})"),
              (V{"facing", "elements.master_bedroom"}));
    EXPECT_EQ(fields(R"({"facing": "E", "extra": 1, "elements": {"main_entrance": "N",
                         "kitchen": 5, "master_bedroom": "SW", "balcony": "up"}})"),
              (V{"extra", "elements.kitchen", "elements.balcony"}));
}

TEST(Vastu, ToJsonShowsRemediesAndNotesOnlyWhereNeeded) {
    auto body = toJson(score(facingEast(replaced(kIdealRequired, "kitchen", "W"))));
    EXPECT_EQ(body.at("score").as_int64(), 88);
    EXPECT_EQ(body.at("grade").as_string(), "A");
    const auto& findings = body.at("findings").as_array();
    ASSERT_EQ(findings.size(), 4u);
    const auto& kitchen = findings[1].as_object();
    EXPECT_EQ(kitchen.at("element").as_string(), "kitchen");
    EXPECT_EQ(kitchen.at("verdict").as_string(), "acceptable");
    EXPECT_TRUE(kitchen.contains("remedy"));
    EXPECT_TRUE(kitchen.contains("note"));
    EXPECT_FALSE(findings[0].as_object().contains("remedy"));
}

std::string parseError(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    if (at == std::string::npos) {
        return "pattern not found: " + from;
    }
    text.replace(at, from.size(), to);
    try {
        parseRules(text);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "parsed";
}

TEST(Vastu, MalformedRuleTablesAreRejected) {
    const std::string text(rulesText());
    struct Bad {
        std::string from;
        std::string to;
        std::string message;
    };
    for (const auto& c : std::vector<Bad>{
             {R"("avoid": ["NE", "C"])", R"("avoid": ["NE", "C", "SE"])", "more than one list"},
             {R"("favourable": ["SE"])", R"("favourable": ["XX"])", "\"XX\" is not a zone"},
             {R"("weight": 15)", R"("weight": 0)", "\"weight\" must be"},
             {R"("id": "kitchen")", R"("id": "main_entrance")", "listed twice"},
             {R"("septic_tank"])", R"("garage"])", "not a placed element"},
             {R"("acceptable": 100, "neutral": 100)", R"("acceptable": 50, "neutral": 100)",
              "must not rise"},
             {R"("sources":)", R"("note": "x", "sources":)", "unknown member \"note\""},
             {R"({"grade": "D", "min": 0})", R"({"grade": "D", "min": 10})", "min\" 0"},
             {R"("zones": ["N")", R"("zones": ["X")", "\"zones\" must be"},
             {text, "{", "not JSON"},
         }) {
        EXPECT_NE(parseError(text, c.from, c.to).find(c.message), std::string::npos)
            << c.message << " / " << parseError(text, c.from, c.to);
    }
    EXPECT_NO_THROW(parseRules(text));
}

TEST(Vastu, ScoreIsWithin0To100ForRandomValidLayouts) {
    const auto& t = rules();
    std::mt19937 rng(20261206);  // fixed seed; rng() % n keeps the draws the same everywhere
    for (int i = 0; i < 1000; ++i) {
        Layout layout{t.facings[rng() % t.facings.size()], {}};
        for (const auto& e : t.elements) {
            if (!e.derived() && (e.required || rng() % 2 == 0)) {
                layout.elements.emplace_back(e.id, t.zones[rng() % t.zones.size()]);
            }
        }
        ASSERT_TRUE(validate(layout).empty());
        auto s = score(layout);
        EXPECT_GE(s.score, 0);
        EXPECT_LE(s.score, 100);
        EXPECT_EQ(s.grade, t.gradeOf(s.score));
        EXPECT_EQ(s.findings.size(), layout.elements.size() + 1);
        EXPECT_EQ(score(layout).score, s.score);  // deterministic
    }
}

}  // namespace
}  // namespace restinu::property::vastu
