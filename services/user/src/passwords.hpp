#pragma once

#include <string>
#include <string_view>

namespace restinu::user {

/// Argon2id through libsodium (crypto_pwhash_str), with OWASP's recommended minimum cost:
/// 19 MiB of memory, 2 passes, 1 lane. About 25-40 ms of one core here: cheap enough for a
/// login rate the worker pool can sustain, expensive enough to make offline guessing slow.
/// CPU-heavy: call it on the worker pool, never on a loop thread.
struct PasswordCost {
    unsigned long long opslimit = 2;
    std::size_t memlimit = std::size_t{19} << 20;
};

/// The encoded hash ($argon2id$v=19$m=19456,t=2,p=1$...). Throws std::runtime_error when
/// libsodium cannot allocate the memory.
std::string hashPassword(std::string_view password, const PasswordCost& cost = {});

/// True when `password` matches `encoded`. A malformed `encoded` is simply false.
bool verifyPassword(std::string_view encoded, std::string_view password);

/// True when `encoded` was made with a lower cost than `cost` (rehash on next login).
bool needsRehash(std::string_view encoded, const PasswordCost& cost = {});

/// A hash of a random password with the same cost, verified against when the e-mail is
/// unknown, so that an unknown account and a wrong password take the same time.
const std::string& decoyHash();

}  // namespace restinu::user
