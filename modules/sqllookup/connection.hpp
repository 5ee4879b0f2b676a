// modules/sqllookup/connection.hpp: an open SQL client connection, as the pool keeps it.
//
// The modules' connections (libpq, libmariadb) behind one interface, so that
// SqlModule keeps them in the shared pool (lookup_servers/server_pool.hpp).
#pragma once

#include "server_pool.hpp"

namespace tern::sqllookup {

// An open connection of one module.
class Connection {
 public:
  virtual ~Connection() = default;
  // False when the server closed it while it was idle (a restart, a kill,
  // an idle timeout): a check without a round trip.
  virtual bool alive() = 0;
};

// A connection that owns a client library's handle, closed with `Close`;
// alive() when the handle's socket (`Socket`) has nothing to read: an idle
// SQL client hears from its server only when the server closes the
// connection (a termination notice, then end of file), and the rare
// harmless message costs no more than a new connection.
template <class Handle, void (*Close)(Handle*), int (*Socket)(Handle*)>
class LibraryConnection final : public Connection {
 public:
  explicit LibraryConnection(Handle* h) : h_(h) {}
  ~LibraryConnection() override { Close(h_); }
  LibraryConnection(const LibraryConnection&) = delete;
  LibraryConnection& operator=(const LibraryConnection&) = delete;
  bool alive() override { return lookup_servers::socket_is_quiet(Socket(h_)); }
  Handle* raw() const { return h_; }

 private:
  Handle* h_;
};

}  // namespace tern::sqllookup
