#!/usr/bin/env python3
"""A TLS-terminating TCP proxy for tests: accepts TLS on 127.0.0.1:LISTEN with CERT/KEY and forwards
the plain bytes to 127.0.0.1:TARGET. The dev broker (Tansu 0.6) has no working TLS listener; with its
advertised port set to LISTEN, every client connection goes through here, so librdkafka's TLS path is
exercised end to end.

usage: tls-proxy.py LISTEN TARGET CERT KEY
"""
import asyncio
import ssl
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main(listen, target, cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def handle(client_reader, client_writer):
        tls = client_writer.get_extra_info("ssl_object")
        print(f"tls-proxy: {tls.version() if tls else 'no TLS'} connection", flush=True)
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, broker_writer), pipe(broker_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", listen, ssl=context)
    print(f"tls-proxy: 127.0.0.1:{listen} -> 127.0.0.1:{target}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]))
