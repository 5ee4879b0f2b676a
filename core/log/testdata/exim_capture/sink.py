"""A tiny SMTP sink for Exim's delivery lines: STARTTLS, 550/451 by local part."""
import asyncio
import ssl
import sys

port = int(sys.argv[1])
cert, key = sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
counter = 0


async def handle(r, w):
    global counter
    tls = False

    async def send(s):
        w.write(s.encode() + b"\r\n")
        await w.drain()

    await send("220 sink.example ESMTP ready")
    while True:
        line = await r.readline()
        if not line:
            break
        cmd = line.decode(errors="replace").strip()
        u = cmd.upper()
        if u.startswith("EHLO"):
            await send("250-sink.example hello")
            await send("250-PIPELINING")
            if not tls:
                await send("250-STARTTLS")
            await send("250 8BITMIME")
        elif u.startswith("HELO"):
            await send("250 sink.example")
        elif u == "STARTTLS":
            await send("220 go ahead")
            await w.start_tls(ctx)
            tls = True
        elif u.startswith("MAIL"):
            await send("250 OK")
        elif u.startswith("RCPT"):
            if "rej550" in cmd:
                await send("550 5.1.1 no such user here")
            elif "tmp451" in cmd:
                await send("451 4.3.0 try again later")
            else:
                await send("250 Accepted")
        elif u == "DATA":
            await send("354 go")
            while True:
                d = await r.readline()
                if not d or d in (b".\r\n", b".\n"):
                    break
            counter += 1
            await send(f"250 OK id=sink-{counter}")
        elif u == "QUIT":
            await send("221 bye")
            break
        elif u == "RSET" or u == "NOOP":
            await send("250 OK")
        else:
            await send("500 what")
    w.close()


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", port)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
