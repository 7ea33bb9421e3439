#pragma once

#include <string_view>

namespace restinu::user::domain {

/// The text of services/user/data/common-passwords.txt, one password a line, compiled in by
/// services/embed_text.cmake so the service needs no data file at run time.
std::string_view commonPasswordsText();

}  // namespace restinu::user::domain
