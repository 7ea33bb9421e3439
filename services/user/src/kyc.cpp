#include "kyc.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace restinu::user::domain {

namespace {

namespace chr = std::chrono;

// Verhoeff's tables: d is the multiplication table of the dihedral group D5, p the permutation
// applied to a digit by its position (from the right), inv the inverse in D5.
constexpr std::array<std::array<std::uint8_t, 10>, 10> kVerhoeffD{{
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
    {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
    {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
    {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
    {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
}};
constexpr std::array<std::array<std::uint8_t, 10>, 8> kVerhoeffP{{
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
    {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
    {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
    {9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
    {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
    {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
}};
constexpr std::array<std::uint8_t, 10> kVerhoeffInv{0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
bool isUpper(char c) {
    return c >= 'A' && c <= 'Z';
}
char toUpper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
bool allDigits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), isDigit);
}

// Runs Verhoeff over `digits` as if `offset` more digits followed them; -1 on a non-digit.
int verhoeffRun(std::string_view digits, std::size_t offset) {
    int c = 0;
    std::size_t i = offset;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it, ++i) {
        if (!isDigit(*it)) {
            return -1;
        }
        c = kVerhoeffD[c][kVerhoeffP[i % 8][*it - '0']];
    }
    return c;
}

std::string withoutSeparators(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c != ' ' && c != '-') {
            out.push_back(c);
        }
    }
    return out;
}

KycCheck failure(std::string field, std::string reason) {
    return KycCheck{false, std::move(field), std::move(reason)};
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) {
        return {};
    }
    auto last = s.find_last_not_of(kSpace);
    return s.substr(first, last - first + 1);
}

std::string_view trimFillers(std::string_view s) {
    auto last = s.find_last_not_of('<');
    return last == std::string_view::npos ? std::string_view{} : s.substr(0, last + 1);
}

// Replaces runs of '<' inside a name with one space and drops trailing fillers.
std::string mrzName(std::string_view s) {
    s = trimFillers(s);
    std::string out;
    for (char c : s) {
        if (c == '<') {
            if (!out.empty() && out.back() != ' ') {
                out.push_back(' ');
            }
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// Splits an MRZ into its two 44-character lines, upper-cased; nullopt if the shape is wrong.
std::optional<std::pair<std::string, std::string>> mrzLines(std::string_view mrz) {
    mrz = trim(mrz);
    std::string_view l1;
    std::string_view l2;
    if (auto nl = mrz.find('\n'); nl != std::string_view::npos) {
        l1 = trim(mrz.substr(0, nl));
        l2 = trim(mrz.substr(nl + 1));
    } else if (mrz.size() == 88) {
        l1 = mrz.substr(0, 44);
        l2 = mrz.substr(44);
    } else {
        return std::nullopt;
    }
    std::pair<std::string, std::string> lines{std::string(l1), std::string(l2)};
    std::transform(lines.first.begin(), lines.first.end(), lines.first.begin(), toUpper);
    std::transform(lines.second.begin(), lines.second.end(), lines.second.begin(), toUpper);
    return lines;
}

bool isMrzChar(char c) {
    return isDigit(c) || isUpper(c) || c == '<';
}

// Checks `value` against the check digit `cd`; a failure names `field`.
std::optional<KycCheck> checkDigit(std::string_view value, char cd, const std::string& field,
                                   std::string_view what) {
    if (!isDigit(cd)) {
        return failure(field, std::string(what) + " check digit must be a digit");
    }
    if (mrzCheckDigit(value) != cd) {
        return failure(field, std::string(what) + " does not match its check digit");
    }
    return std::nullopt;
}

// Parses YYMMDD; month 1..12 and a day that exists in that month. 29 February needs a year
// divisible by 4 (true of 19yy and 20yy alike except 1900, which 2000 covers).
std::optional<MrzDate> mrzDate(std::string_view s) {
    if (s.size() != 6 || !allDigits(s)) {
        return std::nullopt;
    }
    auto two = [&](std::size_t i) { return (s[i] - '0') * 10 + (s[i + 1] - '0'); };
    MrzDate d{two(0), two(2), two(4)};
    if (d.month < 1 || d.month > 12 || d.day < 1) {
        return std::nullopt;
    }
    constexpr std::array<int, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d.day > kDays[d.month - 1] || (d.month == 2 && d.day == 29 && d.yy % 4 != 0)) {
        return std::nullopt;
    }
    return d;
}

chr::year_month_day withYear(const MrzDate& d, int year) {
    return chr::year_month_day{chr::year{year}, chr::month{static_cast<unsigned>(d.month)},
                               chr::day{static_cast<unsigned>(d.day)}};
}

bool validStateCode(std::string_view code) {
    // A 3-letter ICAO code, possibly shorter and padded with '<' (e.g. "D<<" for Germany).
    auto t = trimFillers(code);
    return !t.empty() && std::all_of(t.begin(), t.end(), isUpper) &&
           std::all_of(code.begin() + static_cast<std::ptrdiff_t>(t.size()), code.end(),
                       [](char c) { return c == '<'; });
}

std::string maskKeepingLast4(std::string_view s) {
    if (s.size() <= 4) {
        return "XXXX";
    }
    std::string out(s.size() - 4, 'X');
    out.append(s.substr(s.size() - 4));
    return out;
}

}  // namespace

bool verhoeffValid(std::string_view digits) {
    return !digits.empty() && verhoeffRun(digits, 0) == 0;
}

char verhoeffCheckDigit(std::string_view digits) {
    if (digits.empty()) {
        return '\0';
    }
    int c = verhoeffRun(digits, 1);
    return c < 0 ? '\0' : static_cast<char>('0' + kVerhoeffInv[c]);
}

char mrzCheckDigit(std::string_view field) {
    constexpr std::array<int, 3> kWeights{7, 3, 1};
    int sum = 0;
    for (std::size_t i = 0; i < field.size(); ++i) {
        char c = field[i];
        int v = 0;
        if (isDigit(c)) {
            v = c - '0';
        } else if (isUpper(c)) {
            v = c - 'A' + 10;
        } else if (c != '<') {
            return '\0';
        }
        sum += v * kWeights[i % 3];
    }
    return static_cast<char>('0' + sum % 10);
}

KycCheck validateAadhaar(std::string_view number) {
    std::string n = withoutSeparators(trim(number));
    if (n.empty()) {
        return failure("number", "Aadhaar number is required");
    }
    if (!allDigits(n)) {
        return failure("number", "Aadhaar number must contain only digits");
    }
    if (n.size() != 12) {
        return failure("number", "Aadhaar number must be 12 digits");
    }
    if (n[0] == '0' || n[0] == '1') {
        return failure("number", "Aadhaar number must not start with 0 or 1");
    }
    if (std::equal(n.begin(), n.begin() + 6, n.rbegin())) {
        return failure("number", "Aadhaar number must not be a palindrome");
    }
    if (!verhoeffValid(n)) {
        return failure("number", "Aadhaar number's check digit is wrong (Verhoeff)");
    }
    return KycCheck{true, {}, {}};
}

KycCheck validatePan(std::string_view number) {
    std::string n = withoutSeparators(trim(number));
    std::transform(n.begin(), n.end(), n.begin(), toUpper);
    if (n.empty()) {
        return failure("number", "PAN is required");
    }
    if (n.size() != 10) {
        return failure("number", "PAN must be 10 characters");
    }
    std::string_view v = n;
    if (!std::all_of(v.begin(), v.begin() + 5, isUpper) || !allDigits(v.substr(5, 4)) ||
        !isUpper(v[9])) {
        return failure("number", "PAN must be 5 letters, 4 digits and a letter (AAAAA9999A)");
    }
    constexpr std::string_view kHolderTypes = "ABCFGHJKLPT";
    if (kHolderTypes.find(v[3]) == std::string_view::npos) {
        return failure("number",
                       "PAN's 4th character must be a holder type: one of A B C F G H J K L P T");
    }
    if (v.substr(5, 4) == "0000") {
        return failure("number", "PAN's serial number 0000 is never issued");
    }
    return KycCheck{true, {}, {}};
}

PassportParse parsePassportMrz(std::string_view mrz) {
    auto bad = [](std::string field, std::string reason) {
        return PassportParse{failure(std::move(field), std::move(reason)), std::nullopt};
    };
    if (trim(mrz).empty()) {
        return bad("mrz", "passport MRZ is required");
    }
    auto lines = mrzLines(mrz);
    if (!lines) {
        return bad("mrz", "passport MRZ must be two lines of 44 characters (ICAO 9303 TD3)");
    }
    const std::string& l1 = lines->first;
    const std::string& l2 = lines->second;
    if (l1.size() != 44) {
        return bad("mrz.line1", "MRZ line 1 must be 44 characters");
    }
    if (l2.size() != 44) {
        return bad("mrz.line2", "MRZ line 2 must be 44 characters");
    }
    if (!std::all_of(l1.begin(), l1.end(), isMrzChar)) {
        return bad("mrz.line1", "MRZ line 1 may hold only A-Z, 0-9 and '<'");
    }
    if (!std::all_of(l2.begin(), l2.end(), isMrzChar)) {
        return bad("mrz.line2", "MRZ line 2 may hold only A-Z, 0-9 and '<'");
    }
    if (l1[0] != 'P') {
        return bad("mrz.line1", "MRZ document code must start with 'P' for a passport");
    }
    std::string_view line1 = l1;
    std::string_view line2 = l2;
    if (!validStateCode(line1.substr(2, 3))) {
        return bad("mrz.line1", "MRZ issuing state must be a 3-letter code");
    }
    std::string_view names = line1.substr(5);
    auto sep = names.find("<<");
    std::string surname = mrzName(names.substr(0, sep));
    if (surname.empty()) {
        return bad("mrz.line1", "MRZ name must start with the surname");
    }

    std::string_view doc = line2.substr(0, 9);
    std::string_view personal = line2.substr(28, 14);
    if (trimFillers(doc).empty()) {
        return bad("mrz.document_number", "MRZ document number is empty");
    }
    if (auto f = checkDigit(doc, line2[9], "mrz.document_number", "MRZ document number")) {
        return PassportParse{*f, std::nullopt};
    }
    if (!validStateCode(line2.substr(10, 3))) {
        return bad("mrz.nationality", "MRZ nationality must be a 3-letter code");
    }
    auto dob = mrzDate(line2.substr(13, 6));
    if (!dob) {
        return bad("mrz.date_of_birth", "MRZ date of birth must be a date as YYMMDD");
    }
    if (auto f =
            checkDigit(line2.substr(13, 6), line2[19], "mrz.date_of_birth", "MRZ date of birth")) {
        return PassportParse{*f, std::nullopt};
    }
    char sex = line2[20];
    if (sex != 'M' && sex != 'F' && sex != 'X' && sex != '<') {
        return bad("mrz.sex", "MRZ sex must be M, F, X or '<'");
    }
    auto expiry = mrzDate(line2.substr(21, 6));
    if (!expiry) {
        return bad("mrz.expiry_date", "MRZ expiry date must be a date as YYMMDD");
    }
    if (auto f = checkDigit(line2.substr(21, 6), line2[27], "mrz.expiry_date", "MRZ expiry date")) {
        return PassportParse{*f, std::nullopt};
    }
    // With no personal number the check digit may be a filler as well as 0.
    bool no_personal = trimFillers(personal).empty();
    if (!(no_personal && line2[42] == '<')) {
        if (auto f =
                checkDigit(personal, line2[42], "mrz.personal_number", "MRZ personal number")) {
            return PassportParse{*f, std::nullopt};
        }
    }
    std::string composite;
    composite.append(line2.substr(0, 10)).append(line2.substr(13, 7)).append(line2.substr(21, 22));
    if (auto f = checkDigit(composite, line2[43], "mrz.composite", "MRZ composite")) {
        return PassportParse{*f, std::nullopt};
    }

    PassportMrz out;
    out.document_code = l1[0];
    out.document_subtype = l1[1];
    out.issuing_state = std::string(trimFillers(line1.substr(2, 3)));
    out.surname = std::move(surname);
    out.given_names =
        sep == std::string_view::npos ? std::string{} : mrzName(names.substr(sep + 2));
    out.document_number = std::string(trimFillers(doc));
    out.nationality = std::string(trimFillers(line2.substr(10, 3)));
    out.date_of_birth = *dob;
    out.sex = sex;
    out.expiry_date = *expiry;
    out.personal_number = std::string(trimFillers(personal));
    return PassportParse{KycCheck{true, {}, {}}, std::move(out)};
}

chr::year_month_day birthDate(const MrzDate& date, chr::year_month_day today) {
    auto recent = withYear(date, 2000 + date.yy);
    return recent <= today ? recent : withYear(date, 1900 + date.yy);
}

chr::year_month_day expiryDate(const MrzDate& date, chr::year_month_day today) {
    int year = 2000 + date.yy;
    if (year - static_cast<int>(today.year()) > 50) {
        year -= 100;
    }
    return withYear(date, year);
}

bool passportExpired(const PassportMrz& mrz, chr::year_month_day today) {
    return expiryDate(mrz.expiry_date, today) < today;
}

bool isAdult(int year, int month, int day, chr::year_month_day today) {
    if (month < 1 || month > 12 || day < 1 || day > 31) {
        return false;
    }
    chr::year_month_day born{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                             chr::day{static_cast<unsigned>(day)}};
    if (!born.ok() || !today.ok() || born > today) {
        return false;
    }
    chr::year_month_day eighteenth{born.year() + chr::years{18}, born.month(), born.day()};
    if (!eighteenth.ok()) {
        // 29 February in a year that has none: the birthday comes on 1 March.
        eighteenth = chr::year_month_day{eighteenth.year(), chr::March, chr::day{1}};
    }
    return eighteenth <= today;
}

KycCheck validateDocument(std::string_view type, std::string_view number_or_mrz) {
    if (type == "aadhaar") {
        return validateAadhaar(number_or_mrz);
    }
    if (type == "pan") {
        return validatePan(number_or_mrz);
    }
    if (type == "passport") {
        return parsePassportMrz(number_or_mrz).check;
    }
    return failure("type", "document type must be one of aadhaar, pan, passport");
}

std::string normaliseDocumentNumber(std::string_view type, std::string_view number_or_mrz) {
    if (type == "passport") {
        if (auto lines = mrzLines(number_or_mrz); lines && lines->second.size() >= 9) {
            return std::string(trimFillers(std::string_view(lines->second).substr(0, 9)));
        }
        std::string n = withoutSeparators(trim(number_or_mrz));
        std::transform(n.begin(), n.end(), n.begin(), toUpper);
        return std::string(trimFillers(n));
    }
    std::string n = withoutSeparators(trim(number_or_mrz));
    if (type == "pan") {
        std::transform(n.begin(), n.end(), n.begin(), toUpper);
    }
    return n;
}

std::string maskDocument(std::string_view type, std::string_view number_or_mrz) {
    std::string n = normaliseDocumentNumber(type, number_or_mrz);
    if (type == "aadhaar" && n.size() == 12) {
        return "XXXX XXXX " + n.substr(8);
    }
    return maskKeepingLast4(n);
}

}  // namespace restinu::user::domain
