#pragma once

#include <boost/json/fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/problem.hpp"

/// A Vastu Shastra score for a home's layout, from a rule table that is data, not code
/// (services/property/data/vastu_rules.json, compiled into the binary; docs/vastu.md explains
/// every rule and every choice between disagreeing sources). Pure code, no I/O.
///
/// The caller gives the plot's facing and, for each element (main entrance, kitchen, ...), the
/// zone it sits in: one of N, NE, E, SE, S, SW, W, NW or C (the centre). Each element's zone
/// gets a verdict from its row of the table: favourable, acceptable, avoid, or neutral when the
/// sources say nothing about that zone. The verdict gives the element's points (0..100, from
/// the table), and the score is the weighted mean of the points of the elements present:
///
///     score = round_half_up( Σ weight_i × points_i / Σ weight_i )
///
/// so an optional element left out neither helps nor hurts. The Brahmasthan (centre) is not
/// placed by the caller: it is derived from the other zones (open centre: favourable; only
/// rooms the table does not call heavy there: acceptable; any heavy element there: avoid) and
/// always counts. An element in the centre can therefore lose points twice, once in its own
/// row and once for the centre, because sources treat the open centre as a rule of its own.
///
/// The facing is validated but not scored: the sources' rules are about where each element
/// sits, and the one rule that depends on a side (a door in an auspicious pada of its side)
/// needs the door's position along the wall, which the layout does not carry.
namespace restinu::property::vastu {

enum class Verdict { Favourable, Acceptable, Neutral, Avoid };

/// "favourable", "acceptable", "neutral", "avoid".
std::string_view name(Verdict v);

/// One element's row of the rule table.
struct ElementRule {
    struct Points {
        int favourable = 0;
        int acceptable = 0;
        int neutral = 0;
        int avoid = 0;
    };
    /// Where sources disagree: the zones concerned and the choice made, with why.
    struct Conflict {
        std::vector<std::string> zones;
        std::string note;
    };

    std::string id;    ///< as in the API: "main_entrance", "kitchen", ...
    std::string name;  ///< for people: "Main entrance"
    bool required = false;
    int weight = 0;
    std::vector<std::string> favourable;
    std::vector<std::string> acceptable;
    std::vector<std::string> avoid;
    Points points;
    std::string remedy;
    std::vector<Conflict> conflicts;
    std::string sources;
    /// Only for the derived centre check (the Brahmasthan): the elements that must not be in
    /// the centre. Empty for every element the caller places.
    std::vector<std::string> heavy_in_centre;

    bool derived() const { return !heavy_in_centre.empty(); }
    int pointsFor(Verdict v) const;
};

struct RuleTable {
    struct Grade {
        std::string grade;
        int min = 0;  ///< the lowest score with this grade
    };

    std::string version;
    std::vector<std::string> zones;    ///< the nine, centre last ("C")
    std::vector<std::string> facings;  ///< the eight sides
    std::vector<Grade> grades;         ///< highest first; the last has min 0
    std::vector<ElementRule> elements;

    /// nullptr when no element has this id.
    const ElementRule* find(std::string_view id) const;
    /// The grade of a score in 0..100.
    const std::string& gradeOf(int score) const;
};

/// Parses and checks a rule table: every zone and facing known, no zone in two lists of one
/// element, weights positive, points within 0..100 and not rising from favourable to avoid,
/// ids unique, grades falling to 0. Throws std::runtime_error naming the problem.
RuleTable parseRules(std::string_view json_text);

/// The embedded table (the text of vastu_rules.json, generated at build time).
std::string_view rulesText();

/// The embedded table, parsed on first use. Throws if it is malformed, so the service calls it
/// once at start and fails fast rather than on the first request.
const RuleTable& rules();

/// A home as the caller describes it: the plot's facing and (element id, zone) pairs.
struct Layout {
    std::string facing;
    std::vector<std::pair<std::string, std::string>> elements;
};

/// Every problem with a layout, fields named as in the API: "facing", "elements.kitchen".
/// Unknown element, the derived Brahmasthan given, unknown zone, an element given twice, a
/// required element missing, a facing that is not one of the eight. Empty means valid.
std::vector<rt::FieldError> validate(const Layout& layout, const RuleTable& table = rules());

struct Finding {
    std::string element;  ///< the element's id
    std::string zone;     ///< "C" for the Brahmasthan
    Verdict verdict = Verdict::Neutral;
    int points = 0;  ///< 0..100 for this element
    int weight = 0;  ///< its share of the score
    /// The element's remedy, and the choice made where sources disagree on this zone; both
    /// empty when the placement earns the element's full points.
    std::string remedy;
    std::string note;
};

struct Score {
    int score = 0;  ///< 0..100
    std::string grade;
    std::vector<Finding> findings;  ///< in the table's order, the Brahmasthan included
    std::string rules_version;
};

/// Scores a layout. Pure and deterministic. Precondition: validate(layout, table) is empty.
Score score(const Layout& layout, const RuleTable& table = rules());

/// Reads {"facing": "E", "elements": {"kitchen": "SE", ...}} and validates it; every problem
/// goes to `errors`. Unknown members are errors.
Layout layoutFromJson(const boost::json::object& body, std::vector<rt::FieldError>& errors,
                      const RuleTable& table = rules());

/// {"score", "grade", "rules_version", "findings": [{"element", "name", "zone", "verdict",
/// "points", "weight", "remedy"?, "note"?}]}.
boost::json::object toJson(const Score& s, const RuleTable& table = rules());

}  // namespace restinu::property::vastu
