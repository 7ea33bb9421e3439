#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

/// KYC identity documents: Indian Aadhaar and PAN numbers and passports read from their ICAO
/// 9303 TD3 machine-readable zone. Pure functions, no I/O and no clock: callers pass `today`.
namespace restinu::user::domain {

/// The result of checking a document. `field` and `reason` fill one entry of a 422 problem's
/// `errors[]` when `ok` is false; they are empty when it is true.
///
/// `field` is `type` for an unknown document type, `number` for an Aadhaar or PAN, and
/// `mrz`, `mrz.line1`, `mrz.line2`, `mrz.document_number`, `mrz.nationality`,
/// `mrz.date_of_birth`, `mrz.sex`, `mrz.expiry_date`, `mrz.personal_number` or `mrz.composite`
/// for a passport. `reason` never repeats the number itself, so it can be logged.
struct KycCheck {
    bool ok = false;
    std::string field;
    std::string reason;
};

/// True if `digits` (ASCII digits only, check digit last) passes the Verhoeff check.
/// False for an empty string or any non-digit.
bool verhoeffValid(std::string_view digits);

/// The Verhoeff check digit ('0'..'9') to append to `digits`; '\0' if `digits` is empty or holds
/// a non-digit.
char verhoeffCheckDigit(std::string_view digits);

/// The ICAO 9303 check digit ('0'..'9') of an MRZ field: weights 7,3,1 repeating, digits count
/// as themselves, A..Z as 10..35 and the filler '<' as 0. '\0' if the field holds another
/// character.
char mrzCheckDigit(std::string_view field);

/// An Aadhaar number: 12 digits, the first 2..9, not a palindrome, Verhoeff check digit last.
/// Spaces and hyphens are ignored ("2341 2341 2346").
KycCheck validateAadhaar(std::string_view number);

/// A PAN: five letters, four digits, a letter (AAAAA9999A). The 4th letter is the holder type,
/// one of A B C F G H J K L P T; the serial 0000 is never issued. Letters may be given in lower
/// case; spaces and hyphens are ignored. The 10th character's check algorithm is not public,
/// so it is only required to be a letter.
KycCheck validatePan(std::string_view number);

/// A date as printed in an MRZ: two-digit year, month and day (already range-checked).
struct MrzDate {
    int yy = 0;
    int month = 0;
    int day = 0;
};

/// The fields of a passport's TD3 MRZ. Fillers are removed: '<' inside names becomes a space,
/// trailing '<' of numbers are dropped.
struct PassportMrz {
    char document_code = 'P';     ///< line 1 position 1, always 'P' for a passport
    char document_subtype = '<';  ///< line 1 position 2, issuer-defined or '<'
    std::string issuing_state;    ///< ICAO 3-letter code, e.g. "UTO" (fillers removed)
    std::string surname;          ///< primary identifier, e.g. "ERIKSSON"
    std::string given_names;      ///< secondary identifier, e.g. "ANNA MARIA"; may be empty
    std::string document_number;  ///< e.g. "L898902C3"
    std::string nationality;      ///< ICAO 3-letter code
    MrzDate date_of_birth;
    char sex = '<';  ///< 'M', 'F', 'X' or '<' (unspecified)
    MrzDate expiry_date;
    std::string personal_number;  ///< optional data; may be empty
};

/// Either the parsed MRZ (`check.ok`) or what is wrong with it (`mrz` empty).
struct PassportParse {
    KycCheck check;
    std::optional<PassportMrz> mrz;
};

/// Parses a TD3 MRZ: two lines of 44 characters from A-Z, 0-9 and '<', separated by a newline
/// (CRLF too) or given as one run of 88. Surrounding whitespace is trimmed and lower case is
/// raised. Verifies the check digits of the document number, date of birth, expiry date and
/// personal number and the composite one, that the dates are calendar dates and the sex code.
/// It does not check expiry against a date: use `passportExpired`.
PassportParse parsePassportMrz(std::string_view mrz);

/// The date of birth with its century: the latest of 19yy and 20yy that is not after `today`.
std::chrono::year_month_day birthDate(const MrzDate& date, std::chrono::year_month_day today);

/// The expiry date with its century: the one of 19yy and 20yy within 50 years of `today`.
std::chrono::year_month_day expiryDate(const MrzDate& date, std::chrono::year_month_day today);

/// True if the passport's last valid day (its expiry date) is before `today`.
bool passportExpired(const PassportMrz& mrz, std::chrono::year_month_day today);

/// True if someone born on year-month-day is 18 or older on `today`. Someone born on 29 February
/// turns 18 on 1 March when the 18th year is not a leap year (never early). False for a date of
/// birth that is not a calendar date or is after `today`.
bool isAdult(int year, int month, int day, std::chrono::year_month_day today);

/// The one entry point for a KYC request: `type` is "aadhaar", "pan" or "passport" (then
/// `number_or_mrz` is the MRZ). Anything else gives field "type".
KycCheck validateDocument(std::string_view type, std::string_view number_or_mrz);

/// The document number as stored: Aadhaar and PAN without spaces and hyphens (PAN in upper
/// case); for a passport (an MRZ or a bare number) the document number without fillers.
std::string normaliseDocumentNumber(std::string_view type, std::string_view number_or_mrz);

/// The number for display, with only its last 4 characters visible and every other character
/// shown as 'X':
///  - aadhaar: "XXXX XXXX 2346" (the MeitY masked-Aadhaar form);
///  - pan: "XXXXXX085R" -- the same last-4 rule rather than CBDT's "ACUPAXXXXR", which would
///    also show the holder type and the initial of the surname;
///  - passport (an MRZ or a bare number): the document number, e.g. "XXXXX02C3".
/// A number of 4 characters or fewer is shown as "XXXX", so the full number never shows.
std::string maskDocument(std::string_view type, std::string_view number_or_mrz);

}  // namespace restinu::user::domain
