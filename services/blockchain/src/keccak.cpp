#include "keccak.hpp"

#include <cryptopp/keccak.h>

namespace restinu::blockchain::eth {

std::string keccak256(std::string_view data) {
    CryptoPP::Keccak_256 h;
    h.Update(reinterpret_cast<const CryptoPP::byte*>(data.data()), data.size());
    std::string out(CryptoPP::Keccak_256::DIGESTSIZE, '\0');
    h.Final(reinterpret_cast<CryptoPP::byte*>(out.data()));
    return out;
}

}  // namespace restinu::blockchain::eth
