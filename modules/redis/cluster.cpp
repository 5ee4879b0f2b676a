// modules/redis/cluster.cpp: CLUSTER SLOTS and MOVED/ASK parsing, the slot map.
#include "cluster.hpp"

#include <charconv>

namespace tern::redis {
namespace {

template <class T>
bool to_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view text_of(const redisReply& r) { return {r.str, r.len}; }

}  // namespace

std::optional<Redirect> parse_redirect(std::string_view error, const Endpoint& from) {
  Redirect r;
  if (error.rfind("MOVED ", 0) == 0) {
    error.remove_prefix(6);
  } else if (error.rfind("ASK ", 0) == 0) {
    r.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  size_t space = error.find(' ');
  if (space == std::string_view::npos || !to_number(error.substr(0, space), r.slot) || r.slot >= kSlotCount)
    return std::nullopt;
  std::string_view addr = error.substr(space + 1);
  size_t colon = addr.rfind(':');  // the last: an IPv6 address has colons
  if (colon == std::string_view::npos || !to_number(addr.substr(colon + 1), r.to.port) || r.to.port <= 0)
    return std::nullopt;
  r.to.host = std::string(addr.substr(0, colon));
  if (r.to.host.size() > 2 && r.to.host.front() == '[' && r.to.host.back() == ']')
    r.to.host = r.to.host.substr(1, r.to.host.size() - 2);
  if (r.to.host.empty()) r.to.host = from.host;
  return r;
}

std::optional<SlotMap> SlotMap::from_cluster_slots(const redisReply& reply, const Endpoint& from) {
  if (reply.type != REDIS_REPLY_ARRAY) return std::nullopt;
  SlotMap map;
  for (size_t i = 0; i < reply.elements; ++i) {
    const redisReply& range = *reply.element[i];
    // [start, end, [host, port, id, ...] (the master), replicas...]
    if (range.type != REDIS_REPLY_ARRAY || range.elements < 3) return std::nullopt;
    const redisReply& start = *range.element[0];
    const redisReply& end = *range.element[1];
    const redisReply& master = *range.element[2];
    if (start.type != REDIS_REPLY_INTEGER || end.type != REDIS_REPLY_INTEGER || master.type != REDIS_REPLY_ARRAY ||
        master.elements < 2 || master.element[0]->type != REDIS_REPLY_STRING ||
        master.element[1]->type != REDIS_REPLY_INTEGER)
      return std::nullopt;
    if (start.integer < 0 || end.integer >= kSlotCount || start.integer > end.integer) return std::nullopt;
    Endpoint node;
    node.host = std::string(text_of(*master.element[0]));
    if (node.host.empty() || node.host == "?") node.host = from.host;
    node.port = static_cast<int>(master.element[1]->integer);
    uint16_t index = map.node_index(node);
    for (long long s = start.integer; s <= end.integer; ++s) map.owner_[static_cast<size_t>(s)] = index;
  }
  return map;
}

std::optional<Endpoint> SlotMap::owner(uint16_t slot) const {
  uint16_t i = owner_[slot & (kSlotCount - 1)];
  if (i == kNone) return std::nullopt;
  return nodes_[i];
}

void SlotMap::assign(uint16_t slot, const Endpoint& node) { owner_[slot & (kSlotCount - 1)] = node_index(node); }

uint16_t SlotMap::node_index(const Endpoint& node) {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i] == node) return static_cast<uint16_t>(i);
  nodes_.push_back(node);
  return static_cast<uint16_t>(nodes_.size() - 1);
}

}  // namespace tern::redis
