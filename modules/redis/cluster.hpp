// modules/redis/cluster.hpp: Redis Cluster's slot map and redirections.
//
// A server list becomes a cluster the first time one of its servers
// answers MOVED or ASK. The module then asks that node for CLUSTER SLOTS
// and sends each command straight to the master that serves its key's
// slot. MOVED (the slot has a new owner for good) updates the map and the
// command is sent again; ASK (the slot is being migrated and this key has
// moved already) sends ASKING and the command to the named node once,
// leaving the map alone. When a node cannot be reached the map is fetched
// again from another node, so a failover is followed as soon as the
// cluster has promoted a replica.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "slot.hpp"

namespace tern::redis {

// A MOVED or ASK error reply: "MOVED 3999 127.0.0.1:6381".
struct Redirect {
  bool ask = false;
  uint16_t slot = 0;
  Endpoint to;
};

// Parses a redirection; `from` fills in the host when the reply leaves it
// empty (":6381", a node that does not know its own address). nullopt when
// `error` is not one.
std::optional<Redirect> parse_redirect(std::string_view error, const Endpoint& from);

// Which master serves each slot.
class SlotMap {
 public:
  SlotMap() { owner_.fill(kNone); }
  // From a CLUSTER SLOTS reply (asked of `from`, which stands for nodes
  // whose address is empty or "?"). nullopt when the reply is not one.
  static std::optional<SlotMap> from_cluster_slots(const redisReply& reply, const Endpoint& from);

  std::optional<Endpoint> owner(uint16_t slot) const;
  void assign(uint16_t slot, const Endpoint& node);
  // Every master in the map, in order of first appearance.
  const std::vector<Endpoint>& nodes() const { return nodes_; }

 private:
  static constexpr uint16_t kNone = 0xffff;
  uint16_t node_index(const Endpoint& node);
  std::array<uint16_t, kSlotCount> owner_;
  std::vector<Endpoint> nodes_;
};

}  // namespace tern::redis
