#include "kyc.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <utility>

namespace restinu::user::domain {
namespace {

namespace chr = std::chrono;

constexpr chr::year_month_day ymd(int y, unsigned m, unsigned d) {
    return chr::year_month_day{chr::year{y}, chr::month{m}, chr::day{d}};
}

// ICAO 9303 part 4 specimen passport (Utopia, Anna Maria Eriksson).
const std::string kLine1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
const std::string kLine2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
const std::string kSpecimen = kLine1 + "\n" + kLine2;

std::string withLine2Char(std::size_t pos, char c) {
    std::string l2 = kLine2;
    l2[pos] = c;
    return kLine1 + "\n" + l2;
}

TEST(Verhoeff, WikipediaWorkedExample236HasCheckDigit3) {
    EXPECT_EQ(verhoeffCheckDigit("236"), '3');
    EXPECT_TRUE(verhoeffValid("2363"));
    EXPECT_FALSE(verhoeffValid("2364"));
}

TEST(Verhoeff, KnownCheckDigits) {
    EXPECT_EQ(verhoeffCheckDigit("12345"), '1');
    EXPECT_EQ(verhoeffCheckDigit("142857"), '0');
    EXPECT_EQ(verhoeffCheckDigit("23412341234"), '6');
    EXPECT_TRUE(verhoeffValid("123451"));
    EXPECT_TRUE(verhoeffValid("1428570"));
}

TEST(Verhoeff, CatchesEverySingleDigitErrorAndAdjacentTransposition) {
    const std::string valid = "234123412346";
    for (std::size_t i = 0; i < valid.size(); ++i) {
        for (char c = '0'; c <= '9'; ++c) {
            if (c == valid[i]) {
                continue;
            }
            std::string s = valid;
            s[i] = c;
            EXPECT_FALSE(verhoeffValid(s)) << s;
        }
        if (i + 1 < valid.size() && valid[i] != valid[i + 1]) {
            std::string s = valid;
            std::swap(s[i], s[i + 1]);
            EXPECT_FALSE(verhoeffValid(s)) << s;
        }
    }
}

TEST(Verhoeff, RejectsEmptyAndNonDigits) {
    EXPECT_FALSE(verhoeffValid(""));
    EXPECT_FALSE(verhoeffValid("23a3"));
    EXPECT_EQ(verhoeffCheckDigit(""), '\0');
    EXPECT_EQ(verhoeffCheckDigit("2 3"), '\0');
}

TEST(Aadhaar, AcceptsPublishedValidNumberWithOrWithoutSpaces) {
    EXPECT_TRUE(validateAadhaar("234123412346").ok);
    EXPECT_TRUE(validateAadhaar("2341 2341 2346").ok);
    EXPECT_TRUE(validateAadhaar(" 2341-2341-2346 ").ok);
}

TEST(Aadhaar, RejectsWrongCheckDigit) {
    auto r = validateAadhaar("234123412347");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.field, "number");
    EXPECT_NE(r.reason.find("Verhoeff"), std::string::npos);
}

TEST(Aadhaar, RejectsWrongLengthNonDigitsAndEmpty) {
    EXPECT_NE(validateAadhaar("23412341234").reason.find("12 digits"), std::string::npos);
    EXPECT_NE(validateAadhaar("2341234123460").reason.find("12 digits"), std::string::npos);
    EXPECT_NE(validateAadhaar("23412341234X").reason.find("only digits"), std::string::npos);
    EXPECT_NE(validateAadhaar("   ").reason.find("required"), std::string::npos);
}

TEST(Aadhaar, RejectsLeadingZeroOrOneEvenWithValidCheckDigit) {
    std::string zero = "12341234123";
    zero += verhoeffCheckDigit(zero);
    ASSERT_TRUE(verhoeffValid(zero));
    EXPECT_NE(validateAadhaar(zero).reason.find("0 or 1"), std::string::npos);
    std::string one = "02341234123";
    one += verhoeffCheckDigit(one);
    EXPECT_NE(validateAadhaar(one).reason.find("0 or 1"), std::string::npos);
}

TEST(Aadhaar, RejectsPalindrome) {
    // Find a Verhoeff-valid palindrome to show the rule is independent of the check digit.
    for (int a = 2; a <= 9; ++a) {
        std::string half = std::to_string(a) + "34567";
        std::string s = half + std::string(half.rbegin(), half.rend());
        auto r = validateAadhaar(s);
        EXPECT_FALSE(r.ok);
        EXPECT_NE(r.reason.find("palindrome"), std::string::npos) << s;
    }
}

TEST(Pan, AcceptsPublishedExampleAndNormalisesCase) {
    EXPECT_TRUE(validatePan("ACUPA7085R").ok);
    EXPECT_TRUE(validatePan("acupa7085r").ok);
    EXPECT_TRUE(validatePan(" AAPPV 8261K ").ok);
}

TEST(Pan, AcceptsEveryHolderType) {
    for (char t : std::string("ABCFGHJKLPT")) {
        std::string pan = "ABC";
        pan += t;
        pan += "D1234E";
        EXPECT_TRUE(validatePan(pan).ok) << pan;
    }
}

TEST(Pan, RejectsUnknownHolderType) {
    for (char t : std::string("DEIMNOQRSUVWXYZ")) {
        std::string pan = "ABM";
        pan += t;
        pan += "A3211G";
        auto r = validatePan(pan);
        EXPECT_FALSE(r.ok) << pan;
        EXPECT_NE(r.reason.find("holder type"), std::string::npos);
    }
}

TEST(Pan, RejectsBadShape) {
    EXPECT_NE(validatePan("ABMPA32111").reason.find("AAAAA9999A"), std::string::npos);
    EXPECT_NE(validatePan("1BMPA3211G").reason.find("AAAAA9999A"), std::string::npos);
    EXPECT_NE(validatePan("ABMPA3X11G").reason.find("AAAAA9999A"), std::string::npos);
    EXPECT_NE(validatePan("ABMPA3211").reason.find("10 characters"), std::string::npos);
    EXPECT_NE(validatePan("234123412347").reason.find("10 characters"), std::string::npos);
    EXPECT_NE(validatePan("").reason.find("required"), std::string::npos);
}

TEST(Pan, RejectsSerialZero) {
    EXPECT_NE(validatePan("ABCPD0000E").reason.find("0000"), std::string::npos);
}

TEST(Mrz, CheckDigitsOfSpecimen) {
    EXPECT_EQ(mrzCheckDigit("L898902C3"), '6');
    EXPECT_EQ(mrzCheckDigit("740812"), '2');
    EXPECT_EQ(mrzCheckDigit("120415"), '9');
    EXPECT_EQ(mrzCheckDigit("ZE184226B<<<<<"), '1');
    EXPECT_EQ(mrzCheckDigit("L898902C3674081221204159ZE184226B<<<<<1"), '0');
    EXPECT_EQ(mrzCheckDigit("<<<"), '0');
    EXPECT_EQ(mrzCheckDigit("a"), '\0');
}

TEST(Mrz, ParsesSpecimen) {
    auto p = parsePassportMrz(kSpecimen);
    ASSERT_TRUE(p.check.ok) << p.check.field << ": " << p.check.reason;
    ASSERT_TRUE(p.mrz);
    const PassportMrz& m = *p.mrz;
    EXPECT_EQ(m.document_code, 'P');
    EXPECT_EQ(m.document_subtype, '<');
    EXPECT_EQ(m.issuing_state, "UTO");
    EXPECT_EQ(m.surname, "ERIKSSON");
    EXPECT_EQ(m.given_names, "ANNA MARIA");
    EXPECT_EQ(m.document_number, "L898902C3");
    EXPECT_EQ(m.nationality, "UTO");
    EXPECT_EQ(m.date_of_birth.yy, 74);
    EXPECT_EQ(m.date_of_birth.month, 8);
    EXPECT_EQ(m.date_of_birth.day, 12);
    EXPECT_EQ(m.sex, 'F');
    EXPECT_EQ(m.expiry_date.yy, 12);
    EXPECT_EQ(m.expiry_date.month, 4);
    EXPECT_EQ(m.expiry_date.day, 15);
    EXPECT_EQ(m.personal_number, "ZE184226B");
}

TEST(Mrz, AcceptsCrlfSingleRunLowerCaseAndSurroundingSpace) {
    EXPECT_TRUE(parsePassportMrz(kLine1 + "\r\n" + kLine2 + "\n").check.ok);
    EXPECT_TRUE(parsePassportMrz(kLine1 + kLine2).check.ok);
    std::string lower = kSpecimen;
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    EXPECT_TRUE(parsePassportMrz("  " + lower + "  ").check.ok);
}

TEST(Mrz, SingleCharacterCorruptionOfEachCheckedFieldIsRejected) {
    struct Case {
        std::size_t pos;
        char c;
        const char* field;
    };
    const Case cases[] = {
        {0, 'M', "mrz.document_number"},  {4, '8', "mrz.document_number"},
        {9, '7', "mrz.document_number"},  {14, '5', "mrz.date_of_birth"},
        {19, '3', "mrz.date_of_birth"},   {26, '6', "mrz.expiry_date"},
        {27, '8', "mrz.expiry_date"},     {30, '2', "mrz.personal_number"},
        {42, '2', "mrz.personal_number"}, {43, '1', "mrz.composite"},
    };
    for (const auto& c : cases) {
        auto p = parsePassportMrz(withLine2Char(c.pos, c.c));
        EXPECT_FALSE(p.check.ok) << c.pos;
        EXPECT_FALSE(p.mrz);
        EXPECT_EQ(p.check.field, c.field) << c.pos << ": " << p.check.reason;
    }
}

TEST(Mrz, EveryDigitChangeInLine2IsCaught) {
    for (std::size_t i = 0; i < kLine2.size(); ++i) {
        if (kLine2[i] < '0' || kLine2[i] > '9') {
            continue;
        }
        char c = kLine2[i] == '9' ? '0' : static_cast<char>(kLine2[i] + 1);
        EXPECT_FALSE(parsePassportMrz(withLine2Char(i, c)).check.ok) << i;
    }
}

TEST(Mrz, NationalityAndSexAreNotCoveredByAnyCheckDigit) {
    // ICAO 9303: the composite digit spans 1-10, 14-20 and 22-43, skipping both.
    EXPECT_TRUE(parsePassportMrz(withLine2Char(20, 'M')).check.ok);
    EXPECT_TRUE(parsePassportMrz(withLine2Char(11, 'T')).check.ok);
    EXPECT_EQ(parsePassportMrz(withLine2Char(11, '7')).check.field, "mrz.nationality");
}

TEST(Mrz, RejectsImpossibleDates) {
    // 741312: month 13; check digits recomputed so only the date rule can fail.
    std::string l2 = kLine2;
    l2.replace(13, 6, "741312");
    l2[19] = mrzCheckDigit("741312");
    auto p = parsePassportMrz(kLine1 + "\n" + l2);
    EXPECT_EQ(p.check.field, "mrz.date_of_birth");
    l2 = kLine2;
    l2.replace(21, 6, "130229");
    l2[27] = mrzCheckDigit("130229");
    EXPECT_EQ(parsePassportMrz(kLine1 + "\n" + l2).check.field, "mrz.expiry_date");
}

TEST(Mrz, EmptyPersonalNumberMayHaveFillerCheckDigit) {
    std::string l2 = kLine2;
    l2.replace(28, 14, std::string(14, '<'));
    l2[42] = '<';
    std::string comp = l2.substr(0, 10) + l2.substr(13, 7) + l2.substr(21, 22);
    l2[43] = mrzCheckDigit(comp);
    auto p = parsePassportMrz(kLine1 + "\n" + l2);
    ASSERT_TRUE(p.check.ok) << p.check.reason;
    EXPECT_EQ(p.mrz->personal_number, "");
}

TEST(Mrz, RejectsBadShape) {
    EXPECT_EQ(parsePassportMrz("").check.field, "mrz");
    EXPECT_EQ(parsePassportMrz(kLine2).check.field, "mrz");
    EXPECT_EQ(parsePassportMrz(kLine1.substr(1) + "\n" + kLine2).check.field, "mrz.line1");
    EXPECT_EQ(parsePassportMrz(kLine1 + "\n" + kLine2 + "<").check.field, "mrz.line2");
    EXPECT_EQ(parsePassportMrz(withLine2Char(5, '-')).check.field, "mrz.line2");
    std::string id = kLine1;
    id[0] = 'I';
    EXPECT_EQ(parsePassportMrz(id + "\n" + kLine2).check.field, "mrz.line1");
    EXPECT_EQ(parsePassportMrz(withLine2Char(20, 'Q')).check.field, "mrz.sex");
}

TEST(Mrz, DatesGetTheirCentury) {
    auto m = *parsePassportMrz(kSpecimen).mrz;
    EXPECT_EQ(birthDate(m.date_of_birth, ymd(2025, 6, 1)), ymd(1974, 8, 12));
    EXPECT_EQ(expiryDate(m.expiry_date, ymd(2025, 6, 1)), ymd(2012, 4, 15));
    EXPECT_EQ(birthDate(MrzDate{5, 1, 2}, ymd(2025, 6, 1)), ymd(2005, 1, 2));
    EXPECT_EQ(birthDate(MrzDate{25, 6, 2}, ymd(2025, 6, 1)), ymd(1925, 6, 2));
    EXPECT_EQ(expiryDate(MrzDate{35, 1, 1}, ymd(2025, 6, 1)), ymd(2035, 1, 1));
    EXPECT_EQ(expiryDate(MrzDate{99, 1, 1}, ymd(2025, 6, 1)), ymd(1999, 1, 1));
}

TEST(Mrz, ExpiryIsInclusiveOfItsLastDay) {
    auto m = *parsePassportMrz(kSpecimen).mrz;
    EXPECT_FALSE(passportExpired(m, ymd(2012, 4, 15)));
    EXPECT_TRUE(passportExpired(m, ymd(2012, 4, 16)));
    EXPECT_TRUE(passportExpired(m, ymd(2025, 1, 1)));
}

TEST(IsAdult, TurnsEighteenOnTheBirthday) {
    EXPECT_FALSE(isAdult(2007, 6, 15, ymd(2025, 6, 14)));
    EXPECT_TRUE(isAdult(2007, 6, 15, ymd(2025, 6, 15)));
    EXPECT_TRUE(isAdult(1974, 8, 12, ymd(2025, 1, 1)));
    EXPECT_FALSE(isAdult(2020, 1, 1, ymd(2025, 1, 1)));
}

TEST(IsAdult, LeapDayBirthTurnsEighteenOnFirstMarch) {
    EXPECT_FALSE(isAdult(2004, 2, 29, ymd(2022, 2, 28)));
    EXPECT_TRUE(isAdult(2004, 2, 29, ymd(2022, 3, 1)));
    // A leap year plus 18 is never a leap year, so the 1 March rule always applies.
    EXPECT_FALSE(isAdult(1996, 2, 29, ymd(2014, 2, 28)));
    EXPECT_TRUE(isAdult(1996, 2, 29, ymd(2014, 3, 1)));
    EXPECT_TRUE(isAdult(2000, 2, 29, ymd(2018, 3, 1)));
}

TEST(IsAdult, RejectsImpossibleOrFutureBirthDates) {
    EXPECT_FALSE(isAdult(2001, 2, 29, ymd(2030, 1, 1)));
    EXPECT_FALSE(isAdult(2000, 13, 1, ymd(2030, 1, 1)));
    EXPECT_FALSE(isAdult(2000, 4, 31, ymd(2030, 1, 1)));
    EXPECT_FALSE(isAdult(2000, 0, 1, ymd(2030, 1, 1)));
    EXPECT_FALSE(isAdult(2000, 1, 0, ymd(2030, 1, 1)));
    EXPECT_FALSE(isAdult(2031, 1, 1, ymd(2030, 1, 1)));
}

TEST(ValidateDocument, DispatchesOnType) {
    EXPECT_TRUE(validateDocument("aadhaar", "2341 2341 2346").ok);
    EXPECT_TRUE(validateDocument("pan", "ACUPA7085R").ok);
    EXPECT_TRUE(validateDocument("passport", kSpecimen).ok);
    EXPECT_EQ(validateDocument("passport", withLine2Char(43, '1')).field, "mrz.composite");
    auto r = validateDocument("voter_id", "ABC1234567");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.field, "type");
    EXPECT_EQ(validateDocument("AADHAAR", "234123412346").field, "type");
}

TEST(ValidateDocument, ReasonNeverContainsTheNumber) {
    for (auto [type, number] :
         {std::pair{"aadhaar", "234123412347"}, std::pair{"pan", "ABMXA3211G"}}) {
        auto r = validateDocument(type, number);
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.reason.find(number), std::string::npos);
    }
}

TEST(MaskDocument, ShowsOnlyLastFour) {
    EXPECT_EQ(maskDocument("aadhaar", "2341 2341 2346"), "XXXX XXXX 2346");
    EXPECT_EQ(maskDocument("aadhaar", "234123412346"), "XXXX XXXX 2346");
    EXPECT_EQ(maskDocument("pan", "acupa7085r"), "XXXXXX085R");
    EXPECT_EQ(maskDocument("passport", kSpecimen), "XXXXX02C3");
    EXPECT_EQ(maskDocument("passport", "L898902C3"), "XXXXX02C3");
    EXPECT_EQ(maskDocument("aadhaar", "23412"), "X3412");
}

TEST(MaskDocument, ShortOrEmptyNumbersAreFullyHidden) {
    EXPECT_EQ(maskDocument("pan", "AB12"), "XXXX");
    EXPECT_EQ(maskDocument("aadhaar", ""), "XXXX");
    EXPECT_EQ(maskDocument("other", "1234"), "XXXX");
}

TEST(NormaliseDocumentNumber, CompactsAndUpperCases) {
    EXPECT_EQ(normaliseDocumentNumber("aadhaar", " 2341-2341 2346 "), "234123412346");
    EXPECT_EQ(normaliseDocumentNumber("pan", "acupa 7085r"), "ACUPA7085R");
    EXPECT_EQ(normaliseDocumentNumber("passport", kSpecimen), "L898902C3");
}

}  // namespace
}  // namespace restinu::user::domain
