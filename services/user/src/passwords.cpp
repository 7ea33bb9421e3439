#include "passwords.hpp"

#include <sodium.h>

#include <stdexcept>
#include <string>

namespace restinu::user {
namespace {

void ensureSodium() {
    static const bool ok = sodium_init() >= 0;
    if (!ok) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

}  // namespace

std::string hashPassword(std::string_view password, const PasswordCost& cost) {
    ensureSodium();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.opslimit, cost.memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("argon2id: out of memory");
    }
    return out;
}

bool verifyPassword(std::string_view encoded, std::string_view password) {
    ensureSodium();
    std::string e(encoded);  // libsodium wants a NUL-terminated string
    return crypto_pwhash_str_verify(e.c_str(), password.data(), password.size()) == 0;
}

bool needsRehash(std::string_view encoded, const PasswordCost& cost) {
    ensureSodium();
    std::string e(encoded);
    return crypto_pwhash_str_needs_rehash(e.c_str(), cost.opslimit, cost.memlimit) != 0;
}

const std::string& decoyHash() {
    static const std::string kDecoy = [] {
        ensureSodium();
        unsigned char random[32];
        randombytes_buf(random, sizeof random);
        return hashPassword(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
    }();
    return kDecoy;
}

}  // namespace restinu::user
