// core/server/offload.hpp: run a blocking call on a thread pool from a coroutine.
//
//   T r = co_await offload(pool, [&] { return blocking_call(); });
//
// The calling coroutine is suspended (its worker's other sessions go on)
// until `fn` has run on `pool`, then resumes on its own executor with the
// result. `fn` may refer to the caller's locals: they live until it
// resumes.
#pragma once

#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <type_traits>

namespace tern::server {

template <class Fn, class T = std::invoke_result_t<Fn&>>
boost::asio::awaitable<T> offload(boost::asio::thread_pool& pool, Fn fn) {
  auto executor = co_await boost::asio::this_coro::executor;
  co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(T)>(
      [&](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        boost::asio::post(pool, [h, executor, &fn] {
          T result = fn();
          boost::asio::post(executor, [h, result = std::move(result)]() mutable { (*h)(std::move(result)); });
        });
      },
      boost::asio::use_awaitable);
}

}  // namespace tern::server
