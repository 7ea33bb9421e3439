#pragma once

#include <boost/asio/awaitable.hpp>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace restinu::rt {

/// A coroutine that every handler, store and client returns. It runs on the io_context of the
/// thread that started it and never blocks that thread.
template <class T = void>
using Task = boost::asio::awaitable<T>;

using IoContext = boost::asio::io_context;

}  // namespace restinu::rt
