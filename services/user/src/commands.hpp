#pragma once

#include <iosfwd>
#include <string>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::user {

/// What `createAdmin` did.
enum class CreateAdminResult { Created, Exists, BadEmail, WeakPassword };

/// Creates an admin account (the only way to get the first admin: the API never grants it to
/// oneself). `why` says what is wrong for BadEmail / WeakPassword. Hashes on the calling thread:
/// meant for the CLI, not a loop thread.
rt::Task<CreateAdminResult> createAdmin(rt::PgPool& pool, const std::string& email_in,
                                        const std::string& password, std::string& why);

/// The first line of `in` without its line ending ("" at end of input).
std::string readPasswordLine(std::istream& in);

}  // namespace restinu::user
