#include "vastu.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <stdexcept>

namespace restinu::property::vastu {
namespace {

namespace json = boost::json;

constexpr std::string_view kCentre = "C";

bool contains(const std::vector<std::string>& list, std::string_view v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

std::string joined(const std::vector<std::string>& list) {
    std::string all;
    for (const auto& s : list) {
        all += all.empty() ? "" : ", ";
        all += s;
    }
    return all;
}

// Reads one JSON object of the rule table; every problem throws with `where` in the message.
class Reader {
public:
    Reader(const json::value& v, std::string where) : where_(std::move(where)) {
        if (!v.is_object()) {
            fail("must be an object");
        }
        object_ = &v.as_object();
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("vastu_rules.json: " + where_ + ": " + what);
    }

    bool has(std::string_view key) const { return object_->contains(key); }

    const json::value& member(std::string_view key) const {
        auto it = object_->find(key);
        if (it == object_->end()) {
            fail("\"" + std::string(key) + "\" is missing");
        }
        return it->value();
    }

    std::string text(std::string_view key) const {
        const auto& v = member(key);
        if (!v.is_string() || v.as_string().empty()) {
            fail("\"" + std::string(key) + "\" must be a non-empty string");
        }
        return std::string(v.as_string());
    }

    int integer(std::string_view key, int min, int max) const {
        const auto& v = member(key);
        if (!v.is_int64() || v.as_int64() < min || v.as_int64() > max) {
            fail("\"" + std::string(key) + "\" must be a whole number from " + std::to_string(min) +
                 " to " + std::to_string(max));
        }
        return static_cast<int>(v.as_int64());
    }

    std::vector<std::string> texts(std::string_view key) const {
        const auto& v = member(key);
        if (!v.is_array()) {
            fail("\"" + std::string(key) + "\" must be an array of strings");
        }
        std::vector<std::string> out;
        for (const auto& e : v.as_array()) {
            if (!e.is_string()) {
                fail("\"" + std::string(key) + "\" must be an array of strings");
            }
            out.emplace_back(e.as_string());
        }
        return out;
    }

    void onlyKnown(std::initializer_list<std::string_view> known) const {
        for (const auto& [k, v] : *object_) {
            if (std::find(known.begin(), known.end(), k) == known.end()) {
                fail("unknown member \"" + std::string(k) + "\"");
            }
        }
    }

private:
    std::string where_;
    const json::object* object_ = nullptr;
};

ElementRule readElement(const json::value& v, std::size_t i, const RuleTable& t) {
    Reader r(v, "elements[" + std::to_string(i) + "]");
    ElementRule e;
    e.id = r.text("id");
    Reader er(v, "element \"" + e.id + "\"");
    e.name = er.text("name");
    e.weight = er.integer("weight", 1, 100);
    e.remedy = er.text("remedy");
    e.sources = er.text("sources");
    Reader p(er.member("points"), "element \"" + e.id + "\" points");
    p.onlyKnown({"favourable", "acceptable", "neutral", "avoid"});
    e.points = {p.integer("favourable", 0, 100), p.integer("acceptable", 0, 100),
                p.integer("neutral", 0, 100), p.integer("avoid", 0, 100)};
    if (e.points.favourable < e.points.acceptable || e.points.acceptable < e.points.neutral ||
        e.points.neutral < e.points.avoid) {
        er.fail("points must not rise from favourable to acceptable to neutral to avoid");
    }
    const auto& conflicts = er.member("conflicts");
    if (!conflicts.is_array()) {
        er.fail("\"conflicts\" must be an array");
    }
    for (const auto& c : conflicts.as_array()) {
        Reader cr(c, "element \"" + e.id + "\" conflict");
        cr.onlyKnown({"zones", "note"});
        e.conflicts.push_back({cr.texts("zones"), cr.text("note")});
        for (const auto& z : e.conflicts.back().zones) {
            if (!contains(t.zones, z)) {
                cr.fail("\"" + z + "\" is not a zone");
            }
        }
    }
    if (er.has("heavy_in_centre")) {
        er.onlyKnown({"id", "name", "weight", "points", "remedy", "conflicts", "sources",
                      "heavy_in_centre"});
        e.heavy_in_centre = er.texts("heavy_in_centre");
        if (e.heavy_in_centre.empty()) {
            er.fail("\"heavy_in_centre\" must not be empty");
        }
        return e;
    }
    er.onlyKnown({"id", "name", "required", "weight", "favourable", "acceptable", "avoid", "points",
                  "remedy", "conflicts", "sources"});
    const auto& required = er.member("required");
    if (!required.is_bool()) {
        er.fail("\"required\" must be true or false");
    }
    e.required = required.as_bool();
    e.favourable = er.texts("favourable");
    e.acceptable = er.texts("acceptable");
    e.avoid = er.texts("avoid");
    std::set<std::string> seen;
    for (const auto* list : {&e.favourable, &e.acceptable, &e.avoid}) {
        for (const auto& z : *list) {
            if (!contains(t.zones, z)) {
                er.fail("\"" + z + "\" is not a zone");
            }
            if (!seen.insert(z).second) {
                er.fail("zone \"" + z + "\" is in more than one list");
            }
        }
    }
    return e;
}

Verdict verdictOf(const ElementRule& e, std::string_view zone) {
    if (contains(e.favourable, zone)) {
        return Verdict::Favourable;
    }
    if (contains(e.acceptable, zone)) {
        return Verdict::Acceptable;
    }
    if (contains(e.avoid, zone)) {
        return Verdict::Avoid;
    }
    return Verdict::Neutral;
}

// The Brahmasthan: open centre, only light rooms there, or a heavy element there.
Verdict centreVerdict(const ElementRule& e, const Layout& layout) {
    Verdict v = Verdict::Favourable;
    for (const auto& [id, zone] : layout.elements) {
        if (zone == kCentre) {
            if (contains(e.heavy_in_centre, id)) {
                return Verdict::Avoid;
            }
            v = Verdict::Acceptable;
        }
    }
    return v;
}

}  // namespace

std::string_view name(Verdict v) {
    switch (v) {
        case Verdict::Favourable:
            return "favourable";
        case Verdict::Acceptable:
            return "acceptable";
        case Verdict::Neutral:
            return "neutral";
        case Verdict::Avoid:
            return "avoid";
    }
    return "neutral";
}

int ElementRule::pointsFor(Verdict v) const {
    switch (v) {
        case Verdict::Favourable:
            return points.favourable;
        case Verdict::Acceptable:
            return points.acceptable;
        case Verdict::Neutral:
            return points.neutral;
        case Verdict::Avoid:
            return points.avoid;
    }
    return points.neutral;
}

const ElementRule* RuleTable::find(std::string_view id) const {
    for (const auto& e : elements) {
        if (e.id == id) {
            return &e;
        }
    }
    return nullptr;
}

const std::string& RuleTable::gradeOf(int score) const {
    for (const auto& g : grades) {
        if (score >= g.min) {
            return g.grade;
        }
    }
    return grades.back().grade;
}

RuleTable parseRules(std::string_view json_text) {
    boost::system::error_code ec;
    auto doc = json::parse(json_text, ec);
    if (ec) {
        throw std::runtime_error("vastu_rules.json: not JSON: " + ec.message());
    }
    Reader r(doc, "top level");
    r.onlyKnown({"version", "zones", "facings", "grades", "elements"});
    RuleTable t;
    t.version = r.text("version");
    t.zones = r.texts("zones");
    t.facings = r.texts("facings");
    if (t.zones != std::vector<std::string>{"N", "NE", "E", "SE", "S", "SW", "W", "NW", "C"}) {
        r.fail("\"zones\" must be N, NE, E, SE, S, SW, W, NW, C");
    }
    if (t.facings != std::vector<std::string>{"N", "NE", "E", "SE", "S", "SW", "W", "NW"}) {
        r.fail("\"facings\" must be N, NE, E, SE, S, SW, W, NW");
    }
    const auto& grades = r.member("grades");
    if (!grades.is_array() || grades.as_array().empty()) {
        r.fail("\"grades\" must be a non-empty array");
    }
    for (const auto& g : grades.as_array()) {
        Reader gr(g, "grades[" + std::to_string(t.grades.size()) + "]");
        gr.onlyKnown({"grade", "min"});
        t.grades.push_back({gr.text("grade"), gr.integer("min", 0, 100)});
        if (t.grades.size() > 1 && t.grades.back().min >= t.grades[t.grades.size() - 2].min) {
            gr.fail("grades must be listed from the highest \"min\" down");
        }
    }
    if (t.grades.back().min != 0) {
        r.fail("the last grade must have \"min\" 0");
    }
    const auto& elements = r.member("elements");
    if (!elements.is_array() || elements.as_array().empty()) {
        r.fail("\"elements\" must be a non-empty array");
    }
    for (const auto& v : elements.as_array()) {
        auto e = readElement(v, t.elements.size(), t);
        if (t.find(e.id) != nullptr) {
            r.fail("element \"" + e.id + "\" is listed twice");
        }
        t.elements.push_back(std::move(e));
    }
    for (const auto& e : t.elements) {
        for (const auto& id : e.heavy_in_centre) {
            const auto* h = t.find(id);
            if (h == nullptr || h->derived()) {
                r.fail("element \"" + e.id + "\": \"" + id + "\" is not a placed element");
            }
        }
    }
    return t;
}

const RuleTable& rules() {
    static const RuleTable table = parseRules(rulesText());
    return table;
}

std::vector<rt::FieldError> validate(const Layout& layout, const RuleTable& table) {
    std::vector<rt::FieldError> errors;
    if (layout.facing.empty()) {
        errors.push_back({"facing", "is required"});
    } else if (!contains(table.facings, layout.facing)) {
        errors.push_back({"facing", "must be one of " + joined(table.facings)});
    }
    std::set<std::string> seen;
    for (const auto& [id, zone] : layout.elements) {
        const std::string field = "elements." + id;
        const auto* e = table.find(id);
        if (e == nullptr) {
            errors.push_back({field, "is not a Vastu element"});
        } else if (e->derived()) {
            errors.push_back({field, "is derived from the other elements and cannot be given"});
        } else if (!seen.insert(id).second) {
            errors.push_back({field, "is given more than once"});
        } else if (!contains(table.zones, zone)) {
            errors.push_back({field, "must be one of " + joined(table.zones)});
        }
    }
    for (const auto& e : table.elements) {
        if (e.required && !seen.contains(e.id)) {
            errors.push_back({"elements." + e.id, "is required"});
        }
    }
    return errors;
}

Score score(const Layout& layout, const RuleTable& table) {
    Score s;
    s.rules_version = table.version;
    long weighted = 0;  // Σ weight × points
    long weights = 0;   // Σ weight
    for (const auto& e : table.elements) {
        Finding f;
        f.element = e.id;
        if (e.derived()) {
            f.zone = std::string(kCentre);
            f.verdict = centreVerdict(e, layout);
        } else {
            auto it = std::find_if(layout.elements.begin(), layout.elements.end(),
                                   [&](const auto& p) { return p.first == e.id; });
            if (it == layout.elements.end()) {
                continue;  // an optional element left out neither helps nor hurts
            }
            f.zone = it->second;
            f.verdict = verdictOf(e, f.zone);
        }
        f.points = e.pointsFor(f.verdict);
        f.weight = e.weight;
        if (f.points < e.points.favourable) {  // the placement costs points
            f.remedy = e.remedy;
            for (const auto& c : e.conflicts) {
                if (contains(c.zones, f.zone)) {
                    f.note = c.note;
                }
            }
        }
        weighted += static_cast<long>(f.weight) * f.points;
        weights += f.weight;
        s.findings.push_back(std::move(f));
    }
    // Round half up in whole numbers: floor(weighted / weights + 1/2).
    s.score = weights == 0 ? 0 : static_cast<int>((2 * weighted + weights) / (2 * weights));
    s.grade = table.gradeOf(s.score);
    return s;
}

Layout layoutFromJson(const json::object& body, std::vector<rt::FieldError>& errors,
                      const RuleTable& table) {
    Layout layout;
    for (const auto& [k, v] : body) {
        if (k != "facing" && k != "elements") {
            errors.push_back({std::string(k), "is not a layout field"});
        }
    }
    // A member of the wrong type is reported once, not again by validate() as missing.
    bool bad_elements = false;
    if (auto it = body.find("facing"); it != body.end()) {
        if (it->value().is_string() && !it->value().as_string().empty()) {
            layout.facing = std::string(it->value().as_string());
        } else {
            errors.push_back({"facing", "must be one of " + joined(table.facings)});
        }
    }
    if (auto it = body.find("elements"); it == body.end()) {
        errors.push_back({"elements", "is required"});
        bad_elements = true;
    } else if (!it->value().is_object()) {
        errors.push_back({"elements", "must be an object of element: zone"});
        bad_elements = true;
    } else {
        for (const auto& [k, v] : it->value().as_object()) {
            if (v.is_string()) {
                layout.elements.emplace_back(std::string(k), std::string(v.as_string()));
            } else {
                errors.push_back({"elements." + std::string(k), "must be a zone, as a string"});
            }
        }
    }
    const std::size_t shape_errors = errors.size();
    for (auto& e : validate(layout, table)) {
        bool reported =
            std::any_of(errors.begin(), errors.begin() + static_cast<std::ptrdiff_t>(shape_errors),
                        [&](const auto& r) { return r.field == e.field; });
        if (!reported && !(bad_elements && e.field.starts_with("elements."))) {
            errors.push_back(std::move(e));
        }
    }
    return layout;
}

json::object toJson(const Score& s, const RuleTable& table) {
    json::array findings;
    for (const auto& f : s.findings) {
        json::object o{
            {"element", f.element},
            {"name", table.find(f.element) != nullptr ? table.find(f.element)->name : f.element},
            {"zone", f.zone},
            {"verdict", name(f.verdict)},
            {"points", f.points},
            {"weight", f.weight}};
        if (!f.remedy.empty()) {
            o["remedy"] = f.remedy;
        }
        if (!f.note.empty()) {
            o["note"] = f.note;
        }
        findings.push_back(std::move(o));
    }
    return {{"score", s.score},
            {"grade", s.grade},
            {"rules_version", s.rules_version},
            {"findings", std::move(findings)}};
}

}  // namespace restinu::property::vastu
