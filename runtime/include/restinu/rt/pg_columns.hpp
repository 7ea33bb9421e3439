#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "restinu/rt/pg.hpp"

namespace restinu::rt {

/// The index of the column called `name` in `r`. Stores resolve their columns by name once per
/// result and read every row through the indices, so a row's mapping never depends on the
/// order of a SELECT list written elsewhere. A missing column is a bug in the store: it throws
/// std::logic_error naming it (and the request answers 500).
inline int requireColumn(const PgResult& r, std::string_view name) {
    int i = r.column(name);
    if (i < 0) {
        throw std::logic_error("the result has no column \"" + std::string(name) + "\"");
    }
    return i;
}

/// The indices of every column of `names`, in that order (requireColumn for each).
template <std::size_t N>
std::array<int, N> requireColumns(const PgResult& r, const std::array<std::string_view, N>& names) {
    std::array<int, N> at{};
    for (std::size_t i = 0; i < N; ++i) {
        at[i] = requireColumn(r, names[i]);
    }
    return at;
}

}  // namespace restinu::rt
