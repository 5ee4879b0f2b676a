#!/usr/bin/python3
"""tests/deliver/aiosmtpd_receiver.py: Python's aiosmtpd as a receiver the SMTP client tests deliver to.

Runs under the system Python (Debian's python3-aiosmtpd). Each accepted
message becomes one JSON file in --out: envelope, parameters, the data as
received, the peer address, whether TLS was on, and whether the RCPT
commands were already waiting when MAIL arrived (the client pipelined).
Behaviour for the refusal tests comes from the addresses:
  a recipient containing "reject" gets 550 5.1.1, "later" gets 451 4.3.0;
  the sender "busy@..." gets 452 4.3.1 to MAIL.
--pipelining adds PIPELINING to EHLO; --tls CERT KEY offers STARTTLS
(--client-ca FILE: and requires a client certificate it signed);
--slow-rcpt S waits S seconds before answering RCPT; --drop-at-data
closes the connection after the data arrives, without a reply.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


def peer_cn(server):
    """The CN of the client's certificate ("" without one)."""
    ssl_object = server.transport.get_extra_info("ssl_object")
    cert = ssl_object.getpeercert() if ssl_object else None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.args.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.startswith("busy@"):
            return "452 4.3.1 Insufficient system storage"
        buffered = bytes(getattr(server._reader, "_buffer", b""))
        envelope.rcpt_pipelined = b"RCPT" in buffered.upper()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.slow_rcpt:
            await asyncio.sleep(self.args.slow_rcpt)
        if "reject" in address:
            return "550 5.1.1 <%s>: no such user" % address
        if "later" in address:
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.drop_at_data:
            server.transport.abort()
            return "250 never sent"
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "rcpt_options": envelope.rcpt_options,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "peer": session.peer[0],
            "client_port": session.peer[1],
            "helo": session.host_name,
            "tls": session.ssl is not None,
            "peer_cn": peer_cn(server),
            "rcpt_pipelined": getattr(envelope, "rcpt_pipelined", False),
        }
        name = os.path.join(self.args.out, "%f-%d.json" % (time.time(), self.count))
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 2.0.0 Ok: queued as M%d" % self.count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--client-ca", help="require a client certificate signed by this")
    p.add_argument("--slow-rcpt", type=float, default=0)
    p.add_argument("--drop-at-data", action="store_true")
    args = p.parse_args()
    tls_context = None
    if args.tls:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(*args.tls)
        if args.client_ca:
            tls_context.verify_mode = ssl.CERT_REQUIRED
            tls_context.load_verify_locations(args.client_ca)
    handler = Handler(args)
    controller = Controller(handler, hostname=args.host, port=args.port,
                            server_hostname="receiver.test", tls_context=tls_context,
                            require_starttls=False)
    controller.start()
    print("listening", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
