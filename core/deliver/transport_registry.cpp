// core/deliver/transport_registry.cpp: the transports built into tern, by driver name.
//
// Each driver's file defines its add_<driver>_transport(); a new driver adds its line here.
#include "core/deliver/transport.hpp"

namespace tern::deliver {

void add_appendfile_transport(TransportRegistry& registry);
void add_smtp_transport(TransportRegistry& registry);
void add_pipe_transport(TransportRegistry& registry);
void add_lmtp_transport(TransportRegistry& registry);

const TransportRegistry& builtin_transports() {
  static const TransportRegistry registry = [] {
    TransportRegistry r;
    add_appendfile_transport(r);
    add_smtp_transport(r);
    add_pipe_transport(r);
    add_lmtp_transport(r);
    return r;
  }();
  return registry;
}

}  // namespace tern::deliver
